// The policy layer as a catalogue: globs, tool and path rules, list visibility, the policy file and the limits, with no Vault.
import { describe, expect, it } from "bun:test";
import type { Caller } from "../../src/caller.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { compilePolicy, rulesIn } from "../../src/policy/file.ts";
import { compileGlob } from "../../src/policy/globs.ts";
import { environmentRules } from "../../src/policy/index.ts";
import { Limits, parseRateLimit } from "../../src/policy/limits.ts";
import { ENV_ORIGIN, OPEN_RULES, type Rules, targetRefusal, toolRefusal, visible, visibleAny } from "../../src/policy/policy.ts";
import { compileTargets } from "../../src/policy/targets.ts";
import { allTools } from "../../src/tools/index.ts";
import { Type } from "@sinclair/typebox";

const path = (g: string) => compileGlob(g, "test", true);
const rules = (env: Record<string, string>): Rules => environmentRules(loadConfig([], { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t", ...env }).policy);
const caller = (name: string, claims?: Record<string, unknown>): Caller => ({ name, auth: claims ? "oauth" : "bearer", claims });

describe("path globs", () => {
  it("matches a path under a folder rule, and the folder itself", () => {
    const g = path("secret/myapp/*");
    expect(g.matches("secret/myapp/db")).toBe(true);
    expect(g.matches("secret/myapp/deep/er/db")).toBe(true);
    expect(g.matches("secret/myapp")).toBe(true);
  });
  it("refuses a prefix look-alike", () => {
    const g = path("secret/myapp/*");
    expect(g.matches("secret/myapp-evil/db")).toBe(false);
    expect(g.matches("secret/myappx")).toBe(false);
    expect(g.matches("secretx/myapp/db")).toBe(false);
    expect(g.matches("other/secret/myapp/db")).toBe(false);
  });
  it("is literal about regex characters and case", () => {
    const g = path("secret/a.b/*");
    expect(g.matches("secret/aXb/c")).toBe(false);
    expect(g.matches("secret/a.b/c")).toBe(true);
    expect(path("Secret/*").matches("secret/x")).toBe(false);
  });
  it("matches exactly one segment with +", () => {
    const g = path("secret/+/db");
    expect(g.matches("secret/app/db")).toBe(true);
    expect(g.matches("secret/a/b/db")).toBe(false);
    expect(g.matches("secret//db")).toBe(false);
  });
  it("knows which folders can hold a match, for listings", () => {
    const g = path("secret/myapp/*");
    expect(g.reachesUnder("secret")).toBe(true);
    expect(g.reachesUnder("secret/myapp")).toBe(true);
    expect(g.reachesUnder("secret/myapp/x")).toBe(true);
    expect(g.reachesUnder("secret/other")).toBe(false);
    expect(g.reachesUnder("secretx")).toBe(false);
    expect(path("secret/web-*").reachesUnder("secret")).toBe(true);
    expect(path("secret/web-*").reachesUnder("secret/web-a/b")).toBe(true);
    expect(path("secret/web-*").reachesUnder("secret/api")).toBe(false);
    expect(path("+/myapp/*").reachesUnder("kv")).toBe(true);
    expect(path("pki").reachesUnder("pki")).toBe(true);
  });
  it("refuses rules that cannot mean a path", () => {
    expect(() => path("")).toThrow(/empty/);
    expect(() => path("/secret/*")).toThrow(/no leading|none at either end/);
    expect(() => path("secret//x")).toThrow(/single slashes/);
    expect(() => path("secret/\u0000")).toThrow(/control/);
  });
  it("matches tool names with * over the whole name", () => {
    const g = compileGlob("delete_*", "t", false);
    expect(g.matches("delete_mount")).toBe(true);
    expect(g.matches("undelete_mount")).toBe(false);
  });
});

describe("tool rules", () => {
  const write = { name: "write_secret", readOnly: false };
  const read = { name: "read_secret", readOnly: true };
  it("read-only refuses every tool that is not read-only, and names MCP_READ_ONLY", () => {
    const r = rules({ MCP_READ_ONLY: "true" });
    expect(toolRefusal(r, write)?.rule).toBe("MCP_READ_ONLY");
    expect(toolRefusal(r, read)).toBeUndefined();
  });
  it("the deny list wins over the allow list and names the rule", () => {
    const r = rules({ MCP_TOOLS_ALLOW: "*_secret", MCP_TOOLS_DENY: "write_*" });
    expect(toolRefusal(r, write)?.rule).toBe('MCP_TOOLS_DENY "write_*"');
    expect(toolRefusal(r, read)).toBeUndefined();
    expect(toolRefusal(r, { name: "delete_mount", readOnly: false })?.rule).toBe("MCP_TOOLS_ALLOW");
  });
  it("with nothing set refuses nothing", () => {
    expect(toolRefusal(OPEN_RULES, write)).toBeUndefined();
  });
});

describe("path rules", () => {
  const r = rules({ MCP_ALLOWED_PATHS: "secret/myapp/*,pki/*", MCP_DENIED_PATHS: "secret/myapp/prod/*" });
  it("allows what an allow rule covers", () => {
    expect(targetRefusal(r, { path: "secret/myapp/db", argument: "path" })).toBeUndefined();
    expect(targetRefusal(r, { path: "pki/web", argument: "role_name" })).toBeUndefined();
  });
  it("deny wins, and the refusal names the rule and the argument", () => {
    const refusal = targetRefusal(r, { path: "secret/myapp/prod/db", argument: "path" });
    expect(refusal?.rule).toBe('MCP_DENIED_PATHS "secret/myapp/prod/*"');
    expect(refusal?.message).toContain('argument "path"');
    expect(refusal?.message).toContain("Nothing was sent to Vault");
  });
  it("refuses what no allow rule covers, listing the rules", () => {
    const refusal = targetRefusal(r, { path: "secret/other/db", argument: "path" });
    expect(refusal?.rule).toBe("MCP_ALLOWED_PATHS");
    expect(refusal?.message).toContain('"secret/myapp/*", "pki/*"');
  });
  it("a whole mount is not covered by a rule for paths inside it", () => {
    expect(targetRefusal(r, { path: "secret", argument: "path" })?.rule).toBe("MCP_ALLOWED_PATHS");
  });
  it("a listing of a folder that holds allowed paths is allowed", () => {
    expect(targetRefusal(r, { path: "secret", argument: "path", listing: true })).toBeUndefined();
    expect(targetRefusal(r, { path: "secret/other", argument: "path", listing: true })?.rule).toBe("MCP_ALLOWED_PATHS");
    expect(targetRefusal(r, { path: "secret/myapp/prod", argument: "path", listing: true })?.rule).toContain("MCP_DENIED_PATHS");
  });
  it("list entries are shown only when they may be touched", () => {
    expect(visible(r, "secret/myapp", true)).toBe(true);
    expect(visible(r, "secret/other", true)).toBe(false);
    expect(visible(r, "secret/myapp/prod", true)).toBe(false);
    expect(visibleAny(r, [{ path: "pki/id-1", folder: false }, { path: "pki/root", folder: false }])).toBe(true);
    const deny = rules({ MCP_DENIED_PATHS: "pki/root" });
    expect(visibleAny(deny, [{ path: "pki/id-1", folder: false }, { path: "pki/root", folder: false }])).toBe(false);
  });
  it("bad rules stop the start with the setting named", () => {
    expect(() => rules({ MCP_ALLOWED_PATHS: "/secret" })).toThrow(/MCP_ALLOWED_PATHS/);
    expect(() => rules({ MCP_RATE_LIMIT: "lots" })).toThrow(/MCP_RATE_LIMIT/);
  });
});

describe("target declarations", () => {
  it("every registered tool declares each argument that could name a Vault object", () => {
    for (const tool of allTools) expect(() => compileTargets(tool.name, tool.input)).not.toThrow();
  });
  it("refuses, at registration, a name-like argument with no declaration", () => {
    expect(() => compileTargets("t", Type.Object({ mount: Type.String() }))).toThrow(/declare it/);
    expect(() => compileTargets("t", Type.Object({ mount: Type.String({ vault: "mount" }), nested: Type.Object({ role_name: Type.String() }) }))).toThrow(/nested.role_name/);
    expect(() => compileTargets("t", Type.Object({ path: Type.String({ vault: "path" }) }))).toThrow(/mount argument/);
  });
  it("normalises as the tools do and joins names to their own mount", () => {
    const tool = (n: string) => allTools.find((t) => t.name === n)!;
    const targets = (n: string, args: Record<string, unknown>) => compileTargets(n, tool(n).input).resolve(args);
    expect(targets("read_secret", { mount: "/secret/", path: "/myapp/db/" })).toEqual([{ path: "secret/myapp/db", argument: "path" }]);
    expect(targets("delete_mount", { path: "team/kv/" })).toEqual([{ path: "team/kv", argument: "path" }]);
    expect(targets("create_pki_issuer", { mount: "pki_int", type: "intermediate", parent_mount: "pki", parent_issuer: "root" })).toEqual([
      { path: "pki/root", argument: "parent_issuer" },
      { path: "pki_int", argument: "mount" },
    ]);
    expect(targets("issue_pki_certificate", { mount: "pki", role_name: "web", common_name: "a", store_at: { mount: "secret", path: "certs/a" } })).toEqual([
      { path: "pki/web", argument: "role_name" },
      { path: "secret/certs/a", argument: "store_at.path" },
    ]);
    expect(targets("list_secrets", { mount: "secret", path: "" })).toEqual([{ path: "secret", argument: "path", listing: true }]);
    expect(() => targets("read_secret", { mount: "secret", path: "a/../../sys" })).toThrow(/relative/);
  });
});

describe("the policy file", () => {
  const base = rules({ MCP_DENIED_PATHS: "secret/prod/*" });
  const file = compilePolicy(
    `
groups_claim: roles
callers:
  alice:
    allowed_paths: [secret/alice/*]
  ci:
    read_only: true
    rate_limit: 2/s,burst=3
    max_concurrent_calls: 1
groups:
  admins:
    denied_paths: []
  readers:
    tools_allow: "read_*, list_*"
`,
    base,
  );
  it("gives a named caller its entry, inheriting what the entry does not set", () => {
    const r = rulesIn(file, base, caller("alice"));
    expect(targetRefusal(r, { path: "secret/prod/x", argument: "path" })?.rule).toBe('MCP_DENIED_PATHS "secret/prod/*"');
    expect(targetRefusal(r, { path: "secret/bob/x", argument: "path" })?.rule).toBe('policy file callers."alice".allowed_paths');
  });
  it("matches a group from the configured claim, first in file order", () => {
    expect(rulesIn(file, base, caller("sub-1", { roles: ["readers", "admins"] })).pathsDeny).toEqual([]);
    expect(rulesIn(file, base, caller("sub-2", { roles: "readers" })).toolsAllow?.map((g) => g.source)).toEqual(["read_*", "list_*"]);
  });
  it("gives everyone else, and stdio, the environment's rules", () => {
    expect(rulesIn(file, base, caller("mallory"))).toBe(base);
    expect(rulesIn(file, base, undefined)).toBe(base);
  });
  it("a file cannot lift MCP_READ_ONLY", () => {
    const ro = rules({ MCP_READ_ONLY: "true" });
    const f = compilePolicy("callers:\n  alice:\n    read_only: false\n", ro);
    expect(rulesIn(f, ro, caller("alice")).readOnly).toBe(true);
  });
  it("refuses what it does not understand, with the place", () => {
    expect(() => compilePolicy("callers: [", base)).toThrow(/not valid YAML/);
    expect(() => compilePolicy("caller:\n  a: {}\n", base)).toThrow(/unknown key "caller"/);
    expect(() => compilePolicy("callers:\n  a:\n    allow_paths: [x]\n", base)).toThrow(/callers."a": unknown rule "allow_paths"/);
    expect(() => compilePolicy("callers:\n  a:\n    read_only: yes-please\n", base)).toThrow(/read_only must be true or false/);
    expect(() => compilePolicy("callers:\n  a: {}\n  a: {}\n", base)).toThrow();
  });
});

describe("limits", () => {
  it("parses rates per second, minute and hour with a burst", () => {
    expect(parseRateLimit("20/s,burst=40", "x")).toMatchObject({ rate: 20, burst: 40 });
    expect(parseRateLimit("60/m", "x")).toMatchObject({ rate: 1, burst: 60 });
    expect(parseRateLimit("off", "x")).toBeUndefined();
    expect(() => parseRateLimit("0/s", "x")).toThrow();
  });
  const at = (rate?: string, perCaller?: number, total?: number) => {
    let t = 0;
    const r: Rules = { ...OPEN_RULES, origin: ENV_ORIGIN, rateLimit: rate ? parseRateLimit(rate, "MCP_RATE_LIMIT") : undefined, maxConcurrent: perCaller };
    const limits = new Limits({ rulesFor: () => r, limiting: true, maxConcurrent: total, now: () => t });
    return { limits, advance: (s: number) => (t += s) };
  };
  it("spends a burst, refuses with Retry-After, refills at the rate", () => {
    const { limits, advance } = at("2/s,burst=3");
    const a = caller("a");
    for (let i = 0; i < 3; i++) expect(limits.admit(a).ok).toBe(true);
    const refused = limits.admit(a);
    expect(refused).toMatchObject({ ok: false, retryAfter: 1, rule: "MCP_RATE_LIMIT" });
    advance(0.5);
    expect(limits.admit(a).ok).toBe(true);
    expect(limits.admit(caller("b")).ok).toBe(true);
  });
  it("caps calls running at once per caller and in total, until released", () => {
    const { limits } = at(undefined, 1, 2);
    const first = limits.admit(caller("a"));
    expect(limits.admit(caller("a"))).toMatchObject({ ok: false, rule: "MCP_MAX_CONCURRENT_CALLS_PER_CALLER" });
    const second = limits.admit(caller("b"));
    expect(limits.admit(caller("c"))).toMatchObject({ ok: false, rule: "MCP_MAX_CONCURRENT_CALLS" });
    if (first.ok) first.release();
    if (first.ok) first.release();
    expect(limits.inFlight).toBe(1);
    expect(limits.admit(caller("a")).ok).toBe(true);
    expect(second.ok).toBe(true);
  });
  it("keeps anonymous callers apart by address", () => {
    const { limits } = at("1/s,burst=1");
    expect(limits.admit({ name: "anonymous", auth: "none", address: "10.0.0.1" }).ok).toBe(true);
    expect(limits.admit({ name: "anonymous", auth: "none", address: "10.0.0.2" }).ok).toBe(true);
    expect(limits.admit({ name: "anonymous", auth: "none", address: "10.0.0.1" }).ok).toBe(false);
  });
});
