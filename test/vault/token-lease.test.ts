// Lease arithmetic: expiry with a safety margin, renew or log in again, capped renewals, backoff.
import { describe, expect, it } from "bun:test";
import {
  backoffMs,
  DEFAULT_TIMING,
  expiresAt,
  isCapped,
  isExpired,
  type Lease,
  leaseFromAuth,
  leaseFromLookup,
  nextRefresh,
  unknownLease,
} from "../../src/vault/token-lease.ts";

const lease = (over: Partial<Lease> = {}): Lease => ({
  token: "t",
  ttlMs: 3_600_000,
  renewable: true,
  grantedAt: 1000,
  fullTtlMs: 3_600_000,
  known: true,
  ...over,
});

describe("leases from Vault's answers", () => {
  it("reads a login's auth block, in seconds", () => {
    expect(leaseFromAuth({ client_token: "t", lease_duration: 60, renewable: true }, 5)).toEqual(lease({ ttlMs: 60_000, fullTtlMs: 60_000, grantedAt: 5 }));
  });

  it("remembers the full lease across renewals, so a shorter grant shows the max TTL is near", () => {
    const first = leaseFromAuth({ client_token: "t", lease_duration: 60, renewable: true }, 0);
    const renewed = leaseFromAuth({ client_token: "t", lease_duration: 20, renewable: true }, 40_000, first);
    expect(renewed.fullTtlMs).toBe(60_000);
    expect(isCapped(renewed)).toBe(true);
    expect(isCapped(leaseFromAuth({ client_token: "t", lease_duration: 60, renewable: true }, 40_000, first))).toBe(false);
  });

  it("keeps the token when a renewal answer leaves client_token out", () => {
    const first = leaseFromAuth({ client_token: "t", lease_duration: 60 }, 0);
    expect(leaseFromAuth({ lease_duration: 60 }, 1, first).token).toBe("t");
    expect(() => leaseFromAuth({ lease_duration: 60 }, 1)).toThrow("no client_token");
  });

  it("treats lookup-self's remaining ttl as a full lease (only a renewal can show a cap)", () => {
    const l = leaseFromLookup("t", { ttl: 2, renewable: true }, 0);
    expect(l).toEqual(lease({ ttlMs: 2000, fullTtlMs: 2000, grantedAt: 0 }));
    expect(nextRefresh(l, DEFAULT_TIMING)?.action).toBe("renew");
  });

  it("marks a handed-in token as not known yet, with nothing to schedule", () => {
    const l = unknownLease("t", 0);
    expect(l.known).toBe(false);
    expect(nextRefresh(l, DEFAULT_TIMING)).toBeUndefined();
    expect(isExpired(l, 1e12, DEFAULT_TIMING)).toBe(false);
  });
});

describe("expiry", () => {
  it("never expires a token with no TTL (root tokens)", () => {
    expect(expiresAt(lease({ ttlMs: 0 }))).toBeUndefined();
    expect(isExpired(lease({ ttlMs: 0 }), Number.MAX_SAFE_INTEGER, DEFAULT_TIMING)).toBe(false);
  });

  it("counts a token as expired a safety margin before its end", () => {
    const l = lease({ ttlMs: 60_000, grantedAt: 0 });
    expect(isExpired(l, 57_999, DEFAULT_TIMING)).toBe(false);
    expect(isExpired(l, 58_000, DEFAULT_TIMING)).toBe(true);
  });

  it("takes at most a quarter of a short lease as the margin", () => {
    const l = lease({ ttlMs: 4000, grantedAt: 0 });
    expect(isExpired(l, 2999, DEFAULT_TIMING)).toBe(false);
    expect(isExpired(l, 3000, DEFAULT_TIMING)).toBe(true);
  });
});

describe("what to do next", () => {
  it("renews a renewable token two thirds into its lease", () => {
    expect(nextRefresh(lease({ ttlMs: 90_000, fullTtlMs: 90_000, grantedAt: 1000 }), DEFAULT_TIMING)).toEqual({ at: 61_000, action: "renew" });
  });

  it("logs in again when the token is not renewable", () => {
    expect(nextRefresh(lease({ ttlMs: 90_000, renewable: false, grantedAt: 0 }), DEFAULT_TIMING)).toEqual({ at: 60_000, action: "login" });
  });

  it("logs in again when the last renewal was capped by the max TTL", () => {
    expect(nextRefresh(lease({ ttlMs: 30_000, fullTtlMs: 90_000, grantedAt: 0 }), DEFAULT_TIMING)).toEqual({ at: 20_000, action: "login" });
  });

  it("follows the configured fraction", () => {
    expect(nextRefresh(lease({ ttlMs: 10_000, fullTtlMs: 10_000, grantedAt: 0 }), { ...DEFAULT_TIMING, renewFraction: 0.5 })?.at).toBe(5000);
  });
});

describe("backoff", () => {
  it("doubles from the minimum up to the maximum", () => {
    const timing = { ...DEFAULT_TIMING, retryMinMs: 1000, retryMaxMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffMs(n, timing))).toEqual([0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});
