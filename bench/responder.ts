// A minimal stand-in for Vault, run as its own process: canned JSON for KV v2 reads, writes and lists and for mount lookups,
// so a run against it measures the MCP server's own ceiling. Prints "LISTENING <port>" once it serves.

const now = "2025-01-01T00:00:00.000000000Z";
const secret = JSON.stringify({
  request_id: "00000000-0000-0000-0000-000000000000",
  lease_id: "",
  renewable: false,
  lease_duration: 0,
  data: {
    data: { username: "app", password: "correct-horse-battery-staple", url: "postgres://db.internal:5432/app" },
    metadata: { created_time: now, custom_metadata: null, deletion_time: "", destroyed: false, version: 3 },
  },
  wrap_info: null,
  warnings: null,
  auth: null,
});
const written = JSON.stringify({
  request_id: "00000000-0000-0000-0000-000000000001",
  lease_id: "",
  renewable: false,
  lease_duration: 0,
  data: { created_time: now, custom_metadata: null, deletion_time: "", destroyed: false, version: 4 },
  wrap_info: null,
  warnings: null,
  auth: null,
});
const keys = Array.from({ length: 100 }, (_, i) => `s${String(i).padStart(3, "0")}`);
const listed = JSON.stringify({ request_id: "2", lease_id: "", renewable: false, lease_duration: 0, data: { keys }, wrap_info: null, warnings: null, auth: null });
const metadata = JSON.stringify({
  request_id: "3",
  data: { cas_required: false, created_time: now, current_version: 3, max_versions: 0, oldest_version: 1, updated_time: now, custom_metadata: null, versions: {} },
});
const kvMount = { type: "kv", path: "secret/", options: { version: "2" }, description: "key/value secret storage", accessor: "kv_bench", config: {}, local: false, seal_wrap: false };
const uiMount = JSON.stringify({ request_id: "4", data: kvMount });
const sysMounts = JSON.stringify({
  request_id: "5",
  "secret/": kvMount,
  data: {
    "secret/": kvMount,
    "sys/": { type: "system", options: null, description: "system endpoints", accessor: "system_bench", config: {}, local: false, seal_wrap: true },
  },
});
const health = JSON.stringify({ initialized: true, sealed: false, standby: false, version: "1.21.0-bench", cluster_name: "bench" });
const notFound = JSON.stringify({ errors: [] });
// A root-like token: no TTL, not renewable, so the server's token keeper has nothing to schedule.
const lookupSelf = JSON.stringify({ request_id: "6", data: { ttl: 0, renewable: false, policies: ["root"], expire_time: null } });

const headers = { "content-type": "application/json" };
const answer = (body: string, status = 200) => new Response(body, { status, headers });

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const path = url.pathname;
    const method = req.method;
    if (method !== "GET" && method !== "HEAD") await req.arrayBuffer();
    if (path.startsWith("/v1/secret/data/")) return answer(method === "GET" ? secret : written);
    if (path.startsWith("/v1/secret/metadata/")) {
      if (method === "LIST" || url.searchParams.get("list") === "true") return answer(listed);
      return answer(metadata);
    }
    if (path === "/v1/sys/internal/ui/mounts/secret" || path === "/v1/sys/internal/ui/mounts/secret/") return answer(uiMount);
    if (path.startsWith("/v1/sys/internal/ui/mounts/")) return answer(notFound, 404);
    if (path === "/v1/sys/mounts") return answer(sysMounts);
    if (path === "/v1/sys/health") return answer(health);
    if (path === "/v1/auth/token/lookup-self") return answer(lookupSelf);
    return answer(notFound, 404);
  },
});

process.stdout.write(`LISTENING ${server.port}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
