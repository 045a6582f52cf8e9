// The token keeper on a fake clock with a scripted Vault: renewal, re-login, single flight, revocation, backoff.
import { describe, expect, it } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { VaultError } from "../../src/vault/errors.ts";
import { type Clock, type Credential, systemClock, type TokenApi, TokenKeeper } from "../../src/vault/token-keeper.ts";
import { type Lease, unknownLease } from "../../src/vault/token-lease.ts";

class FakeClock implements Clock {
  private t = 0;
  private next = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.next;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing each timer that falls due at its own moment, and lets promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const forbidden = () => new VaultError("GET", "auth/token/lookup-self", 403, ["permission denied"]);
const unreachable = () => new VaultError("POST", "auth/approle/login", 0, ["ECONNREFUSED"], "unreachable", "http://vault:8200");

/** A login credential minting t1, t2, ... with the given lease, and a scripted token API. */
function setUp(options: { ttl?: number; renewable?: boolean; canLogin?: boolean; timing?: Record<string, number> } = {}) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const log = createLogger("debug", (l) => lines.push(l));
  let minted = 0;
  const state = {
    logins: 0,
    loginFails: 0 as number,
    loginGate: undefined as Promise<void> | undefined,
    renewals: 0,
    lookups: 0,
    renewGrant: undefined as number | undefined,
    renewError: undefined as Error | undefined,
    lookupError: undefined as Error | undefined,
    dead: new Set<string>(),
  };
  const ttl = options.ttl ?? 90;
  const credential: Credential = {
    label: "test login",
    canLogin: options.canLogin ?? true,
    async obtain(): Promise<Lease> {
      state.logins++;
      if (state.loginGate) await state.loginGate;
      if (state.loginFails > 0) {
        state.loginFails--;
        throw unreachable();
      }
      minted++;
      if (!(options.canLogin ?? true)) return unknownLease("given", clock.now());
      const ttlMs = ttl * 1000;
      return { token: `t${minted}`, ttlMs, renewable: options.renewable ?? true, grantedAt: clock.now(), fullTtlMs: ttlMs, known: true };
    },
  };
  const api: TokenApi = {
    async renewSelf(token) {
      state.renewals++;
      if (state.renewError) throw state.renewError;
      return { client_token: token, lease_duration: state.renewGrant ?? ttl, renewable: true };
    },
    async lookupSelf(token) {
      state.lookups++;
      if (state.lookupError) throw state.lookupError;
      if (state.dead.has(token)) throw forbidden();
      return { ttl, renewable: options.renewable ?? true };
    },
  };
  const keeper = new TokenKeeper(credential, api, log, options.timing ?? {}, clock);
  return { keeper, clock, state, lines };
}

describe("logging in", () => {
  it("logs in on first use, once for any number of concurrent callers", async () => {
    const { keeper, state } = setUp();
    let open!: () => void;
    state.loginGate = new Promise((r) => (open = r));
    const callers = Array.from({ length: 10 }, () => keeper.token());
    open();
    expect(await Promise.all(callers)).toEqual(Array(10).fill("t1"));
    expect(state.logins).toBe(1);
  });

  it("hands out the same token while it is fresh", async () => {
    const { keeper, state, clock } = setUp();
    await keeper.token();
    await clock.advance(10_000);
    expect(await keeper.token()).toBe("t1");
    expect(state.logins).toBe(1);
  });

  it("backs off after a failed login: callers share that failure until the wait is over", async () => {
    const { keeper, state, clock } = setUp({ timing: { retryMinMs: 1000, retryMaxMs: 8000 } });
    state.loginFails = 3;
    await expect(keeper.token()).rejects.toThrow("could not be reached");
    await expect(keeper.token()).rejects.toThrow("could not be reached");
    expect(state.logins).toBe(1);
    await clock.advance(1000);
    await expect(keeper.token()).rejects.toThrow();
    expect(state.logins).toBe(2);
    // The second failure doubles the wait.
    await clock.advance(1000);
    await expect(keeper.token()).rejects.toThrow();
    expect(state.logins).toBe(2);
    await clock.advance(1000);
    await expect(keeper.token()).rejects.toThrow();
    await clock.advance(4000);
    expect(await keeper.token()).toBe("t1");
    expect(state.logins).toBe(4);
  });

  it("does not retry in the background when it has never had a token (an idle server stays quiet)", async () => {
    const { keeper, state, clock } = setUp();
    state.loginFails = 1;
    await expect(keeper.token()).rejects.toThrow();
    expect(clock.pending).toBe(0);
    expect(state.logins).toBe(1);
  });
});

describe("renewal", () => {
  it("renews the token at two thirds of its lease", async () => {
    const { keeper, state, clock } = setUp({ ttl: 90 });
    await keeper.token();
    await clock.advance(59_000);
    expect(state.renewals).toBe(0);
    await clock.advance(1000);
    expect(state.renewals).toBe(1);
    // And again two thirds into the renewed lease.
    await clock.advance(60_000);
    expect(state.renewals).toBe(2);
    expect(await keeper.token()).toBe("t1");
    expect(state.logins).toBe(1);
  });

  it("logs in again, instead of renewing, when the token is not renewable", async () => {
    const { keeper, state, clock } = setUp({ ttl: 90, renewable: false });
    await keeper.token();
    await clock.advance(60_000);
    expect(state.renewals).toBe(0);
    expect(state.logins).toBe(2);
    expect(await keeper.token()).toBe("t2");
  });

  it("logs in again when a renewal grants less than a full lease (the max TTL is near)", async () => {
    const { keeper, state, clock } = setUp({ ttl: 90 });
    await keeper.token();
    state.renewGrant = 30;
    await clock.advance(60_000);
    expect(state.renewals).toBe(1);
    expect(state.logins).toBe(1);
    await clock.advance(20_000);
    expect(state.renewals).toBe(1);
    expect(state.logins).toBe(2);
    expect(await keeper.token()).toBe("t2");
  });

  it("logs in again when renewal fails", async () => {
    const { keeper, state, clock, lines } = setUp({ ttl: 90 });
    await keeper.token();
    state.renewError = new VaultError("POST", "auth/token/renew-self", 500, ["internal error"]);
    await clock.advance(60_000);
    expect(state.logins).toBe(2);
    expect(await keeper.token()).toBe("t2");
    expect(lines.join("")).toContain("could not renew the Vault token");
  });

  it("keeps trying to log in, with growing waits, while Vault is down", async () => {
    const { keeper, state, clock } = setUp({ ttl: 90, timing: { retryMinMs: 1000, retryMaxMs: 4000 } });
    await keeper.token();
    state.renewError = unreachable();
    state.loginFails = 4;
    await clock.advance(60_000);
    expect(state.logins).toBe(2);
    await clock.advance(1000 + 2000 + 4000);
    expect(state.logins).toBe(5);
    await clock.advance(4000);
    expect(state.logins).toBe(6);
    expect(await keeper.token()).toBe("t2");
  });

  it("never hands out a token known to be expired: callers wait for a new login", async () => {
    const { keeper, state, clock } = setUp({ ttl: 90, timing: { retryMinMs: 100_000, retryMaxMs: 100_000 } });
    await keeper.token();
    // Renewal and the first login attempt fail; the retry is far off, past the token's end.
    state.renewError = unreachable();
    state.loginFails = 1;
    await clock.advance(60_000);
    expect(state.logins).toBe(2);
    await clock.advance(29_000);
    // 1s before the end is within the safety margin: expired for our purposes; the backoff still holds.
    await expect(keeper.token()).rejects.toThrow("could not be reached");
    await clock.advance(71_000);
    expect(await keeper.token()).toBe("t2");
  });

  it("stops renewing after close()", async () => {
    const { keeper, state, clock } = setUp({ ttl: 90 });
    await keeper.token();
    keeper.close();
    await clock.advance(600_000);
    expect(state.renewals).toBe(0);
  });

  it("arms timers that do not keep the process alive", () => {
    const timer = systemClock.setTimeout(() => {}, 60_000) as ReturnType<typeof setTimeout>;
    expect(timer.hasRef()).toBe(false);
    systemClock.clearTimeout(timer);
  });
});

describe("a token Vault refuses (invalidate)", () => {
  it("keeps a token that lookup-self says is valid: the refusal was a policy's", async () => {
    const { keeper, state } = setUp();
    const token = await keeper.token();
    keeper.invalidate(token);
    expect(await keeper.token()).toBe("t1");
    expect(state.lookups).toBe(1);
    expect(state.logins).toBe(1);
  });

  it("logs in again when lookup-self confirms the token is dead, and callers wait for it", async () => {
    const { keeper, state } = setUp();
    const token = await keeper.token();
    state.dead.add(token);
    keeper.invalidate(token);
    expect(await keeper.token()).toBe("t2");
    expect(state.logins).toBe(2);
  });

  it("checks at most once per interval, however many requests are refused", async () => {
    const { keeper, state, clock } = setUp({ timing: { verifyIntervalMs: 5000 } });
    const token = await keeper.token();
    for (let i = 0; i < 50; i++) {
      keeper.invalidate(token);
      await keeper.token();
    }
    expect(state.lookups).toBe(1);
    await clock.advance(5000);
    keeper.invalidate(token);
    await keeper.token();
    expect(state.lookups).toBe(2);
    expect(state.logins).toBe(1);
  });

  it("ignores a refusal of a token it has already replaced", async () => {
    const { keeper, state } = setUp();
    const old = await keeper.token();
    state.dead.add(old);
    keeper.invalidate(old);
    await keeper.token();
    keeper.invalidate(old);
    expect(await keeper.token()).toBe("t2");
    expect(state.lookups).toBe(1);
  });

  it("keeps the token when Vault cannot be asked (unreachable)", async () => {
    const { keeper, state } = setUp();
    const token = await keeper.token();
    state.lookupError = unreachable();
    keeper.invalidate(token);
    expect(await keeper.token()).toBe("t1");
    expect(state.logins).toBe(1);
  });
});

describe("a handed-in token (cannot log in)", () => {
  it("looks up its TTL and renews it in time", async () => {
    const { keeper, state, clock } = setUp({ canLogin: false, ttl: 90 });
    expect(await keeper.token()).toBe("given");
    await clock.advance(0);
    expect(state.lookups).toBe(1);
    await clock.advance(60_000);
    expect(state.renewals).toBe(1);
  });

  it("warns, rather than logging in, when it cannot be renewed any further", async () => {
    const { keeper, state, clock, lines } = setUp({ canLogin: false, ttl: 90, renewable: false });
    await keeper.token();
    await clock.advance(120_000);
    expect(state.logins).toBe(1);
    expect(state.renewals).toBe(0);
    expect(lines.join("")).toContain("cannot be renewed any further");
    // Once expired it is still what we have: Vault's refusal is the clearest answer.
    expect(await keeper.token()).toBe("given");
  });

  it("says so when Vault no longer accepts it, and has nothing to log in with", async () => {
    const { keeper, state, clock, lines } = setUp({ canLogin: false });
    const token = await keeper.token();
    await clock.advance(0);
    state.dead.add(token);
    keeper.invalidate(token);
    expect(await keeper.token()).toBe("given");
    expect(lines.join("")).toContain("Vault no longer accepts the configured token");
    expect(state.logins).toBe(1);
  });
});
