// The fast path must be invisible: every request gets the same status, headers and bytes as through the SDK Server,
// and it declines (leaving the SDK to answer) whatever it does not fully understand. Vault is a loopback stub, so the
// comparison needs no live Vault.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { createFastPath } from "../../src/mcp/fast-path.ts";
import { createMcpHttpHandler } from "../../src/mcp/http.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { MCP_URL, unique } from "../support/mcp.ts";
import { startStubVault } from "./stub-vault.ts";

const stub = startStubVault();
afterAll(() => stub.stop());
const runtime = buildRuntime(loadConfig([], { VAULT_ADDR: stub.addr, VAULT_TOKEN: stub.token }), silentLogger);
const deps = { registry: runtime.registry, context: runtime.context };
const fastHandler = createMcpHttpHandler(deps, { maxBodyBytes: 1024 * 1024 });
const sdkHandler = createMcpHttpHandler(deps, { maxBodyBytes: 1024 * 1024, fastPath: false });
const fast = createFastPath(deps);

const JSON_ACCEPT = { accept: "application/json, text/event-stream", "content-type": "application/json" };

interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
}

async function send(handler: (req: Request) => Promise<Response>, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await handler(new Request(MCP_URL, { method: "POST", body, headers }));
  return { status: res.status, headers: [...res.headers.entries()].sort(), body: await res.text() };
}

/** Sends `message` through both paths; they must agree byte for byte. Returns the (shared) answer. */
async function same(message: unknown, headers: Record<string, string> = JSON_ACCEPT): Promise<Answer> {
  const body = typeof message === "string" ? message : JSON.stringify(message);
  const viaSdk = await send(sdkHandler, body, headers);
  const viaFast = await send(fastHandler, body, headers);
  expect(viaFast).toEqual(viaSdk);
  return viaFast;
}

/** True when the fast path answers this message itself rather than leaving it to the SDK. */
function taken(message: unknown, protocolVersion: string | null = null): boolean {
  const answer = fast(message, protocolVersion);
  void answer?.catch(() => {});
  return answer !== undefined;
}

const call = (name: string, args?: unknown, id: unknown = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: args === undefined ? { name } : { name, arguments: args } });

const mount = "secret";
let path: string;

beforeAll(async () => {
  path = unique("fast-path/app");
  stub.put(path, { username: "app", password: "s3cret", port: 5432, tags: ["a", "b"] });
});

describe("the fast path answers the common requests exactly as the SDK does", () => {
  it("answers ping for every kind of id", async () => {
    for (const id of [1, 0, -7, Number.MAX_SAFE_INTEGER, "abc", "", "ünïcødé \"quoted\""]) {
      const message = { jsonrpc: "2.0", id, method: "ping" };
      expect(taken(message)).toBe(true);
      const a = await same(message);
      expect(JSON.parse(a.body)).toEqual({ result: {}, jsonrpc: "2.0", id });
    }
    expect(taken({ jsonrpc: "2.0", id: 2, method: "ping", params: {} })).toBe(true);
    await same({ jsonrpc: "2.0", id: 2, method: "ping", params: {} });
  });

  it("answers tools/list, with and without empty params and a protocol version header", async () => {
    expect(taken({ jsonrpc: "2.0", id: 1, method: "tools/list" })).toBe(true);
    const a = await same({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(JSON.parse(a.body).result.tools.map((t: { name: string }) => t.name)).toContain("read_secret");
    await same({ jsonrpc: "2.0", id: "x", method: "tools/list", params: {} });
    for (const version of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
      expect(taken({ jsonrpc: "2.0", id: 3, method: "tools/list" }, version)).toBe(true);
      await same({ jsonrpc: "2.0", id: 3, method: "tools/list" }, { ...JSON_ACCEPT, "mcp-protocol-version": version });
    }
  });

  it("answers initialize for every revision, and for one it does not know", async () => {
    for (const version of ["2024-10-07", "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "1999-01-01"]) {
      const message = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "t", version: "1" } } };
      expect(taken(message)).toBe(true);
      await same(message);
    }
  });

  it("answers the initialize real clients send (title, roots, sampling, elicitation), for every revision", async () => {
    const clients = [
      { capabilities: { roots: { listChanged: true }, sampling: {} }, clientInfo: { name: "kagent", version: "0.6.0" } },
      { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: false } }, clientInfo: { name: "inspector", title: "MCP Inspector", version: "1.0.3" } },
      { capabilities: { roots: {} }, clientInfo: { name: "script", version: "" } },
    ];
    for (const version of ["2025-03-26", "2025-11-25"]) {
      for (const params of clients) {
        const message = { jsonrpc: "2.0", id: "init", method: "initialize", params: { protocolVersion: version, ...params } };
        expect(taken(message)).toBe(true);
        const a = await same(message);
        expect(JSON.parse(a.body).result.protocolVersion).toBe(version);
      }
    }
  });

  it("answers the initialized notification with 202 and no body, as the SDK's transport does", async () => {
    for (const message of [{ jsonrpc: "2.0", method: "notifications/initialized" }, { jsonrpc: "2.0", method: "notifications/initialized", params: {} }]) {
      expect(taken(message)).toBe(true);
      const a = await same(message);
      expect(a.status).toBe(202);
      expect(a.body).toBe("");
      await same(message, { ...JSON_ACCEPT, "mcp-protocol-version": "2025-06-18" });
    }
  });

  it("answers tool calls that succeed", async () => {
    const cases = [
      call("read_secret", { mount, path }),
      call("read_secret", { path, key: "port" }, "r-1"),
      call("read_secret", { mount, path, version: 1 }, 9),
      call("list_secrets", { mount, path: path.split("/")[0] }),
      call("list_mounts", {}),
      call("list_mounts"),
    ];
    for (const message of cases) {
      expect(taken(message)).toBe(true);
      const a = await same(message);
      expect(JSON.parse(a.body).result.isError).toBeUndefined();
    }
  });

  it("answers tool calls that fail as isError results", async () => {
    const cases = [
      call("read_secret", { mount, path: `${path}-missing` }),
      call("read_secret", { mount, path, key: "nope" }),
      call("read_secret", { mount, path, extra: 1 }),
      call("read_secret", { mount, path: 42 }),
      call("read_secret", {}),
      call("read_secret"),
      call("read_secret", { mount: "no-such-mount", path }),
      call("read_secret", { mount, path: "../escape" }),
      call("write_secret", { mount, path, key: "username", value: "x", cas: 0 }),
    ];
    for (const message of cases) {
      expect(taken(message)).toBe(true);
      const a = await same(message);
      expect(JSON.parse(a.body).result.isError).toBe(true);
    }
  });

  it("answers an unknown tool with the SDK's invalid-params error", async () => {
    const message = call("no_such_tool", {});
    expect(taken(message)).toBe(true);
    const a = await same(message);
    expect(JSON.parse(a.body).error.code).toBe(-32602);
  });

  it("answers writes alike (two fresh secrets, compared with their paths swapped)", async () => {
    const a = unique("fast-path/w");
    const b = unique("fast-path/w");
    const viaSdk = await send(sdkHandler, JSON.stringify(call("write_secret", { mount, path: a, data: { k: "v", n: 1 } })), JSON_ACCEPT);
    const viaFast = await send(fastHandler, JSON.stringify(call("write_secret", { mount, path: b, data: { k: "v", n: 1 } })), JSON_ACCEPT);
    expect(viaFast).toEqual({ ...viaSdk, body: viaSdk.body.replaceAll(a, b) });
  });

  it("answers in JSON when the client sends no Accept header or a wildcard", async () => {
    await same({ jsonrpc: "2.0", id: 5, method: "ping" }, { "content-type": "application/json" });
    await same(call("read_secret", { mount, path }, 6), { accept: "*/*" });
  });

  it("gives certificate answers (embedded resources) the same bytes the SDK's result schema would", async () => {
    const message = call("issue_pki_certificate", { mount: stub.pkiMount, role_name: "web", common_name: "api.example.com", ttl: "1h" });
    expect(taken(message)).toBe(true);
    // Against a real Vault each issue makes a new key: compare the fast answer with what the SDK's own parse makes of it.
    const a = await same(message);
    const body = JSON.parse(a.body);
    expect(body.result.content.some((c: { type: string }) => c.type === "resource")).toBe(true);
    expect(a.body).toBe(JSON.stringify({ result: CallToolResultSchema.parse(body.result), jsonrpc: "2.0", id: 1 }));
  });
});

describe("the fast path leaves everything else to the SDK", () => {
  const declined: [string, unknown][] = [
    ["a batch", [{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", id: 2, method: "tools/list" }]],
    ["a notification other than initialized", { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } }],
    ["the initialized notification with _meta", { jsonrpc: "2.0", method: "notifications/initialized", params: { _meta: { x: 1 } } }],
    ["the initialized notification with a null id", { jsonrpc: "2.0", id: null, method: "notifications/initialized" }],
    ["a response", { jsonrpc: "2.0", id: 1, result: {} }],
    ["a method it does not serve", { jsonrpc: "2.0", id: 1, method: "resources/list" }],
    ["JSON-RPC 1.0", { jsonrpc: "1.0", id: 1, method: "ping" }],
    ["an extra top-level member", { jsonrpc: "2.0", id: 1, method: "ping", extra: true }],
    ["a fractional id", { jsonrpc: "2.0", id: 1.5, method: "ping" }],
    ["a null id", { jsonrpc: "2.0", id: null, method: "ping" }],
    ["an id beyond 2^53", { jsonrpc: "2.0", id: 2 ** 60, method: "ping" }],
    ["params that are an array", { jsonrpc: "2.0", id: 1, method: "tools/list", params: [] }],
    ["tools/list with a cursor", { jsonrpc: "2.0", id: 1, method: "tools/list", params: { cursor: "x" } }],
    ["ping with _meta", { jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: { progressToken: 1 } } }],
    ["tools/call with _meta", { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "list_mounts", _meta: { progressToken: 1 } } }],
    ["tools/call with task", { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "list_mounts", task: { ttl: 1000 } } }],
    ["tools/call without a name", { jsonrpc: "2.0", id: 1, method: "tools/call", params: { arguments: {} } }],
    ["tools/call with a numeric name", { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: 7 } }],
    ["arguments that are an array", call("read_secret", ["secret", "x"])],
    ["arguments that are null", call("read_secret", null)],
    ["an initialize with no clientInfo", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {} } }],
    ["an initialize with no capabilities", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", clientInfo: { name: "t", version: "1" } } }],
    ["an initialize with a numeric protocolVersion", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 20250618, capabilities: {}, clientInfo: { name: "t", version: "1" } } }],
    ["an initialize with a clientInfo name that is not a string", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: 1, version: "1" } } }],
    ["an initialize with roots.listChanged that is not a boolean", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: { roots: { listChanged: "yes" } }, clientInfo: { name: "t", version: "1" } } }],
    ["an initialize with experimental capabilities", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: { experimental: { x: {} } }, clientInfo: { name: "t", version: "1" } } }],
    ["an initialize with sampling options", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: { sampling: { tools: {} } }, clientInfo: { name: "t", version: "1" } } }],
    ["an initialize with clientInfo icons", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1", icons: [{ src: "https://x/i.png" }] } } }],
    ["an initialize with _meta", { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" }, _meta: {} } }],
  ];
  for (const [what, message] of declined) {
    it(`declines ${what}, and the answer is the SDK's`, async () => {
      expect(taken(message)).toBe(false);
      await same(message);
    });
  }

  it("declines arguments carrying an own __proto__ key, and the SDK path refuses it as an unknown argument", async () => {
    const raw = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_secret","arguments":{"__proto__":{"x":1},"mount":"${mount}","path":"${path}"}}}`;
    expect(taken(JSON.parse(raw))).toBe(false);
    const a = await same(raw);
    expect(JSON.parse(a.body).result).toMatchObject({ isError: true, content: [{ text: expect.stringContaining('Unknown argument "__proto__"') }] });
  });

  it("declines a request whose protocol version header it does not know", () => {
    expect(taken({ jsonrpc: "2.0", id: 1, method: "ping" }, "2099-01-01")).toBe(false);
  });

  it("is not used for SSE answers, which stay identical", async () => {
    await same({ jsonrpc: "2.0", id: 1, method: "ping" }, { accept: "text/event-stream", "content-type": "application/json" });
  });
});
