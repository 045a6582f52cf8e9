// Stateful mode (MCP_STATEFUL / --stateful): sessions opened by initialize, the GET notification stream, DELETE,
// idle expiry and the bound on how many sessions are held. Stateless stays the default (see http.test.ts).
import { afterAll, describe, expect, it } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { MCP_URL, type TestServer, testServer } from "../support/mcp.ts";

const servers: TestServer[] = [];
function stateful(env: Record<string, string> = {}): TestServer {
  const server = testServer({ MCP_STATEFUL: "true", ...env });
  servers.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.runtime.close()));
});

const BOTH = "application/json, text/event-stream";
const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
const LIST = { jsonrpc: "2.0", id: 2, method: "tools/list" };

function post(server: TestServer, body: unknown, headers: Record<string, string> = {}) {
  return server.fetch(MCP_URL, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", accept: BOTH, ...headers } });
}

async function open(server: TestServer, accept = BOTH): Promise<string> {
  const res = await post(server, INIT, { accept });
  expect(res.status).toBe(200);
  await res.text();
  const id = res.headers.get("mcp-session-id");
  expect(id).toBeTruthy();
  return id!;
}

const inSession = (id: string) => ({ "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" });

describe("stateful mode", () => {
  it("opens a session on initialize and serves requests that name it", async () => {
    const server = stateful();
    const id = await open(server);
    const res = await post(server, LIST, inSession(id));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(((await res.json()) as any).result.tools.length).toBeGreaterThan(10);
    expect(server.runtime.sessions?.size).toBe(1);
  });

  it("answers in SSE for the whole session when the client opened it accepting only SSE", async () => {
    const server = stateful();
    const id = await open(server, "text/event-stream");
    const res = await post(server, LIST, { ...inSession(id), accept: "text/event-stream" });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(await res.text()).toContain('"tools"');
  });

  it("still serves requests that name no session, statelessly, so curl keeps working", async () => {
    const server = stateful();
    const res = await post(server, LIST, {});
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
    expect(server.runtime.sessions?.size).toBe(0);
  });

  it("answers 404 for a session it does not hold, so the client initializes again", async () => {
    const res = await post(stateful(), LIST, inSession(crypto.randomUUID()));
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain("initialize a new one");
  });

  it("wants a session id on GET and DELETE", async () => {
    const server = stateful();
    for (const method of ["GET", "DELETE"]) {
      const res = await server.fetch(MCP_URL, { method, headers: { accept: "text/event-stream" } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain("Mcp-Session-Id");
    }
  });

  it("delivers server-initiated notifications on the session's GET stream", async () => {
    const server = stateful();
    const id = await open(server);
    const stream = await server.fetch(MCP_URL, { method: "GET", headers: { accept: "text/event-stream", ...inSession(id) } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    await server.runtime.sessions!.notifyAll({ method: "notifications/tools/list_changed" });
    let received = "";
    while (!received.includes("list_changed")) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value;
    }
    expect(received).toContain('"method":"notifications/tools/list_changed"');
    await reader.cancel();
  });

  it("opens the GET stream at once with an SSE comment, so clients waiting for its headers go on", async () => {
    const server = stateful();
    const id = await open(server);
    const stream = await server.fetch(MCP_URL, { method: "GET", headers: { accept: "text/event-stream", ...inSession(id) } });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await Promise.race([reader.read(), Bun.sleep(1000).then(() => ({ value: "(nothing within 1 s)" }))]);
    expect(first.value).toStartWith(":");
    await reader.cancel();
  });

  it("ends a session on DELETE", async () => {
    const server = stateful();
    const id = await open(server);
    const del = await server.fetch(MCP_URL, { method: "DELETE", headers: inSession(id) });
    expect(del.status).toBe(200);
    expect((await post(server, LIST, inSession(id))).status).toBe(404);
    expect(server.runtime.sessions?.size).toBe(0);
  });

  it("works with the SDK client, which keeps the session id and ends the session on close", async () => {
    const server = stateful();
    const client = new Client({ name: "sessions-test", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), { fetch: server.fetch });
    await client.connect(transport);
    expect(transport.sessionId).toBeTruthy();
    expect((await client.listTools()).tools.length).toBeGreaterThan(10);
    expect((await client.callTool({ name: "list_mounts", arguments: {} })).isError).toBeFalsy();
    const id = transport.sessionId!;
    await transport.terminateSession();
    await client.close();
    expect((await post(server, LIST, inSession(id))).status).toBe(404);
  });

  it("closes sessions left idle past MCP_SESSION_IDLE_TIMEOUT", async () => {
    const server = stateful({ MCP_SESSION_IDLE_TIMEOUT: "50ms" });
    const id = await open(server);
    await Bun.sleep(80);
    expect(await server.runtime.sessions!.sweep()).toBe(1);
    expect((await post(server, LIST, inSession(id))).status).toBe(404);
  });

  it("keeps a session whose GET stream is open, however long it stays quiet", async () => {
    const server = stateful({ MCP_SESSION_IDLE_TIMEOUT: "50ms" });
    const id = await open(server);
    const stream = await server.fetch(MCP_URL, { method: "GET", headers: { accept: "text/event-stream", ...inSession(id) } });
    const reader = stream.body!.getReader();
    await Bun.sleep(80);
    expect(await server.runtime.sessions!.sweep()).toBe(0);
    expect((await post(server, LIST, inSession(id))).status).toBe(200);
    await reader.cancel();
  });

  it("holds at most MCP_MAX_SESSIONS, refusing another with 503 and Retry-After rather than closing a live one", async () => {
    // It used to close the least recently used session, which let a flood of initialize requests end everyone's.
    const server = stateful({ MCP_MAX_SESSIONS: "2" });
    const first = await open(server);
    const second = await open(server);
    const refused = await post(server, INIT);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as any).error.message).toContain("MCP_MAX_SESSIONS");
    expect(server.runtime.sessions?.size).toBe(2);
    expect((await post(server, LIST, inSession(first))).status).toBe(200);
    expect((await post(server, LIST, inSession(second))).status).toBe(200);
    // Ending one makes room for the next.
    await server.fetch(MCP_URL, { method: "DELETE", headers: inSession(first) });
    expect((await post(server, LIST, inSession(await open(server)))).status).toBe(200);
  });
});

describe("configuration", () => {
  const env = { VAULT_TOKEN: "t" };

  it("is stateless unless asked, with a 30 minute idle timeout and 1000 sessions when it is", () => {
    const config = loadConfig([], env);
    expect(config.http.stateful).toBe(false);
    expect(config.http.sessionIdleMs).toBe(30 * 60_000);
    expect(config.http.maxSessions).toBe(1000);
  });

  it("turns sessions on with --stateful or MCP_STATEFUL, and reads their limits", () => {
    expect(loadConfig(["--stateful"], env).http.stateful).toBe(true);
    expect(loadConfig(["--stateful=false"], { ...env, MCP_STATEFUL: "true" }).http.stateful).toBe(false);
    const config = loadConfig(["--session-idle-timeout", "5m", "--max-sessions=20"], { ...env, MCP_STATEFUL: "yes" });
    expect(config.http).toMatchObject({ stateful: true, sessionIdleMs: 300_000, maxSessions: 20 });
  });

  it("refuses limits that make no sense", () => {
    expect(() => loadConfig([], { ...env, MCP_STATEFUL: "sometimes" })).toThrow(ConfigError);
    expect(() => loadConfig([], { ...env, MCP_MAX_SESSIONS: "0" })).toThrow(ConfigError);
    expect(() => loadConfig([], { ...env, MCP_SESSION_IDLE_TIMEOUT: "soon" })).toThrow(ConfigError);
  });
});
