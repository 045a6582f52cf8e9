// The compiled binary over stdio, driven by the SDK's own stdio client, as a desktop client runs it.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { compiledBinary } from "./support/binary.ts";
import { text, unique, type ToolResult } from "./support/mcp.ts";
import { testVault } from "./support/vault.ts";

let client: Client;
let stderr = "";

beforeAll(async () => {
  const binary = await compiledBinary();
  const transport = new StdioClientTransport({
    command: binary,
    args: ["stdio"],
    env: { VAULT_ADDR: testVault().addr, VAULT_TOKEN: testVault().token, PATH: "/usr/bin:/bin" },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  client = new Client({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
}, 120_000);

afterAll(async () => {
  await client?.close();
});

describe("vault-mcp-server stdio (compiled binary)", () => {
  it("initializes and lists every tool", async () => {
    expect(client.getServerVersion()?.name).toBe("vault-mcp-server");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("issue_pki_certificate");
  });

  it("writes and reads a secret through the real Vault", async () => {
    const path = `stdio/${unique("s")}`;
    const w = (await client.callTool({ name: "write_secret", arguments: { path, key: "password", value: "over-stdio" } })) as ToolResult;
    expect(text(w)).toStartWith(`Secret stored successfully at secret/${path}`);
    const r = (await client.callTool({ name: "read_secret", arguments: { path } })) as ToolResult;
    expect(r.structuredContent?.data).toEqual({ password: "over-stdio" });
  });

  it("answers bad input with an isError result and keeps serving", async () => {
    const r = (await client.callTool({ name: "read_secret", arguments: { path: "../../sys/seal" } })) as ToolResult;
    expect(r.isError).toBe(true);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it("logs to stderr only, never the token", () => {
    expect(stderr).toContain("serving MCP over stdio");
    expect(stderr).not.toContain(testVault().token);
  });
});
