// The official MCP conformance suite against the compiled binary: stateless (the default) and stateful (--stateful).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run, type ServerProcess, startServer } from "./server-process.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
const SUITE = join(repoRoot, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
const BASELINE = join(import.meta.dir, "conformance-baseline.yml");
/** What this server (tools, resources and prompts declared) must pass, whatever the baseline says. */
const REQUIRED = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection", "resources-list", "prompts-list"];

interface BaselineEntry {
  scenario: string;
  reason: string;
}

/** The baseline's entries with the comment above each, so an entry without a reason fails the test. */
function readBaseline(): BaselineEntry[] {
  const entries: BaselineEntry[] = [];
  let reason = "";
  for (const line of readFileSync(BASELINE, "utf8").split("\n")) {
    const comment = /^\s+#\s*(.*)$/.exec(line);
    const entry = /^\s+-\s*([\w-]+)\s*$/.exec(line);
    if (comment) reason = comment[1]!;
    else if (entry) entries.push({ scenario: entry[1]!, reason });
    else reason = "";
  }
  return entries;
}

interface SuiteRun {
  code: number;
  output: string;
  /** Scenario -> its checks' statuses (SUCCESS, FAILURE, WARNING, INFO, SKIPPED). */
  results: Map<string, string[]>;
}

async function runSuite(url: string, baseline: string[]): Promise<SuiteRun> {
  const dir = mkdtempSync(join(tmpdir(), "conformance-"));
  try {
    const baselineFile = join(dir, "baseline.yml");
    writeFileSync(baselineFile, `server:\n${baseline.map((s) => `  - ${s}\n`).join("")}`);
    const out = join(dir, "results");
    // Under Bun: the suite wants Node 22 APIs, and Bun is what every machine running these tests has.
    const { code, stdout, stderr } = await run([process.execPath, SUITE, "server", "--url", url, "--expected-failures", baselineFile, "-o", out], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    const results = new Map<string, string[]>();
    for (const name of readdirSync(out)) {
      // Result folders are named server-<scenario>-<ISO timestamp>.
      const scenario = name.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, "");
      const checks = JSON.parse(readFileSync(join(out, name, "checks.json"), "utf8")) as { status: string }[];
      results.set(scenario, checks.map((c) => c.status));
    }
    return { code, output: `${stdout}\n${stderr}`, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Scenarios the suite counts as failed: any failing or warning check. */
function failing(run: SuiteRun): string[] {
  return [...run.results].filter(([, statuses]) => statuses.some((s) => s === "FAILURE" || s === "WARNING")).map(([s]) => s).sort();
}

const baseline = readBaseline();
const statelessBaseline = baseline.map((e) => e.scenario);
const statefulBaseline = baseline.filter((e) => !e.reason.startsWith("stateless only")).map((e) => e.scenario);

describe("the conformance baseline", () => {
  it("gives a reason for every scenario it lists, and lists each once", () => {
    expect(baseline.length).toBeGreaterThan(0);
    for (const entry of baseline) expect(entry.reason, entry.scenario).not.toBe("");
    expect(new Set(statelessBaseline).size).toBe(statelessBaseline.length);
  });

  it("never excuses a scenario every tools server must pass", () => {
    for (const scenario of REQUIRED) expect(statelessBaseline).not.toContain(scenario);
  });
});

for (const mode of ["stateless", "stateful"] as const) {
  describe(`conformance suite against the ${mode} server`, () => {
    let server: ServerProcess;
    let suite: SuiteRun;
    const expected = mode === "stateless" ? statelessBaseline : statefulBaseline;

    beforeAll(async () => {
      server = await startServer(mode === "stateful" ? ["--stateful"] : []);
      suite = await runSuite(server.url, expected);
    }, 180_000);

    afterAll(async () => {
      await server?.stop();
    });

    it("passes every scenario a tools server must pass", () => {
      for (const scenario of REQUIRED) {
        const statuses = suite.results.get(scenario);
        expect(statuses, `${scenario} did not run`).toBeDefined();
        expect(statuses, scenario).toContain("SUCCESS");
        expect(statuses!.filter((s) => s === "FAILURE" || s === "WARNING"), scenario).toEqual([]);
      }
    });

    it("fails exactly the baselined scenarios: no new failure, no stale entry", () => {
      expect(failing(suite)).toEqual([...expected].sort());
      // The suite's own verdict on the same baseline agrees.
      if (suite.code !== 0) throw new Error(`the conformance suite exited ${suite.code}:\n${suite.output.slice(-4000)}`);
    });

    if (mode === "stateful") {
      it("passes server-sse-multiple-streams with sessions", () => {
        expect(suite.results.get("server-sse-multiple-streams")).toContain("SUCCESS");
      });
    }

    it("logs no error or warning while the suite probes it", () => {
      expect(server.logLines("warn")).toEqual([]);
    });
  });
}
