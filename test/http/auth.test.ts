// MCP_AUTH at the HTTP layer: bearer through the SDK client, what stays open, /readyz's detail, sessions bound to
// their caller, the Host check off loopback, and stdio, which trusts the process that started it.
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { readinessDetail } from "../../src/http/app.ts";
import { bearerAuthenticator, NO_AUTH } from "../../src/http/auth.ts";
import { BearerTokens } from "../../src/http/bearer.ts";
import { silentLogger } from "../../src/log.ts";
import { callTool } from "../../src/mcp/call.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { connectClient, MCP_URL, ok, testServer, type TestServer, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

const KAGENT = crypto.randomUUID();
const CI = crypto.randomUUID();
const dir = mkdtempSync(join(tmpdir(), "mcp-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tokensPath = join(dir, "tokens");
writeFileSync(tokensPath, `kagent:${KAGENT}\nci-bot:${CI}\n`);

const LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
const post = (server: TestServer, body: string, authorization?: string) =>
  server.fetch(new Request(MCP_URL, { method: "POST", body, headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) } }));
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

const server = testServer({ MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokensPath });

describe("MCP_AUTH=bearer", () => {
  it("refuses a request without a token: 401 with WWW-Authenticate: Bearer realm=\"vault-mcp-server\"", async () => {
    const res = await post(server, LIST);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="vault-mcp-server"');
    expect(((await res.json()) as any).error).toEqual({ code: -32000, message: "Unauthorized: send Authorization: Bearer <token> with a token from MCP_AUTH_TOKENS_FILE" });
  });

  it("refuses a wrong token, and another scheme, with 401", async () => {
    const wrong = await post(server, LIST, `Bearer ${crypto.randomUUID()}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="vault-mcp-server", error="invalid_token"');
    expect((await post(server, LIST, `Basic ${btoa(`kagent:${KAGENT}`)}`)).status).toBe(401);
  });

  it("refuses the anonymous delete_mount from issue 9 with 401, and the mount and its data are still there", async () => {
    const mount = unique("bearer-keep");
    expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "delete_mount", arguments: { path: mount } } });
    expect((await post(server, body)).status).toBe(401);
    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).status).toBe(200);
  });

  it("does not let an SDK client without a token even initialize", async () => {
    await expect(connectClient(server)).rejects.toThrow(/401|Unauthorized/);
  });

  it("lets the SDK client in with a token from the file", async () => {
    const client = await connectClient(server, bearer(KAGENT));
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await ok(client, "list_mounts");
    await client.close();
  });

  it("keeps /healthz and /metrics open and gives /readyz to anyone (detail only as its standing allows)", async () => {
    expect((await server.fetch("http://127.0.0.1:8084/healthz")).status).toBe(200);
    expect((await server.fetch("http://127.0.0.1:8084/readyz")).status).toBe(200);
    expect((await server.fetch("http://127.0.0.1:8084/metrics")).status).toBe(200);
  });

  it("takes a rotated file: the new token works and the removed one is refused", async () => {
    const path = join(dir, "rotating");
    const [before, after] = [crypto.randomUUID(), crypto.randomUUID()];
    writeFileSync(path, `kagent:${before}\n`);
    const rotating = testServer({ MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: path });
    expect((await post(rotating, LIST, `Bearer ${before}`)).status).toBe(200);
    writeFileSync(join(dir, "next"), `kagent:${after}\n`);
    renameSync(join(dir, "next"), path);
    await Bun.sleep(1100);
    expect((await post(rotating, LIST, `Bearer ${after}`)).status).toBe(200);
    expect((await post(rotating, LIST, `Bearer ${before}`)).status).toBe(401);
  });

  it("binds a session to the caller that opened it: another caller's token cannot use its id", async () => {
    const stateful = testServer({ MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokensPath, MCP_STATEFUL: "true" });
    const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
    const opened = await post(stateful, init, `Bearer ${KAGENT}`);
    const id = opened.headers.get("mcp-session-id") as string;
    expect(id).toBeTruthy();
    const inSession = (token: string) =>
      stateful.fetch(
        new Request(MCP_URL, {
          method: "POST",
          body: LIST,
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}`, "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" },
        }),
      );
    expect((await inSession(CI)).status).toBe(404);
    expect((await inSession(KAGENT)).status).toBe(200);
    await stateful.runtime.close();
  });

  it("names the caller by the token's name, with the peer's address, and never carries the token", () => {
    const auth = bearerAuthenticator(new BearerTokens(tokensPath, { log: silentLogger }));
    const caller = auth.authenticate(new Request(MCP_URL, { headers: { authorization: `Bearer ${CI}` } }), "10.0.0.7");
    expect(caller).toEqual({ name: "ci-bot", auth: "bearer", address: "10.0.0.7" });
    expect(JSON.stringify(caller)).not.toContain(CI);
  });
});

describe("MCP_AUTH=none", () => {
  it("is the anonymous caller without reading a header", () => {
    const req = new Request(MCP_URL, { headers: { authorization: "Bearer whatever" } });
    Object.defineProperty(req, "headers", { get: () => { throw new Error("read a header"); } });
    expect(NO_AUTH.authenticate(req, "127.0.0.1")).toEqual({ name: "anonymous", auth: "none", address: "127.0.0.1" });
  });
});

describe("/readyz detail", () => {
  const guard = { bindHost: "0.0.0.0", allowedOrigins: [], allowedHosts: new Set(["vault-mcp-server.kagent.svc"]) };
  const auth = bearerAuthenticator(new BearerTokens(tokensPath, { log: silentLogger }));
  const probe = (headers: Record<string, string>) => new Request("http://vault-mcp-server.kagent.svc:8084/readyz", { headers: { host: "vault-mcp-server.kagent.svc:8084", ...headers } });

  it("goes to a loopback peer and to an authenticated one, never to an anonymous or wrongly authenticated peer", async () => {
    expect(await readinessDetail(guard, auth, probe({}), "127.0.0.1")).toBe(true);
    expect(await readinessDetail(guard, auth, probe({ authorization: `Bearer ${KAGENT}` }), "10.0.0.5")).toBe(true);
    expect(await readinessDetail(guard, auth, probe({}), "10.0.0.5")).toBe(false);
    expect(await readinessDetail(guard, auth, probe({ authorization: `Bearer ${crypto.randomUUID()}` }), "10.0.0.5")).toBe(false);
  });

  it("goes to no peer off loopback with MCP_AUTH=none, and never to a request for a host we do not answer to", async () => {
    expect(await readinessDetail(guard, NO_AUTH, probe({ authorization: `Bearer ${KAGENT}` }), "10.0.0.5")).toBe(false);
    const rebound = new Request("http://evil.example:8084/readyz", { headers: { host: "evil.example:8084" } });
    expect(await readinessDetail(guard, auth, rebound, "127.0.0.1")).toBe(false);
  });
});

describe("off loopback (MCP_HOST=0.0.0.0)", () => {
  const wide = testServer({ MCP_HOST: "0.0.0.0", MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokensPath });
  const to = (host: string, path = "/mcp") =>
    wide.fetch(new Request(`http://${host}${path}`, { method: path === "/mcp" ? "POST" : "GET", body: path === "/mcp" ? LIST : undefined, headers: { host, authorization: `Bearer ${KAGENT}` } }));

  it("answers the names the Service has, and loopback names (kubectl port-forward)", async () => {
    for (const host of ["vault-mcp-server:8084", "vault-mcp-server.kagent.svc.cluster.local:8084", "localhost:8084"]) expect([host, (await to(host)).status]).toEqual([host, 200]);
  });

  it("refuses a rebound name with 403 naming MCP_ALLOWED_HOSTS, but still answers the probes", async () => {
    const res = await to("evil.example:8084");
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toContain("MCP_ALLOWED_HOSTS");
    expect((await to("evil.example:8084", "/healthz")).status).toBe(200);
    const ready = await to("evil.example:8084", "/readyz");
    expect(await ready.json()).toEqual({ ready: true });
  });

  it("takes MCP_ALLOWED_HOSTS instead of the defaults", async () => {
    const named = testServer({ MCP_HOST: "0.0.0.0", MCP_ALLOWED_HOSTS: "vault-mcp.example.com" });
    const req = (host: string) => named.fetch(new Request(`http://${host}/mcp`, { method: "POST", body: LIST, headers: { host } }));
    expect((await req("vault-mcp.example.com")).status).toBe(200);
    expect((await req("vault-mcp-server.kagent.svc")).status).toBe(403);
  });
});

describe("stdio", () => {
  it("trusts the process that started it: no authentication and no scope check, whatever MCP_AUTH says", async () => {
    const vault = testVault();
    for (const auth of [
      { MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: join(dir, "not-read-over-stdio") },
      { MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: "https://issuer.example", MCP_OAUTH_AUDIENCE: "vault-mcp-server" },
    ]) {
      const runtime = buildRuntime(loadConfig(["stdio"], { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, ...auth }), silentLogger);
      expect(runtime.auth.mode).toBe("none");
      expect(runtime.scopes).toBeUndefined();
      expect((await callTool(runtime, { name: "list_mounts" })).isError).toBeUndefined();
    }
  });
});

describe("settings", () => {
  const env = { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t" };
  const refused: [Record<string, string>, RegExp][] = [
    [{ MCP_AUTH: "basic" }, /MCP_AUTH must be one of none, bearer, oauth/],
    [{ MCP_AUTH: "bearer" }, /needs MCP_AUTH_TOKENS_FILE/],
    [{ MCP_AUTH: "oauth", MCP_OAUTH_AUDIENCE: "x" }, /needs MCP_OAUTH_ISSUER/],
    [{ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: "https://issuer.example" }, /needs MCP_OAUTH_AUDIENCE/],
    [{ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: "http://issuer.example", MCP_OAUTH_AUDIENCE: "x" }, /must use https \(http only to loopback\)/],
    [{ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: "https://i.example", MCP_OAUTH_AUDIENCE: "x", MCP_OAUTH_WRITE_SCOPE: "a b" }, /one scope name/],
  ];
  for (const [given, reason] of refused) {
    it(`refuses ${JSON.stringify(given)} at start-up`, () => {
      expect(() => loadConfig([], { ...env, ...given })).toThrow(reason);
    });
  }

  it("reads --auth and the oauth flags, and 'none' for a scope that is not needed", () => {
    const c = loadConfig(["--auth", "oauth", "--oauth-issuer", "https://k8s.example", "--oauth-audience", "vault-mcp-server", "--oauth-read-scope", "none"], env);
    expect(c.http.auth).toMatchObject({ mode: "oauth", issuer: "https://k8s.example", audience: ["vault-mcp-server"], readScope: undefined, writeScope: "vault:write", subjects: [] });
  });

});
