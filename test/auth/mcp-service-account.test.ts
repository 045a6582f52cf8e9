// MCP_AUTH=oauth with Kubernetes service-account tokens: an agent pod presents its own projected token, verified
// against the cluster's issuer and JWKS (here an API-server stand-in on loopback: HTTPS under its own CA, discovery
// and /openid/v1/jwks only for a caller with a token), so no static secret is shared.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { call, connectClient, MCP_URL, ok, testServer, type TestServer } from "../support/mcp.ts";
import { startIssuer, type TestIssuer } from "./oauth-issuer.ts";
import { tempDir, testPki } from "./support.ts";

const dir = tempDir("mcp-sa-");
const pki = testPki(dir);
const cert = pki.issue("kube-apiserver", { san: "IP:127.0.0.1", usage: "serverAuth" });
const SERVER_SA_TOKEN = `server-sa-${crypto.randomUUID()}`;
const tokenFile = join(dir, "server-token");
writeFileSync(tokenFile, SERVER_SA_TOKEN);

let apiServer: TestIssuer;
let server: TestServer;

/** The claims of a projected service-account token as kube-apiserver writes them (audience vault-mcp-server). */
function projected(namespace: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    aud: ["vault-mcp-server"],
    sub: `system:serviceaccount:${namespace}:${name}`,
    "kubernetes.io": {
      namespace,
      serviceaccount: { name, uid: crypto.randomUUID() },
      pod: { name: `${name}-7d9f8-abcde`, uid: crypto.randomUUID() },
      node: { name: "node-1", uid: crypto.randomUUID() },
    },
    ...extra,
  };
}

beforeAll(async () => {
  apiServer = await startIssuer({ tls: cert, jwksPath: "/openid/v1/jwks", requireToken: SERVER_SA_TOKEN });
  server = testServer({
    MCP_AUTH: "oauth",
    MCP_OAUTH_ISSUER: apiServer.url,
    MCP_OAUTH_AUDIENCE: "vault-mcp-server",
    // Service-account tokens carry no scopes: the audience and the subject list decide who may call.
    MCP_OAUTH_READ_SCOPE: "none",
    MCP_OAUTH_WRITE_SCOPE: "none",
    MCP_OAUTH_SUBJECTS: "system:serviceaccount:kagent:vault-agent,system:serviceaccount:kagent-agents:*",
    MCP_OAUTH_CA_FILE: pki.caFile,
    MCP_OAUTH_JWKS_TOKEN_FILE: tokenFile,
  });
});
afterAll(() => apiServer.stop());

describe("kagent's agent pod presenting its own service-account token", () => {
  it("is let in and can call every tool, identified as system:serviceaccount:kagent:vault-agent", async () => {
    const token = await apiServer.sign(projected("kagent", "vault-agent"));
    const client = await connectClient(server, { headers: { authorization: `Bearer ${token}` } });
    await ok(client, "list_mounts");
    // No scope is needed for a write tool either; a bad argument is the tool's own error, not a refusal.
    const result = await call(client, "delete_mount", { path: "../sys" });
    expect(result.isError).toBe(true);
    await client.close();
  });

  it("lets in any service account of a namespace the subject list names with *", async () => {
    const token = await apiServer.sign(projected("kagent-agents", "ops-agent"));
    const res = await server.fetch(new Request(MCP_URL, { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
  });

  it("refuses another workload's token minted for the same audience with 403 naming its subject", async () => {
    const token = await apiServer.sign(projected("default", "curious-pod"));
    const res = await server.fetch(new Request(MCP_URL, { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toBe('Forbidden: subject "system:serviceaccount:default:curious-pod" is not one MCP_OAUTH_SUBJECTS lets in');
  });

  it("refuses the pod's token for the API server's own audience (a token stolen from another use)", async () => {
    const token = await apiServer.sign(projected("kagent", "vault-agent", { aud: ["https://kubernetes.default.svc.cluster.local"] }));
    const res = await server.fetch(new Request(MCP_URL, { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(401);
  });

  it("fetched discovery and the JWKS over HTTPS trusting MCP_OAUTH_CA_FILE, presenting its own token from MCP_OAUTH_JWKS_TOKEN_FILE", () => {
    expect(apiServer.jwksFetches()).toBeGreaterThan(0);
    expect(new Set(apiServer.authorizations())).toEqual(new Set([`Bearer ${SERVER_SA_TOKEN}`]));
  });

  it("cannot reach keys served under a CA it was not given (503, not a pass)", async () => {
    const s = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: apiServer.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server", MCP_OAUTH_JWKS_TOKEN_FILE: tokenFile });
    const token = await apiServer.sign(projected("kagent", "vault-agent"));
    const res = await s.fetch(new Request(MCP_URL, { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(503);
  });

  it("presents the rotated token once the kubelet has replaced the file", async () => {
    const rotated = `server-sa-${crypto.randomUUID()}`;
    writeFileSync(join(dir, "next"), rotated);
    renameSync(join(dir, "next"), tokenFile);
    // The API server now accepts only the new token; a fresh server discovers and fetches the keys with it.
    const again = await startIssuer({ tls: cert, jwksPath: "/openid/v1/jwks", requireToken: rotated });
    const s = testServer({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: again.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server", MCP_OAUTH_READ_SCOPE: "none", MCP_OAUTH_CA_FILE: pki.caFile, MCP_OAUTH_JWKS_TOKEN_FILE: tokenFile });
    const token = await again.sign(projected("kagent", "vault-agent"));
    const res = await s.fetch(new Request(MCP_URL, { method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
    expect(again.authorizations()).toContain(`Bearer ${rotated}`);
    again.stop();
  });
});
