// The doctor's findings: one result per check, rendered as aligned text lines or as JSON, with every known secret removed.

/**
 * ok: passed. warn: passes, but something will bite (a root token, tools a policy refuses, an expiring certificate).
 * fail: the server cannot work as configured. skip: not checked, because a check it depends on failed.
 */
export type Status = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  /** Short and stable, e.g. "vault address"; the JSON key consumers match on. */
  name: string;
  status: Status;
  /** What was found, in one line. */
  summary: string;
  /** For warn and fail: what to do about it. */
  fix?: string;
  /** More lines shown under the check, e.g. the tools a policy refuses and the policy that would let them work. */
  details?: string[];
  /** Machine-readable facts for --json (TTLs, versions, the tools refused). */
  data?: Record<string, unknown>;
}

export interface Report {
  ok: boolean;
  checks: CheckResult[];
}

/** Warnings pass: the issue asks for exit 0 "when every check passes", and a warning is a pass with advice. */
export function exitCode(checks: readonly CheckResult[]): 0 | 1 {
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

const NAME_WIDTH = 15;

/** One line per check ("fail  token          ...  fix: ..."), then its detail lines indented under it. */
export function renderText(checks: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    const fix = c.fix && (c.status === "warn" || c.status === "fail") ? `  fix: ${c.fix}` : "";
    lines.push(`${c.status.padEnd(6)}${c.name.padEnd(NAME_WIDTH)}${c.summary}${fix}`);
    for (const d of c.details ?? []) lines.push(`      ${d}`);
  }
  const failed = checks.filter((c) => c.status === "fail").length;
  const warned = checks.filter((c) => c.status === "warn").length;
  lines.push(failed > 0 ? `${failed} check(s) failed, ${warned} warning(s)` : warned > 0 ? `all checks passed, ${warned} warning(s)` : "all checks passed");
  return `${lines.join("\n")}\n`;
}

export function renderJson(checks: readonly CheckResult[]): string {
  const report: Report = { ok: exitCode(checks) === 0, checks: [...checks] };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * Replaces every occurrence of each secret (the token, an AppRole secret id) with "[redacted]". The checks never put
 * one in a result; this is the second lock, applied to the finished text, for words quoted from Vault or a file. Strings
 * shorter than 8 characters (a dev Vault's "root") are left alone: removing them would garble ordinary words.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const s of [...secrets].filter((s) => s.length >= 8).sort((a, b) => b.length - a.length)) out = out.replaceAll(s, "[redacted]");
  return out;
}
