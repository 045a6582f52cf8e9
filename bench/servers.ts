// Starting the servers under test (ours, compiled; HashiCorp's Go server) and the minimal Vault responder, all on loopback.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const repoRoot = resolve(import.meta.dir, "..");
export const LOOPBACK = "127.0.0.1";

export interface Upstream {
  addr: string;
  token: string;
}

export interface Running {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? done(port) : fail(new Error("no free port"))));
    });
  });
}

function track(child: Subprocess, name: string, port: number): Running {
  live.add(child);
  return {
    name,
    pid: child.pid,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
        if (!exited) child.kill("SIGKILL");
        await child.exited;
      }
      live.delete(child);
    },
  };
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "vault-mcp-bench", version: "1.0.0" } },
});
export const TOOLS_LIST = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

/** One POST to /mcp; true when it answered 200 with a JSON-RPC result. */
export async function mcpAnswers(port: number, body: string, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const res = await fetch(`http://${LOOPBACK}:${port}/mcp`, {
      method: "POST",
      body,
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers },
      signal: AbortSignal.timeout(2000),
    });
    const text = await res.text();
    return res.status === 200 && text.includes('"result"');
  } catch {
    return false;
  }
}

async function waitReady(child: Subprocess, port: number, name: string, stderr: () => string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${stderr()}`);
    if (await mcpAnswers(port, INIT, headers)) return;
    await Bun.sleep(20);
  }
  child.kill("SIGKILL");
  throw new Error(`${name} did not answer initialize within 30 s:\n${stderr()}`);
}

/** Keeps the last few KB of a child's stderr for error messages, without letting the pipe fill up. */
function drain(stream: ReadableStream<Uint8Array> | undefined): () => string {
  let tail = "";
  if (stream) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) tail = (tail + decoder.decode(chunk)).slice(-4000);
    })().catch(() => {});
  }
  return () => tail;
}

/**
 * The guardrails a production deployment turns on, beside the defaults (which already write the audit log to stderr):
 * bearer auth, secret values masked, and a path rule the bench's calls pass. `headers` go with every request.
 */
export function guardrails(): { env: Record<string, string>; headers: Record<string, string> } {
  const dir = join(repoRoot, ".cache", "bench");
  mkdirSync(dir, { recursive: true });
  const tokensFile = join(dir, "bearer-tokens");
  const token = `bench-${crypto.randomUUID()}`;
  writeFileSync(tokensFile, `bench:${token}\n`, { mode: 0o600 });
  return {
    env: { MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokensFile, MCP_SECRET_VALUES: "mask", MCP_ALLOWED_PATHS: "secret/bench*,pki/*" },
    headers: { authorization: `Bearer ${token}` },
  };
}

/** Our compiled binary, serving HTTP on a free loopback port. */
export async function startOurs(binary: string, upstream: Upstream, extraEnv: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const child = Bun.spawn([binary], {
    env: { PATH: process.env.PATH ?? "", VAULT_ADDR: upstream.addr, VAULT_TOKEN: upstream.token, MCP_HOST: LOOPBACK, MCP_PORT: String(port), LOG_LEVEL: "warn", ...extraEnv },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const running = track(child, "vault-mcp-server (ours)", port);
  await waitReady(child, port, running.name, drain(child.stderr as ReadableStream<Uint8Array>), headers);
  return running;
}

/** The minimal Vault responder (bench/responder.ts) in its own process. */
export async function startResponder(): Promise<Running & { addr: string }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "responder.ts")], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  while (!text.includes("\n")) {
    if (Date.now() > deadline) throw new Error("the responder did not start");
    const { value, done } = await reader.read();
    if (done) throw new Error("the responder exited before it listened");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const port = Number(/LISTENING (\d+)/.exec(text)?.[1]);
  return { ...track(child, "responder", port), addr: `http://${LOOPBACK}:${port}` };
}

// ---------------------------------------------------------------------------------------------
// HashiCorp's Go server
// ---------------------------------------------------------------------------------------------

export const HASHICORP_MODULE = "github.com/hashicorp/vault-mcp-server";
// The newest release the module proxy here serves; used when `@latest` cannot be resolved (the proxy refuses the version list).
const HASHICORP_FALLBACK_VERSION = "v0.2.0";
const hashicorpDir = join(repoRoot, ".cache", "hashicorp-vault-mcp-server");
const hashicorpBinary = join(hashicorpDir, "vault-mcp-server");
const hashicorpStamp = join(hashicorpDir, "version");

export type Located = { binary: string; version: string } | { error: string };

function goJson(go: string, args: string[]): { ok: true; json: Record<string, string> } | { ok: false; error: string } {
  const r = Bun.spawnSync([go, ...args], { stdout: "pipe", stderr: "pipe", cwd: hashicorpDir });
  if (r.exitCode !== 0) return { ok: false, error: r.stderr.toString().trim().split("\n").slice(-2).join(" | ") };
  return { ok: true, json: JSON.parse(r.stdout.toString()) };
}

/**
 * HashiCorp's server from .cache/, built there from its module the first time: the version `@latest` resolves to, or the
 * pinned fallback when the proxy will not list versions. Built from the module's own go.mod and go.sum, as `go install` would.
 */
export async function locateHashicorp(say: (line: string) => void): Promise<Located> {
  if (!existsSync(hashicorpBinary)) {
    const go = Bun.which("go");
    if (!go) return { error: "no Go toolchain on PATH to build it" };
    mkdirSync(hashicorpDir, { recursive: true });
    const latest = goJson(go, ["list", "-m", "-json", `${HASHICORP_MODULE}@latest`]);
    const version = latest.ok ? latest.json.Version! : HASHICORP_FALLBACK_VERSION;
    if (!latest.ok) say(`${HASHICORP_MODULE}@latest cannot be resolved here (${latest.error}); using ${version}`);
    const fetched = goJson(go, ["mod", "download", "-json", `${HASHICORP_MODULE}@${version}`]);
    if (!fetched.ok) return { error: `go mod download ${HASHICORP_MODULE}@${version} failed: ${fetched.error}` };
    say(`building HashiCorp's server ${version} (once, into .cache/)`);
    const child = Bun.spawn([go, "build", "-trimpath", "-o", hashicorpBinary, "./cmd/vault-mcp-server"], {
      cwd: fetched.json.Dir,
      env: { ...process.env, CGO_ENABLED: "0" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    live.add(child);
    const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
    const [code, err] = await Promise.all([child.exited, new Response(child.stderr as ReadableStream).text()]);
    clearTimeout(timer);
    live.delete(child);
    if (code !== 0 || !existsSync(hashicorpBinary)) return { error: `go build failed (exit ${code}): ${err.trim().split("\n").slice(-5).join(" | ")}` };
    writeFileSync(hashicorpStamp, `${version}\n`);
  }
  const version = existsSync(hashicorpStamp) ? readFileSync(hashicorpStamp, "utf8").trim() : "unknown version";
  return { binary: hashicorpBinary, version: `${HASHICORP_MODULE} ${version}` };
}

/**
 * HashiCorp's server in streamable-http mode on a free loopback port, with Vault from the environment and rate limits
 * raised far above what the bench sends, so they never throttle it.
 */
export async function startHashicorp(binary: string, upstream: Upstream): Promise<Running> {
  const port = await freePort();
  // Flags, not TRANSPORT_* variables: with those set it ignores --log-file. It logs every request at debug level;
  // to /dev/null, as our server logs nothing per request at LOG_LEVEL=warn.
  const child = Bun.spawn([binary, "streamable-http", "--transport-host", LOOPBACK, "--transport-port", String(port), "--log-file", "/dev/null"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      VAULT_ADDR: upstream.addr,
      VAULT_TOKEN: upstream.token,
      // "rps:burst", far above anything the bench sends, so its limiter never throttles.
      MCP_RATE_LIMIT_GLOBAL: "1000000:1000000",
      MCP_RATE_LIMIT_SESSION: "1000000:1000000",
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const running = track(child, "HashiCorp vault-mcp-server (Go)", port);
  await waitReady(child, port, running.name, drain(child.stderr as ReadableStream<Uint8Array>));
  return running;
}

export function sizeMiB(file: string): number {
  return statSync(file).size / (1024 * 1024);
}
