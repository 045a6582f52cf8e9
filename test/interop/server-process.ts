// Runs the compiled vault-mcp-server binary as a real process on a free loopback port, against the test Vault.
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { compiledBinary } from "../support/binary.ts";
import { testVault } from "../support/vault.ts";

export interface ServerProcess {
  /** The MCP endpoint, e.g. http://127.0.0.1:40123/mcp. */
  url: string;
  port: number;
  /** False once the process has exited or was killed. */
  alive(): boolean;
  /** Everything the server wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Parsed log lines at the given level or above. */
  logLines(minLevel?: "warn" | "error"): { level: string; msg: string }[];
  stop(): Promise<void>;
}

/** Starts the binary with MCP_PORT=0 and reads the port it bound from its "serving MCP over HTTP" log line. */
export async function startServer(args: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnServer({ command: [await compiledBinary(), ...args], env });
}

/** `bun run src/main.ts`: what ships, without a compile step (replicas and chaos tests start several). */
export const FROM_SOURCE = [process.execPath, "run", resolve(import.meta.dir, "..", "..", "src", "main.ts")];

export interface SpawnOptions {
  /** The command line; the compiled binary in startServer, FROM_SOURCE elsewhere. */
  command: string[];
  env?: Record<string, string>;
  /** The Vault it talks to (default the test Vault). */
  vault?: { addr: string; token: string };
}

/** Runs a server process on a free loopback port and waits until its log says where it serves. */
export async function spawnServer({ command, env = {}, vault = testVault() }: SpawnOptions): Promise<ServerProcess> {
  const child: Subprocess<"ignore", "ignore", "pipe"> = Bun.spawn(command, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, MCP_HOST: "127.0.0.1", MCP_PORT: "0", MCP_TOOLSETS: "all", ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let log = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();

  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!url) {
    const m = /"msg":"serving MCP over HTTP","url":"([^"]+)"/.exec(log);
    if (m) url = m[1];
    else if (child.exitCode !== null) throw new Error(`vault-mcp-server exited (${child.exitCode}) before serving:\n${log}`);
    else if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`vault-mcp-server did not start serving within 20s:\n${log}`);
    }
    else await Bun.sleep(20);
  }

  const order = { debug: 10, info: 20, warn: 30, error: 40 } as Record<string, number>;
  return {
    url,
    port: Number(new URL(url).port),
    stderr: () => log,
    alive: () => child.exitCode === null && child.signalCode === null,
    logLines: (minLevel = "warn") =>
      log
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { level: string; msg: string })
        .filter((l) => (order[l.level] ?? 0) >= order[minLevel]!),
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
        if (!exited) child.kill("SIGKILL");
      }
      await pump.catch(() => {});
    },
  };
}

/** Runs a command to completion and captures its output; fails with all of it when it times out. */
export async function run(
  cmd: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(cmd, { cwd: options.cwd, env: options.env ?? process.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
