// `bun run bench/profile.ts [--upstream=responder|vault] [--seconds=8] [--ops=mix|read]`: runs the server from source under
// Bun's sampling CPU profiler while the load generator drives it, then prints the functions that use the most CPU.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startDevVault } from "../test/support/vault.ts";
import type { LoadConfig, OpSpec } from "./load.ts";
import { freePort, LOOPBACK, mcpAnswers, repoRoot, startResponder, TOOLS_LIST, type Upstream } from "./servers.ts";
import { prepareVault } from "./vault-setup.ts";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=", 2) as [string, string]));
const seconds = Number(args.seconds ?? 8);
const upstreamKind = args.upstream ?? "responder";
const which = args.ops ?? "mix";
const dir = join(repoRoot, ".cache", "bench", "profile");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const ops: OpSpec[] =
  which === "read"
    ? [{ label: "read_secret", weight: 1, kind: "tool", tool: "read_secret", args: { mount: "secret", path: "bench/s{n}" } }]
    : [
        { label: "read_secret", weight: 12, kind: "tool", tool: "read_secret", args: { mount: "secret", path: "bench/s{n}" } },
        { label: "write_secret", weight: 4, kind: "tool", tool: "write_secret", args: { mount: "secret", path: "bench/w{c}", key: "counter", value: "{i}" } },
        { label: "list_secrets", weight: 3, kind: "tool", tool: "list_secrets", args: { mount: "secret", path: "bench" } },
      ];

const responder = upstreamKind === "responder" ? await startResponder() : undefined;
const vault = upstreamKind === "vault" ? await startDevVault({ fromEnv: false }) : undefined;
if (vault) await prepareVault(vault);
const upstream: Upstream = vault ? { addr: vault.addr, token: vault.token } : { addr: responder!.addr, token: "bench-token" };

const port = await freePort();
const server = Bun.spawn([process.execPath, "--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${dir}`, join(repoRoot, "src", "main.ts")], {
  env: { PATH: process.env.PATH ?? "", VAULT_ADDR: upstream.addr, VAULT_TOKEN: upstream.token, MCP_HOST: LOOPBACK, MCP_PORT: String(port), LOG_LEVEL: "warn" },
  stdin: "ignore",
  stdout: "inherit",
  stderr: "inherit",
});
while (!(await mcpAnswers(port, TOOLS_LIST))) await Bun.sleep(20);

const config: LoadConfig = { host: LOOPBACK, port, mcpPath: "/mcp", concurrency: 16, warmupMs: 500, durationMs: seconds * 1000, ops, initialize: true };
const load = Bun.spawn([process.execPath, join(import.meta.dir, "load.ts"), JSON.stringify(config)], { stdout: "pipe", stderr: "inherit" });
const out = await new Response(load.stdout as ReadableStream).text();
await load.exited;
const result = JSON.parse(out.trim().split("\n").pop()!);
process.stdout.write(`${(result.total.count / (result.measuredMs / 1000)).toFixed(0)} calls/s, p50 ${result.total.p50.toFixed(2)} ms, errors ${result.total.errors}\n`);

server.kill("SIGTERM");
await server.exited;
await responder?.stop();
await vault?.stop();

// Self time per function from the .cpuprofile (Chrome format): nodes with callFrame, samples and timeDeltas.
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (id: number) => {
  const f = byId.get(id)!.callFrame;
  const where = f.url ? `${f.url.replace(/^.*node_modules\//, "~/").replace(repoRoot, ".")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${where}`.trim();
};
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const s of profile.samples) {
  self.set(name(s), (self.get(name(s)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = s; id !== undefined; id = parent.get(id)) {
    const k = name(id);
    if (!seen.has(k)) {
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + 1);
    }
  }
}
const n = profile.samples.length;
const top = (m: Map<string, number>, count: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, v]) => `${((100 * v) / n).toFixed(1).padStart(5)}%  ${k}`)
    .join("\n");
process.stdout.write(`\n${n} samples. Top self time:\n${top(self, 30)}\n\nTop inclusive time:\n${top(total, 40)}\n\nProfile: ${join(dir, file)}\n`);
