// Stateful mode under a flood: sessions are capped overall and per client, a full table refuses new ones with 503 and
// Retry-After, and no flood of initialize requests can end another client's live session.
import { afterAll, describe, expect, it } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { createMcpHttpHandler } from "../../src/mcp/http.ts";
import { McpSessions, type SessionOptions } from "../../src/mcp/sessions.ts";
import { buildRuntime } from "../../src/runtime.ts";

// initialize, tools/list and ping never reach Vault.
const runtime = buildRuntime(loadConfig([], { VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "t" }), silentLogger);
const deps = { registry: runtime.registry, context: runtime.context };
const all: McpSessions[] = [];
afterAll(async () => {
  await Promise.all(all.map((s) => s.closeAll()));
});

function stateful(options: Partial<SessionOptions> = {}) {
  const sessions = new McpSessions(deps, { idleMs: 30 * 60_000, maxSessions: 1000, log: silentLogger, ...options });
  all.push(sessions);
  return { sessions, handle: createMcpHttpHandler(deps, { maxBodyBytes: 1024 * 1024, sessions }) };
}

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const INIT = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
const LIST = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" });

type Handle = (req: Request, client?: string) => Promise<Response>;

async function initialize(handle: Handle, client?: string): Promise<Response> {
  const res = await handle(new Request("http://127.0.0.1:8084/mcp", { method: "POST", body: INIT, headers: HEADERS }), client);
  await res.clone().text();
  return res;
}

async function open(handle: Handle, client?: string): Promise<string> {
  const res = await initialize(handle, client);
  expect(res.status).toBe(200);
  return res.headers.get("mcp-session-id")!;
}

async function alive(handle: Handle, id: string): Promise<boolean> {
  const res = await handle(
    new Request("http://127.0.0.1:8084/mcp", { method: "POST", body: LIST, headers: { ...HEADERS, "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" } }),
  );
  await res.text();
  return res.status === 200;
}

describe("session limits", () => {
  it("survives a flood of 1,500 initialize requests from one client without losing any other client's session", async () => {
    const { sessions, handle } = stateful({ maxSessions: 1000 });
    const others: string[] = [];
    for (let i = 0; i < 500; i++) others.push(await open(handle, `10.0.1.${i % 250}:${i}`));
    // The flood, 100 at a time, as a client hammering the endpoint would send it.
    const statuses: number[] = [];
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => initialize(handle, "10.6.6.6")));
      statuses.push(...answers.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200).length).toBe(250);
    expect(statuses.filter((s) => s === 503).length).toBe(1250);
    expect(sessions.size).toBe(750);
    let lost = 0;
    for (const id of others) if (!(await alive(handle, id))) lost++;
    expect(lost).toBe(0);
  }, 60_000);

  it("refuses a client past its share (a quarter of the limit) with 503, Retry-After and a sentence saying what to do", async () => {
    const { handle } = stateful({ maxSessions: 8 });
    for (let i = 0; i < 2; i++) await open(handle, "10.0.0.1");
    const refused = await initialize(handle, "10.0.0.1");
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await refused.json()) as any;
    expect(body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32000 } });
    expect(body.error.message).toStartWith("Too many sessions from this client");
    expect(body.error.message).not.toContain("\n");
    // Another client still gets one.
    await open(handle, "10.0.0.2");
  });

  it("refuses every client once the table is full, and evicts nobody", async () => {
    const { sessions, handle } = stateful({ maxSessions: 3, maxSessionsPerClient: 3 });
    const held = [await open(handle, "a"), await open(handle, "b"), await open(handle)];
    for (const client of ["c", undefined]) {
      const refused = await initialize(handle, client);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as any).error.message).toContain("limit of 3 (MCP_MAX_SESSIONS)");
    }
    expect(sessions.size).toBe(3);
    for (const id of held) expect(await alive(handle, id)).toBe(true);
  });

  it("counts initialize requests still being answered, so a burst cannot overshoot the limit", async () => {
    const { sessions, handle } = stateful({ maxSessions: 5, maxSessionsPerClient: 5 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => initialize(handle, `p${i}`)));
    expect(answers.filter((r) => r.status === 200).length).toBe(5);
    expect(sessions.size).toBe(5);
  });

  it("says in Retry-After when the first idle session expires, and frees its place then", async () => {
    let now = 1_000_000;
    const { handle } = stateful({ maxSessions: 1, maxSessionsPerClient: 1, idleMs: 60_000, now: () => now });
    const first = await open(handle, "x");
    now += 20_000;
    const refused = await initialize(handle, "y");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("40");
    now += 40_000;
    await open(handle, "y");
    expect(await alive(handle, first)).toBe(false);
  });

  it("gives a place back to its client when a session ends", async () => {
    const { handle } = stateful({ maxSessions: 4, maxSessionsPerClient: 1 });
    const id = await open(handle, "10.0.0.9");
    expect((await initialize(handle, "10.0.0.9")).status).toBe(503);
    const del = await handle(new Request("http://127.0.0.1:8084/mcp", { method: "DELETE", headers: { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" } }));
    expect(del.status).toBe(200);
    await open(handle, "10.0.0.9");
  });
});
