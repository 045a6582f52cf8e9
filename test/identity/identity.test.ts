// MCP_VAULT_IDENTITY against a dev Vault of our own with a file audit device: request (each caller's X-Vault-Token) and
// jwt (each caller's JWT exchanged at Vault's jwt auth, pointed at a JWKS issuer made here), through the SDK client.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { startIssuer, type TestIssuer } from "../auth/oauth-issuer.ts";
import { api } from "../fuzz/harness.ts";
import { call, MCP_URL, text, type ToolResult } from "../support/mcp.ts";
import { type DevVault, startDevVault } from "../support/vault.ts";

let vault: DevVault;
let auditFile: string;
let issuer: TestIssuer;
const MOUNT = "idt";

async function must(method: string, path: string, body?: unknown): Promise<any> {
  const res = await api(vault, method, path, body);
  if (res.status >= 300) throw new Error(`setup: ${method} ${path} answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** A token with exactly these policies; its accessor names it in Vault's audit log. */
async function tokenWith(policies: string[], name: string): Promise<{ token: string; accessor: string }> {
  const made = await must("POST", "auth/token/create", { policies, display_name: name, no_default_policy: true });
  return { token: made.auth.client_token, accessor: made.auth.accessor };
}

/** Vault's audit entries of type request so far. */
function vaultAudit(): any[] {
  return readFileSync(auditFile, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === "request");
}

interface Served {
  fetch(req: Request): Promise<Response>;
  audit: string[];
  logs: string[];
  /** Every request the server sent to Vault: URL and headers. */
  sent: { url: string; headers: Headers }[];
}

function serve(env: Record<string, string>, serverToken: string): Served {
  const audit: string[] = [];
  const logs: string[] = [];
  const sent: Served["sent"] = [];
  const recording = ((input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(input instanceof Request ? input.url : input), headers: new Headers(init?.headers) });
    return fetch(input, init);
  }) as typeof fetch;
  const config = loadConfig([], { VAULT_ADDR: vault.addr, VAULT_TOKEN: serverToken, ...env });
  const runtime = buildRuntime(config, createLogger("debug", (l) => void logs.push(l)), { fetch: recording, auditWrite: (l) => void audit.push(l), jwksCooldownMs: 0 });
  const app = createApp({ handleMcp: runtime.handleMcp, readiness: runtime.readiness, guard: runtime.guard, auth: runtime.auth });
  return { fetch: (req) => app.handle(req), audit, logs, sent };
}

async function client(server: Served, headers: Record<string, string>): Promise<Client> {
  const c = new Client({ name: "identity-tests", version: "1.0.0" });
  await c.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), { fetch: (i, init) => server.fetch(new Request(i instanceof URL ? i.href : i, init)), requestInit: { headers } }));
  return c;
}

const post = (server: Served, body: unknown, headers: Record<string, string> = {}, url = MCP_URL) =>
  server.fetch(new Request(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }));
const toolCall = (name: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id: 41,
  method: "tools/call",
  params: { name, arguments: args, ...extra },
});

let server: { token: string; accessor: string };
let reader: { token: string; accessor: string };
let writer: { token: string; accessor: string };
let stranger: { token: string; accessor: string };

beforeAll(async () => {
  vault = await startDevVault({ fromEnv: false });
  auditFile = join(await mkdtemp(join(tmpdir(), "vault-mcp-identity-")), "audit.log");
  await must("PUT", "sys/audit/identity", { type: "file", options: { file_path: auditFile, hmac_accessor: "false" } });
  await must("POST", `sys/mounts/${MOUNT}`, { type: "kv", options: { version: "2" } });
  await must("POST", `${MOUNT}/data/shared/a`, { data: { greeting: "hello-from-root" } });
  await must("PUT", "sys/policies/acl/idt-read", { policy: `path "${MOUNT}/data/*" { capabilities = ["read"] }` });
  await must("PUT", "sys/policies/acl/idt-write", {
    policy: `path "${MOUNT}/data/*" { capabilities = ["read", "create", "update", "patch"] }\npath "${MOUNT}/metadata/*" { capabilities = ["read"] }`,
  });
  await must("PUT", "sys/policies/acl/elsewhere", { policy: `path "other/*" { capabilities = ["read"] }` });
  // The server's own token could do anything: no call in request or jwt mode may be made with it.
  server = await tokenWith(["root"], "mcp-server");
  reader = await tokenWith(["idt-read"], "reader");
  writer = await tokenWith(["idt-write"], "writer");
  stranger = await tokenWith(["elsewhere"], "stranger");
  issuer = await startIssuer();
});

afterAll(async () => {
  issuer?.stop();
  await vault?.stop();
});

const byAccessor = (accessor: string) => vaultAudit().filter((e) => e.auth?.accessor === accessor);

describe("MCP_VAULT_IDENTITY=request", () => {
  let s: Served;
  beforeAll(() => {
    s = serve({ MCP_VAULT_IDENTITY: "request" }, server.token);
  });

  it("gives two callers with different Vault policies different permissions, each with its own token", async () => {
    const r = await client(s, { "x-vault-token": reader.token });
    const w = await client(s, { "x-vault-token": writer.token });
    const read = await call(r, "read_secret", { mount: MOUNT, path: "shared/a" });
    expect(read.isError).toBeFalsy();
    expect(read.structuredContent?.data).toEqual({ greeting: "hello-from-root" });
    const denied = await call(r, "write_secret", { mount: MOUNT, path: "shared/b", key: "k", value: "from-reader" });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain("Permission denied");
    const wrote = await call(w, "write_secret", { mount: MOUNT, path: "shared/b", key: "k", value: "from-writer" });
    expect(wrote.isError, text(wrote)).toBeFalsy();
    expect((await must("GET", `${MOUNT}/data/shared/b`)).data.data).toEqual({ k: "from-writer" });
    await r.close();
    await w.close();
    // Vault's own audit log names both identities, and never the server's.
    expect(byAccessor(reader.accessor).some((e) => e.request.path === `${MOUNT}/data/shared/a`)).toBe(true);
    expect(byAccessor(writer.accessor).some((e) => e.request.path === `${MOUNT}/data/shared/b` && e.request.operation !== "read")).toBe(true);
    expect(byAccessor(server.accessor)).toEqual([]);
  });

  it("refuses a call without X-Vault-Token, saying how to send one, and sends Vault nothing with the server's token", async () => {
    const before = s.sent.length;
    const res = await post(s, toolCall("read_secret", { mount: MOUNT, path: "shared/a" }));
    const body = (await res.json()) as any;
    expect(body.error.code).toBe(-32000);
    expect(body.error.message).toContain("X-Vault-Token");
    expect(body.error.message).toContain("MCP_VAULT_IDENTITY=request");
    expect(s.sent.length).toBe(before);
    expect(byAccessor(server.accessor)).toEqual([]);
    // tools/list needs no Vault identity.
    const listed = (await (await post(s, { jsonrpc: "2.0", id: 1, method: "tools/list" })).json()) as any;
    expect(listed.result.tools.length).toBeGreaterThan(0);
    const line = JSON.parse(s.audit.at(-1)!);
    expect(line).toMatchObject({ audit: "tools/call", tool: "read_secret", outcome: "refused", rule: "identity", identity: "request" });
  });

  it("does not answer one caller from the mount types another caller's token learned", async () => {
    const r = await client(s, { "x-vault-token": reader.token });
    expect((await call(r, "read_secret", { mount: MOUNT, path: "shared/a" })).isError).toBeFalsy();
    const x = await client(s, { "x-vault-token": stranger.token });
    const refused = await call(x, "read_secret", { mount: MOUNT, path: "shared/a" });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/Permission denied/);
    // The stranger's own token asked Vault what is mounted at idt/ (and was refused); no cached answer stood in.
    expect(byAccessor(stranger.accessor).some((e) => String(e.request.path).startsWith(`sys/internal/ui/mounts/${MOUNT}`))).toBe(true);
    await r.close();
    await x.close();
  });

  it("takes no Vault address, namespace or TLS setting from a request: headers and _meta are ignored", async () => {
    const before = s.sent.length;
    const res = await post(
      s,
      toolCall("read_secret", { mount: MOUNT, path: "shared/a" }, { _meta: { vault_addr: "http://127.0.0.1:1", vault_namespace: "evil", tls_skip_verify: true } }),
      { "x-vault-token": reader.token, "x-vault-namespace": "evil", "x-vault-addr": "http://127.0.0.1:1", "x-vault-skip-verify": "true" },
    );
    const body = (await res.json()) as any;
    expect(body.result?.isError).toBeFalsy();
    const sent = s.sent.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(r.url.startsWith(`${vault.addr}/v1/`)).toBe(true);
      expect(r.headers.get("x-vault-namespace")).toBeNull();
      expect(r.headers.get("x-vault-token")).toBe(reader.token);
    }
  });

  it("refuses a token in the query string with 400, before anything else, in every identity mode", async () => {
    for (const [url, headers] of [
      [`${MCP_URL}?x-vault-token=${reader.token}`, {}],
      [`${MCP_URL}?access_token=abc`, {}],
      [`${MCP_URL}?q=${reader.token}`, {}],
    ] as const) {
      const res = await post(s, toolCall("list_mounts", {}), headers, url);
      expect(res.status).toBe(400);
      const body = await res.text();
      expect(body).toContain("query string");
      expect(body).not.toContain(reader.token);
    }
    const plain = serve({}, server.token);
    expect((await post(plain, toolCall("list_mounts", {}), {}, `${MCP_URL}?token=abc`)).status).toBe(400);
  });

  it("never writes a caller's token into the audit log or the operational log", () => {
    const all = [...s.audit, ...s.logs].join("\n");
    for (const t of [reader.token, writer.token, stranger.token, server.token]) expect(all).not.toContain(t);
  });

  it("records Vault's request ids, which Vault's own audit log carries for the same requests", async () => {
    const res = await post(s, toolCall("read_secret", { mount: MOUNT, path: "shared/a" }), { "x-vault-token": reader.token });
    expect(((await res.json()) as any).result.isError).toBeFalsy();
    const line = JSON.parse(s.audit.at(-1)!);
    expect(line).toMatchObject({ audit: "tools/call", id: 41, tool: "read_secret", mount: MOUNT, path: "shared/a", outcome: "ok", args: ["mount", "path"] });
    expect(line.vault_request_ids.length).toBeGreaterThan(0);
    const ids = new Set(vaultAudit().map((e) => e.request.id));
    for (const id of line.vault_request_ids) expect(ids.has(id)).toBe(true);
  });
});

describe("MCP_VAULT_IDENTITY=jwt", () => {
  const JWT_MOUNT = "mcp-callers";
  let s: Served;
  beforeAll(async () => {
    await must("POST", `sys/auth/${JWT_MOUNT}`, { type: "jwt" });
    await must("POST", `auth/${JWT_MOUNT}/config`, { jwks_url: issuer.jwksUrl, bound_issuer: issuer.url });
    for (const [role, policy] of [
      ["reader", "idt-read"],
      ["writer", "idt-write"],
    ]) {
      await must("POST", `auth/${JWT_MOUNT}/role/${role}`, {
        role_type: "jwt",
        bound_audiences: ["vault-mcp-server"],
        user_claim: "sub",
        token_policies: [policy],
        token_no_default_policy: true,
        token_ttl: "1h",
      });
    }
    s = serve(
      {
        MCP_AUTH: "oauth",
        MCP_OAUTH_ISSUER: issuer.url,
        MCP_OAUTH_AUDIENCE: "vault-mcp-server",
        MCP_OAUTH_READ_SCOPE: "none",
        MCP_OAUTH_WRITE_SCOPE: "none",
        MCP_VAULT_IDENTITY: "jwt",
        MCP_VAULT_JWT_MOUNT: JWT_MOUNT,
        MCP_VAULT_JWT_ROLE_CLAIM: "vault_role",
      },
      server.token,
    );
  });

  /** Logins Vault answered for this subject (response entries carry the token's display name). */
  const logins = (sub: string) =>
    readFileSync(auditFile, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "response" && e.request?.path === `auth/${JWT_MOUNT}/login` && e.response?.auth?.display_name === `${JWT_MOUNT}-${sub}`).length;

  it("exchanges each caller's JWT for a Vault token of its own: two callers, two policies, two identities in Vault's audit log", async () => {
    const alice = await issuer.sign({ sub: "alice", vault_role: "reader" });
    const bob = await issuer.sign({ sub: "bob", vault_role: "writer" });
    const a = await client(s, { authorization: `Bearer ${alice}` });
    const b = await client(s, { authorization: `Bearer ${bob}` });
    expect((await call(a, "read_secret", { mount: MOUNT, path: "shared/a" })).isError).toBeFalsy();
    const denied = await call(a, "write_secret", { mount: MOUNT, path: "shared/jwt", key: "k", value: "from-alice" });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain("Permission denied");
    const wrote: ToolResult = await call(b, "write_secret", { mount: MOUNT, path: "shared/jwt", key: "k", value: "from-bob" });
    expect(wrote.isError, text(wrote)).toBeFalsy();
    await a.close();
    await b.close();
    const names = new Set(
      vaultAudit()
        .filter((e) => String(e.request.path).startsWith(`${MOUNT}/data/shared/`))
        .map((e) => e.auth?.display_name),
    );
    expect(names.has(`${JWT_MOUNT}-alice`)).toBe(true);
    expect(names.has(`${JWT_MOUNT}-bob`)).toBe(true);
    expect(byAccessor(server.accessor)).toEqual([]);
  });

  it("logs in once per JWT and reuses the token for later calls with the same JWT", async () => {
    const carol = await issuer.sign({ sub: "carol", vault_role: "reader" });
    const c = await client(s, { authorization: `Bearer ${carol}` });
    await Promise.all([1, 2, 3].map(() => call(c, "read_secret", { mount: MOUNT, path: "shared/a" })));
    await call(c, "read_secret", { mount: MOUNT, path: "shared/a" });
    await c.close();
    expect(logins("carol")).toBe(1);
  });

  it("refuses a caller whose JWT Vault will not exchange, saying why, with nothing else sent", async () => {
    const mallory = await issuer.sign({ sub: "mallory", vault_role: "no-such-role" });
    const res = await post(s, toolCall("read_secret", { mount: MOUNT, path: "shared/a" }), { authorization: `Bearer ${mallory}` });
    const body = (await res.json()) as any;
    expect(body.error.code).toBe(-32000);
    expect(body.error.message).toContain(`auth/${JWT_MOUNT}/login`);
    expect(body.error.message).toContain("no-such-role");
    const noClaim = await issuer.sign({ sub: "nobody" });
    const res2 = await post(s, toolCall("read_secret", { mount: MOUNT, path: "shared/a" }), { authorization: `Bearer ${noClaim}` });
    expect(((await res2.json()) as any).error.message).toContain('"vault_role"');
  });

  it("never writes a JWT or a Vault token into the audit log or the operational log", () => {
    const all = [...s.audit, ...s.logs].join("\n");
    expect(all).not.toContain("eyJ");
    expect(all).not.toMatch(/hvs\.[A-Za-z0-9]/);
    expect(s.audit.some((l) => JSON.parse(l).caller === "alice" && JSON.parse(l).identity === "jwt")).toBe(true);
  });
});
