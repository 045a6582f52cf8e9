// For the chaos tests: the server as a separate process from source, plain JSON-RPC tool calls, a bounded load of
// writers and readers that records every answer, and the words that tell one class of answer from another.
import { FROM_SOURCE, spawnServer } from "../interop/server-process.ts";
import type { DevVault } from "./vault.ts";

export interface ChaosServer {
  /** http://host:port of the MCP listener, as a loopback caller reaches it. */
  base: string;
  port: number;
  /** Everything the server wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Whether the process is still running (it must survive every fault). */
  alive(): boolean;
  stop(): Promise<void>;
}

/** Runs `bun run src/main.ts` (what ships, but without a compile step) on a free port, against `vault`. */
export async function startServerProcess(vault: DevVault, env: Record<string, string> = {}): Promise<ChaosServer> {
  const server = await spawnServer({ command: FROM_SOURCE, env, vault });
  return { base: `http://127.0.0.1:${server.port}`, port: server.port, stderr: server.stderr, alive: server.alive, stop: server.stop };
}

export interface Answer {
  /** False when no HTTP answer came at all (the server hung up, or took longer than the caller waits). */
  answered: boolean;
  isError: boolean;
  text: string;
  structured?: Record<string, any>;
  /** Milliseconds from sending to the whole answer. */
  ms: number;
}

let ids = 0;

/** One tools/call as a plain JSON-RPC POST /mcp, as curl or a script would send it. */
export async function callTool(base: string, name: string, args: Record<string, unknown>, waitMs = 20_000): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++ids, method: "tools/call", params: { name, arguments: args } }),
      signal: AbortSignal.timeout(waitMs),
      proxy: false,
    } as RequestInit);
    const body = (await res.json()) as { result?: { isError?: boolean; content?: { type: string; text?: string }[]; structuredContent?: any }; error?: { message: string } };
    const ms = performance.now() - started;
    if (body.error) return { answered: true, isError: true, text: `JSON-RPC error: ${body.error.message}`, ms };
    const text = body.result?.content?.find((c) => c.type === "text")?.text ?? "";
    return { answered: true, isError: body.result?.isError === true, text, structured: body.result?.structuredContent, ms };
  } catch (err) {
    return { answered: false, isError: true, text: `no answer: ${err instanceof Error ? err.message : String(err)}`, ms: performance.now() - started };
  }
}

/** GET /readyz with how long it took; `base` may name a non-loopback address of this host. */
export async function probeReady(base: string): Promise<{ status: number; body: any; ms: number; at: number }> {
  const at = Date.now();
  const started = performance.now();
  try {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(15_000), proxy: false } as RequestInit);
    const raw = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = { notJson: raw };
    }
    return { status: res.status, body, ms: performance.now() - started, at };
  } catch (err) {
    return { status: 0, body: { error: String(err) }, ms: performance.now() - started, at };
  }
}

export type AnswerClass = "success" | "uncertain" | "unchanged" | "sealed" | "bad-token" | "not-found" | "internal" | "no-answer" | "other";

/** What an answer claims, in the words the tools use for each. */
export function classify(a: Answer): AnswerClass {
  if (!a.answered) return "no-answer";
  if (!a.isError) return "success";
  const t = a.text;
  if (/internal error/i.test(t)) return "internal";
  if (/is sealed/i.test(t)) return "sealed";
  if (/does not accept the server's own token/i.test(t)) return "bad-token";
  if (/may or may not/i.test(t)) return "uncertain";
  // A read whose answer was lost changed nothing, and says so; so does a request that never left.
  if (/nothing was changed|never sent|changed nothing/i.test(t)) return "unchanged";
  if (/No secret exists|has no key/i.test(t)) return "not-found";
  return "other";
}

export interface CallRecord {
  client: number;
  tool: "write_secret" | "read_secret";
  path: string;
  key: string;
  value: string;
  /** Date.now() when sent and when answered. */
  start: number;
  end: number;
  answer: Answer;
  cls: AnswerClass;
}

export interface Load {
  records: CallRecord[];
  /** Ends the load (after the calls in flight) and resolves when every client has stopped. */
  stop(): Promise<void>;
}

/**
 * `clients` concurrent callers, each writing a new key with a unique value to its own secret and then reading that key
 * back, until stopped or `maxCalls` (the bound on the whole run) is reached. Every call and its answer is recorded.
 */
export function startLoad(base: string, options: { clients: number; prefix: string; maxCalls: number; pauseMs?: number }): Load {
  const records: CallRecord[] = [];
  let stopping = false;
  const pause = options.pauseMs ?? 25;
  const one = async (client: number) => {
    const path = `${options.prefix}/client-${client}`;
    for (let n = 0; !stopping && records.length < options.maxCalls; n++) {
      const key = `k${n}`;
      const value = `${client}-${n}-${crypto.randomUUID()}`;
      for (const tool of ["write_secret", "read_secret"] as const) {
        const args = tool === "write_secret" ? { mount: "secret", path, key, value } : { mount: "secret", path, key };
        const start = Date.now();
        const answer = await callTool(base, tool, args);
        records.push({ client, tool, path, key, value, start, end: Date.now(), answer, cls: classify(answer) });
        await Bun.sleep(pause);
      }
    }
  };
  const running = Promise.all(Array.from({ length: options.clients }, (_, i) => one(i)));
  return {
    records,
    async stop() {
      stopping = true;
      await running;
    },
  };
}

/** Resolves once `check` is true, polling; fails with `what` after `ms`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms: number, everyMs = 100): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
  return Date.now() - started;
}

/** A Vault API call with the root token (or another), straight to Vault, independent of the server under test. */
export async function vaultCall(vault: DevVault, method: string, path: string, body?: unknown, token = vault.token): Promise<{ status: number; json: any }> {
  const res = await fetch(`${vault.addr}/v1/${path}`, {
    method,
    headers: { "x-vault-token": token, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
    proxy: false,
  } as RequestInit);
  const raw = await res.text();
  return { status: res.status, json: raw ? JSON.parse(raw) : null };
}

/** What each client's secret holds now, read straight from Vault: path -> data (undefined when there is none). */
export async function secretsNow(vault: DevVault, paths: readonly string[]): Promise<Map<string, Record<string, unknown> | undefined>> {
  const out = new Map<string, Record<string, unknown> | undefined>();
  for (const path of paths) {
    const res = await vaultCall(vault, "GET", `secret/data/${path}`);
    if (res.status !== 200 && res.status !== 404) throw new Error(`reading ${path} back from Vault answered ${res.status}: ${JSON.stringify(res.json)}`);
    out.set(path, res.status === 200 ? (res.json?.data?.data ?? undefined) : undefined);
  }
  return out;
}

/**
 * Every way the records disagree with what Vault holds now. `since` (ms epoch) is the moment before which Vault's data
 * may have been lost (a dev Vault restarted); writes acknowledged before it and reads depending on them are not judged.
 */
export function misleading(records: readonly CallRecord[], now: Map<string, Record<string, unknown> | undefined>, since = 0): string[] {
  const wrong: string[] = [];
  const acked = new Map<string, CallRecord>();
  for (const r of records) if (r.tool === "write_secret" && r.cls === "success") acked.set(`${r.path}#${r.key}`, r);
  const show = (r: CallRecord) => `${r.tool} ${r.path} ${r.key} at +${r.start}..${r.end}: ${r.answer.text.slice(0, 200)}`;
  for (const r of records) {
    const held = now.get(r.path)?.[r.key];
    if (r.tool === "write_secret") {
      if (r.cls === "success" && r.end > since && held !== r.value) wrong.push(`acknowledged write is not in Vault (holds ${JSON.stringify(held)}): ${show(r)}`);
      // Vault applies nothing it refused, and a sealed Vault or a dead token refuses everything.
      if ((r.cls === "unchanged" || r.cls === "sealed" || r.cls === "bad-token") && held === r.value) wrong.push(`"nothing was changed", but Vault holds the value: ${show(r)}`);
      continue;
    }
    if (r.cls === "success" && r.answer.structured?.data?.[r.key] !== r.value) {
      wrong.push(`read answered ${JSON.stringify(r.answer.structured?.data)} but the value written was ${r.value}: ${show(r)}`);
    }
    const write = acked.get(`${r.path}#${r.key}`);
    if (r.cls === "not-found" && write && write.end > since && write.end < r.start) wrong.push(`read says the acknowledged key is missing: ${show(r)}`);
  }
  return wrong;
}

/** The records whose whole call fell inside [from, to]: sent after the fault began, answered before it ended. */
export function within(records: readonly CallRecord[], from: number, to: number): CallRecord[] {
  return records.filter((r) => r.start >= from && r.end <= to);
}

/** How many of each answer class, for failure messages and the report. */
export function tally(records: readonly CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[`${r.tool}:${r.cls}`] = (out[`${r.tool}:${r.cls}`] ?? 0) + 1;
  return out;
}
