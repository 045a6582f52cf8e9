// MCP_AUTH=oauth: JWT access tokens from an issuer on loopback made by the test (keys generated at run time), through
// the SDK client and plain HTTP; refused tokens, key rotation, scopes on every path, RFC 9728 metadata.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { callTool, InsufficientScope } from "../../src/mcp/call.ts";
import { call, connectClient, MCP_URL, ok, testServer, type TestServer, unique, vaultApi } from "../support/mcp.ts";
import { startIssuer, type TestIssuer } from "./oauth-issuer.ts";

const LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
const callBody = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name, arguments: args } });

function post(server: TestServer, body: string, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return server.fetch(
    new Request(MCP_URL, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    }),
  );
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

let issuer: TestIssuer;
let server: TestServer;

beforeAll(async () => {
  issuer = await startIssuer();
  server = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: issuer.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server" }, { jwksCooldownMs: 0 });
});
afterAll(() => issuer.stop());

describe("who may call", () => {
  it("refuses a request with no token: 401 whose WWW-Authenticate points at the resource metadata and names the scopes", async () => {
    const res = await post(server, LIST);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer scope="vault:read vault:write", resource_metadata="http://127.0.0.1:8084/.well-known/oauth-protected-resource/mcp"',
    );
    expect(((await res.json()) as any).error.message).toStartWith("Unauthorized");
  });

  it("lets the SDK client in with a good token (RS256, ES256 and EdDSA) and names the caller by its sub", async () => {
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const token = await issuer.sign({ sub: `agent-${alg}`, scope: "vault:read" }, { alg });
      const client = await connectClient(server, bearer(token));
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("list_mounts");
      await ok(client, "list_mounts");
      await client.close();
    }
  });

  it("refuses the anonymous delete_mount from issue 9 with 401, and the mount is still there", async () => {
    const mount = unique("oauth-keep");
    expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
    const res = await post(server, callBody("delete_mount", { path: mount }));
    expect(res.status).toBe(401);
    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).status).toBe(200);
  });

  const refused: [string, () => Promise<string>, RegExp][] = [
    ["an expired token", () => issuer.sign({ exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
    ["a token not valid yet", () => issuer.sign({ nbf: Math.floor(Date.now() / 1000) + 120 }), /not valid yet/],
    ["a token for another audience", () => issuer.sign({ aud: "some-other-api" }), /audience/],
    ["a token with no audience", () => issuer.sign({ aud: undefined }), /aud|audience/],
    ["a token from another issuer", () => issuer.sign({ iss: "https://evil.example" }), /another issuer/],
    ["a token with no sub", () => issuer.sign({ sub: undefined }), /sub/],
    ["a token with no exp", () => issuer.sign({ exp: undefined }), /exp/],
    ["an unsigned token (alg none)", async () => issuer.unsigned(), /algorithm|not a valid/],
    ["an HS256 token keyed with the issuer's public key", () => issuer.hmacWithPublicKey(), /algorithm/],
    ["a token signed by another key under a published kid", async () => (await issuer.unpublishedKey()).sign({}, { kid: issuer.firstKid }), /signature does not verify/],
    ["a token signed by a key the issuer does not publish", async () => (await issuer.unpublishedKey()).sign(), /key the issuer does not publish/],
    ["a token with a tampered payload", async () => {
      const [h, , s] = (await issuer.sign()).split(".");
      return `${h}.${Buffer.from(JSON.stringify({ iss: issuer.url, aud: "vault-mcp-server", sub: "root", exp: 9999999999 })).toString("base64url")}.${s}`;
    }, /signature/],
    ["a string that is not a JWT", async () => "not-a-jwt-at-all", /not a valid signed JWT/],
  ];
  for (const [what, make, reason] of refused) {
    it(`refuses ${what}: 401 invalid_token saying why`, async () => {
      const res = await post(server, LIST, await make());
      expect(res.status).toBe(401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      expect(challenge).toStartWith('Bearer error="invalid_token", error_description="');
      expect(challenge).toContain('resource_metadata="');
      expect(challenge).toMatch(reason);
    });
  }

  it("accepts a token that expired within the 30 s clock skew", async () => {
    const res = await post(server, LIST, await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 10 }));
    expect(res.status).toBe(200);
  });

  it("refuses an unknown kid, then accepts it once the issuer rotates it in (the key set is fetched again)", async () => {
    const next = await issuer.unpublishedKey();
    const token = await next.sign({ scope: "vault:read" });
    const before = issuer.jwksFetches();
    expect((await post(server, LIST, token)).status).toBe(401);
    expect(issuer.jwksFetches()).toBeGreaterThan(before);
    next.publish({ retire: true });
    expect((await post(server, LIST, token)).status).toBe(200);
    // The retired key's tokens are refused once the set is fetched again.
    const old = await issuer.sign({}, { kid: issuer.firstKid });
    expect((await post(server, LIST, old)).status).toBe(401);
  });

  it("answers 503 with Retry-After, not 401, when the issuer's keys cannot be fetched", async () => {
    const gone = await startIssuer();
    const token = await gone.sign();
    gone.stop();
    const lonely = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: gone.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server" });
    const res = await post(lonely, LIST, token);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
  });
});

describe("scopes", () => {
  const mount = unique("oauth-scope");
  beforeAll(async () => {
    expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
  });

  it("lets vault:read call read-only tools and refuses the rest with 403 insufficient_scope naming vault:write (fast path)", async () => {
    const token = await issuer.sign({ scope: "openid vault:read" });
    expect((await post(server, callBody("list_mounts"), token)).status).toBe(200);
    const res = await post(server, callBody("delete_mount", { path: mount }), token);
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer error="insufficient_scope", scope="vault:write", resource_metadata="http://127.0.0.1:8084/.well-known/oauth-protected-resource/mcp"',
    );
    const body = (await res.json()) as any;
    expect(body.id).toBe(7);
    expect(body.error.message).toBe(
      'Forbidden: delete_mount changes Vault and needs scope "vault:write"; this token has "openid", "vault:read". Ask the authorization server for a token with scope "vault:write".',
    );
    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).status).toBe(200);
  });

  it("refuses the same call on the SDK path (an SSE-only client) and through the SDK client", async () => {
    const token = await issuer.sign({ scope: "vault:read" });
    const sse = await post(server, callBody("delete_mount", { path: mount }), token, { accept: "text/event-stream" });
    expect(sse.status).toBe(403);
    const client = await connectClient(server, bearer(token));
    await expect(call(client, "delete_mount", { path: mount })).rejects.toThrow(/403|insufficient_scope|vault:write/);
    await client.close();
    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).status).toBe(200);
  });

  it("refuses it inside a session too, where the caller travels as the SDK's authInfo", async () => {
    const stateful = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: issuer.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server", MCP_STATEFUL: "true" });
    const token = await issuer.sign({ scope: "vault:read" });
    const client = await connectClient(stateful, bearer(token));
    await ok(client, "list_mounts");
    await expect(call(client, "delete_mount", { path: mount })).rejects.toThrow(/403|insufficient_scope|vault:write/);
    await client.close();
    await stateful.runtime.close();
  });

  it("lets vault:write call every tool, read-only ones included; a scp array counts as scopes", async () => {
    const writer = await connectClient(server, bearer(await issuer.sign({ scp: ["vault:write"] })));
    await ok(writer, "list_mounts");
    await ok(writer, "write_secret", { mount, path: "app", key: "k", value: "v" });
    await writer.close();
  });

  it("refuses a token with no scope at all for any tool", async () => {
    const res = await post(server, callBody("list_mounts"), await issuer.sign());
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toContain('needs scope "vault:read"; this token has no scopes');
  });

  it("takes its scope names from MCP_OAUTH_READ_SCOPE and MCP_OAUTH_WRITE_SCOPE", async () => {
    const named = testServer({
      MCP_AUTH: "oauth",
      MCP_OAUTH_ISSUER: issuer.url,
      MCP_OAUTH_AUDIENCE: "vault-mcp-server",
      MCP_OAUTH_READ_SCOPE: "secrets.read",
      MCP_OAUTH_WRITE_SCOPE: "secrets.admin",
    });
    expect((await post(named, callBody("list_mounts"), await issuer.sign({ scope: "secrets.read" }))).status).toBe(200);
    const res = await post(named, callBody("delete_mount", { path: mount }), await issuer.sign({ scope: "vault:write" }));
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('scope="secrets.admin"');
  });

  it("is enforced by callTool itself, whatever path carried the call, and fails closed without an oauth caller", async () => {
    const deps = { ...server.runtime, scopes: { read: "vault:read", write: "vault:write" } };
    await expect(callTool(deps, { name: "delete_mount", arguments: { path: mount } }, undefined)).rejects.toBeInstanceOf(InsufficientScope);
    await expect(callTool(deps, { name: "delete_mount", arguments: { path: mount } }, { name: "x", auth: "bearer" })).rejects.toBeInstanceOf(InsufficientScope);
    await expect(callTool(deps, { name: "list_mounts" }, { name: "x", auth: "oauth", scopes: ["vault:read"] })).resolves.toMatchObject({ structuredContent: {} });
    // An unknown tool is still the registry's -32602, not a scope refusal.
    await expect(callTool(deps, { name: "no_such_tool" }, undefined)).rejects.toMatchObject({ code: -32602 });
  });
});

describe("RFC 9728 protected resource metadata", () => {
  it("is served at the root and with /mcp appended, naming this resource, the issuer and the scopes", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const res = await server.fetch(`http://127.0.0.1:8084${path}`);
      expect(res.status).toBe(200);
      expect((await res.json()) as any).toEqual({
        resource: "http://127.0.0.1:8084/mcp",
        authorization_servers: [issuer.url],
        scopes_supported: ["vault:read", "vault:write"],
        bearer_methods_supported: ["header"],
        resource_name: "vault-mcp-server",
      });
    }
  });

  it("names MCP_OAUTH_RESOURCE when set, in the document and in every challenge", async () => {
    const named = testServer({
      MCP_AUTH: "oauth",
      MCP_OAUTH_ISSUER: issuer.url,
      MCP_OAUTH_AUDIENCE: "https://vault-mcp.example.com/mcp",
      MCP_OAUTH_RESOURCE: "https://vault-mcp.example.com/mcp",
    });
    const doc = (await (await named.fetch("http://127.0.0.1:8084/.well-known/oauth-protected-resource")).json()) as any;
    expect(doc.resource).toBe("https://vault-mcp.example.com/mcp");
    expect((await post(named, LIST)).headers.get("www-authenticate")).toContain('resource_metadata="https://vault-mcp.example.com/.well-known/oauth-protected-resource/mcp"');
    expect((await post(named, LIST, await issuer.sign({ aud: "https://vault-mcp.example.com/mcp" }))).status).toBe(200);
  });

  it("is absent with MCP_AUTH=bearer or none", async () => {
    expect((await testServer().fetch("http://127.0.0.1:8084/.well-known/oauth-protected-resource")).status).toBe(404);
  });
});

describe("where the keys come from", () => {
  it("uses MCP_OAUTH_JWKS_URL when set, without asking for discovery", async () => {
    const direct = await startIssuer({ path: "/no-discovery-here", jwksPath: "/keys" });
    const s = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: "https://issuer.example", MCP_OAUTH_AUDIENCE: "vault-mcp-server", MCP_OAUTH_JWKS_URL: direct.jwksUrl });
    expect((await post(s, LIST, await direct.sign({ iss: "https://issuer.example" }))).status).toBe(200);
    direct.stop();
  });

  it("finds the keys through RFC 8414 metadata for an issuer with a path", async () => {
    const realm = await startIssuer({ path: "/realms/agents", rfc8414Only: true });
    const s = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: realm.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server" });
    expect((await post(s, LIST, await realm.sign())).status).toBe(200);
    realm.stop();
  });

  it("does not trust a discovery document that names another issuer", async () => {
    const liar = await startIssuer({ claimedIssuer: "https://someone-else.example" });
    const s = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: liar.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server" });
    expect((await post(s, LIST, await liar.sign())).status).toBe(503);
    liar.stop();
  });
});
