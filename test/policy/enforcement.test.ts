// The policy enforced against the dev Vault through the SDK client over HTTP: refusals come before any Vault request.
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call, connectClient, MCP_URL, ok, testServer, text, unique, vaultApi } from "../support/mcp.ts";

const dir = mkdtempSync(join(tmpdir(), "policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fetch for the server's Vault client that records every request it makes (the server's own token checks aside). */
function recorder() {
  const seen: string[] = [];
  const fetchVault = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (!url.pathname.startsWith("/v1/auth/token/")) seen.push(`${init?.method ?? "GET"} ${url.pathname}`);
    return fetch(input, init);
  }) as typeof fetch;
  return { seen, fetch: fetchVault };
}

function post(server: ReturnType<typeof testServer>, body: unknown, headers: Record<string, string> = {}) {
  return server.fetch(MCP_URL, { method: "POST", headers: { "content-type": "application/json", accept: "application/json", ...headers }, body: JSON.stringify(body) });
}

const listCall = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "list_mounts", arguments: {} } });

describe("MCP_READ_ONLY", () => {
  it("hides every tool that is not read-only and refuses it at call time before any Vault request", async () => {
    const rec = recorder();
    const server = testServer({ MCP_AUDIT_LOG: "off", MCP_READ_ONLY: "true" }, { fetch: rec.fetch });
    const client = await connectClient(server);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const app = unique("ro");
    rec.seen.length = 0;
    const refused = await call(client, "write_secret", { path: `${app}/db`, key: "k", value: "v" });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain("MCP_READ_ONLY");
    const deleted = await call(client, "delete_mount", { path: "secret" });
    expect(text(deleted)).toContain("MCP_READ_ONLY");
    // The fast path (a plain JSON POST) refuses too.
    const raw = await (await post(server, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "delete_mount", arguments: { path: "secret" } } })).json();
    expect((raw as any).result.isError).toBe(true);
    expect(rec.seen).toEqual([]);
    expect((await vaultApi("GET", `secret/data/${app}/db`)).status).toBe(404);
    expect((await vaultApi("GET", "sys/mounts/secret")).status).toBe(200);
    // Reading still works.
    await ok(client, "list_mounts");
    expect(rec.seen.length).toBeGreaterThan(0);
  });
});

describe("MCP_TOOLS_DENY and MCP_TOOLS_ALLOW", () => {
  it("lists and allows only what the rules leave, deny first", async () => {
    const server = testServer({ MCP_AUDIT_LOG: "off", MCP_TOOLS_ALLOW: "*_secret,list_*", MCP_TOOLS_DENY: "delete_*" });
    const client = await connectClient(server);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toContain("read_secret");
    expect(names).toContain("list_mounts");
    expect(names).not.toContain("delete_secret");
    expect(names).not.toContain("create_mount");
    expect(text(await call(client, "delete_secret", { path: "x" }))).toContain('MCP_TOOLS_DENY rule "delete_*"');
    expect(text(await call(client, "create_mount", { path: "x", type: "kv-v2" }))).toContain("MCP_TOOLS_ALLOW");
  });
});

describe("MCP_ALLOWED_PATHS and MCP_DENIED_PATHS", () => {
  it("refuses paths outside the rules before any Vault request, deny winning, and lists only what may be touched", async () => {
    const app = unique("app");
    const other = unique("other");
    await vaultApi("POST", `secret/data/${other}/db`, { data: { k: "v" } });
    await vaultApi("POST", `secret/data/${app}/seeded`, { data: { k: "v" } });
    const rec = recorder();
    const server = testServer({ MCP_AUDIT_LOG: "off", MCP_ALLOWED_PATHS: `secret/${app}/*,pki/*`, MCP_DENIED_PATHS: `secret/${app}/prod/*` }, { fetch: rec.fetch });
    const client = await connectClient(server);
    await ok(client, "write_secret", { path: `/${app}/db/`, key: "k", value: "v" });

    rec.seen.length = 0;
    const denied = await call(client, "write_secret", { path: `${app}/prod/db`, key: "k", value: "v" });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain(`MCP_DENIED_PATHS rule "secret/${app}/prod/*"`);
    const outside = await call(client, "read_secret", { path: `${other}/db` });
    expect(text(outside)).toContain("outside MCP_ALLOWED_PATHS");
    expect(text(await call(client, "delete_mount", { path: "secret" }))).toContain("outside MCP_ALLOWED_PATHS");
    expect(text(await call(client, "issue_pki_certificate", { role_name: "web", common_name: "a.example.com", store_at: { path: `${other}/cert` } }))).toContain('"store_at.path"');
    expect(rec.seen).toEqual([]);
    expect((await vaultApi("GET", `secret/data/${app}/prod/db`)).status).toBe(404);

    const top = await ok(client, "list_secrets", { path: "" });
    expect(top.structuredContent?.keys).toEqual([`${app}/`]);
    expect(text(top)).not.toContain(other);
    const mounts = await ok(client, "list_mounts");
    const paths = (mounts.structuredContent?.mounts as { path: string }[]).map((m) => m.path);
    expect(paths).toContain("secret");
    expect(paths).not.toContain("cubbyhole");
    expect(text(mounts)).not.toContain("cubbyhole");
  });
});

describe("MCP_POLICY_FILE", () => {
  it("gives two bearer identities their own rules, and follows the file when it changes", async () => {
    const app = unique("bob");
    const tokens = join(dir, "tokens");
    writeFileSync(tokens, `alice:${"a".repeat(40)}\nbob:${"b".repeat(40)}\n`);
    const file = join(dir, "policy.yaml");
    writeFileSync(file, `callers:\n  alice:\n    read_only: true\n  bob:\n    allowed_paths: ["secret/${app}/*"]\n`);
    const rec = recorder();
    const server = testServer({ MCP_AUDIT_LOG: "off", MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokens, MCP_POLICY_FILE: file }, { fetch: rec.fetch });
    const alice = await connectClient(server, { headers: { authorization: `Bearer ${"a".repeat(40)}` } });
    const bob = await connectClient(server, { headers: { authorization: `Bearer ${"b".repeat(40)}` } });
    const aliceTools = (await alice.listTools()).tools.map((t) => t.name);
    const bobTools = (await bob.listTools()).tools.map((t) => t.name);
    expect(aliceTools).not.toContain("write_secret");
    expect(bobTools).toContain("write_secret");

    rec.seen.length = 0;
    expect(text(await call(alice, "write_secret", { path: `${app}/x`, key: "k", value: "v" }))).toContain('policy file callers."alice".read_only');
    expect(text(await call(bob, "write_secret", { path: "elsewhere/x", key: "k", value: "v" }))).toContain('policy file callers."bob".allowed_paths');
    expect(rec.seen).toEqual([]);
    await ok(bob, "write_secret", { path: `${app}/x`, key: "k", value: "v" });

    // A bad edit keeps the last good policy; a good one takes effect at once.
    writeFileSync(file, "callers: [\n");
    await ok(bob, "read_secret", { path: `${app}/x` });
    const next = join(dir, "policy.next");
    writeFileSync(next, `callers:\n  bob:\n    denied_paths: ["secret/${app}/*"]\n`);
    renameSync(next, file);
    expect(text(await call(bob, "read_secret", { path: `${app}/x` }))).toContain('policy file callers."bob".denied_paths');
    // alice is no longer named: the environment's rules (none) apply to her.
    expect((await alice.listTools()).tools.map((t) => t.name)).toContain("write_secret");
  });

  it("a file that does not parse stops the start", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "callers:\n  a:\n    nonsense: 1\n");
    expect(() => testServer({ MCP_AUDIT_LOG: "off", MCP_POLICY_FILE: bad })).toThrow(/unknown rule "nonsense"/);
    expect(() => testServer({ MCP_AUDIT_LOG: "off", MCP_POLICY_FILE: join(dir, "missing.yaml") })).toThrow(/cannot read/);
  });
});

describe("limits", () => {
  it("answers 429 with Retry-After and a JSON-RPC error once the rate limit's burst is spent", async () => {
    const server = testServer({ MCP_AUDIT_LOG: "off", MCP_RATE_LIMIT: "1/m,burst=2" });
    expect((await post(server, listCall(1))).status).toBe(200);
    expect((await post(server, listCall(2))).status).toBe(200);
    // tools/list is not limited.
    expect((await post(server, { jsonrpc: "2.0", id: 9, method: "tools/list" })).status).toBe(200);
    const refused = await post(server, listCall(3));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as any;
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 3, error: { code: -32000 } });
    expect(body.error.message).toContain("MCP_RATE_LIMIT");
  });

  it("refuses a call over the concurrency cap at once with 429, and admits again when the running one ends", async () => {
    let hold: () => void = () => {};
    let held = false;
    const slowFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : input.toString();
      if (!held && url.includes("/v1/sys/mounts")) {
        held = true;
        await new Promise<void>((r) => (hold = r));
      }
      return fetch(input, init);
    }) as typeof fetch;
    const server = testServer({ MCP_AUDIT_LOG: "off", MCP_MAX_CONCURRENT_CALLS_PER_CALLER: "1" }, { fetch: slowFetch });
    const first = post(server, listCall(1));
    while (!held) await Bun.sleep(5);
    const started = performance.now();
    const second = await post(server, listCall(2));
    expect(second.status).toBe(429);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(((await second.json()) as any).error.message).toContain("MCP_MAX_CONCURRENT_CALLS_PER_CALLER");
    hold();
    expect((await first).status).toBe(200);
    expect((await post(server, listCall(3))).status).toBe(200);
  });
});
