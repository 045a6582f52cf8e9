// The policy layer's one entry point for the composition root: the settings in, the Policy and the Limits out.
import type { PolicySettings } from "../config.ts";
import type { Logger } from "../log.ts";
import { PolicyFile } from "./file.ts";
import { compileGlobs } from "./globs.ts";
import { Limits } from "./limits.ts";
import { parseRateLimit } from "./limits.ts";
import { ENV_ORIGIN, fixedRules, Policy, type Rules } from "./policy.ts";

export { Policy, type Refusal, type Request, type Target } from "./policy.ts";
export { Limits, type Permit, type Throttled } from "./limits.ts";

/** The environment's rules: for every caller the policy file does not name, and what its entries inherit. */
export function environmentRules(s: PolicySettings): Rules {
  return Object.freeze({
    origin: ENV_ORIGIN,
    readOnly: s.readOnly,
    toolsAllow: s.toolsAllow && compileGlobs(s.toolsAllow, "MCP_TOOLS_ALLOW", false),
    toolsDeny: compileGlobs(s.toolsDeny, "MCP_TOOLS_DENY", false),
    pathsAllow: s.pathsAllow && compileGlobs(s.pathsAllow, "MCP_ALLOWED_PATHS", true),
    pathsDeny: compileGlobs(s.pathsDeny, "MCP_DENIED_PATHS", true),
    rateLimit: s.rateLimit ? parseRateLimit(s.rateLimit, "MCP_RATE_LIMIT") : undefined,
    maxConcurrent: s.maxConcurrentPerCaller,
  });
}

/** Builds the policy and the limits. A policy file that cannot be read or does not compile throws: the server does not start. */
export function buildPolicy(s: PolicySettings, log: Logger, now?: () => number): { policy: Policy; limits: Limits } {
  const base = environmentRules(s);
  const source = s.file ? new PolicyFile(s.file, base, log) : fixedRules(base);
  const policy = new Policy(source);
  const limiting = s.file !== undefined || base.rateLimit !== undefined || base.maxConcurrent !== undefined || s.maxConcurrent !== undefined;
  const limits = new Limits({ maxConcurrent: s.maxConcurrent, rulesFor: (c) => source.rulesFor(c), limiting, now });
  return { policy, limits };
}
