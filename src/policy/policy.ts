// What a caller may touch: read-only, tool and path rules (from the environment, per caller from a policy file) -> a decision.
import type { Caller } from "../caller.ts";
import { firstMatch, type Glob } from "./globs.ts";

/** A token bucket: `rate` calls a second on average, `burst` at once. */
export interface RateLimit {
  readonly rate: number;
  readonly burst: number;
  /** As written ("20/s,burst=40"), for messages. */
  readonly source: string;
}

/** One caller's rules, compiled. Every field has a value: a policy-file entry inherits what it does not set. */
export interface Rules {
  /** Where these rules come from, for refusals and the audit log: "MCP_*" settings or `policy file callers."name"`. */
  readonly origin: RuleOrigin;
  readonly readOnly: boolean;
  /** Undefined: every tool (that read-only and the deny list leave). */
  readonly toolsAllow?: readonly Glob[];
  readonly toolsDeny: readonly Glob[];
  /** Undefined: every path (that the deny list leaves). */
  readonly pathsAllow?: readonly Glob[];
  readonly pathsDeny: readonly Glob[];
  readonly rateLimit?: RateLimit;
  /** The most calls this caller may have running at once. */
  readonly maxConcurrent?: number;
}

/** Which setting each rule was read from: the environment's name, or where in the policy file. */
export interface RuleOrigin {
  readonly readOnly: string;
  readonly toolsAllow: string;
  readonly toolsDeny: string;
  readonly pathsAllow: string;
  readonly pathsDeny: string;
  readonly rateLimit: string;
  readonly maxConcurrent: string;
}

export const ENV_ORIGIN: RuleOrigin = {
  readOnly: "MCP_READ_ONLY",
  toolsAllow: "MCP_TOOLS_ALLOW",
  toolsDeny: "MCP_TOOLS_DENY",
  pathsAllow: "MCP_ALLOWED_PATHS",
  pathsDeny: "MCP_DENIED_PATHS",
  rateLimit: "MCP_RATE_LIMIT",
  maxConcurrent: "MCP_MAX_CONCURRENT_CALLS_PER_CALLER",
};

/** One thing a call names in Vault, as normalised "mount/path" (or a mount alone), and the argument that named it. */
export interface Target {
  readonly path: string;
  readonly argument: string;
  /** The call lists what is under `path` (list_secrets, list_pki_roles): allowed when something beneath it may be touched. */
  readonly listing?: boolean;
}

/** Why a call, read or prompt may not go ahead: which rule (for the audit log) and the words for the model. */
export interface Refusal {
  /** The rule that refused, e.g. `MCP_DENIED_PATHS "secret/prod/*"` or `MCP_READ_ONLY`. */
  readonly rule: string;
  readonly message: string;
}

/** What is asked: a tool (its name and whether it only reads) and/or the Vault objects it names. */
export interface Request {
  readonly tool?: { readonly name: string; readonly readOnly: boolean };
  readonly targets?: readonly Target[];
}

const MAX_LISTED = 6;

function quotedList(globs: readonly Glob[]): string {
  const shown = globs.slice(0, MAX_LISTED).map((g) => `"${g.source}"`);
  return shown.join(", ") + (globs.length > MAX_LISTED ? ` and ${globs.length - MAX_LISTED} more` : "");
}

/** Why this tool may not be called under `rules`, or undefined. Read-only first, then the deny list, then the allow list. */
export function toolRefusal(rules: Rules, tool: { readonly name: string; readonly readOnly: boolean }): Refusal | undefined {
  const o = rules.origin;
  if (rules.readOnly && !tool.readOnly) {
    return { rule: o.readOnly, message: `Refused: ${tool.name} changes Vault, and this server is read-only for you (${o.readOnly}). Nothing was sent to Vault; only reading tools are available.` };
  }
  const denied = firstMatch(rules.toolsDeny, tool.name);
  if (denied) {
    return { rule: `${o.toolsDeny} "${denied.source}"`, message: `Refused: ${tool.name} is denied by ${o.toolsDeny} rule "${denied.source}". Nothing was sent to Vault; tools/list shows the tools you may call.` };
  }
  if (rules.toolsAllow && !firstMatch(rules.toolsAllow, tool.name)) {
    return {
      rule: o.toolsAllow,
      message: `Refused: ${tool.name} is not in ${o.toolsAllow} (${quotedList(rules.toolsAllow)}). Nothing was sent to Vault; tools/list shows the tools you may call.`,
    };
  }
  return undefined;
}

/** Why `target` may not be touched under `rules`, or undefined. Deny wins over allow. */
export function targetRefusal(rules: Rules, target: Target): Refusal | undefined {
  const o = rules.origin;
  const what = target.listing ? `listing ${target.path}/` : target.path;
  const denied = firstMatch(rules.pathsDeny, target.path);
  if (denied) {
    return {
      rule: `${o.pathsDeny} "${denied.source}"`,
      message: `Refused: ${what} (argument "${target.argument}") is denied by ${o.pathsDeny} rule "${denied.source}". Nothing was sent to Vault; choose a path the rules allow.`,
    };
  }
  const allow = rules.pathsAllow;
  if (allow && !allow.some((g) => (target.listing ? g.reachesUnder(target.path) : g.matches(target.path)))) {
    return {
      rule: o.pathsAllow,
      message: `Refused: ${what} (argument "${target.argument}") is outside ${o.pathsAllow} (${quotedList(allow)}). Nothing was sent to Vault; choose a path the rules allow.`,
    };
  }
  return undefined;
}

/** The first refusal for a request under `rules`: the tool, then each target in order. */
export function refusal(rules: Rules, request: Request): Refusal | undefined {
  if (request.tool) {
    const r = toolRefusal(rules, request.tool);
    if (r) return r;
  }
  for (const t of request.targets ?? []) {
    const r = targetRefusal(rules, t);
    if (r) return r;
  }
  return undefined;
}

/**
 * Whether an entry of a list answer may be shown: `path` is "mount/path" as normalised; a `folder` (a mount, a KV
 * folder) is shown when something in it may be touched and it is not itself denied.
 */
export function visible(rules: Rules, path: string, folder: boolean): boolean {
  if (firstMatch(rules.pathsDeny, path)) return false;
  const allow = rules.pathsAllow;
  return !allow || allow.some((g) => (folder ? g.reachesUnder(path) : g.matches(path)));
}

/** Whether an entry known by several names (an issuer's id and name) may be shown: none denied, and one allowed. */
export function visibleAny(rules: Rules, names: readonly { path: string; folder: boolean }[]): boolean {
  if (names.length === 0) return false;
  for (const n of names) if (firstMatch(rules.pathsDeny, n.path)) return false;
  const allow = rules.pathsAllow;
  return !allow || names.some((n) => allow.some((g) => (n.folder ? g.reachesUnder(n.path) : g.matches(n.path))));
}

/** Whether the rules can refuse or hide anything at all (limits aside): without, the registry skips every check. */
export function restricts(rules: Rules): boolean {
  return rules.readOnly || rules.toolsAllow !== undefined || rules.toolsDeny.length > 0 || restrictsPaths(rules);
}

export function restrictsPaths(rules: Rules): boolean {
  return rules.pathsAllow !== undefined || rules.pathsDeny.length > 0;
}

/** Where the rules for callers come from: one set for everyone, or a policy file over them (src/policy/file.ts). */
export interface RuleSource {
  rulesFor(caller: Caller | undefined): Rules;
  /** Whether any caller's rules may restrict (false: no policy is configured, and nothing is checked). */
  readonly restricting: boolean;
}

/**
 * The policy every tools/call, resources/read and prompts/get consults. `check` is the whole decision; the registry
 * calls it before any Vault request, and so should anything else that reads Vault for a caller.
 */
export class Policy {
  constructor(readonly source: RuleSource) {}

  /** Whether anything may be refused or hidden; false when no rule is set, so callers skip the work. */
  get active(): boolean {
    return this.source.restricting;
  }

  rulesFor(caller: Caller | undefined): Rules {
    return this.source.rulesFor(caller);
  }

  /** Why `caller` may not make `request`, or undefined when it may. */
  check(caller: Caller | undefined, request: Request): Refusal | undefined {
    if (!this.source.restricting) return undefined;
    return refusal(this.source.rulesFor(caller), request);
  }
}

/** Rules that refuse nothing, named for the environment: the default when nothing is configured. */
export const OPEN_RULES: Rules = Object.freeze({ origin: ENV_ORIGIN, readOnly: false, toolsDeny: [], pathsDeny: [] });

/** One rule set for every caller. */
export function fixedRules(rules: Rules): RuleSource {
  const restricting = restricts(rules);
  return { rulesFor: () => rules, restricting };
}
