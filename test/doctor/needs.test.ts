// The doctor's capability table: every registered tool is in it, and it agrees with the policies in manifests/vault.
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_MOUNTS, judge, type Layout, lacking, type Need, policyFor, probePaths, TOOL_NEEDS } from "../../src/doctor/needs.ts";
import { allTools } from "../../src/tools/index.ts";
import { loadConfig } from "../../src/config.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
const names = allTools.map((t) => t.name);
const writers = allTools.filter((t) => !t.annotations.readOnlyHint).map((t) => t.name);
/** Tools of Vault's own API (sys/, auth/token/, identity/), whose needs do not depend on the mounts. */
const VAULT_API_TOOLS = new Set(allTools.filter((t) => ["policy", "identity"].includes(t.toolset) || (t.toolset === "sys" && !["create_mount", "list_mounts", "delete_mount"].includes(t.name))).map((t) => t.name));
const v2: Layout = { kvMount: "secret", kvVersion: 2, pkiMount: "pki" };
const v1: Layout = { ...v2, kvVersion: 1 };

/** Vault's ACL as far as these policies use it: an exact path wins, else the longest glob prefix; deny beats all. */
function capabilitiesUnder(hcl: string): (path: string) => string[] {
  const rules = [...hcl.matchAll(/path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]/g)].map((m) => ({
    path: m[1] as string,
    caps: [...(m[2] as string).matchAll(/"([^"]+)"/g)].map((c) => c[1] as string),
  }));
  return (path) => {
    const exact = rules.find((r) => r.path === path);
    if (exact) return exact.caps;
    const globs = rules.filter((r) => r.path.endsWith("*") && path.startsWith(r.path.slice(0, -1))).sort((a, b) => b.path.length - a.path.length);
    return globs[0]?.caps ?? ["deny"];
  };
}

function refusedBy(policyFile: string, layout: Layout = v2, tools: readonly string[] = names): string[] {
  const caps = capabilitiesUnder(readFileSync(join(repoRoot, "manifests", "vault", policyFile), "utf8"));
  const granted = Object.fromEntries(probePaths(tools, layout).map((p) => [p, caps(p)]));
  return judge(tools, layout, granted, new Set())
    .filter((v) => v.missing.length > 0)
    .map((v) => v.tool);
}

describe("the capability table", () => {
  it("has an entry for every registered tool, with at least one need for KV v1 and v2 alike", () => {
    for (const name of names) {
      expect(TOOL_NEEDS[name], name).toBeDefined();
      expect(TOOL_NEEDS[name]?.(v2).length, `${name} (KV v2)`).toBeGreaterThan(0);
      expect(TOOL_NEEDS[name]?.(v1).length, `${name} (KV v1)`).toBeGreaterThan(0);
    }
  });

  it("has no entry for a tool that is not registered", () => {
    expect(Object.keys(TOOL_NEEDS).filter((n) => !names.includes(n))).toEqual([]);
  });

  it("probes the mounts the tools use by default, read from their schemas", () => {
    expect(DEFAULT_MOUNTS).toEqual({ kv: "secret", pki: "pki" });
  });

  it("asks about data/ and metadata/ paths on KV v2, and the secret's own path on KV v1", () => {
    const paths = (layout: Layout) => new Set(TOOL_NEEDS.read_secret?.(layout).map((n) => n.path));
    expect(paths(v2).has("secret/data/doctor-probe")).toBe(true);
    expect(paths(v1).has("secret/doctor-probe")).toBe(true);
    expect(TOOL_NEEDS.list_secrets?.(v2).map((n) => `${n.capability} ${n.path}`)).toContain("list secret/metadata/");
    expect(TOOL_NEEDS.list_secrets?.(v1).map((n) => `${n.capability} ${n.path}`)).toContain("list secret/");
  });

  it("never names a path outside the mounts it was given, sys/mounts and the token's own endpoints", () => {
    const other: Layout = { kvMount: "team-kv", kvVersion: 2, pkiMount: "team-pki", transitMount: "team-transit" };
    for (const path of probePaths(names.filter((n) => !VAULT_API_TOOLS.has(n)), other)) expect(path).toMatch(/^(team-kv\/|team-pki\/|team-transit\/|sys\/mounts(\/|$))/);
  });

  it("names only fixed paths of Vault's own API for the policy, identity and operations tools, whatever the mounts", () => {
    const own = [...VAULT_API_TOOLS];
    expect(own.length).toBeGreaterThan(0);
    expect(probePaths(own, { kvMount: "team-kv", kvVersion: 1, pkiMount: "team-pki" })).toEqual(probePaths(own, v2));
    for (const path of probePaths(own, v2)) expect(path).toMatch(/^(sys\/(policies\/acl|capabilities-self$|auth$|health$|audit$|leases\/|mounts)|auth\/token\/lookup-self$|identity\/entity\/id\/)/);
  });
});

describe("judging capabilities-self's answer", () => {
  const read: Need = { path: "secret/data/doctor-probe", capability: "read", policyPath: "secret/data/*", why: "read" };
  const detect: Need = { path: "sys/mounts", capability: "read", policyPath: "sys/mounts", why: "detect", detects: "secret" };

  it("counts root as every capability, and deny as none", () => {
    expect(lacking([read], { [read.path]: ["root"] })).toEqual([]);
    expect(lacking([read], { [read.path]: ["deny"] })).toEqual([read]);
    expect(lacking([read], {})).toEqual([read]);
  });

  it("needs sys/mounts only for a mount whose engine the token could not read directly", () => {
    expect(lacking([detect], {}, new Set(["secret"]))).toEqual([]);
    expect(lacking([detect], {}, new Set(["pki"]))).toEqual([detect]);
  });

  it("marks a tool the table does not know as unknown rather than passing it", () => {
    expect(judge(["no_such_tool"], v2, {}, new Set())).toEqual([{ tool: "no_such_tool", missing: [], unknown: true }]);
  });
});

describe("the policy lines it prints", () => {
  const n = (path: string, capability: Need["capability"], policyPath: string): Need => ({ path, capability, policyPath, why: "" });

  it("groups capabilities per policy path, in Vault's usual order", () => {
    const text = policyFor([n("secret/data/x", "patch", "secret/data/*"), n("secret/data/x", "create", "secret/data/*"), n("pki/issue/x", "update", "pki/issue/*")]);
    expect(text).toBe('path "secret/data/*" { capabilities = ["create", "patch"] }\npath "pki/issue/*" { capabilities = ["update"] }');
  });

  it("keeps what the token has on a path, since Vault applies only the most specific matching path", () => {
    const issue = n("pki/issue/x", "update", "pki/issue/*");
    const roles = n("pki/roles/x", "read", "pki/roles/*");
    const text = policyFor([issue], { "pki/issue/x": ["list", "read"], "pki/roles/x": ["read"] }, [issue, roles]);
    expect(text).toBe('path "pki/issue/*" { capabilities = ["read", "update", "list"] }');
  });

  it("leaves out a line that a glob line already grants", () => {
    const text = policyFor([n("sys/mounts/x", "update", "sys/mounts/*"), n("sys/mounts/pki", "update", "sys/mounts/pki")]);
    expect(text).toBe('path "sys/mounts/*" { capabilities = ["update"] }');
  });
});

describe("cross-checked with manifests/vault", () => {
  it("read-only-policy refuses exactly the tools that change Vault", () => {
    expect(refusedBy("read-only-policy.hcl").sort()).toEqual([...writers].sort());
  });

  it("mcp-server-policy lets every tool work but those that change policies, which it leaves out on purpose", () => {
    expect(refusedBy("mcp-server-policy.hcl").sort()).toEqual(["delete_policy", "write_policy"]);
  });

  it("mcp-server-policy grants every endpoint the default toolsets need, as docs/tools.md lists them (secret/ as KV v2)", () => {
    const served = loadConfig([], { VAULT_TOKEN: "t" }).tools.enabled;
    expect(served.length).toBeGreaterThan(0);
    expect(refusedBy("mcp-server-policy.hcl", v2, served)).toEqual([]);
  });
});
