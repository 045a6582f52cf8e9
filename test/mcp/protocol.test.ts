// src/mcp/protocol.ts keeps the SDK out of the fast path by holding its own copies of a few SDK values: they must stay
// the SDK's, and the fast path must not load the SDK for the requests it answers.
import { describe, expect, it } from "bun:test";
import * as sdk from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "../../src/mcp/protocol.ts";

describe("the protocol constants", () => {
  it("are the SDK's revisions, newest first", () => {
    expect(LATEST_PROTOCOL_VERSION).toBe(sdk.LATEST_PROTOCOL_VERSION);
    expect([...SUPPORTED_PROTOCOL_VERSIONS]).toEqual(sdk.SUPPORTED_PROTOCOL_VERSIONS);
  });

  it("are the SDK's JSON-RPC error codes", () => {
    for (const [name, code] of Object.entries(ErrorCode)) expect(code as number).toBe(sdk.ErrorCode[name as keyof typeof sdk.ErrorCode] as number);
  });
});

describe("a server answering only the fast path's requests", () => {
  it("never evaluates the SDK: initialize, the initialized notification, tools/list, ping and tools/call leave it unloaded", async () => {
    // A process of its own, so nothing else in the test run has loaded the SDK first.
    const script = `
      import { loadConfig } from "./src/config.ts";
      import { silentLogger } from "./src/log.ts";
      import { buildRuntime } from "./src/runtime.ts";
      const runtime = buildRuntime(loadConfig([], { VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "t", MCP_AUDIT_LOG: "off" }), silentLogger);
      const post = (m) => runtime.handleMcp(new Request("http://127.0.0.1:8084/mcp", { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify(m) }));
      const statuses = [];
      for (const m of [
        { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/list" },
        { jsonrpc: "2.0", id: 3, method: "ping" },
        { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "list_mounts", arguments: {} } },
      ]) statuses.push((await post(m)).status);
      const loaded = (m) => Object.keys(require.cache).some((k) => k.includes("@modelcontextprotocol/sdk/dist/esm/" + m));
      const before = { types: loaded("types.js"), server: loaded("server/index.js") };
      await post({ jsonrpc: "2.0", id: 5, method: "resources/list" });
      console.log(JSON.stringify({ statuses, before, after: { types: loaded("types.js"), server: loaded("server/index.js") } }));
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect(await child.exited, err).toBe(0);
    const result = JSON.parse(out.trim().split("\n").pop()!);
    expect(result.statuses).toEqual([200, 202, 200, 200, 200]);
    expect(result.before).toEqual({ types: false, server: false });
    // And a request it leaves to the SDK loads it, so the check above can tell.
    expect(result.after).toEqual({ types: true, server: true });
  });
});
