// The audit log (MCP_AUDIT_LOG): one JSON line per tools/call (and resources/read, prompts/get) saying who did what,
// to what, how it ended and under which Vault request ids. Names, never values: no token, secret or key is ever written.
import { closeSync, openSync, write, writeSync } from "node:fs";
import type { Caller } from "./caller.ts";
import type { Logger } from "./log.ts";
import { writeStderrLine } from "./stderr.ts";
import { safePath } from "./vault/paths.ts";

/** stderr (the default), a file appended to and reopened on SIGHUP, or off. */
export type AuditTarget = { readonly to: "stderr" } | { readonly to: "file"; readonly file: string } | { readonly to: "off" };

/**
 * How a call ended: "ok", a tool failure class (src/tools/errors.ts CallOutcome: tool_error, denied, vault_error, ...),
 * "refused" (with `rule`: a scope, the identity, or a policy rule), "rate_limited", or "invalid" (malformed or unknown tool).
 */
export type AuditOutcome = string;

/** One audited request. Every field is a name, a number or an id; nothing here may hold a value a caller sent. */
export interface AuditEntry {
  /** What was asked: tools/call, resources/read or prompts/get. */
  method: "tools/call" | "resources/read" | "prompts/get";
  /** The JSON-RPC id. */
  id?: unknown;
  caller: Caller | undefined;
  /** MCP_VAULT_IDENTITY: whose Vault token the call used. */
  identity: string;
  /** The tool or prompt name, or the resource URI. */
  target?: string;
  mount?: string;
  path?: string;
  /** Argument names as sent; never their values. */
  args?: readonly string[];
  outcome: AuditOutcome;
  /** With outcome "refused": the rule that refused (e.g. "scope:vault:write", "identity", a policy rule's name). */
  rule?: string;
  durationMs: number;
  /** Vault's request_id of each answer, to join with Vault's own audit log. */
  vaultRequestIds?: readonly string[];
}

export interface AuditLog {
  readonly enabled: boolean;
  record(entry: AuditEntry): void;
  /** File mode: close and open the file again (logrotate moved it; sent SIGHUP). */
  reopen(): void;
  /** Writes what is buffered; call before exiting. */
  flush(): Promise<void>;
}

export const AUDIT_OFF: AuditLog = { enabled: false, record() {}, reopen() {}, async flush() {} };

const MAX_NAME = 256;
const MAX_ARGS = 32;

/** One line: {"time":..,"audit":"tools/call",...}. No "level" or "msg", so readers of the operational log skip it. */
export function auditLine(e: AuditEntry, now = new Date()): string {
  const c = e.caller;
  return `${JSON.stringify({
    time: now.toISOString(),
    audit: e.method,
    id: e.id ?? null,
    caller: c?.name ?? "stdio",
    auth: c?.auth ?? "stdio",
    address: c?.address,
    identity: e.identity,
    [e.method === "resources/read" ? "uri" : e.method === "prompts/get" ? "prompt" : "tool"]: clip(e.target),
    mount: e.mount,
    path: e.path,
    args: e.args && (e.args.length > MAX_ARGS ? [...e.args.slice(0, MAX_ARGS).map(clip), `(${e.args.length - MAX_ARGS} more)`] : e.args.map(clip)),
    outcome: e.outcome,
    rule: e.rule,
    duration_ms: Math.round(e.durationMs * 1000) / 1000,
    vault_request_ids: e.vaultRequestIds ?? [],
  })}\n`;
}

function clip(s: string | undefined): string | undefined {
  return s === undefined || s.length <= MAX_NAME ? s : `${s.slice(0, MAX_NAME)}...`;
}

/** The audit log for `target`. A file that cannot be opened is a start-up error (thrown here). */
export function createAuditLog(target: AuditTarget, log: Logger, writeStderr: (line: string) => void = writeStderrLine): AuditLog {
  if (target.to === "off") return AUDIT_OFF;
  if (target.to === "stderr") return { enabled: true, record: (e) => writeStderr(auditLine(e)), reopen() {}, async flush() {} };
  return new FileAudit(target.file, log);
}

/** Appends lines to a file without synchronous IO per call: lines are queued and written by one async write at a time. */
class FileAudit implements AuditLog {
  readonly enabled = true;
  private fd: number;
  private queue: string[] = [];
  private writing = false;
  private idle: (() => void)[] = [];
  private failedAt = 0;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {
    this.fd = FileAudit.open(file);
    // Whatever is still queued when the process exits is written then, synchronously (once, not per call).
    process.once("exit", () => this.flushSync());
  }

  private static open(file: string): number {
    return openSync(file, "a", 0o600);
  }

  record(entry: AuditEntry): void {
    this.queue.push(auditLine(entry));
    if (!this.writing) this.drain();
  }

  private drain(): void {
    if (this.queue.length === 0) {
      this.writing = false;
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.writing = true;
    const chunk = Buffer.from(this.queue.join(""));
    this.queue = [];
    const fd = this.fd;
    write(fd, chunk, 0, chunk.length, null, (err, written) => {
      if (fd !== this.fd) {
        try {
          closeSync(fd);
        } catch {
          // Already closed: nothing lost.
        }
      }
      if (err) this.failed(err);
      else if (written < chunk.length) this.queue.unshift(chunk.subarray(written).toString());
      this.drain();
    });
  }

  private failed(err: Error): void {
    // One warning a minute at most: a full disk must not also flood the operational log.
    if (Date.now() - this.failedAt < 60_000) return;
    this.failedAt = Date.now();
    this.log.error("could not write the audit log; entries are being lost", { file: this.file, error: err.message });
  }

  reopen(): void {
    let next: number;
    try {
      next = FileAudit.open(this.file);
    } catch (err) {
      this.log.error("could not reopen the audit log; still writing to the file that was open", { file: this.file, error: (err as Error).message });
      return;
    }
    const old = this.fd;
    this.fd = next;
    // A write in flight on the old file closes it when it is done; new lines go to the new file.
    if (!this.writing) closeSync(old);
    this.log.info("reopened the audit log", { file: this.file });
  }

  flush(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private flushSync(): void {
    if (this.queue.length === 0) return;
    try {
      writeSync(this.fd, this.queue.join(""));
      this.queue = [];
    } catch {
      // Exiting: nowhere left to say so.
    }
  }
}

/** A mount or path as the tools normalise it (src/vault/paths.ts); undefined when it is not one a tool would accept. */
function normalised(value: unknown, argument: string): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return safePath(value, argument, { allowEmpty: true }).display;
  } catch {
    return undefined;
  }
}

/**
 * What a tools/call touches, from its raw arguments and its input schema's defaults: `mount` (the mount argument, or
 * a mount tool's path), `path` (a secret path), and the argument names sent.
 */
export function callTarget(args: unknown, schema: { properties?: Record<string, { default?: unknown }> } | undefined): { mount?: string; path?: string; args: string[] } {
  const given = args !== null && typeof args === "object" && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  const names = Object.keys(given);
  const props = schema?.properties ?? {};
  const pick = (name: string) => (Object.hasOwn(given, name) ? given[name] : props[name]?.default);
  if (props.mount) return { mount: normalised(pick("mount"), "mount"), path: props.path ? normalised(pick("path"), "path") : undefined, args: names };
  // create_mount, delete_mount, enable_pki: their path is the mount.
  if (props.path) return { mount: normalised(pick("path"), "path"), args: names };
  return { args: names };
}
