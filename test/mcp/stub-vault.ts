// A loopback stand-in for Vault, for tests that compare two server paths byte for byte and need no real Vault: one KV v2
// mount ("secret") held in memory and one PKI mount whose issue endpoint hands out one certificate made at start.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A self-signed CA and a leaf it signed (CN and SAN api.example.com, valid for a century), made with openssl when the
 * stub first starts: no key is kept in the repository. Both paths under comparison get the same ones.
 */
let pki: { ca: string; leaf: string; key: string } | undefined;
function stubPki(): { ca: string; leaf: string; key: string } {
  if (pki) return pki;
  const dir = mkdtempSync(join(tmpdir(), "stub-vault-pki-"));
  const openssl = (...args: string[]) => {
    const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if (!r.success) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
  };
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Stub Root", "-days", "36500");
    openssl("req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=api.example.com");
    writeFileSync(join(dir, "ext"), "subjectAltName=DNS:api.example.com\n");
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "36500", "-extfile", "ext");
    const read = (f: string) => readFileSync(join(dir, f), "utf8").trim();
    pki = { ca: read("ca.pem"), leaf: read("leaf.pem"), key: read("leaf.key") };
    return pki;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface StubVault {
  addr: string;
  token: string;
  /** The PKI mount that issues the fixed certificate (role "web"). */
  pkiMount: string;
  /** Writes a KV v2 secret directly, as a test's setup would through Vault's API. */
  put(path: string, data: Record<string, unknown>): void;
  stop(): void;
}

interface Version {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

const TOKEN = "stub-root-token";

export function startStubVault(): StubVault {
  const pkiMount = "pki-stub";
  const secrets = new Map<string, Version[]>();
  const mounts: Record<string, { type: string; description: string; options: Record<string, string> | null }> = {
    "cubbyhole/": { type: "cubbyhole", description: "per-token private secret storage", options: null },
    "secret/": { type: "kv", description: "key/value secret storage", options: { version: "2" } },
    [`${pkiMount}/`]: { type: "pki", description: "", options: null },
    "sys/": { type: "system", description: "system endpoints used for control, policy and debugging", options: null },
  };

  const reply = (status: number, body: unknown) => Response.json(body, { status });
  const ok = (data: unknown) => reply(200, { request_id: "stub", lease_id: "", renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null });
  const missing = () => reply(404, { errors: [] });

  function write(path: string, data: Record<string, unknown>): Response {
    const versions = secrets.get(path) ?? [];
    versions.push({ data, created_time: new Date().toISOString(), deletion_time: "", destroyed: false });
    secrets.set(path, versions);
    return ok({ created_time: versions.at(-1)!.created_time, custom_metadata: null, deletion_time: "", destroyed: false, version: versions.length });
  }

  function kv(method: string, rest: string, url: URL, body: any): Response {
    const [kind, ...parts] = rest.split("/");
    const path = parts.join("/").replace(/\/$/, "");
    const versions = secrets.get(path);
    if (kind === "data" && method === "GET") {
      const n = Number(url.searchParams.get("version") || versions?.length || 0);
      const v = versions?.[n - 1];
      if (!v || v.deletion_time || v.destroyed) return missing();
      return ok({ data: v.data, metadata: { created_time: v.created_time, custom_metadata: null, deletion_time: "", destroyed: false, version: n } });
    }
    if (kind === "data" && (method === "POST" || method === "PUT")) {
      const cas = body?.options?.cas;
      if (cas !== undefined && cas !== (versions?.length ?? 0)) return reply(400, { errors: ["check-and-set parameter did not match the current version"] });
      return write(path, { ...(body?.data ?? {}) });
    }
    if (kind === "data" && method === "PATCH") {
      const latest = versions?.at(-1);
      if (!latest?.data) return missing();
      const merged: Record<string, unknown> = { ...latest.data };
      for (const [k, v] of Object.entries(body?.data ?? {})) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      return write(path, merged);
    }
    if (kind === "metadata" && method === "GET" && url.searchParams.get("list") === "true") {
      const prefix = path === "" ? "" : `${path}/`;
      const keys = new Set<string>();
      for (const p of secrets.keys()) {
        if (!p.startsWith(prefix)) continue;
        const [first, ...deeper] = p.slice(prefix.length).split("/");
        keys.add(deeper.length > 0 ? `${first}/` : first!);
      }
      return keys.size > 0 ? ok({ keys: [...keys].sort() }) : missing();
    }
    if (kind === "metadata" && method === "GET") {
      if (!versions) return missing();
      const all = Object.fromEntries(versions.map((v, i) => [String(i + 1), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }]));
      return ok({ current_version: versions.length, oldest_version: 1, versions: all, cas_required: false, custom_metadata: null });
    }
    return reply(405, { errors: [`stub Vault: ${method} secret/${rest} is not emulated`] });
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.headers.get("x-vault-token") !== TOKEN) return reply(403, { errors: ["permission denied"] });
      const url = new URL(req.url);
      const path = decodeURIComponent(url.pathname.replace(/^\/v1\//, ""));
      const text = await req.text();
      const body = text ? JSON.parse(text) : undefined;
      if (path.startsWith("sys/internal/ui/mounts/")) {
        const mount = `${path.slice("sys/internal/ui/mounts/".length).replace(/\/$/, "")}/`;
        const m = mounts[mount];
        return m ? ok({ ...m, path: mount }) : reply(400, { errors: [`preflight capability check returned 403, please ensure client's policies grant access to path "${mount}"`] });
      }
      if (path === "sys/mounts" && req.method === "GET") return ok(mounts);
      if (path.startsWith("secret/")) return kv(req.method, path.slice("secret/".length), url, body);
      if (path === `${pkiMount}/issue/web` && req.method === "POST") {
        const { ca, leaf, key } = stubPki();
        return ok({ certificate: leaf, issuing_ca: ca, ca_chain: [ca], private_key: key, private_key_type: "ec", serial_number: "stub", expiration: 4_900_000_000 });
      }
      return reply(404, { errors: [`stub Vault: nothing at ${req.method} ${path}`] });
    },
  });

  return {
    addr: `http://127.0.0.1:${server.port}`,
    token: TOKEN,
    pkiMount,
    put: (path, data) => void write(path, data),
    stop: () => void server.stop(true),
  };
}
