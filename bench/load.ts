// The load generator, run as its own process: closed-loop (or paced) virtual clients over keep-alive loopback connections.
// Input: one JSON LoadConfig in argv[2]. Output: "MEASURE_START"/"MEASURE_END" marker lines, then one JSON LoadResult line.
import { HttpConnection, type RawResponse } from "./http-client.ts";

export interface OpSpec {
  /** Row label in the table, e.g. "read_secret". */
  label: string;
  weight: number;
  /** "tool": an MCP tools/call; "vault": a plain request straight to Vault's HTTP API. */
  kind: "tool" | "vault";
  tool?: string;
  /** Tool arguments; string values may hold {n} (a random secret number 000-099), {c} (client index), {i} (request counter). */
  args?: Record<string, unknown>;
  method?: string;
  /** For kind "vault": the path, with the same placeholders. */
  path?: string;
  body?: unknown;
}

export interface LoadConfig {
  host: string;
  port: number;
  /** "/mcp" for MCP servers. */
  mcpPath: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Total requests per second across all clients; omitted for closed loop (each client sends as soon as it has its answer). */
  rate?: number;
  ops: OpSpec[];
  /** Extra request headers, e.g. x-vault-token for direct Vault calls. */
  headers?: Record<string, string>;
  /** Do the MCP initialize handshake per client first (and keep any Mcp-Session-Id). */
  initialize?: boolean;
  /** Hard cap on requests per client, so a run is bounded in count as well as time. */
  maxRequestsPerClient?: number;
}

export interface OpStats {
  count: number;
  errors: number;
  errorSamples: string[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  measuredMs: number;
  ops: Record<string, OpStats>;
  total: OpStats;
}

class Samples {
  private data = new Float64Array(4096);
  length = 0;
  errors = 0;
  errorSamples: string[] = [];
  add(ms: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = ms;
  }
  error(what: string): void {
    this.errors++;
    if (this.errorSamples.length < 3 && !this.errorSamples.includes(what)) this.errorSamples.push(what);
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export function summarize(values: Float64Array, errors: number, errorSamples: string[]): OpStats {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    errors,
    errorSamples,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** A fixed, shuffled sequence of ops honouring the weights; client k starts at a different point of it. */
function schedule(ops: OpSpec[]): number[] {
  const seq: number[] = [];
  ops.forEach((op, i) => {
    for (let k = 0; k < op.weight; k++) seq.push(i);
  });
  let seed = 0x2545f491;
  for (let i = seq.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const j = seed % (i + 1);
    [seq[i], seq[j]] = [seq[j]!, seq[i]!];
  }
  return seq;
}

function fill(template: string, client: number, counter: number): string {
  if (!template.includes("{")) return template;
  return template
    .replaceAll("{n}", String(Math.floor(Math.random() * 100)).padStart(3, "0"))
    .replaceAll("{c}", String(client))
    .replaceAll("{i}", String(counter));
}

/** The JSON-RPC message inside a JSON or SSE answer. */
function rpcMessage(res: RawResponse): any {
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("text/event-stream")) {
    let last: any;
    for (const line of res.body.split("\n")) {
      if (line.startsWith("data:")) {
        const data = line.slice(5).trim();
        if (data) {
          const msg = JSON.parse(data);
          if (msg && ("result" in msg || "error" in msg)) last = msg;
        }
      }
    }
    return last;
  }
  return res.body ? JSON.parse(res.body) : undefined;
}

/** Undefined when the call succeeded, else a short description of what went wrong. */
function problem(op: OpSpec, res: RawResponse): string | undefined {
  if (op.kind === "vault") return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status} ${res.body.slice(0, 120)}`;
  if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 120)}`;
  let msg: any;
  try {
    msg = rpcMessage(res);
  } catch {
    return `unparseable answer: ${res.body.slice(0, 120)}`;
  }
  if (!msg) return "no JSON-RPC answer";
  if (msg.error) return `JSON-RPC ${msg.error.code}: ${String(msg.error.message).slice(0, 120)}`;
  if (msg.result?.isError) return `isError: ${String(msg.result.content?.[0]?.text ?? "").slice(0, 160)}`;
  return undefined;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as LoadConfig;
  const extra = Object.entries(config.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const hostHeader = `host: ${config.host}:${config.port}\r\n`;
  const mcpHead = (session: string | undefined, version: string | undefined) =>
    `POST ${config.mcpPath} HTTP/1.1\r\n${hostHeader}accept: application/json, text/event-stream\r\ncontent-type: application/json\r\n` +
    `${session ? `mcp-session-id: ${session}\r\n` : ""}${version ? `mcp-protocol-version: ${version}\r\n` : ""}${extra}`;
  const ops = config.ops;
  const seq = schedule(ops);
  const samples = ops.map(() => new Samples());
  // Templates rendered once; only the placeholders are filled per request.
  const argTemplates = ops.map((op) => (op.kind === "tool" ? JSON.stringify({ name: op.tool, arguments: op.args ?? {} }) : ""));
  const bodyTemplates = ops.map((op) => (op.body !== undefined ? JSON.stringify(op.body) : ""));

  const clients = await Promise.all(
    Array.from({ length: config.concurrency }, async (_, c) => {
      const conn = await HttpConnection.open(config.host, config.port);
      let session: string | undefined;
      let version: string | undefined;
      if (config.initialize) {
        const init = {
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "vault-mcp-bench", version: "1.0.0" } },
        };
        const res = await conn.request(mcpHead(undefined, undefined), JSON.stringify(init));
        if (res.status !== 200) throw new Error(`initialize failed: HTTP ${res.status} ${res.body.slice(0, 200)}`);
        session = res.headers.get("mcp-session-id");
        version = rpcMessage(res)?.result?.protocolVersion;
        const note = await conn.request(mcpHead(session, version), '{"jsonrpc":"2.0","method":"notifications/initialized"}');
        if (note.status >= 300) throw new Error(`notifications/initialized failed: HTTP ${note.status}`);
      }
      return { conn, head: mcpHead(session, version) };
    }),
  );

  const t0 = performance.now();
  const measureStart = t0 + config.warmupMs;
  const measureEnd = measureStart + config.durationMs;
  const cap = config.maxRequestsPerClient ?? Number.POSITIVE_INFINITY;
  setTimeout(() => process.stdout.write("MEASURE_START\n"), config.warmupMs);
  const interval = config.rate ? (1000 * config.concurrency) / config.rate : 0;

  await Promise.all(
    clients.map(async ({ conn, head }, c) => {
      let i = 0;
      let pos = (c * 7) % seq.length;
      let next = t0 + (interval ? (interval * c) / config.concurrency : 0);
      while (i < cap) {
        if (interval) {
          const wait = next - performance.now();
          if (wait > 0) await Bun.sleep(wait);
        }
        const scheduled = interval ? next : performance.now();
        if (scheduled >= measureEnd) break;
        const k = seq[pos]!;
        pos = (pos + 1) % seq.length;
        const op = ops[k]!;
        i++;
        let reqHead: string;
        let body: string;
        if (op.kind === "tool") {
          reqHead = head;
          body = `{"jsonrpc":"2.0","id":${i},"method":"tools/call","params":${fill(argTemplates[k]!, c, i)}}`;
        } else {
          reqHead = `${op.method ?? "GET"} ${fill(op.path!, c, i)} HTTP/1.1\r\n${hostHeader}${bodyTemplates[k] ? "content-type: application/json\r\n" : ""}${extra}`;
          body = bodyTemplates[k] ? fill(bodyTemplates[k]!, c, i) : "";
        }
        let res: RawResponse | undefined;
        let failure: string | undefined;
        try {
          res = await conn.request(reqHead, body);
          failure = problem(op, res);
        } catch (err) {
          failure = `transport: ${(err as Error).message}`;
        }
        const done = performance.now();
        if (scheduled >= measureStart) {
          samples[k]!.add(done - scheduled);
          if (failure) samples[k]!.error(failure);
        }
        if (interval) next += interval;
      }
    }),
  );
  const finished = Math.min(performance.now(), measureEnd);
  process.stdout.write("MEASURE_END\n");
  for (const { conn } of clients) conn.close();

  const result: LoadResult = { measuredMs: finished - measureStart, ops: {}, total: summarize(new Float64Array(), 0, []) };
  const all: number[] = [];
  let errors = 0;
  ops.forEach((op, k) => {
    const s = samples[k]!;
    result.ops[op.label] = summarize(s.values(), s.errors, s.errorSamples);
    for (const v of s.values()) all.push(v);
    errors += s.errors;
  });
  result.total = summarize(Float64Array.from(all), errors, []);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
