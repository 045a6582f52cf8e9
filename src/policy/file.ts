// MCP_POLICY_FILE: rules per caller (bearer name, JWT sub, or a groups claim) in YAML, re-read when the file changes.
import { readFileSync, type Stats, statSync } from "node:fs";
import { parse } from "yaml";
import type { Caller } from "../caller.ts";
import type { Logger } from "../log.ts";
import { compileGlobs } from "./globs.ts";
import { parseRateLimit } from "./limits.ts";
import { type RuleOrigin, type Rules, type RuleSource } from "./policy.ts";

/** The keys an entry may set, and the Rules field each one sets. */
const ENTRY_KEYS = {
  read_only: "readOnly",
  tools_allow: "toolsAllow",
  tools_deny: "toolsDeny",
  allowed_paths: "pathsAllow",
  denied_paths: "pathsDeny",
  rate_limit: "rateLimit",
  max_concurrent_calls: "maxConcurrent",
} as const;
const TOP_KEYS = new Set(["callers", "groups", "groups_claim"]);

/** The file, compiled: rules by caller name, rules by group in file order, and the claim that holds groups. */
export interface CompiledPolicy {
  readonly callers: ReadonlyMap<string, Rules>;
  readonly groups: readonly (readonly [string, Rules])[];
  readonly groupsClaim: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function strings(value: unknown, where: string): string[] {
  if (typeof value === "string") return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw new Error(`${where} must be a list of strings (or one comma-separated string)`);
}

/** One entry over the environment's rules: what it sets replaces the environment's; what it leaves is inherited. */
function entryRules(base: Rules, entry: unknown, where: string): Rules {
  if (entry === null || entry === undefined) entry = {};
  if (!isRecord(entry)) throw new Error(`${where} must be a mapping of rules (read_only, tools_allow, tools_deny, allowed_paths, denied_paths, rate_limit, max_concurrent_calls)`);
  const out: Record<string, unknown> = { ...base };
  const origin: Record<string, string> = { ...base.origin };
  for (const [key, value] of Object.entries(entry)) {
    const field = ENTRY_KEYS[key as keyof typeof ENTRY_KEYS];
    if (!field) throw new Error(`${where}: unknown rule "${key}"; the rules are ${Object.keys(ENTRY_KEYS).join(", ")}`);
    const at = `${where}.${key}`;
    origin[field] = `policy file ${at}`;
    switch (field) {
      case "readOnly":
        if (typeof value !== "boolean") throw new Error(`${at} must be true or false`);
        // MCP_READ_ONLY is for the whole server: a file can make a caller read-only, never lift it.
        out.readOnly = base.readOnly || value;
        if (base.readOnly) origin.readOnly = base.origin.readOnly;
        break;
      case "toolsAllow":
      case "pathsAllow":
        out[field] = compileGlobs(strings(value, at), at, field === "pathsAllow");
        break;
      case "toolsDeny":
      case "pathsDeny":
        out[field] = compileGlobs(strings(value, at), at, field === "pathsDeny");
        break;
      case "rateLimit":
        if (typeof value !== "string") throw new Error(`${at} must be a string such as "20/s,burst=40"`);
        out.rateLimit = parseRateLimit(value, at);
        break;
      case "maxConcurrent":
        if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Error(`${at} must be a whole number of at least 1`);
        out.maxConcurrent = value;
        break;
    }
  }
  out.origin = Object.freeze(origin as unknown as RuleOrigin);
  return Object.freeze(out) as unknown as Rules;
}

/** Parses and compiles a policy file's text over the environment's rules. Throws with the place that is wrong. */
export function compilePolicy(text: string, base: Rules, file = "MCP_POLICY_FILE"): CompiledPolicy {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new Error(`${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isRecord(doc)) throw new Error(`${file} must be a mapping with "callers" and/or "groups"`);
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) throw new Error(`${file}: unknown key "${key}"; it may hold callers, groups and groups_claim`);
  const groupsClaim = doc.groups_claim ?? "groups";
  if (typeof groupsClaim !== "string" || groupsClaim === "") throw new Error(`${file}: groups_claim must be the name of a JWT claim, e.g. "groups"`);
  const section = (name: "callers" | "groups") => {
    const s = doc[name] ?? {};
    if (!isRecord(s)) throw new Error(`${file}: ${name} must be a mapping from ${name === "callers" ? "caller name" : "group"} to rules`);
    return Object.entries(s).map(([k, v]) => [k, entryRules(base, v, `${name}."${k}"`)] as const);
  };
  return { callers: new Map(section("callers")), groups: section("groups"), groupsClaim };
}

/** The groups a caller's verified claims name under `claim` (a list of strings, or one string). */
function groupsOf(caller: Caller, claim: string): readonly string[] {
  const value = caller.claims?.[claim];
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The rules for a caller under a compiled file: by name first, then the first group in file order, else the environment's. */
export function rulesIn(policy: CompiledPolicy, base: Rules, caller: Caller | undefined): Rules {
  if (!caller) return base;
  const named = policy.callers.get(caller.name);
  if (named) return named;
  if (policy.groups.length > 0 && caller.claims) {
    const mine = groupsOf(caller, policy.groupsClaim);
    for (const [group, rules] of policy.groups) if (mine.includes(group)) return rules;
  }
  return base;
}

function stampOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * The policy file as a RuleSource: read and compiled at start-up (a file that cannot be read or compiled throws, so
 * the server does not start), stat-ed on each use and re-read when it changed; a change that does not compile keeps
 * the last good policy and is logged once.
 */
export class PolicyFile implements RuleSource {
  private policy: CompiledPolicy;
  private stamp = "";
  private badStamp = "";
  /** True: a file is in force, and it may restrict some caller even where the environment sets nothing. */
  readonly restricting = true;

  constructor(
    readonly path: string,
    private readonly base: Rules,
    private readonly log: Logger,
  ) {
    const loaded = this.load();
    if (loaded instanceof Error) throw loaded;
    this.policy = loaded.policy;
    this.stamp = loaded.stamp;
  }

  private load(): { policy: CompiledPolicy; stamp: string } | Error {
    try {
      const stamp = stampOf(statSync(this.path));
      const text = readFileSync(this.path, "utf8");
      return { policy: compilePolicy(text, this.base, `MCP_POLICY_FILE ${this.path}`), stamp };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return new Error(code ? `MCP_POLICY_FILE: cannot read ${this.path} (${code})` : (err as Error).message);
    }
  }

  /** Re-reads the file when it is not the one last read; a missing file (mid-swap) or a bad one keeps the last good policy. */
  private refresh(): void {
    let stamp: string;
    try {
      stamp = stampOf(statSync(this.path));
    } catch {
      return;
    }
    if (stamp === this.stamp || stamp === this.badStamp) return;
    const loaded = this.load();
    if (loaded instanceof Error) {
      this.badStamp = stamp;
      this.log.warn("MCP_POLICY_FILE changed but cannot be used; the last good policy stays in force", { file: this.path, reason: loaded.message });
      return;
    }
    this.policy = loaded.policy;
    this.stamp = loaded.stamp;
    this.badStamp = "";
    this.log.info("MCP_POLICY_FILE re-read", { file: this.path, callers: this.policy.callers.size, groups: this.policy.groups.length });
  }

  rulesFor(caller: Caller | undefined): Rules {
    this.refresh();
    return rulesIn(this.policy, this.base, caller);
  }

  /** The compiled policy now in force (for tests and the doctor). */
  current(): CompiledPolicy {
    return this.policy;
  }
}
