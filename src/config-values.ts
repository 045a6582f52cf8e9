// The small readers config is built from: true/false, whole numbers, durations, comma lists, and the one error type.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function bool(name: string, value: string | undefined): boolean {
  if (value === undefined || value === "") return false;
  if (/^(1|t|true|yes|on)$/i.test(value)) return true;
  if (/^(0|f|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

export function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Vault's duration forms: "30s", "1m", "1500ms", or a bare number of seconds. */
export function durationMs(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === "") return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`${name} must be a duration such as "30s" or "1m", got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}

export const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
