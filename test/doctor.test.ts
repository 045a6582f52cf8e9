// `vault-mcp-server doctor` run for real, as its own process, against the dev Vault: healthy, a bogus token, a read-only
// policy, Vault stopped, TLS with and without its CA, and the MCP port free, taken, or held by our own server.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Subprocess } from "bun";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Report } from "../src/doctor/report.ts";
import { allTools } from "../src/tools/index.ts";
import { compiledBinary } from "./support/binary.ts";
import { unique, vaultApi } from "./support/mcp.ts";
import { type DevVault, startDevVault, testVault } from "./support/vault.ts";

const repoRoot = resolve(import.meta.dir, "..");
// A process per run on a shared 2-core machine.
const SLOW_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bun run src/main.ts doctor ...args` (or `binary doctor ...args`) with exactly `env` (nothing inherited from the shell but PATH). */
async function doctor(env: Record<string, string>, args: string[] = [], binary?: string): Promise<Run> {
  const child = Bun.spawn([...(binary ? [binary] : [process.execPath, "run", "src/main.ts"]), "doctor", ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MCP_HOST: "127.0.0.1", MCP_TOOLSETS: "all", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

async function doctorJson(env: Record<string, string>): Promise<Report & { code: number; raw: string }> {
  const r = await doctor(env, ["--json"]);
  return { ...(JSON.parse(r.stdout) as Report), code: r.code, raw: r.stdout };
}

/** The line of one check, e.g. line(out, "token") -> "fail  token          Vault refused ...". */
function line(stdout: string, check: string): string {
  return stdout.split("\n").find((l) => l.slice(6).startsWith(`${check} `)) ?? `(no line for ${check})`;
}

function statuses(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => /^(ok|warn|fail|skip) /.test(l))
    .map((l) => `${l.slice(0, 6).trim()} ${l.slice(6, 21).trim()}`);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

async function policyToken(name: string, policy: string, more: string[] = []): Promise<string> {
  expect((await vaultApi("PUT", `sys/policies/acl/${name}`, { policy })).status).toBe(204);
  const res = await vaultApi("POST", "auth/token/create", { policies: [name, ...more], ttl: "720h" });
  expect(res.status).toBe(200);
  return res.json.auth.client_token as string;
}

const policyFile = (file: string) => readFileSync(join(repoRoot, "manifests", "vault", file), "utf8");
const writers = allTools.filter((t) => !t.annotations.readOnlyHint).map((t) => t.name);
const policies: string[] = [];

let base: Record<string, string>;
let mcpPolicyToken: string;
/** What mcp-server-policy is written for: every toolset but policy, whose writes (write_policy, delete_policy) it leaves out on purpose. */
const SERVER_POLICY_TOOLSETS = { MCP_TOOLSETS: "sys,kv,pki,transit,identity" };
let readOnlyToken: string;
let readOnlyPolicy: string;

beforeAll(async () => {
  base = { VAULT_ADDR: testVault().addr, MCP_PORT: String(await freePort()) };
  const id = unique("doctor");
  mcpPolicyToken = await policyToken(`${id}-mcp`, policyFile("mcp-server-policy.hcl"));
  readOnlyPolicy = `${id}-ro`;
  readOnlyToken = await policyToken(readOnlyPolicy, policyFile("read-only-policy.hcl"));
  policies.push(`${id}-mcp`, readOnlyPolicy);
});

afterAll(async () => {
  for (const p of policies) await vaultApi("DELETE", `sys/policies/acl/${p}`);
});

describe("doctor against a healthy Vault", () => {
  it(
    "checks only the tools the configuration serves (MCP_TOOLSETS / MCP_TOOLS)",
    async () => {
      const kv = allTools.filter((t) => t.toolset === "kv").length;
      const r = await doctor({ ...base, VAULT_TOKEN: mcpPolicyToken, MCP_TOOLSETS: "kv" });
      expect(line(r.stdout, "config")).toContain(`, ${kv} tools`);
      expect(line(r.stdout, "capabilities")).toContain(`all ${kv} tools have what they need`);
      const one = await doctor({ ...base, VAULT_TOKEN: mcpPolicyToken, MCP_TOOLSETS: "", MCP_TOOLS: "list_mounts" });
      expect(line(one.stdout, "capabilities")).toContain("all 1 tools have what they need");
    },
    SLOW_MS,
  );

  it(
    "passes every check with a token that has mcp-server-policy, exits 0, and never prints the token",
    async () => {
      const r = await doctor({ ...base, VAULT_TOKEN: mcpPolicyToken, ...SERVER_POLICY_TOOLSETS });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(statuses(r.stdout)).toEqual(["ok config", "ok vault address", "ok vault tls", "ok vault health", "ok token", "ok capabilities", "ok mcp listener"]);
      expect(line(r.stdout, "token")).toContain("policies default");
      expect(line(r.stdout, "capabilities")).toContain(`all ${allTools.filter((t) => t.toolset !== "policy").length} tools have what they need`);
      expect(r.stdout).not.toContain(mcpPolicyToken);
      expect(r.stdout.trimEnd().endsWith("all checks passed")).toBe(true);
    },
    SLOW_MS,
  );

  it(
    "says the same as JSON with --json",
    async () => {
      const j = await doctorJson({ ...base, VAULT_TOKEN: mcpPolicyToken, ...SERVER_POLICY_TOOLSETS });
      expect(j.code).toBe(0);
      expect(j.ok).toBe(true);
      expect(j.checks.map((c) => `${c.status} ${c.name}`)).toEqual([
        "ok config",
        "ok vault address",
        "ok vault tls",
        "ok vault health",
        "ok token",
        "ok capabilities",
        "ok mcp listener",
      ]);
      expect(j.checks.find((c) => c.name === "token")?.data?.renewable).toBe(true);
      expect(j.raw).not.toContain(mcpPolicyToken);
    },
    SLOW_MS,
  );

  it(
    "warns about a root token, and still exits 0",
    async () => {
      const r = await doctor({ ...base, VAULT_TOKEN: testVault().token });
      expect(r.code).toBe(0);
      expect(line(r.stdout, "token")).toMatch(/^warn .*root token.*fix: .*mcp-server-policy/);
      expect(r.stdout).not.toContain(testVault().token);
    },
    SLOW_MS,
  );
});

describe("doctor in the compiled binary", () => {
  it(
    "runs as the image runs it (/vault-mcp-server doctor), with the same answer",
    async () => {
      const r = await doctor({ ...base, VAULT_TOKEN: mcpPolicyToken, ...SERVER_POLICY_TOOLSETS }, [], await compiledBinary());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(statuses(r.stdout).every((s) => s.startsWith("ok "))).toBe(true);
    },
    120_000,
  );
});

describe("doctor with a bad token", () => {
  it(
    "fails naming VAULT_TOKEN, without printing it, and exits 1",
    async () => {
      const bogus = `hvs.bogus${crypto.randomUUID().replaceAll("-", "")}`;
      const r = await doctor({ ...base, VAULT_TOKEN: bogus });
      expect(r.code).toBe(1);
      expect(line(r.stdout, "token")).toMatch(/^fail  token +Vault refused the token in VAULT_TOKEN \(403 on auth\/token\/lookup-self.*invalid, expired or revoked.*fix: /);
      expect(line(r.stdout, "capabilities")).toMatch(/^skip /);
      expect(line(r.stdout, "mcp listener")).toMatch(/^ok /);
      const j = await doctorJson({ ...base, VAULT_TOKEN: bogus });
      expect(j.ok).toBe(false);
      for (const text of [r.stdout, r.stderr, j.raw]) {
        expect(text).not.toContain(bogus);
        expect(text).not.toContain(bogus.slice(4));
      }
    },
    SLOW_MS,
  );

  it(
    "fails naming the token file when it holds a bogus token",
    async () => {
      const bogus = `hvs.filebogus${crypto.randomUUID().replaceAll("-", "")}`;
      const file = join(tmpdir(), `${unique("doctor-token")}`);
      writeFileSync(file, `${bogus}\n`, { mode: 0o600 });
      try {
        const r = await doctor({ ...base, VAULT_TOKEN_FILE: file });
        expect(r.code).toBe(1);
        expect(line(r.stdout, "token")).toContain(`Vault refused the token in VAULT_TOKEN_FILE (${file})`);
        expect(r.stdout).not.toContain(bogus);
      } finally {
        rmSync(file, { force: true });
      }
    },
    SLOW_MS,
  );
});

describe("doctor with the read-only policy", () => {
  it(
    "warns that exactly the tools that change Vault will be refused, prints the missing policy lines, and exits 0",
    async () => {
      const r = await doctor({ ...base, VAULT_TOKEN: readOnlyToken });
      expect(r.code, r.stdout).toBe(0);
      expect(line(r.stdout, "capabilities")).toMatch(new RegExp(`^warn  capabilities +${writers.length} of ${allTools.length} tools will be refused by Vault, all of them tools that change Vault: `));
      expect(r.stdout).toContain('path "secret/data/*" { capabilities = ["create", "read", "update", "patch"] }');
      expect(r.stdout).toContain('path "pki/issue/*" { capabilities = ["read", "update", "list"] }');
      expect(r.stdout).toMatch(/write_secret +lacks patch, create, update on secret\/data\/\*/);
      expect(r.stdout).not.toContain(readOnlyToken);
      const j = await doctorJson({ ...base, VAULT_TOKEN: readOnlyToken });
      const tools = (j.checks.find((c) => c.name === "capabilities")?.data?.tools ?? []) as { tool: string; ok: boolean }[];
      expect(tools.filter((t) => !t.ok).map((t) => t.tool).sort()).toEqual([...writers].sort());
    },
    SLOW_MS,
  );

  it(
    "passes once the policy lines it printed are added to the token's policies",
    async () => {
      const r = await doctor({ ...base, VAULT_TOKEN: readOnlyToken });
      const printed = r.stdout
        .split("\n")
        .filter((l) => /^\s+path "/.test(l))
        .map((l) => l.trim())
        .join("\n");
      expect(printed).not.toBe("");
      const name = unique("doctor-fix");
      policies.push(name);
      const fixed = await policyToken(name, printed, [readOnlyPolicy]);
      const again = await doctor({ ...base, VAULT_TOKEN: fixed });
      expect(line(again.stdout, "capabilities"), again.stdout).toMatch(/^ok  /);
      expect(again.code).toBe(0);
    },
    SLOW_MS,
  );
});

describe("doctor with Vault stopped", () => {
  it(
    "fails on the address, naming it, skips what needs Vault, and exits 1",
    async () => {
      const addr = `http://127.0.0.1:${await freePort()}`;
      const r = await doctor({ ...base, VAULT_ADDR: addr, VAULT_TOKEN: `hvs.${crypto.randomUUID()}` });
      expect(r.code).toBe(1);
      expect(line(r.stdout, "vault address")).toMatch(new RegExp(`^fail .*${addr.replace("http://", "")}.*connection refused.*fix: start Vault`));
      expect(statuses(r.stdout)).toEqual(["ok config", "fail vault address", "skip vault tls", "skip vault health", "skip token", "skip capabilities", "ok mcp listener"]);
    },
    SLOW_MS,
  );
});

describe("doctor with a configuration that does not parse", () => {
  it(
    "fails the first check naming the variable, skips the rest, and exits 1 (not 2)",
    async () => {
      const r = await doctor({ ...base, VAULT_ADDR: "ftp://vault.example.com", VAULT_TOKEN: "x" });
      expect(r.code).toBe(1);
      expect(line(r.stdout, "config")).toMatch(/^fail  config +VAULT_ADDR must use http or https/);
      expect(statuses(r.stdout).slice(1).every((s) => s.startsWith("skip "))).toBe(true);
      const j = await doctorJson({ ...base, VAULT_TOKEN: "x", VAULT_CLIENT_TIMEOUT: "soon" });
      expect(j.checks[0]).toMatchObject({ name: "config", status: "fail" });
      expect(j.checks[0]?.summary).toContain("VAULT_CLIENT_TIMEOUT");
    },
    SLOW_MS,
  );
});

describe("doctor against a TLS dev Vault", () => {
  let tlsVault: DevVault;
  beforeAll(async () => {
    tlsVault = await startDevVault({ tls: true });
  }, SLOW_MS);
  afterAll(async () => {
    await tlsVault?.stop();
  });

  it(
    "checks the certificate against VAULT_CACERT and goes on to Vault",
    async () => {
      const r = await doctor({ ...base, VAULT_ADDR: tlsVault.addr, VAULT_TOKEN: tlsVault.token, VAULT_CACERT: tlsVault.caCertFile as string });
      expect(r.code, r.stdout).toBe(0);
      expect(line(r.stdout, "vault tls")).toMatch(/^ok  +vault tls +TLSv1\.[23], Vault's certificate \(.*\) for 127\.0\.0\.1, valid until \d{4}-\d\d-\d\d/);
      expect(line(r.stdout, "vault health")).toMatch(/^ok /);
      expect(r.stdout).not.toContain(tlsVault.token);
    },
    SLOW_MS,
  );

  it(
    "fails without its CA, saying to set VAULT_CACERT, and checks nothing that needs the connection",
    async () => {
      const r = await doctor({ ...base, VAULT_ADDR: tlsVault.addr, VAULT_TOKEN: tlsVault.token });
      expect(r.code).toBe(1);
      expect(line(r.stdout, "vault tls")).toMatch(/^fail .*not signed by a CA this host trusts.*fix: set VAULT_CACERT/);
      expect(statuses(r.stdout)).toEqual(["ok config", "ok vault address", "fail vault tls", "skip vault health", "skip token", "skip capabilities", "ok mcp listener"]);
    },
    SLOW_MS,
  );

  it(
    "fails when the certificate does not name VAULT_TLS_SERVER_NAME",
    async () => {
      const r = await doctor({
        ...base,
        VAULT_ADDR: tlsVault.addr,
        VAULT_TOKEN: tlsVault.token,
        VAULT_CACERT: tlsVault.caCertFile as string,
        VAULT_TLS_SERVER_NAME: "vault.example.com",
      });
      expect(r.code).toBe(1);
      expect(line(r.stdout, "vault tls")).toMatch(/^fail .*does not name vault\.example\.com.*fix: .*VAULT_TLS_SERVER_NAME/);
    },
    SLOW_MS,
  );
});

describe("doctor's MCP listener check", () => {
  it(
    "fails when another program holds the port, naming the address",
    async () => {
      const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not here", { status: 404 }) });
      try {
        const r = await doctor({ ...base, VAULT_TOKEN: mcpPolicyToken, MCP_PORT: String(other.port) });
        expect(r.code).toBe(1);
        expect(line(r.stdout, "mcp listener")).toMatch(new RegExp(`^fail .*127\\.0\\.0\\.1:${other.port} is taken by another program \\(GET /healthz answered 404.*fix: .*MCP_PORT`));
      } finally {
        other.stop(true);
      }
    },
    SLOW_MS,
  );

  it(
    "passes when the port is held by our own running server, as in the server's pod",
    async () => {
      const port = String(await freePort());
      const server: Subprocess<"ignore", "ignore", "ignore"> = Bun.spawn([process.execPath, "run", "src/main.ts"], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", VAULT_ADDR: testVault().addr, VAULT_TOKEN: mcpPolicyToken, MCP_HOST: "127.0.0.1", MCP_PORT: port },
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      try {
        const deadline = Date.now() + 20_000;
        while (!(await fetch(`http://127.0.0.1:${port}/healthz`, { proxy: false } as RequestInit).then((r) => r.ok, () => false))) {
          if (Date.now() > deadline || server.exitCode !== null) throw new Error("the server did not start");
          await Bun.sleep(50);
        }
        const r = await doctor({ ...base, VAULT_TOKEN: mcpPolicyToken, MCP_PORT: port });
        expect(line(r.stdout, "mcp listener")).toMatch(/^ok .*held by a running vault-mcp-server/);
        expect(r.code, r.stdout).toBe(0);
      } finally {
        server.kill("SIGTERM");
        await server.exited;
      }
    },
    SLOW_MS,
  );
});
