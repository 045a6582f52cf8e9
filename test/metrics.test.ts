// GET /metrics: parsed by Prometheus's own text parser (test/promparse, Go's expfmt), counters that move with real calls
// against the dev Vault, bounded labels that never carry a mount, a secret path or a token, and the separate listener.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { loadConfig } from "../src/config.ts";
import { escapeLabelValue, MetricsRegistry } from "../src/metrics.ts";
import { pathTemplate } from "../src/vault/path-template.ts";
import { type ServerProcess, startServer } from "./interop/server-process.ts";
import { buildGoTool } from "./support/go-tool.ts";
import { call, connectClient, ok, type TestServer, testServer, unique, vaultApi } from "./support/mcp.ts";
import { testVault } from "./support/vault.ts";

interface Sample {
  labels: Record<string, string>;
  value: number;
  count?: number;
  sum?: number;
  buckets?: Record<string, number>;
}
type Families = Record<string, { type: string; help: string; samples: Sample[] }>;

let promparse: string;

/** Parses exposition text with Prometheus's own parser; throws with the parser's words when it is not valid. */
async function parse(body: string): Promise<Families> {
  const child = Bun.spawn([promparse], { stdin: new Blob([body]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`Prometheus's parser refused the exposition: ${err}\n${body}`);
  return JSON.parse(out) as Families;
}

function value(f: Families, name: string, labels: Record<string, string>): number {
  const s = f[name]?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.count ?? s?.value ?? 0;
}

beforeAll(async () => {
  promparse = await buildGoTool("promparse");
}, 300_000);

describe("the exposition format", () => {
  it("writes counters, gauges and histograms that Prometheus's parser reads back exactly", async () => {
    const r = new MetricsRegistry();
    r.counter("t_calls_total", "Calls.", ["tool"]).inc({ tool: "read_secret" }, 3);
    r.gauge("t_in_flight", "Now.").set({}, 2);
    const h = r.histogram("t_seconds", "Durations.", ["tool"], [0.1, 1]);
    h.observe({ tool: "a" }, 0.05);
    h.observe({ tool: "a" }, 0.5);
    h.observe({ tool: "a" }, 5);
    const f = await parse(await r.render());
    expect(f.t_calls_total).toMatchObject({ type: "COUNTER", help: "Calls.", samples: [{ labels: { tool: "read_secret" }, value: 3 }] });
    expect(f.t_in_flight?.samples[0]?.value).toBe(2);
    expect(f.t_seconds?.samples[0]).toMatchObject({ count: 3, sum: 5.55, buckets: { "0.1": 1, "1": 2 } });
  });

  it("escapes label values that hold quotes, backslashes and newlines", async () => {
    const r = new MetricsRegistry();
    const odd = 'a"b\\c\nd';
    r.counter("t_odd_total", "Odd.", ["v"]).inc({ v: odd });
    expect(escapeLabelValue(odd)).toBe('a\\"b\\\\c\\nd');
    expect((await parse(await r.render())).t_odd_total?.samples[0]?.labels.v).toBe(odd);
  });

  it("folds label sets past its bound into one 'other' series instead of growing without end", async () => {
    const r = new MetricsRegistry();
    const c = r.counter("t_many_total", "Many.", ["id"]);
    for (let i = 0; i < 1500; i++) c.inc({ id: String(i) });
    const f = await parse(await r.render());
    expect(f.t_many_total?.samples.length).toBe(1001);
    expect(value(f, "t_many_total", { id: "other" })).toBe(500);
  });

  it("refuses a metric registered twice and names that are not Prometheus names", () => {
    const r = new MetricsRegistry();
    r.counter("t_once_total", "Once.");
    expect(() => r.counter("t_once_total", "Again.")).toThrow("registered twice");
    expect(() => r.counter("t-bad", "Bad.")).toThrow("not valid");
    expect(() => r.counter("t_ok_total", "Bad label.", ["__reserved"])).toThrow("not valid");
  });
});

describe("Vault path templates", () => {
  it("keep only Vault's own API words, never a mount, secret path, role or id", () => {
    expect(pathTemplate("secret/data/myapp/database")).toBe(":mount/data/:arg");
    expect(pathTemplate("team/kv/metadata/config/keys")).toBe(":mount/metadata/:arg");
    expect(pathTemplate("kv1/myapp/database")).toBe(":mount/:arg");
    expect(pathTemplate("sys/internal/ui/mounts/secret")).toBe("sys/internal/ui/mounts/:arg");
    expect(pathTemplate("sys/mounts/my-team")).toBe("sys/mounts/:arg");
    expect(pathTemplate("auth/token/lookup-self")).toBe("auth/token/lookup-self");
    expect(pathTemplate("auth/k8s-prod/login")).toBe("auth/:mount/login");
    expect(pathTemplate("pki/issue/web-server")).toBe(":mount/issue/:arg");
    expect(pathTemplate("pki/issuer/0f1e2d3c-aaaa/sign-intermediate")).toBe(":mount/issuer/:arg/sign-intermediate");
  });
});

describe("GET /metrics on the MCP port", () => {
  let server: TestServer;
  let client: Client;
  const mount = unique("metrics-kv");
  const secretPath = unique("very-secret-path");

  beforeAll(async () => {
    expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
    server = testServer();
    client = await connectClient(server);
  });
  afterAll(() => client?.close());

  async function scrape(): Promise<{ text: string; families: Families }> {
    const res = await server.fetch("http://127.0.0.1:8084/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    return { text, families: await parse(text) };
  }

  it("counts tool calls by tool and outcome, and Vault requests by template and status", async () => {
    const before = (await scrape()).families;
    await ok(client, "write_secret", { mount, path: secretPath, key: "password", value: "hunter2-metrics" });
    await ok(client, "read_secret", { mount, path: secretPath });
    await call(client, "read_secret", { mount, path: `${secretPath}-missing` });
    await call(client, "read_secret", { mount: "../sys", path: "x" });
    const { text, families: after } = await scrape();
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta("vault_mcp_tool_calls_total", { tool: "write_secret", outcome: "ok" })).toBe(1);
    expect(delta("vault_mcp_tool_calls_total", { tool: "read_secret", outcome: "ok" })).toBe(1);
    expect(delta("vault_mcp_tool_calls_total", { tool: "read_secret", outcome: "tool_error" })).toBe(2);
    expect(delta("vault_mcp_tool_call_duration_seconds", { tool: "read_secret" })).toBe(3);
    expect(delta("vault_mcp_vault_requests_total", { method: "GET", path: ":mount/data/:arg", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(delta("vault_mcp_vault_requests_total", { method: "GET", path: ":mount/data/:arg", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(value(after, "vault_mcp_tool_calls_in_flight", {})).toBe(0);
    expect(value(after, "vault_mcp_ready", {})).toBe(1);
    expect(value(after, "vault_mcp_build_info", {})).toBe(1);
    // The dev root token never expires, so there is no TTL to report.
    expect(after.vault_mcp_token_ttl_seconds).toBeUndefined();
    // Bounded labels: no mount, no secret path, no value, no token.
    for (const needle of [mount, secretPath, "hunter2-metrics", testVault().token]) expect(text).not.toContain(needle);
  });

  it("reports the process's memory, CPU and descriptors, and where Bun's memory is (JS heap, malloc)", async () => {
    const { families: f } = await scrape();
    const rss = value(f, "process_resident_memory_bytes", {});
    // The same figure Linux gives for this process (the test server runs in it), within what a scrape can move it.
    const status = await Bun.file("/proc/self/status").text();
    const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
    expect(rss).toBeGreaterThan(vmRss * 0.5);
    expect(rss).toBeLessThan(vmRss * 1.5);
    expect(f.process_cpu_seconds_total?.type).toBe("COUNTER");
    expect(value(f, "process_cpu_seconds_total", {})).toBeGreaterThan(0);
    const start = value(f, "process_start_time_seconds", {});
    expect(Math.abs(start - (Date.now() - performance.now()) / 1000)).toBeLessThan(5);
    expect(value(f, "process_open_fds", {})).toBeGreaterThan(2);
    const heap = value(f, "vault_mcp_js_heap_bytes", {});
    expect(heap).toBeGreaterThan(1e5);
    expect(value(f, "vault_mcp_js_heap_capacity_bytes", {})).toBeGreaterThanOrEqual(heap);
    expect(f.vault_mcp_js_extra_memory_bytes?.type).toBe("GAUGE");
    const malloc = value(f, "vault_mcp_malloc_bytes", {});
    expect(malloc).toBeGreaterThan(0);
    expect(value(f, "vault_mcp_malloc_committed_bytes", {})).toBeGreaterThanOrEqual(malloc);
    // Each part is a part: none exceeds what the process holds in all.
    expect(heap).toBeLessThan(rss);
  });
});

describe("the token's metrics", () => {
  it("reports the remaining TTL of a token that has one, and counts its check", async () => {
    const created = await vaultApi("POST", "auth/token/create", { ttl: "1h", policies: ["default"] });
    const token = created.json.auth.client_token as string;
    const withTtl = testServer({ VAULT_TOKEN: token });
    const c = await connectClient(withTtl);
    // Denied by the default policy: the 403 makes the keeper check the token, which Vault still accepts.
    await call(c, "list_mounts");
    await c.close();
    let families: Families = {};
    for (let i = 0; i < 50 && !families.vault_mcp_token_ttl_seconds; i++) {
      families = await parse(await (await withTtl.fetch("http://127.0.0.1:8084/metrics")).text());
      await Bun.sleep(20);
    }
    const ttl = value(families, "vault_mcp_token_ttl_seconds", {});
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(value(families, "vault_mcp_token_events_total", { event: "login", outcome: "ok" })).toBe(1);
    expect(value(families, "vault_mcp_token_events_total", { event: "verify", outcome: "ok" })).toBe(1);
  });
});

describe("MCP_METRICS_ADDR", () => {
  it("reads host:port, :port and off, and refuses anything else with the forms it accepts", () => {
    const env = { VAULT_TOKEN: "t" };
    expect(loadConfig([], env).http.metrics).toEqual({ serve: "mcp" });
    expect(loadConfig([], { ...env, MCP_METRICS_ADDR: "off" }).http.metrics).toEqual({ serve: "off" });
    expect(loadConfig([], { ...env, MCP_METRICS_ADDR: ":9090" }).http.metrics).toEqual({ serve: "separate", host: "0.0.0.0", port: 9090 });
    expect(loadConfig(["--metrics-addr", "127.0.0.1:9100"], env).http.metrics).toEqual({ serve: "separate", host: "127.0.0.1", port: 9100 });
    expect(() => loadConfig([], { ...env, MCP_METRICS_ADDR: "9090" })).toThrow('MCP_METRICS_ADDR must be "host:port"');
  });

  describe("with a listener of its own", () => {
    let proc: ServerProcess;
    let metricsPort: number;

    beforeAll(async () => {
      metricsPort = await freePort();
      proc = await startServer([], { MCP_METRICS_ADDR: `127.0.0.1:${metricsPort}` });
    });
    afterAll(() => proc?.stop());

    it("serves /metrics there and not on the MCP port", async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      expect(value(await parse(await res.text()), "vault_mcp_build_info", {})).toBe(1);
      expect((await fetch(`${proc.url.replace(/\/mcp$/, "")}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/mcp`, { method: "POST", body: "{}" })).status).toBe(404);
    });
  });
});

async function freePort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port as number;
  s.stop(true);
  return port;
}



describe("GET /metrics behind a Kubernetes Service", () => {
  it("answers a scrape addressed to the pod's IP, which is not among the allowed host names", async () => {
    const wide = testServer({ MCP_HOST: "0.0.0.0", MCP_ALLOWED_HOSTS: "vault-mcp-server.kagent.svc" });
    const res = await wide.fetch(new Request("http://10.1.2.3:8084/metrics", { headers: { host: "10.1.2.3:8084" } }));
    expect(res.status).toBe(200);
    // /mcp on the same Host is still refused: the scrape exemption is for /metrics alone.
    const mcp = await wide.fetch(new Request("http://10.1.2.3:8084/mcp", { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { host: "10.1.2.3:8084" } }));
    expect(mcp.status).toBe(403);
  });
});
