// JSON-RPC error codes as clients and conformance suites check them: -32700 for what is not JSON, -32600 for JSON that is
// not a JSON-RPC message, -32602 in one readable sentence for bad params, the same whichever path (fast or SDK) answers.
import { describe, expect, it } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { createMcpHttpHandler } from "../../src/mcp/http.ts";
import { buildRuntime } from "../../src/runtime.ts";

// Nothing here reaches Vault: every request is refused before a tool runs. Error-level log lines are kept: a caller's
// mistake must never be logged as a bug.
const errorLines: string[] = [];
const log = { ...silentLogger, error: (msg: string, fields?: Record<string, unknown>) => void errorLines.push(`${msg} ${JSON.stringify(fields)}`) };
const runtime = buildRuntime(loadConfig([], { VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "t" }), log);
const deps = { registry: runtime.registry, context: runtime.context };
const paths = {
  fast: createMcpHttpHandler(deps, { maxBodyBytes: 1024 * 1024 }),
  sdk: createMcpHttpHandler(deps, { maxBodyBytes: 1024 * 1024, fastPath: false }),
};

interface Answer {
  status: number;
  body: any;
}

/** Posts `body` (a string is sent as it is) through both paths; they must agree exactly. */
async function post(body: unknown): Promise<Answer> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const answers: { status: number; text: string }[] = [];
  for (const handler of [paths.fast, paths.sdk]) {
    const res = await handler(new Request("http://127.0.0.1:8084/mcp", { method: "POST", body: raw, headers: { "content-type": "application/json" } }));
    answers.push({ status: res.status, text: await res.text() });
  }
  expect(answers[0]).toEqual(answers[1]!);
  return { status: answers[0]!.status, body: JSON.parse(answers[0]!.text) };
}

/** One sentence: no newline, no JSON dump of zod issues. */
function expectOneSentence(message: string) {
  expect(message).not.toContain("\n");
  expect(message).not.toContain('"code":');
  expect(message).not.toContain("invalid_type");
  expect(message.length).toBeLessThan(600);
}

const INIT_PARAMS = { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } };

describe("invalid params are -32602 with one readable sentence", () => {
  it("answers initialize with params {} naming what is missing", async () => {
    const { status, body } = await post({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} });
    expect(status).toBe(200);
    expect(body.id).toBe(1);
    expect(body.error.code).toBe(-32602);
    expectOneSentence(body.error.message);
    expect(body.error.message).toStartWith("Invalid params for initialize:");
    for (const member of ["protocolVersion", "capabilities", "clientInfo"]) expect(body.error.message).toContain(`missing "${member}"`);
  });

  it("answers initialize with a wrongly typed member saying what it must be and what it got", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 2, method: "initialize", params: { ...INIT_PARAMS, clientInfo: 5 } });
    expect(body.error.code).toBe(-32602);
    expectOneSentence(body.error.message);
    expect(body.error.message).toContain('"clientInfo" must be an object, got a number');
  });

  it("answers tools/call without a name naming the tools there are", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { arguments: {} } });
    expect(body.error.code).toBe(-32602);
    expectOneSentence(body.error.message);
    expect(body.error.message).toContain('missing "name"');
    expect(body.error.message).toContain("read_secret");
  });

  it("answers tools/call with a name that is not a string", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: 7 } });
    expect(body.error.code).toBe(-32602);
    expectOneSentence(body.error.message);
    expect(body.error.message).toContain('"name" must be a string, got a number');
  });

  it("answers tools/call without params", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 5, method: "tools/call" });
    expect(body.error.code).toBe(-32602);
    expectOneSentence(body.error.message);
  });

  it("answers tools/list with a cursor that is not a string", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 6, method: "tools/list", params: { cursor: 5 } });
    expect(body.error.code).toBe(-32602);
    expectOneSentence(body.error.message);
    expect(body.error.message).toContain('"cursor" must be a string, got a number');
  });

  it("answers an unknown tool with -32602 and no 'MCP error' prefix that clients would repeat", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "rm_rf", arguments: {} } });
    expect(body.error).toEqual({ code: -32602, message: expect.stringMatching(/^Unknown tool "rm_rf"\. Available tools: /) });
  });

  it("answers tool arguments that are an array with one readable sentence, as an isError result", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "read_secret", arguments: ["secret", "x"] } });
    expect(body.result.isError).toBe(true);
    const text = body.result.content[0].text as string;
    expectOneSentence(text);
    expect(text).toBe("Invalid arguments for read_secret: expected an object of named arguments (mount, path, version, key), got an array.");
  });

  it("keeps method-not-found for a method it does not serve", async () => {
    const { body } = await post({ jsonrpc: "2.0", id: 9, method: "completion/complete", params: { ref: { type: "ref/prompt", name: "x" }, argument: { name: "a", value: "b" } } });
    expect(body.error).toEqual({ code: -32601, message: "Method not found" });
  });
});

describe("hostile arguments are isError argument errors on both paths, never internal errors", () => {
  const call = (args: string) => `{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"write_secret","arguments":${args}}}`;

  it("answers a lone surrogate in a path, mount or value naming the argument, and logs no error", async () => {
    const cases: [string, string][] = [
      ['{"path":"\\uD800","key":"k","value":"v"}', "path"],
      ['{"mount":"a\\uDC00b","path":"p","key":"k","value":"v"}', "mount"],
      ['{"path":"p","data":{"password":"x\\uDBFFy"}}', "data.password"],
    ];
    for (const [args, argument] of cases) {
      const { body } = await post(call(args));
      expect(body.result.isError).toBe(true);
      expect(body.result.content[0].text).toStartWith(`Invalid arguments for write_secret: argument "${argument}" contains an unpaired UTF-16 surrogate`);
    }
    expect(errorLines).toEqual([]);
  });

  it("answers 100,000-deep arguments with an argument error naming the argument, not a stack overflow", async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    const { body } = await post(call(`{"path":"p","data":${deep}}`));
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0].text).toContain('argument "data" is nested more than 64 levels deep');
    const arrays = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect((await post(call(`{"path":"p","data":{"k":${arrays}}}`))).body.result.content[0].text).toContain('argument "data" is nested more than');
    expect(errorLines).toEqual([]);
  });

  it("names ten of 60,000 unknown arguments and counts the rest", async () => {
    const many = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, 1]));
    const { body } = await post(call(JSON.stringify(many)));
    const text = body.result.content[0].text as string;
    expect(text).toStartWith('Unknown arguments "k0", "k1"');
    expect(text).toContain('"k9" and 59990 more for write_secret');
    expect(text.length).toBeLessThan(300);
  });
});

describe("what is not a JSON-RPC message is -32600 Invalid Request", () => {
  const cases: [string, unknown, string | number | null][] = [
    ["an object with an id and no method", { jsonrpc: "2.0", id: 10 }, 10],
    ["an object that is not JSON-RPC at all", { hello: "world" }, null],
    ["JSON-RPC 1.0", { jsonrpc: "1.0", id: 11, method: "ping" }, 11],
    ["a number", 42, null],
    ["a JSON string", '"ping"', null],
    ["null", null, null],
    ["a method that is not a string", { jsonrpc: "2.0", id: 12, method: 5 }, 12],
    ["params that are an array", { jsonrpc: "2.0", id: 13, method: "tools/list", params: [] }, 13],
    ["a fractional id", { jsonrpc: "2.0", id: 1.5, method: "ping" }, null],
    ["an empty batch", [], null],
    ["a batch with one bad member", [{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", id: 2 }], null],
  ];
  for (const [what, message, id] of cases) {
    it(`answers ${what} with 400 and -32600`, async () => {
      const { status, body } = await post(message);
      expect(status).toBe(400);
      expect(body.jsonrpc).toBe("2.0");
      expect(body.id).toBe(id);
      expect(body.error.code).toBe(-32600);
      expect(body.error.message).toStartWith("Invalid Request: ");
      expectOneSentence(body.error.message);
    });
  }

  it("still answers text that is not JSON with -32700 Parse error", async () => {
    const { status, body } = await post('{"jsonrpc":"2.0",');
    expect(status).toBe(400);
    expect(body).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
  });

  it("still serves a well-formed batch", async () => {
    const { status, body } = await post([{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", id: 2, method: "ping" }]);
    expect(status).toBe(200);
    expect(body).toEqual([
      { result: {}, jsonrpc: "2.0", id: 1 },
      { result: {}, jsonrpc: "2.0", id: 2 },
    ]);
  });
});
