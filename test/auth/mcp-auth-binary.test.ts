// MCP_AUTH end to end: the compiled binary as its own process on loopback, called by the SDK client over real HTTP.
import { afterAll, describe, expect, it } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type ServerProcess, startServer } from "../interop/server-process.ts";
import { ok, unique, vaultApi } from "../support/mcp.ts";
import { startIssuer } from "./oauth-issuer.ts";
import { tempDir } from "./support.ts";

const TIMEOUT = 120_000;
const dir = tempDir("mcp-auth-bin-");
const started: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function serve(env: Record<string, string>): Promise<ServerProcess> {
  const s = await startServer([], env);
  started.push(s);
  return s;
}

async function client(url: string, token: string): Promise<Client> {
  const c = new Client({ name: "auth-e2e", version: "1.0.0" });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return c;
}

const deleteMount = (path: string) => JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "delete_mount", arguments: { path } } });

describe("the binary with MCP_AUTH=bearer", () => {
  it("refuses the anonymous curl that deleted a mount (401) and serves the SDK client with a token; a rotated file takes over", async () => {
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    const tokens = join(dir, "tokens");
    writeFileSync(tokens, `kagent:${first}\n`);
    const s = await serve({ MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokens });
    const mount = unique("bin-keep");
    expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } })).status).toBe(204);

    const anonymous = await fetch(s.url, { method: "POST", body: deleteMount(mount) });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="vault-mcp-server"');
    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).status).toBe(200);

    const c = await client(s.url, first);
    await ok(c, "list_mounts");
    await c.close();

    writeFileSync(join(dir, "next"), `kagent:${second}\n`);
    renameSync(join(dir, "next"), tokens);
    await Bun.sleep(1100);
    expect((await fetch(s.url, { method: "POST", body: deleteMount(mount), headers: { authorization: `Bearer ${first}` } })).status).toBe(401);
    const c2 = await client(s.url, second);
    await ok(c2, "list_mounts");
    await c2.close();
    expect(s.logLines("warn")).toEqual([]);
  }, TIMEOUT);

  it("will not start with a tokens file it cannot use, and says which setting", async () => {
    const bad = join(dir, "bad-tokens");
    writeFileSync(bad, "kagent:short\n");
    await expect(startServer([], { MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: bad })).rejects.toThrow(/MCP_AUTH_TOKENS_FILE: line 1 \(kagent\)/);
  }, TIMEOUT);
});

describe("the binary with MCP_AUTH=oauth", () => {
  it("refuses the anonymous delete_mount (401 pointing at its metadata) and serves a caller with a good JWT", async () => {
    const issuer = await startIssuer();
    const s = await serve({ MCP_AUTH: "oauth", MCP_OAUTH_ISSUER: issuer.url, MCP_OAUTH_AUDIENCE: "vault-mcp-server" });
    const mount = unique("bin-oauth-keep");
    expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
    const anonymous = await fetch(s.url, { method: "POST", body: deleteMount(mount) });
    expect(anonymous.status).toBe(401);
    const origin = new URL(s.url).origin;
    expect(anonymous.headers.get("www-authenticate")).toContain(`resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`);
    const metadata = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(metadata).toMatchObject({ resource: `${origin}/mcp`, authorization_servers: [issuer.url] });

    const reader = await client(s.url, await issuer.sign({ scope: "vault:read" }));
    await ok(reader, "list_mounts");
    await reader.close();
    const refused = await fetch(s.url, { method: "POST", body: deleteMount(mount), headers: { authorization: `Bearer ${await issuer.sign({ scope: "vault:read" })}` } });
    expect(refused.status).toBe(403);
    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).status).toBe(200);
    issuer.stop();
  }, TIMEOUT);
});

describe("the binary with MCP_AUTH=none", () => {
  it("starts on a non-loopback bind but warns loudly (no request is sent to it; its Vault is a closed port)", async () => {
    const s = await serve({ MCP_HOST: "0.0.0.0", VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "not-a-real-token" });
    const warnings = s.logLines("warn").map((l) => l.msg);
    expect(warnings.some((m) => m.startsWith("MCP_AUTH=none on 0.0.0.0: ANYONE WHO CAN REACH PORT"))).toBe(true);
    await s.stop();
  }, TIMEOUT);

  it("does not warn on loopback", async () => {
    const s = await serve({});
    expect(s.logLines("warn").filter((l) => l.msg.startsWith("MCP_AUTH=none"))).toEqual([]);
  }, TIMEOUT);
});
