// Structured logs as JSON lines on stderr (stdout belongs to the stdio transport), with tokens scrubbed.
import { writeStderrLine } from "./stderr.ts";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Vault service, batch and recovery tokens, legacy "s." tokens and anything after a Bearer or X-Vault-Token label.
const TOKEN_PATTERNS: RegExp[] = [
  /\bhv[sbr]\.[A-Za-z0-9_-]{8,}/g,
  /\b[sbr]\.[A-Za-z0-9]{20,}/g,
  /(bearer\s+|x-vault-token["':=\s]+)[^\s"',}]+/gi,
];

/** Replaces anything shaped like a Vault token with "[redacted]". */
export function scrub(text: string): string {
  let out = text;
  for (const re of TOKEN_PATTERNS) out = out.replace(re, (m, label?: string) => (typeof label === "string" ? `${label}[redacted]` : "[redacted]"));
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: Level = "info", write: (line: string) => void = writeStderrLine): Logger {
  const min = ORDER[level];
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields });
    write(`${scrub(line)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
