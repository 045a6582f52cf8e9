// How much a caller may ask at once: a token bucket per caller (MCP_RATE_LIMIT) and caps on calls running at once.
import type { Caller } from "../caller.ts";
import type { RateLimit, Rules } from "./policy.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** Parses "20/s", "20/s,burst=40", "600/m" or "off". Burst defaults to the count per unit (at least 1). */
export function parseRateLimit(text: string, what: string): RateLimit | undefined {
  const raw = text.trim().toLowerCase();
  if (raw === "" || raw === "off") return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)(?:\s*,\s*burst\s*=\s*(\d+))?$/.exec(raw);
  const count = m ? Number(m[1]) : NaN;
  if (!m || !(count > 0)) throw new Error(`${what} must be like "20/s,burst=40" (calls per s, m or h, and optionally how many at once), or "off"; got "${text}"`);
  const burst = m[3] !== undefined ? Number(m[3]) : Math.max(1, Math.ceil(count));
  if (burst < 1) throw new Error(`${what}: burst must be at least 1, got "${text}"`);
  return Object.freeze({ rate: count / UNITS[m[2]!]!, burst, source: text.trim() });
}

/** Admitted: call release() once the work is done (idempotent). */
export interface Permit {
  readonly ok: true;
  release(): void;
}

/** Refused: HTTP 429 with Retry-After `retryAfter` seconds; `rule` names the limit for the audit log. */
export interface Throttled {
  readonly ok: false;
  readonly retryAfter: number;
  readonly rule: string;
  readonly message: string;
}

interface Bucket {
  tokens: number;
  at: number;
  running: number;
  limit: RateLimit | undefined;
}

/** Whose bucket a call spends from: an authenticated caller by name; an anonymous one by address. */
export function limitKey(caller: Caller | undefined): string {
  if (!caller) return "local";
  return caller.auth === "none" ? `none:${caller.address ?? "local"}` : `${caller.auth}:${caller.name}`;
}

const RELEASED: Permit = { ok: true, release: () => {} };
const MAX_IDLE_BUCKETS = 10_000;

export interface LimitSettings {
  /** MCP_MAX_CONCURRENT_CALLS: the most calls running at once, all callers together. */
  readonly maxConcurrent?: number;
  /** The rules for a caller: its rate limit and its own concurrency cap. */
  rulesFor(caller: Caller | undefined): Rules;
  /** Whether any limit is set at all (false: admit() costs nothing). */
  readonly limiting: boolean;
  now?: () => number;
}

/** Admits or refuses work for a caller; never waits. */
export class Limits {
  private readonly buckets = new Map<string, Bucket>();
  private running = 0;
  private readonly now: () => number;

  constructor(private readonly settings: LimitSettings) {
    this.now = settings.now ?? (() => performance.now() / 1000);
  }

  get limiting(): boolean {
    return this.settings.limiting;
  }

  /** Takes `count` calls' worth (a batch counts each call) for `caller`, or says why not and when to retry. */
  admit(caller: Caller | undefined, count = 1): Permit | Throttled {
    if (!this.settings.limiting || count < 1) return RELEASED;
    const rules = this.settings.rulesFor(caller);
    const total = this.settings.maxConcurrent;
    if (total !== undefined && this.running + count > total) {
      return {
        ok: false,
        retryAfter: 1,
        rule: "MCP_MAX_CONCURRENT_CALLS",
        message: `Too many requests: the server is already running ${this.running} calls, its limit (MCP_MAX_CONCURRENT_CALLS=${total}). Retry after 1 second.`,
      };
    }
    const key = limitKey(caller);
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_IDLE_BUCKETS) this.sweep(now);
      b = { tokens: rules.rateLimit?.burst ?? 0, at: now, running: 0, limit: rules.rateLimit };
      this.buckets.set(key, b);
    }
    const mine = rules.maxConcurrent;
    if (mine !== undefined && b.running + count > mine) {
      return {
        ok: false,
        retryAfter: 1,
        rule: rules.origin.maxConcurrent,
        message: `Too many requests: you already have ${b.running} call(s) running, your limit (${rules.origin.maxConcurrent}=${mine}). Wait for them to finish; retry after 1 second.`,
      };
    }
    const limit = rules.rateLimit;
    if (limit) {
      // A changed policy (a reload) starts the caller's bucket afresh at its new burst.
      if (b.limit !== limit) Object.assign(b, { limit, tokens: limit.burst, at: now });
      b.tokens = Math.min(limit.burst, b.tokens + (now - b.at) * limit.rate);
      b.at = now;
      if (b.tokens < count) {
        const retryAfter = Math.max(1, Math.ceil((Math.min(count, limit.burst) - b.tokens) / limit.rate));
        return {
          ok: false,
          retryAfter,
          rule: rules.origin.rateLimit,
          message: `Too many requests: your rate limit is ${limit.source} (${rules.origin.rateLimit}). Retry after ${retryAfter} second${retryAfter === 1 ? "" : "s"}.`,
        };
      }
      b.tokens -= count;
    }
    b.running += count;
    this.running += count;
    let done = false;
    const bucket = b;
    return {
      ok: true,
      release: () => {
        if (done) return;
        done = true;
        bucket.running -= count;
        this.running -= count;
      },
    };
  }

  /** Calls running now, all callers together. */
  get inFlight(): number {
    return this.running;
  }

  /** Drops buckets with nothing running that have refilled: they hold nothing a new bucket would not. */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.running > 0) continue;
      const full = !b.limit || b.tokens + (now - b.at) * b.limit.rate >= b.limit.burst;
      if (full) this.buckets.delete(key);
    }
  }
}
