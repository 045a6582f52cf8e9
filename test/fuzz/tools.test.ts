// Property-based fuzz of every tool on a real dev Vault: hostile arguments never reach past the tool's own paths (by Vault's audit log), and every answer is an actionable error or a true success.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fc from "fast-check";
import { allTools } from "../../src/tools/index.ts";
import type { ToolDefinition } from "../../src/tools/registry.ts";
import { anyCall, type Case } from "./arbitraries.ts";
import { callTool, type FuzzWorld, startWorld } from "./harness.ts";
import { badErrorText, falseSuccess, isArgumentError } from "./oracle.ts";
import { escape, isLookup, scopeOf, type SeenRequest, UNAUDITED } from "./scope.ts";

// A few thousand in npm test (about half a minute); `FUZZ_RUNS=100000 npm run fuzz` for a long run.
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x100000000);
const PATH = process.env.FUZZ_PATH;
// FUZZ_ALL=1 keeps going after a failure and lists each distinct problem once, with its shortest example (no shrinking):
// useful while several known bugs are open, when stopping at the first would hide the others.
const ALL = process.env.FUZZ_ALL === "1";
// Generous per case, so a slow shared machine runs fewer cases rather than failing on bun's timeout with no report.
const TIMEOUT_MS = 120_000 + RUNS * 60;
const BUDGET_MS = TIMEOUT_MS - 30_000;

/** Tools whose success may remove or change a fixture, which is then put back for the calls after it. */
const DISTURBS_FIXTURES = new Set(["delete_mount", "delete_secret", "delete_pki_role", "create_pki_role", "delete_transit_key", "update_transit_key_config"]);

const defs = new Map<string, ToolDefinition>(allTools.map((d) => [d.name, d as ToolDefinition]));
let world: FuzzWorld;
let nextId = 0;
/** Under FUZZ_ALL: one shortest example per tool and kind of problem. */
const distinct = new Map<string, { size: number; report: string }>();

/** A problem without its data (quoted strings, numbers), so that one kind of problem is listed once. */
function kindOf(tool: string, problem: string): string {
  return `${tool}: ${problem.replace(/"(?:[^"\\]|\\.)*"/g, "…").replace(/\d+/g, "N").split(/[{[]/)[0]?.slice(0, 100)}`;
}

/** Per tool: successes, argument errors, other errors; printed after the run to show how deep the cases got. */
const tally = new Map<string, [number, number, number]>();

function count(tool: string, kind: 0 | 1 | 2): void {
  const row = tally.get(tool) ?? [0, 0, 0];
  row[kind]++;
  tally.set(tool, row);
}

beforeAll(async () => {
  world = await startWorld();
}, 90_000);

afterAll(async () => {
  await world?.stop();
});

function show(requests: SeenRequest[]): string {
  return requests.map((r) => `${r.operation} ${JSON.stringify(r.path)}`).join(", ") || "(none)";
}

/** Makes one call and throws, with everything needed to reproduce it, when it breaks a property. */
async function checkCall(c: Case): Promise<void> {
  // What the server parses from the wire: the arguments after one JSON round trip.
  const sent = c.args === undefined ? undefined : JSON.parse(JSON.stringify(c.args));
  world.audit.take();
  world.takeSent();
  const { status, body } = await callTool(world.runtime, ++nextId, c.tool, c.args);
  const audited = world.audit.take();
  const fetched = world.takeSent();
  const problems: string[] = [];
  const scope = scopeOf(c.tool, sent);
  for (const req of audited) {
    const why = escape(scope, req);
    if (why) problems.push(`Vault's audit log: ${why}`);
  }
  for (const req of fetched) {
    const why = escape(scope, req);
    if (why) problems.push(`the server's fetch: ${why}`);
  }
  // Vault audits every request it routes, so one the server sent but Vault did not log would be one this fuzz cannot
  // judge. Vault refuses some paths (characters it deems unprintable) with 400 before routing and auditing them: those
  // reached nothing. LIST shows in the audit log with a trailing slash whether or not it was sent with one.
  const folder = (p: string) => p.replace(/\/$/, "");
  const unaudited = fetched
    .filter((r) => r.status !== 400 && !UNAUDITED.has(r.path) && !audited.some((a) => folder(a.path) === folder(r.path)))
    .map((r) => `${r.path} (${r.status ?? "no answer"})`);
  if (unaudited.length > 0) problems.push(`requests the server sent that Vault's audit log does not show: ${unaudited.join(", ")}`);
  const result = body?.result;
  let succeeded = false;
  if (status !== 200) problems.push(`HTTP ${status}`);
  if (body?.error) {
    // Malformed calls may be JSON-RPC errors, but only "invalid params" in one readable sentence.
    const { code, message } = body.error;
    if (code !== -32602 || typeof message !== "string" || message.includes("\n") || message.length > 400) problems.push(`a JSON-RPC error that is not one readable invalid-params sentence (${code})`);
  } else if (!result || !Array.isArray(result.content)) {
    problems.push("no tool result");
  } else {
    const text: string = result.content.find((b: { type: string }) => b.type === "text")?.text ?? "";
    if (JSON.stringify(body).includes(world.token)) problems.push("the answer contains the server's Vault token");
    if (result.isError) {
      count(c.tool, isArgumentError(text) ? 1 : 2);
      const why = badErrorText(text);
      if (why) problems.push(why);
      // A refused argument is refused before any request beyond the mount lookups.
      const sentOn = [...audited, ...fetched].filter((r) => !isLookup(r.path));
      if (isArgumentError(text) && sentOn.length > 0) problems.push(`an argument error after requests beyond the mount lookups: ${show(sentOn)}`);
    } else {
      succeeded = true;
      count(c.tool, 0);
      const def = defs.get(c.tool) as ToolDefinition;
      const args = sent && typeof sent === "object" && !Array.isArray(sent) ? sent : {};
      const why = await falseSuccess(world.vault, def, args, result.structuredContent);
      if (why) problems.push(`a success that is not true: ${why}`);
    }
  }
  try {
    if (problems.length > 0) {
      const report =
        `${c.tool} broke the fuzz properties:\n- ${problems.join("\n- ")}\n` +
        `arguments: ${wire(c.args)}\nanswer: ${wire(body).slice(0, 2000)}\n` +
        `audited requests: ${show(audited)}\nsent requests: ${show(fetched)}`;
      if (!ALL) throw new Error(report);
      const size = wire(c.args).length;
      for (const problem of problems) {
        const kind = kindOf(c.tool, problem);
        const known = distinct.get(kind);
        if (!known || size < known.size) distinct.set(kind, { size, report });
      }
    }
  } finally {
    if (succeeded && DISTURBS_FIXTURES.has(c.tool)) await world.reseed();
    if (succeeded) await world.forgetCreated(c.tool, sent);
  }
}

/** JSON as sent on the wire, with everything outside printable ASCII escaped, so invisible characters show and a case can be pasted back. */
function wire(value: unknown): string {
  return (JSON.stringify(value) ?? "undefined").replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

describe("the fuzz's own instruments", () => {
  it("sees a request the server's token makes outside a tool's paths in Vault's audit log", async () => {
    world.audit.take();
    world.takeSent();
    await world.runtime.vault.read("sys/policies/acl/default");
    await world.runtime.vault.list("fz-kv1/app/");
    const scope = scopeOf("read_secret", { mount: "fz-kv2", path: "app/db" });
    // The token keeper's first lookup-self may come first; it is allowed everywhere.
    const audited = world.audit.take().filter((r) => r.path !== "auth/token/lookup-self");
    expect(audited.map((r) => r.path)).toEqual(["sys/policies/acl/default", "fz-kv1/app/"]);
    expect(audited.map((r) => escape(scope, r) !== undefined)).toEqual([true, true]);
    const sent = world.takeSent().filter((r) => r.path !== "auth/token/lookup-self");
    expect(sent.map((r) => r.path)).toEqual(["sys/policies/acl/default", "fz-kv1/app/"]);
  });

  it("does not count the harness's own root-token requests as the server's", async () => {
    world.audit.take();
    await world.reseed();
    expect(world.audit.take()).toEqual([]);
  });
});

describe("every tool under generated hostile arguments", () => {
  it(
    "touches only the paths its arguments name, and answers either an actionable error or a success Vault confirms",
    async () => {
      const started = performance.now();
      const details = await fc.check(
        fc.asyncProperty(anyCall([...defs.values()], world.fixtures), checkCall),
        { numRuns: RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}), plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)] },
      );
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const replay = `FUZZ_SEED=${details.seed}${details.counterexamplePath ? ` FUZZ_PATH=${details.counterexamplePath}` : ""} bun test test/fuzz/tools.test.ts`;
      const rows = [...tally].map(([tool, [ok, arg, other]]) => `${tool} ${ok}/${arg}/${other}`).join(", ");
      process.stderr.write(`[fuzz] ${details.numRuns} cases in ${seconds}s, seed ${details.seed}${details.interrupted ? " (stopped at the time budget)" : ""}\n`);
      process.stderr.write(`[fuzz] per tool, successes/argument errors/other errors: ${rows}\n`);
      if (distinct.size > 0) {
        throw new Error(`${distinct.size} distinct problem(s) in ${details.numRuns} cases (seed ${details.seed}):\n\n${[...distinct.values()].map((d) => d.report).join("\n\n")}`);
      }
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        throw new Error(`${fc.defaultReportMessage(details)}\n\n${cause}\n\nReplay: ${replay}`);
      }
    },
    TIMEOUT_MS,
  );
});
