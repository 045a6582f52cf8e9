// Keeps a Vault token alive: renews it before it expires, logs in again when it cannot, and recovers from revocation.
import type { Logger } from "../log.ts";
import type { TokenSource } from "./client.ts";
import { VaultError } from "./errors.ts";
import {
  backoffMs,
  DEFAULT_TIMING,
  expiresAt,
  isCapped,
  isExpired,
  type Lease,
  leaseFromAuth,
  leaseFromLookup,
  type LeaseTiming,
  nextRefresh,
} from "./token-lease.ts";

/** Where tokens come from: a login (AppRole, Kubernetes, JWT), or a token we were handed (VAULT_TOKEN, a file). */
export interface Credential {
  /** Words for logs, such as "approle login at auth/approle"; never a secret. */
  readonly label: string;
  /** True when obtain() mints a new token; false when it can only hand back the configured one. */
  readonly canLogin: boolean;
  /** A login's lease, or the configured token with a lease still to be looked up. */
  obtain(): Promise<Lease>;
  /** A cheap check made on every request: has the configured token changed (a rotated file)? */
  changed?(): boolean;
}

/** The token endpoints the keeper calls with the token it keeps. */
export interface TokenApi {
  renewSelf(token: string): Promise<{ client_token?: string; lease_duration?: number; renewable?: boolean }>;
  lookupSelf(token: string): Promise<{ ttl?: number; renewable?: boolean }>;
}

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// setTimeout's longest delay; a longer lease is re-armed when the timer fires early.
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, Math.min(MAX_DELAY, Math.max(0, ms)));
    // A pending renewal must not keep a finished process (a test, stdio after EOF) alive.
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What the keeper did, for metrics: a login (or reading a handed-in token), a renewal, or a check of a refused token. */
export type TokenEvent = "login" | "renew" | "verify";

export class TokenKeeper implements TokenSource {
  /** Told of each login, renewal and check with whether it worked. */
  onEvent: ((event: TokenEvent, ok: boolean) => void) | undefined;
  private readonly timing: LeaseTiming;
  private lease: Lease | undefined;
  private pending: Promise<Lease> | undefined;
  private timer: unknown;
  private failures = 0;
  private blockedUntil = -Infinity;
  private lastError: unknown;
  private lastVerify = -Infinity;
  /** The token lookup-self last answered 403 for: Vault itself no longer accepts it. */
  private deadToken: string | undefined;
  /** A check of a refused token postponed to the end of the verify interval. */
  private deferredVerify: unknown;
  private closed = false;

  constructor(
    private readonly credential: Credential,
    private readonly api: TokenApi,
    private readonly log: Logger,
    timing: Partial<LeaseTiming> = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  async token(): Promise<string> {
    if (!this.pending && this.credential.changed?.()) void this.refresh("the token file changed");
    if (this.pending) return (await this.pending).token;
    const lease = this.lease;
    if (!lease) return (await this.refresh("first use")).token;
    // Never send a token we know is dead when we can get a live one.
    if (this.credential.canLogin && isExpired(lease, this.clock.now(), this.timing)) return (await this.refresh("the token expired")).token;
    return lease.token;
  }

  /** Vault answered 403 to `token`: check it with lookup-self (at most once per interval) and log in again if it is dead. */
  invalidate(token: string): void {
    const lease = this.lease;
    if (!lease || lease.token !== token || this.pending || this.closed) return;
    const now = this.clock.now();
    // A policy denial also answers 403; without this limit an agent retrying a denied call would hammer Vault. A 403
    // inside the interval is not dropped but checked once when it ends, so a token revoked meanwhile is found out.
    const wait = this.lastVerify + this.timing.verifyIntervalMs - now;
    if (wait > 0) {
      this.deferredVerify ??= this.clock.setTimeout(() => {
        this.deferredVerify = undefined;
        this.invalidate(token);
      }, wait);
      return;
    }
    this.lastVerify = now;
    void this.refresh("Vault refused the token", () => this.verify(lease));
  }

  /** Seconds left on the token's lease, when known (undefined before the first use, or for a token that never expires). */
  ttlSeconds(): number | undefined {
    const end = this.lease ? expiresAt(this.lease) : undefined;
    return end === undefined ? undefined : Math.max(0, (end - this.clock.now()) / 1000);
  }

  /** True when lookup-self confirmed that Vault no longer accepts `token` (and no other token has replaced it since). */
  rejected(token: string): boolean {
    return this.deadToken === token && this.lease?.token === token;
  }

  /** Stops timers; the keeper still answers token() afterwards but no longer renews in the background. */
  close(): void {
    this.closed = true;
    this.clearTimer();
    if (this.deferredVerify !== undefined) this.clock.clearTimeout(this.deferredVerify);
    this.deferredVerify = undefined;
  }

  /** Single flight: every caller waiting for a new token shares one login. */
  private refresh(reason: string, work: () => Promise<Lease> = () => this.obtain(reason)): Promise<Lease> {
    if (this.pending) return this.pending;
    const flight = work().finally(() => {
      if (this.pending === flight) this.pending = undefined;
    });
    this.pending = flight;
    // Background refreshes have no caller to hear of a failure; obtain() has logged it.
    flight.catch(() => {});
    return flight;
  }

  private async obtain(reason: string): Promise<Lease> {
    // After a failure, callers get that failure until the backoff ends instead of each trying again.
    if (this.clock.now() < this.blockedUntil) throw this.lastError;
    try {
      const lease = await this.credential.obtain();
      this.onEvent?.("login", true);
      this.failures = 0;
      this.blockedUntil = -Infinity;
      this.adopt(lease);
      if (this.credential.canLogin) {
        this.log.info("logged in to Vault", { auth: this.credential.label, reason, ttl_s: lease.ttlMs / 1000, renewable: lease.renewable });
      }
      return lease;
    } catch (err) {
      this.onEvent?.("login", false);
      this.failures++;
      const wait = backoffMs(this.failures, this.timing);
      this.blockedUntil = this.clock.now() + wait;
      this.lastError = err;
      this.log.warn(this.credential.canLogin ? "could not log in to Vault" : "could not read the Vault token", {
        auth: this.credential.label,
        reason,
        error: messageOf(err),
        retry_in_ms: wait,
      });
      // Keep trying in the background only while there is a token worth replacing; an idle server with none waits for a caller.
      if (this.lease && this.credential.canLogin) this.setTimer(wait, () => void this.refresh("retrying a failed login"));
      throw err;
    }
  }

  private adopt(lease: Lease): void {
    if (lease.token !== this.deadToken) this.deadToken = undefined;
    this.lease = lease;
    this.clearTimer();
    if (lease.known) this.schedule(lease);
    else void this.learn(lease, 0);
  }

  /** Looks up a handed-in token's TTL, so that it can be renewed in time. */
  private async learn(lease: Lease, failures: number): Promise<void> {
    try {
      const data = await this.api.lookupSelf(lease.token);
      if (this.lease?.token !== lease.token) return;
      const known = leaseFromLookup(lease.token, data, this.clock.now());
      this.lease = known;
      this.schedule(known);
    } catch (err) {
      if (this.lease?.token !== lease.token) return;
      if (isForbidden(err)) {
        this.deadToken = lease.token;
        this.log.warn("Vault does not accept the configured token: it is invalid, expired or revoked", { auth: this.credential.label });
        return;
      }
      const wait = backoffMs(failures + 1, this.timing);
      this.setTimer(wait, () => void this.learn(lease, failures + 1));
    }
  }

  private schedule(lease: Lease): void {
    const plan = nextRefresh(lease, this.timing);
    if (!plan) return;
    if (plan.action === "login" && !this.credential.canLogin) {
      this.log.warn("the Vault token cannot be renewed any further; give the server a new one before it expires", {
        auth: this.credential.label,
        expires: this.wallClock(expiresAt(lease)),
      });
      return;
    }
    this.setTimer(plan.at - this.clock.now(), () => {
      if (this.clock.now() < plan.at) return this.schedule(lease);
      if (plan.action === "renew") void this.renew(lease, 0);
      else void this.refresh(lease.renewable ? "the token is near its max TTL" : "the token is not renewable");
    });
  }

  private async renew(current: Lease, failures: number): Promise<void> {
    // A check or login in flight decides first; renew whatever token it leaves us, if it is still this one.
    if (this.pending) await this.pending.catch(() => undefined);
    const lease = this.lease;
    if (!lease || lease.token !== current.token) return;
    try {
      const auth = await this.api.renewSelf(lease.token);
      if (this.lease?.token !== lease.token) return;
      this.onEvent?.("renew", true);
      const renewed = leaseFromAuth(auth, this.clock.now(), lease);
      this.lease = renewed;
      this.log.debug("renewed the Vault token", { auth: this.credential.label, ttl_s: renewed.ttlMs / 1000, near_max_ttl: isCapped(renewed) });
      this.schedule(renewed);
    } catch (err) {
      this.onEvent?.("renew", false);
      if (this.lease?.token !== lease.token) return;
      this.log.warn("could not renew the Vault token", { auth: this.credential.label, error: messageOf(err) });
      if (this.credential.canLogin) {
        void this.refresh("renewal failed");
        return;
      }
      // A handed-in token has no other way to live on: try again while it lasts, unless Vault says it is gone.
      if (isForbidden(err)) return;
      const wait = backoffMs(failures + 1, this.timing);
      const end = expiresAt(lease);
      if (end === undefined || this.clock.now() + wait < end) this.setTimer(wait, () => void this.renew(lease, failures + 1));
    }
  }

  private async verify(lease: Lease): Promise<Lease> {
    try {
      await this.api.lookupSelf(lease.token);
      this.onEvent?.("verify", true);
      // Still valid: the 403 was a policy's answer, not the token's.
      if (this.deadToken === lease.token) this.deadToken = undefined;
      return lease;
    } catch (err) {
      // Vault unreachable or the like: nothing learned, keep the token.
      this.onEvent?.("verify", false);
      if (!isForbidden(err)) return lease;
      this.deadToken = lease.token;
      this.log.warn(
        this.credential.canLogin
          ? "Vault no longer accepts the token (revoked, expired, or Vault lost it); logging in again"
          : "Vault no longer accepts the configured token (revoked or expired); give the server a new one",
        { auth: this.credential.label },
      );
      // A token file may have been rotated without a visible change; read it again. A fixed token has nothing to fall back on.
      if (!this.credential.canLogin && !this.credential.changed) return lease;
      return this.obtain("Vault refused the token");
    }
  }

  private setTimer(ms: number, fn: () => void): void {
    this.clearTimer();
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      fn();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wallClock(at: number | undefined): string | undefined {
    return at === undefined ? undefined : new Date(Date.now() + (at - this.clock.now())).toISOString();
  }
}

function isForbidden(err: unknown): boolean {
  return err instanceof VaultError && err.isForbidden;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
