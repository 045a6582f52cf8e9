// MCP_AUTH=bearer: static tokens from MCP_AUTH_TOKENS_FILE (lines "name:token"), re-read when the file changes, compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "../log.ts";
import { SecretFile } from "../vault/token-file.ts";

/** Shorter tokens are refused when the file is read: a guessable token is no authentication. */
export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9._@-]{1,128}$/;

interface Entry {
  name: string;
  digest: Buffer;
}

const digestOf = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/**
 * Parses the file's text. Blank lines and lines starting with "#" are skipped; a name may appear on several lines (an
 * old and a new token while rotating), a token only once. Throws with the line number and never with a token in it.
 */
export function parseTokens(text: string, setting = "MCP_AUTH_TOKENS_FILE"): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    const token = colon > 0 ? line.slice(colon + 1).trim() : "";
    if (!NAME.test(name)) throw new Error(`${setting}: line ${i + 1} must be "name:token", the name made of letters, digits, ".", "_", "@" or "-"`);
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new Error(`${setting}: line ${i + 1} (${name}): the token must be at least ${MIN_TOKEN_LENGTH} characters with no spaces (e.g. openssl rand -hex 32)`);
    }
    const digest = digestOf(token);
    const key = digest.toString("hex");
    if (seen.has(key)) throw new Error(`${setting}: line ${i + 1} (${name}): the same token appears twice; each caller needs a token of its own`);
    seen.add(key);
    entries.push({ name, digest });
  }
  if (entries.length === 0) throw new Error(`${setting}: no "name:token" line; with MCP_AUTH=bearer nobody could call`);
  return entries;
}

export interface BearerOptions {
  log: Logger;
  /** How often, at most, the file is checked for a change (ms). */
  recheckMs?: number;
  now?: () => number;
}

export class BearerTokens {
  private entries: Entry[];
  private readonly file: SecretFile;
  private checkedAt: number;
  private readonly recheckMs: number;
  private readonly now: () => number;

  /** Reads the file now: a missing, empty or malformed file is a start-up error. */
  constructor(
    readonly path: string,
    private readonly options: BearerOptions,
  ) {
    this.file = new SecretFile("MCP_AUTH_TOKENS_FILE", path);
    this.entries = parseTokens(this.file.read());
    this.recheckMs = options.recheckMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
    this.checkedAt = this.now();
  }

  /** The names in the file now, for logs and tests. */
  names(): string[] {
    return [...new Set(this.entries.map((e) => e.name))];
  }

  /**
   * The name whose token this is, or undefined. One SHA-256 of the presented token, then a constant-time comparison
   * with every entry's digest (equal lengths, no early exit), so timing tells nothing about any token.
   */
  match(token: string): string | undefined {
    this.reloadIfChanged();
    const digest = digestOf(token);
    let found: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(digest, e.digest) && found === undefined) found = e.name;
    return found;
  }

  private reloadIfChanged(): void {
    const now = this.now();
    if (now - this.checkedAt < this.recheckMs) return;
    this.checkedAt = now;
    if (!this.file.changed()) return;
    try {
      this.entries = parseTokens(this.file.read());
      this.options.log.info("re-read MCP_AUTH_TOKENS_FILE", { path: this.path, callers: this.names().length });
    } catch (err) {
      // A half-written or broken file keeps the last good tokens rather than locking every caller out.
      this.options.log.warn("MCP_AUTH_TOKENS_FILE changed but cannot be used; keeping the tokens read before", { reason: (err as Error).message });
    }
  }
}
