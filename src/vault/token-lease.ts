// Token lease arithmetic, pure: when a token expires, when to renew it, when to log in again instead, how long to back off.

/** What we know about the token in hand. Times are milliseconds on the keeper's clock. */
export interface Lease {
  readonly token: string;
  /** Lifetime Vault granted at `grantedAt`; 0 means it never expires (root tokens) or is not known yet. */
  readonly ttlMs: number;
  readonly renewable: boolean;
  readonly grantedAt: number;
  /** The lifetime a full grant gives (the role's TTL); a renewal that grants less has hit the max TTL. */
  readonly fullTtlMs: number;
  /** False until Vault has told us the TTL (a token we were handed rather than one we logged in for). */
  readonly known: boolean;
}

export interface LeaseTiming {
  /** Renew, or log in again, once this fraction of the lease has passed (Vault Agent renews at about 2/3). */
  readonly renewFraction: number;
  /** A lease this close to its end counts as expired: the request still has to reach Vault. */
  readonly expirySkewMs: number;
  /** First wait after a failed login, renewal or lookup; doubled per failure up to retryMaxMs. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** At most one lookup-self per interval to check a token Vault refused, so denied requests cannot cause a login storm. */
  readonly verifyIntervalMs: number;
}

export const DEFAULT_TIMING: LeaseTiming = {
  renewFraction: 2 / 3,
  expirySkewMs: 2000,
  retryMinMs: 1000,
  retryMaxMs: 30_000,
  verifyIntervalMs: 5000,
};

/** A lease from Vault's `auth` block (login, renew-self): lease_duration is in seconds. */
export function leaseFromAuth(
  auth: { client_token?: string; lease_duration?: number; renewable?: boolean },
  now: number,
  previous?: Lease,
): Lease {
  const token = auth.client_token || previous?.token;
  if (!token) throw new Error("Vault's answer carried no client_token");
  const ttlMs = Math.max(0, Number(auth.lease_duration ?? 0) * 1000);
  const renewal = previous !== undefined && previous.token === token;
  return {
    token,
    ttlMs,
    renewable: auth.renewable === true,
    grantedAt: now,
    // A renewal's grant can only shrink below the largest seen once the max TTL is in reach.
    fullTtlMs: renewal ? Math.max(previous.fullTtlMs, ttlMs) : ttlMs,
    known: true,
  };
}

/** A lease from lookup-self's `data`, whose ttl (seconds) is what remains: only a renewal can tell whether it is capped. */
export function leaseFromLookup(token: string, data: { ttl?: number; renewable?: boolean }, now: number): Lease {
  const ttlMs = Math.max(0, Number(data.ttl ?? 0) * 1000);
  return { token, ttlMs, renewable: data.renewable === true, grantedAt: now, fullTtlMs: ttlMs, known: true };
}

/** A token handed to us (VAULT_TOKEN, a token file) whose lease we have yet to look up. */
export function unknownLease(token: string, now: number): Lease {
  return { token, ttlMs: 0, renewable: false, grantedAt: now, fullTtlMs: 0, known: false };
}

/** When the token stops working, or undefined if it never does (or we do not know). */
export function expiresAt(lease: Lease): number | undefined {
  return lease.ttlMs > 0 ? lease.grantedAt + lease.ttlMs : undefined;
}

/** True once the token is expired or too close to it to be worth sending. */
export function isExpired(lease: Lease, now: number, timing: LeaseTiming): boolean {
  const end = expiresAt(lease);
  // The skew never takes more than a quarter of a short lease, or a 4s token would be born expired.
  return end !== undefined && now >= end - Math.min(timing.expirySkewMs, lease.ttlMs / 4);
}

/** True when Vault granted less than a full lease: the token is near its max TTL, and renewing again will not help. */
export function isCapped(lease: Lease): boolean {
  return lease.ttlMs < lease.fullTtlMs;
}

export type RefreshAction = "renew" | "login";

/** What to do next and when: renew a renewable token with room to grow, otherwise get a new one. */
export function nextRefresh(lease: Lease, timing: LeaseTiming): { at: number; action: RefreshAction } | undefined {
  if (lease.ttlMs <= 0) return undefined;
  const action: RefreshAction = lease.renewable && !isCapped(lease) ? "renew" : "login";
  return { at: lease.grantedAt + lease.ttlMs * timing.renewFraction, action };
}

/** Wait before attempt number `failures + 1`: exponential from retryMinMs, capped at retryMaxMs. */
export function backoffMs(failures: number, timing: LeaseTiming): number {
  if (failures <= 0) return 0;
  return Math.min(timing.retryMaxMs, timing.retryMinMs * 2 ** (failures - 1));
}
