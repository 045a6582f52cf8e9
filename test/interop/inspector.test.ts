// The MCP Inspector's CLI (@modelcontextprotocol/inspector-cli) lists and calls tools on the compiled binary,
// over Streamable HTTP and over stdio, as someone debugging the server by hand would.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join, resolve } from "node:path";
import { compiledBinary } from "../support/binary.ts";
import { unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";
import { run, type ServerProcess, startServer } from "./server-process.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
// The CLI proper. Its launcher (build/cli.js) re-spawns it with whatever `node` is on PATH, which may be too old;
// run directly under Bun instead. It finds its own package.json relative to the working directory, hence cwd.
const inspectorDir = join(repoRoot, "node_modules", "@modelcontextprotocol", "inspector-cli", "build");

async function inspector(args: string[], env: Record<string, string> = {}): Promise<any> {
  const { code, stdout, stderr } = await run([process.execPath, join(inspectorDir, "index.js"), ...args], {
    cwd: inspectorDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeoutMs: 60_000,
  });
  if (code !== 0) throw new Error(`inspector-cli ${args.join(" ")} exited ${code}:\n${stdout}\n${stderr}`);
  return JSON.parse(stdout);
}

describe("MCP Inspector CLI over Streamable HTTP", () => {
  for (const mode of ["stateless", "stateful"] as const) {
    describe(mode, () => {
      let server: ServerProcess;
      beforeAll(async () => {
        server = await startServer(mode === "stateful" ? ["--stateful"] : []);
      }, 120_000);
      afterAll(async () => {
        await server?.stop();
      });

      it("lists the tools", async () => {
        const { tools } = await inspector([server.url, "--transport", "http", "--method", "tools/list"]);
        expect(tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["list_mounts", "read_secret", "write_secret"]));
      });

      it("writes a secret and reads it back", async () => {
        const path = `inspector/${mode}/${unique("s")}`;
        const write = await inspector([server.url, "--method", "tools/call", "--tool-name", "write_secret", "--tool-arg", `path=${path}`, "key=k", "value=v1"]);
        expect(write.isError).toBeFalsy();
        const read = await inspector([server.url, "--method", "tools/call", "--tool-name", "read_secret", "--tool-arg", `path=${path}`]);
        expect(read.structuredContent.data).toEqual({ k: "v1" });
        expect((await vaultApi("GET", `secret/data/${path}`)).json.data.data).toEqual({ k: "v1" });
        expect(server.logLines("warn")).toEqual([]);
      });
    });
  }
});

describe("MCP Inspector CLI over stdio", () => {
  let binary: string;
  const env = () => ({ VAULT_ADDR: testVault().addr, VAULT_TOKEN: testVault().token });
  beforeAll(async () => {
    binary = await compiledBinary();
  }, 120_000);

  it("lists the tools", async () => {
    const { tools } = await inspector([binary, "stdio", "--method", "tools/list"], env());
    expect(tools.length).toBeGreaterThan(10);
  });

  it("calls a read tool", async () => {
    const result = await inspector([binary, "stdio", "--method", "tools/call", "--tool-name", "list_mounts"], env());
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain("secret/");
  });
});
