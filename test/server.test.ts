// The compiled server as an operator runs it: one process per port, and no development-mode error pages.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { allTools } from "../src/tools/index.ts";
import { startServer, type ServerProcess } from "./interop/server-process.ts";
import { compiledBinary } from "./support/binary.ts";
import { testVault } from "./support/vault.ts";

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
}, 120_000);
afterAll(() => server?.stop());

describe("the server process", () => {
  it("refuses to start on a port another instance holds, instead of silently sharing it", async () => {
    const port = new URL(server.url).port;
    const second = Bun.spawn([await compiledBinary()], {
      env: { PATH: "/usr/bin:/bin", VAULT_ADDR: testVault().addr, VAULT_TOKEN: testVault().token, MCP_HOST: "127.0.0.1", MCP_PORT: port },
      stdout: "ignore",
      stderr: "pipe",
    });
    const timer = setTimeout(() => second.kill("SIGKILL"), 15_000);
    const code = await second.exited;
    clearTimeout(timer);
    expect(code).not.toBe(0);
    expect(await new Response(second.stderr).text()).toMatch(/in use|EADDRINUSE/i);
  });

  it("answers an unknown route with a plain 404, not a development error page", async () => {
    const res = await fetch(server.url.replace("/mcp", "/nope"));
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(body).not.toContain("at ");
    expect(body.length).toBeLessThan(200);
  });

  it("serves the troubleshooting curl line over real HTTP", async () => {
    const res = await fetch(server.url, {
      method: "POST",
      body: '{"jsonrpc":"2.0","method":"tools/list","id":1}',
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "*/*" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { tools: unknown[] } }).result.tools).toHaveLength(allTools.length);
  });
});
