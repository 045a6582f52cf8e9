// `npm run bench`: the compiled server against a real dev Vault and a minimal responder, side by side with HashiCorp's
// Go server, driven by a separate load-generator process over loopback. Prints tables; see bench/README.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compiledBinary } from "../test/support/binary.ts";
import { type DevVault, startDevVault } from "../test/support/vault.ts";
import type { LoadConfig, LoadResult, OpSpec, OpStats } from "./load.ts";
import { type MemorySnapshot, memorySnapshot } from "./memory.ts";
import { CpuWindow, peakRssMiB, rssMiB } from "./proc.ts";
import { fmt, ratio, signed, table, type Cell } from "./report.ts";
import {
  freePort,
  guardrails,
  LOOPBACK,
  locateHashicorp,
  mcpAnswers,
  repoRoot,
  type Running,
  sizeMiB,
  startHashicorp,
  startOurs,
  startResponder,
  TOOLS_LIST,
  type Upstream,
} from "./servers.ts";
import { PKI_MOUNT, PKI_ROLE, prepareVault } from "./vault-setup.ts";

interface Options {
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  coldStarts: number;
  /** Total calls/s of the paced read phase; 0 picks a quarter of the slower closed-loop rate. */
  pacedRate: number;
  hashicorp: boolean;
  vault: boolean;
  out?: string;
}

const USAGE = `Usage: npm run bench -- [--duration=10] [--warmup=2] [--concurrency=16] [--cold-starts=10] [--paced-rate=auto]
                        [--no-hashicorp] [--no-vault] [--out=results.json]`;

function parseOptions(argv: string[]): Options {
  const o: Options = { durationMs: 10_000, warmupMs: 2000, concurrency: 16, coldStarts: 10, pacedRate: 0, hashicorp: true, vault: true };
  for (const arg of argv) {
    const [k, v] = arg.split("=", 2) as [string, string | undefined];
    const num = (min: number, max: number) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${k} must be a number from ${min} to ${max}\n${USAGE}`);
      return n;
    };
    if (k === "--duration") o.durationMs = num(1, 300) * 1000;
    else if (k === "--warmup") o.warmupMs = num(0, 60) * 1000;
    else if (k === "--concurrency") o.concurrency = num(1, 256);
    else if (k === "--cold-starts") o.coldStarts = num(1, 100);
    else if (k === "--paced-rate") o.pacedRate = num(0, 100_000);
    else if (k === "--no-hashicorp") o.hashicorp = false;
    else if (k === "--no-vault") o.vault = false;
    else if (k === "--out" && v) o.out = v;
    else if (k === "--help" || k === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return o;
}

const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// The mix
// ---------------------------------------------------------------------------------------------

type Flavor = "ours" | "hashicorp";

/**
 * 60% reads, 20% writes, 15% lists, 5% certificates (the last only against a real Vault). With secret values masked a
 * new private key may only be stored (store_at), never shown, so `storeKeys` issues certificates that way.
 */
function mix(flavor: Flavor, withPki: boolean, storeKeys = false): OpSpec[] {
  // Both servers name these four tools and their arguments alike.
  void flavor;
  const ops: OpSpec[] = [
    { label: "read_secret", weight: 12, kind: "tool", tool: "read_secret", args: { mount: "secret", path: "bench/s{n}" } },
    { label: "write_secret", weight: 4, kind: "tool", tool: "write_secret", args: { mount: "secret", path: "bench/w{c}", key: "counter", value: "{i}" } },
    { label: "list_secrets", weight: 3, kind: "tool", tool: "list_secrets", args: { mount: "secret", path: "bench" } },
  ];
  if (withPki) {
    ops.push({
      label: "issue_pki_certificate",
      weight: 1,
      kind: "tool",
      tool: "issue_pki_certificate",
      args: {
        mount: PKI_MOUNT,
        role_name: PKI_ROLE,
        common_name: "c{c}.bench.test",
        ttl: "1h",
        ...(storeKeys ? { store_at: { mount: "secret", path: "bench/certs/c{c}" } } : {}),
      },
    });
  }
  return ops;
}

const readOnly: OpSpec[] = [{ label: "read_secret", weight: 1, kind: "tool", tool: "read_secret", args: { mount: "secret", path: "bench/s{n}" } }];
const directRead: OpSpec[] = [{ label: "GET secret/data/…", weight: 1, kind: "vault", method: "GET", path: "/v1/secret/data/bench/s{n}" }];

// ---------------------------------------------------------------------------------------------
// Driving load
// ---------------------------------------------------------------------------------------------

interface Run {
  result: LoadResult;
  /** CPU milliseconds used during the measured window. */
  cpu: { server: number; upstream: number; load: number };
  callsPerSecond: number;
}

async function drive(what: string, config: LoadConfig, server: number | undefined, upstream: number | undefined): Promise<Run> {
  say(`${what}: ${config.concurrency} clients, ${config.rate ? `paced at ${config.rate} calls/s` : "closed loop"}, ${config.durationMs / 1000} s`);
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "load.ts"), JSON.stringify(config)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const pids = [server, upstream, child.pid].filter((p): p is number => p !== undefined);
  const cpu = new CpuWindow(pids);
  const killer = setTimeout(() => child.kill("SIGKILL"), config.warmupMs + config.durationMs + 60_000);
  let last = "";
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout as ReadableStream<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === "MEASURE_START") cpu.begin();
      else if (line === "MEASURE_END") cpu.end();
      else if (line.trim()) last = line;
    }
  }
  const code = await child.exited;
  clearTimeout(killer);
  if (code !== 0) throw new Error(`load generator failed (${code}): ${await new Response(child.stderr as ReadableStream).text()}`);
  const result = JSON.parse(last) as LoadResult;
  return {
    result,
    cpu: { server: server ? cpu.of(server) : Number.NaN, upstream: upstream ? cpu.of(upstream) : Number.NaN, load: cpu.of(child.pid) },
    callsPerSecond: result.total.count / (result.measuredMs / 1000),
  };
}

function loadConfig(o: Options, port: number, ops: OpSpec[], extra: Partial<LoadConfig> = {}): LoadConfig {
  return {
    host: LOOPBACK,
    port,
    mcpPath: "/mcp",
    concurrency: o.concurrency,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    ops,
    initialize: true,
    maxRequestsPerClient: 5_000_000,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Cold start
// ---------------------------------------------------------------------------------------------

interface ColdStart {
  sizeMiB: number;
  startsMs: number[];
  idleRssMiB: number[];
  /** Where the memory of the last start is, once idle. */
  idle?: MemorySnapshot;
}

async function coldStart(binary: string, upstream: Upstream, n: number): Promise<ColdStart> {
  say(`cold start: ${n} runs of exec -> first successful tools/list`);
  const startsMs: number[] = [];
  const idleRssMiB: number[] = [];
  let idle: MemorySnapshot | undefined;
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const child = Bun.spawn([binary], {
      env: { PATH: process.env.PATH ?? "", VAULT_ADDR: upstream.addr, VAULT_TOKEN: upstream.token, MCP_HOST: LOOPBACK, MCP_PORT: String(port), LOG_LEVEL: "warn" },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      const deadline = t0 + 20_000;
      while (!(await mcpAnswers(port, TOOLS_LIST))) {
        if (performance.now() > deadline || child.exitCode !== null) throw new Error(`the server did not answer tools/list (exit ${child.exitCode})`);
        await Bun.sleep(1);
      }
      startsMs.push(performance.now() - t0);
      await Bun.sleep(500);
      idleRssMiB.push(rssMiB(child.pid));
      if (i === n - 1) idle = await memorySnapshot(child.pid, port);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  }
  return { sizeMiB: sizeMiB(binary), startsMs, idleRssMiB, idle };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface ServerRuns {
  name: string;
  mixed?: Run;
  peakRssMiB?: number;
  /** Where the server's memory is at the end of its mix. */
  memory?: MemorySnapshot;
  error?: string;
}

/** read_secret through a server configuration against the same read straight to Vault. */
interface ReadRuns {
  direct?: Run;
  oursRead?: Run;
  pacedDirect?: Run;
  pacedOurs?: Run;
  /** One client, closed loop, interleaved: direct, ours, direct, ours, ... */
  single?: { direct: Run[]; ours: Run[] };
}

/** One configuration of our server: the defaults, or with the guardrails on. */
interface Flavour {
  label: string;
  env: Record<string, string>;
  headers: Record<string, string>;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = Date.now();
  say("building the binary (bun build --compile, as `bun run build` does)");
  const binary = await compiledBinary();
  const responder = await startResponder();
  const responderUpstream: Upstream = { addr: responder.addr, token: "bench-token" };
  const cold = await coldStart(binary, responderUpstream, o.coldStarts);
  const guarded = guardrails();
  const flavours: Flavour[] = [
    { label: "ours", env: {}, headers: {} },
    { label: "ours + guardrails", env: guarded.env, headers: guarded.headers },
  ];

  let vault: DevVault | undefined;
  let vaultError: string | undefined;
  if (o.vault) {
    try {
      say("starting a Vault dev server (the first run builds it from Go modules into .cache/, which takes minutes)");
      vault = await startDevVault({ fromEnv: false });
      await prepareVault(vault);
    } catch (err) {
      vaultError = (err as Error).message.split("\n")[0];
      say(`no Vault: ${vaultError}`);
      await vault?.stop();
      vault = undefined;
    }
  } else vaultError = "skipped (--no-vault)";

  let hc: Awaited<ReturnType<typeof locateHashicorp>> = { error: "skipped (--no-hashicorp)" };
  if (o.hashicorp) hc = await locateHashicorp(say);
  if ("error" in hc) say(`HashiCorp's server is not part of this run: ${hc.error}`);

  // --- Against the real Vault ---
  const reads: ReadRuns = {};
  const guardedReads: ReadRuns = {};
  const vaultRuns: ServerRuns[] = [];
  if (vault) {
    const upstream: Upstream = { addr: vault.addr, token: vault.token };
    const vaultPort = Number(new URL(vault.addr).port);
    const directHeaders = { "x-vault-token": vault.token };
    for (const flavour of flavours) {
      const ours = await startOurs(binary, upstream, flavour.env, flavour.headers);
      const runs: ServerRuns = { name: flavour.label };
      const r = flavour.label === "ours" ? reads : guardedReads;
      const h = { headers: flavour.headers };
      try {
        r.direct = await drive("direct Vault reads", loadConfig(o, vaultPort, directRead, { initialize: false, headers: directHeaders }), undefined, vault.pid);
        r.oursRead = await drive(`read_secret through ${flavour.label}`, loadConfig(o, ours.port, readOnly, h), ours.pid, vault.pid);
        if (flavour.label === "ours") {
          // Well below capacity, so the paced latencies are service time rather than queueing.
          const rate = o.pacedRate || Math.max(50, Math.round(Math.min(r.direct.callsPerSecond, r.oursRead.callsPerSecond) / 4 / 50) * 50);
          o.pacedRate = rate;
          r.pacedDirect = await drive("direct Vault reads, paced", loadConfig(o, vaultPort, directRead, { initialize: false, headers: directHeaders, rate }), undefined, vault.pid);
          r.pacedOurs = await drive("read_secret through ours, paced", loadConfig(o, ours.port, readOnly, { ...h, rate }), ours.pid, vault.pid);
        }
        // One client: what the server adds to a single call, interleaved with direct reads so drift hits both alike.
        const single = { direct: [] as Run[], ours: [] as Run[] };
        const third = { concurrency: 1, durationMs: Math.max(1000, Math.round(o.durationMs / 3)) };
        for (let k = 0; k < 3; k++) {
          single.direct.push(await drive("direct Vault reads, 1 client", loadConfig(o, vaultPort, directRead, { initialize: false, headers: directHeaders, ...third }), undefined, vault.pid));
          single.ours.push(await drive(`read_secret through ${flavour.label}, 1 client`, loadConfig(o, ours.port, readOnly, { ...h, ...third }), ours.pid, vault.pid));
        }
        r.single = single;
        const masked = flavour.env.MCP_SECRET_VALUES === "mask";
        runs.mixed = await drive(`mixed load through ${flavour.label}`, loadConfig(o, ours.port, mix("ours", true, masked), h), ours.pid, vault.pid);
        runs.peakRssMiB = peakRssMiB(ours.pid);
        runs.memory = await memorySnapshot(ours.pid, ours.port);
      } finally {
        await ours.stop();
      }
      vaultRuns.push(runs);
    }
    if ("binary" in hc) vaultRuns.push(await runHashicorp(o, hc.binary, upstream, mix("hashicorp", true), vault.pid));
  }

  // --- Against the minimal responder ---
  const responderRuns: ServerRuns[] = [];
  for (const flavour of flavours) {
    const ours = await startOurs(binary, responderUpstream, flavour.env, flavour.headers);
    const runs: ServerRuns = { name: flavour.label };
    try {
      runs.mixed = await drive(`mixed load through ${flavour.label}, minimal responder`, loadConfig(o, ours.port, mix("ours", false), { headers: flavour.headers }), ours.pid, responder.pid);
      runs.peakRssMiB = peakRssMiB(ours.pid);
      runs.memory = await memorySnapshot(ours.pid, ours.port);
    } finally {
      await ours.stop();
    }
    responderRuns.push(runs);
  }
  if ("binary" in hc) responderRuns.push(await runHashicorp(o, hc.binary, responderUpstream, mix("hashicorp", false), responder.pid));
  await responder.stop();
  await vault?.stop();

  // --- Report ---
  const out: string[] = [];
  out.push(
    `vault-mcp-server bench: ${o.concurrency} clients, ${o.durationMs / 1000} s per phase after ${o.warmupMs / 1000} s warm-up, ` +
      `${navigator.hardwareConcurrency} CPUs, Bun ${Bun.version}${vault ? "" : `; no Vault: ${vaultError}`}`,
  );
  out.push(`HashiCorp's server: ${"binary" in hc ? hc.version : `not run: ${hc.error}`}`);
  out.push(`Guardrails: ${Object.entries(guarded.env).map(([k, v]) => (k === "MCP_AUTH_TOKENS_FILE" ? `${k}=(one token)` : `${k}=${v}`)).join(" ")}, audit log on stderr (the default)`);
  out.push(
    table(
      "Cold start (compiled binary)",
      ["measure", "value"],
      [
        ["binary size, MiB", cold.sizeMiB],
        [`exec -> first tools/list, ms (median of ${cold.startsMs.length})`, median(cold.startsMs)],
        ["  fastest / slowest, ms", `${fmt(Math.min(...cold.startsMs))} / ${fmt(Math.max(...cold.startsMs))}`],
        ["idle RSS after start, MiB (median)", median(cold.idleRssMiB)],
      ],
    ),
  );
  if (reads.direct && reads.oursRead && reads.pacedDirect && reads.pacedOurs) out.push(overheadTable(o, reads.direct, reads.oursRead, reads.pacedDirect, reads.pacedOurs));
  if (reads.single) out.push(singleTable([["ours", reads.single], ["ours + guardrails", guardedReads.single]]));
  if (vaultRuns.length) out.push(mixedTables(`Mixed load against a real Vault dev server`, vaultRuns, "Vault"));
  out.push(mixedTables("Mixed load against the minimal responder (the servers' own ceiling; no PKI)", responderRuns, "responder"));
  out.push(memoryTable(cold, vaultRuns, responderRuns));
  out.push(guardrailsTable(reads, guardedReads, vaultRuns, responderRuns));
  out.push(sideBySide(vaultRuns, responderRuns));
  out.push(targets(cold, reads, vaultRuns, responderRuns));
  out.push(`\n(run took ${Math.round((Date.now() - started) / 1000)} s)`);
  process.stdout.write(`${out.join("\n")}\n`);

  const json = { options: o, cold, reads, guardedReads, vaultRuns, responderRuns, hashicorp: hc };
  const file = o.out ?? join(repoRoot, ".cache", "bench", "last.json");
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, JSON.stringify(json, null, 2));
  say(`raw results in ${o.out ?? ".cache/bench/last.json"}`);
}

async function runHashicorp(o: Options, binary: string, upstream: Upstream, ops: OpSpec[], upstreamPid: number | undefined): Promise<ServerRuns> {
  const runs: ServerRuns = { name: "HashiCorp (Go)" };
  let server: Running | undefined;
  try {
    server = await startHashicorp(binary, upstream);
    runs.mixed = await drive("mixed load through HashiCorp's server", loadConfig(o, server.port, ops), server.pid, upstreamPid);
    runs.peakRssMiB = peakRssMiB(server.pid);
  } catch (err) {
    runs.error = (err as Error).message.split("\n").slice(0, 3).join(" | ");
    say(`HashiCorp's server failed: ${runs.error}`);
  } finally {
    await server?.stop();
  }
  return runs;
}

function statRow(label: string, run: Run, s: OpStats): Cell[] {
  return [label, s.count / (run.result.measuredMs / 1000), s.p50, s.p90, s.p99, s.errors];
}

function errorNotes(run: Run | undefined, who: string): string[] {
  if (!run) return [];
  return Object.entries(run.result.ops).flatMap(([op, s]) => s.errorSamples.map((e) => `${who} ${op} error: ${e}`));
}

function overheadTable(o: Options, direct: Run, ours: Run, pacedDirect: Run, pacedOurs: Run): string {
  const d = direct.result.total;
  const m = ours.result.total;
  const pd = pacedDirect.result.total;
  const pm = pacedOurs.result.total;
  const perCall = (r: Run, k: "server" | "upstream") => (r.cpu[k] * 1000) / r.result.total.count;
  return table(
    `read_secret through ours vs the same read straight to Vault (${o.concurrency} clients)`,
    ["path", "calls/s", "p50 ms", "p90 ms", "p99 ms", "errors", "server µs CPU/call", "Vault µs CPU/call"],
    [
      [...statRow("Vault direct, closed loop", direct, d), "-", perCall(direct, "upstream")],
      [...statRow("ours read_secret, closed loop", ours, m), perCall(ours, "server"), perCall(ours, "upstream")],
      ["  added by ours", signed(ours.callsPerSecond - direct.callsPerSecond), signed(m.p50 - d.p50), signed(m.p90 - d.p90), signed(m.p99 - d.p99), "", "", ""],
      ["  ratio ours / direct", ratio(ours.callsPerSecond, direct.callsPerSecond), ratio(m.p50, d.p50), ratio(m.p90, d.p90), ratio(m.p99, d.p99), "", "", ""],
      [...statRow(`Vault direct, paced ${o.pacedRate}/s`, pacedDirect, pd), "-", perCall(pacedDirect, "upstream")],
      [...statRow(`ours read_secret, paced ${o.pacedRate}/s`, pacedOurs, pm), perCall(pacedOurs, "server"), perCall(pacedOurs, "upstream")],
      ["  added by ours", "", signed(pm.p50 - pd.p50), signed(pm.p90 - pd.p90), signed(pm.p99 - pd.p99), "", "", ""],
      ["  ratio ours / direct", "", ratio(pm.p50, pd.p50), ratio(pm.p90, pd.p90), ratio(pm.p99, pd.p99), "", "", ""],
    ],
    [
      "Closed loop: every client sends its next call as soon as it has the answer (throughput; latency includes queueing on 2 shared cores).",
      "Paced: the same clients at a fixed total rate, so latency is service time; measured from the scheduled send time.",
      ...errorNotes(direct, "direct"),
      ...errorNotes(ours, "ours"),
    ],
  );
}

/** p50 of one client's reads, each interleaved run on its own row, and the medians of what the server added. */
function singleTable(flavours: [string, ReadRuns["single"]][]): string {
  const rows: Cell[][] = [];
  for (const [label, single] of flavours) {
    if (!single) continue;
    const added = single.ours.map((r, i) => r.result.total.p50 - single.direct[i]!.result.total.p50);
    rows.push([
      label,
      single.direct.map((r) => fmt(r.result.total.p50)).join(" / "),
      single.ours.map((r) => fmt(r.result.total.p50)).join(" / "),
      signed(median(added)),
      median(single.ours.map((r) => (r.cpu.server * 1000) / r.result.total.count)),
    ]);
  }
  return table(
    "read_secret at 1 client: p50 straight to Vault and through the server, 3 interleaved runs",
    ["server", "direct p50 ms (each run)", "through p50 ms (each run)", "added p50 ms (median)", "server µs CPU/call"],
    rows,
  );
}

function mixedTables(title: string, runs: ServerRuns[], upstreamName: string): string {
  const rows: Cell[][] = [];
  const notes: string[] = [];
  for (const r of runs) {
    if (!r.mixed) {
      rows.push([r.name, `failed: ${r.error ?? "?"}`, "", "", "", "", ""]);
      continue;
    }
    for (const [op, s] of Object.entries(r.mixed.result.ops)) rows.push([r.name, ...statRow(op, r.mixed, s)]);
    rows.push([r.name, ...statRow("all tools/call", r.mixed, r.mixed.result.total)]);
    notes.push(...errorNotes(r.mixed, r.name));
  }
  const latency = table(title, ["server", "tool", "calls/s", "p50 ms", "p90 ms", "p99 ms", "errors"], rows, notes);
  const res = runs
    .filter((r) => r.mixed)
    .map((r) => {
      const m = r.mixed!;
      const n = m.result.total.count;
      return [r.name, m.callsPerSecond, (m.cpu.server * 1000) / n, r.peakRssMiB ?? Number.NaN, (m.cpu.upstream * 1000) / n, (m.cpu.load * 1000) / n] as Cell[];
    });
  const resources = table(
    `${title.split(" (")[0]}: resources`,
    ["server", "calls/s", "server µs CPU/call", "server peak RSS MiB", `${upstreamName} µs CPU/call`, "load generator µs CPU/call"],
    res,
    ["CPU from /proc/<pid>/stat utime+stime over the measured window; peak RSS is VmHWM of the server process."],
  );
  return `${latency}\n${resources}`;
}

function memoryTable(cold: ColdStart, vaultRuns: ServerRuns[], responderRuns: ServerRuns[]): string {
  const rows: Cell[][] = [];
  const row = (label: string, m: MemorySnapshot | undefined) => {
    if (!m) return;
    const s = m.smaps;
    const r = m.runtime;
    rows.push([label, m.peakRss, s.rss, s.binaryText, s.binaryData, s.libraries, s.anonymous, s.jit, r?.jsHeap ?? Number.NaN, r?.jsHeapCapacity ?? Number.NaN, r?.jsExtra ?? Number.NaN, r?.malloc ?? Number.NaN]);
  };
  row("idle after start", cold.idle);
  for (const r of vaultRuns) row(`${r.name}, after the mix (Vault)`, r.memory);
  for (const r of responderRuns) row(`${r.name}, after the mix (responder)`, r.memory);
  return table(
    "Where our server's memory is, MiB",
    ["moment", "peak RSS", "RSS", "binary text", "binary data", "libs", "anonymous", "JIT code", "JS heap live", "JS heap held", "JS extra", "malloc"],
    rows,
    [
      "From /proc/<pid>/smaps: binary text = Bun's machine code that is resident; binary data = the embedded bundle and bytecode;",
      "anonymous = private memory (JS heap, malloc arenas, socket and body buffers); JIT code = writable+executable pages.",
      "From the server's /metrics: JS heap live and held (JavaScriptCore heapSize, heapCapacity), JS extra (buffers the heap",
      "owns outside it), malloc (bytes mimalloc has handed out, which includes the JS heap's own blocks).",
      "Binary text and data are clean file pages: shared by replicas on one node and dropped first under memory pressure.",
    ],
  );
}

function guardrailsTable(reads: ReadRuns, guarded: ReadRuns, vaultRuns: ServerRuns[], responderRuns: ServerRuns[]): string {
  const rows: Cell[][] = [];
  const perCall = (r: Run | undefined) => (r ? (r.cpu.server * 1000) / r.result.total.count : Number.NaN);
  const pair = (label: string, a: Run | undefined, b: Run | undefined) => {
    if (!a || !b) return;
    rows.push([label, "calls/s", a.callsPerSecond, b.callsPerSecond, ratio(b.callsPerSecond, a.callsPerSecond)]);
    rows.push([label, "server µs CPU/call", perCall(a), perCall(b), signed(perCall(b) - perCall(a))]);
    rows.push([label, "p50 ms", a.result.total.p50, b.result.total.p50, signed(b.result.total.p50 - a.result.total.p50)]);
  };
  pair("read_secret, 16 clients (Vault)", reads.oursRead, guarded.oursRead);
  if (reads.direct && reads.oursRead && guarded.direct && guarded.oursRead) {
    rows.push(["read_secret, 16 clients (Vault)", "share of Vault-direct calls/s", ratio(reads.oursRead.callsPerSecond, reads.direct.callsPerSecond), ratio(guarded.oursRead.callsPerSecond, guarded.direct.callsPerSecond), ""]);
  }
  const singleAdded = (r: ReadRuns) => (r.single ? median(r.single.ours.map((x, i) => x.result.total.p50 - r.single!.direct[i]!.result.total.p50)) : Number.NaN);
  if (reads.single && guarded.single) rows.push(["read_secret, 1 client (Vault)", "added p50 ms", signed(singleAdded(reads)), signed(singleAdded(guarded)), signed(singleAdded(guarded) - singleAdded(reads))]);
  for (const [where, runs] of [
    ["mix (Vault)", vaultRuns],
    ["mix (responder)", responderRuns],
  ] as const) {
    const a = runs.find((r) => r.name === "ours");
    const b = runs.find((r) => r.name === "ours + guardrails");
    pair(where, a?.mixed, b?.mixed);
    if (a?.peakRssMiB && b?.peakRssMiB) rows.push([where, "peak RSS MiB", a.peakRssMiB, b.peakRssMiB, signed(b.peakRssMiB - a.peakRssMiB)]);
  }
  return table("The guardrails' cost: defaults vs bearer auth + mask + a path rule (audit log on stderr in both)", ["phase", "measure", "defaults", "guardrails", "change"], rows);
}

function sideBySide(vaultRuns: ServerRuns[], responderRuns: ServerRuns[]): string {
  const rows: Cell[][] = [];
  for (const [where, runs] of [
    ["real Vault", vaultRuns],
    ["responder", responderRuns],
  ] as const) {
    const theirsRun = runs.find((r) => r.name === "HashiCorp (Go)");
    const theirs = theirsRun?.mixed;
    if (!theirs) continue;
    for (const oursRun of runs.filter((r) => r.name !== "HashiCorp (Go)" && r.mixed)) {
      const ours = oursRun.mixed!;
      const cpu = (r: Run) => r.cpu.server / r.result.total.count;
      const who = `${where}, ${oursRun.name}`;
      rows.push([who, "calls/s (higher is better)", ratio(ours.callsPerSecond, theirs.callsPerSecond)]);
      rows.push([who, "p50 latency (lower is better)", ratio(ours.result.total.p50, theirs.result.total.p50)]);
      rows.push([who, "p99 latency", ratio(ours.result.total.p99, theirs.result.total.p99)]);
      rows.push([who, "server CPU per call", ratio(cpu(ours), cpu(theirs))]);
      rows.push([who, "peak RSS", ratio(oursRun.peakRssMiB!, theirsRun!.peakRssMiB!)]);
    }
  }
  if (rows.length === 0) return "\n== Side by side with HashiCorp's server ==\n  not run (see above for why)";
  return table("Side by side: ours / HashiCorp's (same mix, concurrency, machine and run)", ["upstream, server", "measure", "ours / theirs"], rows);
}

/** The performance issue's targets. */
function targets(cold: ColdStart, reads: ReadRuns, vaultRuns: ServerRuns[], responderRuns: ServerRuns[]): string {
  const rows: Cell[][] = [];
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "met" : "NOT met");
  const MB = 1e6 / (1024 * 1024);
  const ourPeaks = [...vaultRuns, ...responderRuns].filter((r) => r.name === "ours" && r.peakRssMiB).map((r) => r.peakRssMiB!);
  const peak = ourPeaks.length ? Math.max(...ourPeaks) : Number.NaN;
  rows.push(["peak RSS under the 16-client mix <= 48 MB", `${fmt(peak / MB)} MB`, verdict(Number.isFinite(peak) ? peak <= 48 * MB : undefined)]);
  const idle = median(cold.idleRssMiB);
  rows.push(["idle RSS <= 35 MB", `${fmt(idle / MB)} MB`, verdict(idle <= 35 * MB)]);
  const share = reads.direct && reads.oursRead ? reads.oursRead.callsPerSecond / reads.direct.callsPerSecond : Number.NaN;
  rows.push(["read_secret at 16 clients >= 85% of Vault-direct calls/s", Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : "-", verdict(Number.isFinite(share) ? share >= 0.85 : undefined)]);
  const added = reads.single ? median(reads.single.ours.map((r, i) => r.result.total.p50 - reads.single!.direct[i]!.result.total.p50)) : Number.NaN;
  rows.push(["added p50 at 1 client <= 0.2 ms", `${signed(added)} ms`, verdict(Number.isFinite(added) ? added <= 0.2 : undefined)]);
  const ours = vaultRuns.find((r) => r.name === "ours")?.mixed;
  const theirs = vaultRuns.find((r) => r.name === "HashiCorp (Go)")?.mixed;
  rows.push([">= 3x HashiCorp's calls/s (mix, real Vault)", theirs && ours ? ratio(ours.callsPerSecond, theirs.callsPerSecond) : "-", verdict(theirs && ours ? ours.callsPerSecond >= 3 * theirs.callsPerSecond : undefined)]);
  const c = median(cold.startsMs);
  rows.push(["cold start to first tools/list < 50 ms", `${fmt(c)} ms`, verdict(c < 50)]);
  return table("Targets (medians of this run)", ["target", "measured", "verdict"], rows);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
