// `vault-mcp-server stdio` as a real process, fed raw lines: every bad line gets its JSON-RPC error and the next line
// is still served; a line over the limit gets its own error; the process ends (status 0) only when stdin closes.
import { afterAll, describe, expect, it } from "bun:test";
import { resolve } from "node:path";
import type { Subprocess } from "bun";

const repoRoot = resolve(import.meta.dir, "..", "..");

/** A server process on stdio with line-at-a-time access to both ends. Vault is never reached by these requests. */
class StdioProcess {
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  private buffered = "";
  private readonly reader: { read(): Promise<{ done: boolean; value?: string }> };

  constructor(env: Record<string, string> = {}) {
    this.proc = Bun.spawn([process.execPath, "run", "src/main.ts", "stdio"], {
      cwd: repoRoot,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", VAULT_ADDR: "http://127.0.0.1:9", VAULT_TOKEN: "t", LOG_LEVEL: "error", ...env },
    });
    this.reader = this.proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  async send(text: string | Uint8Array): Promise<void> {
    this.proc.stdin.write(text);
    await this.proc.stdin.flush();
  }

  /** The next line the server wrote, parsed; fails after `ms` without one. */
  async next(ms = 10_000): Promise<any> {
    const deadline = Date.now() + ms;
    for (;;) {
      const newline = this.buffered.indexOf("\n");
      if (newline !== -1) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        return JSON.parse(line);
      }
      const left = deadline - Date.now();
      const chunk = await Promise.race([this.reader.read(), Bun.sleep(Math.max(0, left)).then(() => "timeout" as const)]);
      if (chunk === "timeout") throw new Error(`no line from the server within ${ms} ms (exit code ${this.proc.exitCode})`);
      if (chunk.done) throw new Error(`the server closed stdout (exit code ${await this.proc.exited})`);
      this.buffered += chunk.value;
    }
  }

  /** Sends one line and returns the server's answer to it. */
  async ask(line: string): Promise<any> {
    await this.send(`${line}\n`);
    return this.next();
  }

  async stop(): Promise<void> {
    this.proc.kill();
    await this.proc.exited;
  }
}

const PING = (id: number | string) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" });
const pong = (id: number | string) => ({ jsonrpc: "2.0", id, result: {} });

const server = new StdioProcess();
const small = new StdioProcess({ MCP_MAX_BODY_BYTES: "4096" });
afterAll(async () => {
  await Promise.all([server.stop(), small.stop()]);
});

describe("vault-mcp-server stdio, line by line", () => {
  it("serves a ping", async () => {
    expect(await server.ask(PING(1))).toEqual(pong(1));
  });

  it("answers a line that is not JSON with -32700 and id null, and keeps serving", async () => {
    for (const bad of ["{not json", "hello", '{"jsonrpc":"2.0",']) {
      const answer = await server.ask(bad);
      expect(answer).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
    }
    expect(await server.ask(PING(2))).toEqual(pong(2));
  });

  it("answers valid JSON that is not a JSON-RPC message with -32600 Invalid Request, with its id when it has one", async () => {
    expect(await server.ask('{"jsonrpc":"2.0","id":10}')).toMatchObject({ id: 10, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: /) } });
    expect(await server.ask('{"hello":"world"}')).toMatchObject({ id: null, error: { code: -32600 } });
    expect(await server.ask("42")).toMatchObject({ id: null, error: { code: -32600 } });
    expect(await server.ask("[]")).toMatchObject({ id: null, error: { code: -32600, message: expect.stringContaining("empty batch") } });
    expect(await server.ask(PING(3))).toEqual(pong(3));
  });

  it("answers a batch with one line holding every response in order, as HTTP does", async () => {
    const batch = [
      { jsonrpc: "2.0", id: "a", method: "ping" },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: "b", method: "no/such/method" },
      { jsonrpc: "2.0", id: "c", method: "ping" },
    ];
    expect(await server.ask(JSON.stringify(batch))).toEqual([pong("a"), { jsonrpc: "2.0", id: "b", error: { code: -32601, message: "Method not found" } }, pong("c")]);
  });

  it("refuses a batch with a bad member whole, with one -32600, as HTTP does", async () => {
    const answer = await server.ask(JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }, { jsonrpc: "2.0", id: 2 }]));
    expect(answer).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600, message: expect.stringContaining("batch member 2") } });
    expect(await server.ask(PING(4))).toEqual(pong(4));
  });

  it("answers invalid params with -32602 in one sentence", async () => {
    const answer = await server.ask(JSON.stringify({ jsonrpc: "2.0", id: 5, method: "initialize", params: {} }));
    expect(answer.error.code).toBe(-32602);
    expect(answer.error.message).toStartWith("Invalid params for initialize:");
    expect(answer.error.message).not.toContain("\n");
  });

  it("ignores blank lines and reads CRLF line ends", async () => {
    await server.send("\n\r\n   \n");
    expect(await server.ask(`${PING(6)}\r`)).toEqual(pong(6));
  });

  it("reads a message split across many writes", async () => {
    const line = PING(7);
    for (const part of [line.slice(0, 5), line.slice(5, 20), line.slice(20)]) await server.send(part);
    await server.send("\n");
    expect(await server.next()).toEqual(pong(7));
  });

  it("answers a line of 16 MiB with its own error naming the limit, and serves the next line", async () => {
    const huge = new Uint8Array(16 * 1024 * 1024 + 1).fill(0x61);
    huge[huge.length - 1] = 0x0a;
    await server.send(huge);
    expect(await server.next(30_000)).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: expect.stringContaining("the line exceeded 1048576 bytes") },
    });
    expect(await server.ask(PING(8))).toEqual(pong(8));
    expect(server.proc.exitCode).toBeNull();
  });

  it("takes its line limit from MCP_MAX_BODY_BYTES, and a line at the limit is still read", async () => {
    const pad = (bytes: number) => {
      const base = JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping", params: { _meta: { pad: "" } } });
      return JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping", params: { _meta: { pad: "x".repeat(bytes - base.length) } } });
    };
    expect(Buffer.byteLength(pad(4096))).toBe(4096);
    expect(await small.ask(pad(4096))).toEqual(pong(9));
    expect(await small.ask(pad(4097))).toMatchObject({ id: null, error: { code: -32600, message: expect.stringContaining("exceeded 4096 bytes") } });
    expect(await small.ask(PING(10))).toEqual(pong(10));
  });

  it("answers the requests it has read when stdin closes, then exits with status 0", async () => {
    const last = new StdioProcess();
    await last.send(`${PING(11)}\n${PING(12)}`);
    last.proc.stdin.end();
    expect(await last.next()).toEqual(pong(11));
    expect(await last.next()).toEqual(pong(12));
    expect(await last.proc.exited).toBe(0);
  });
});
