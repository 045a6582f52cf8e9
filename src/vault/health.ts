// Readiness: is Vault reachable, initialised, unsealed, and is our token still valid? Cached briefly so probes stay cheap.
import type { VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";

export interface Readiness {
  ready: boolean;
  vault: string;
  /** What is wrong, in words, when not ready. */
  reason?: string;
  sealed?: boolean;
  version?: string;
}

/** What anyone who can reach the port may learn: ready or not, without Vault's address, version or the reason. */
export function publicReadiness(r: Readiness): { ready: boolean } {
  return { ready: r.ready };
}

// sys/health answers with these statuses; each but 200 and 429/473 (standbys that forward) means not ready.
const HEALTH: Record<number, string> = {
  501: "Vault is not initialised",
  503: "Vault is sealed",
  530: "this Vault node has been removed from its cluster",
};

/** A probe must answer well within its timeout (5 s in the Deployment), whatever Vault does. */
export const READY_TIMEOUT_MS = 2000;

export function createReadinessCheck(vault: VaultClient, cacheMs = 2000, timeoutMs = READY_TIMEOUT_MS): () => Promise<Readiness> {
  let cached: { at: number; value: Promise<Readiness> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > cacheMs) cached = { at: now, value: bounded(vault, timeoutMs) };
    return cached.value;
  };
}

/** The check, or "not ready" once `timeoutMs` has passed (a login that hangs is not covered by the requests' own limits). */
function bounded(vault: VaultClient, timeoutMs: number): Promise<Readiness> {
  const late: Readiness = { ready: false, vault: vault.addr, reason: `Vault did not answer in ${timeoutMs / 1000} s` };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve(late), timeoutMs + 250);
  });
  return Promise.race([check(vault, timeoutMs, late), deadline]).finally(() => clearTimeout(timer));
}

async function check(vault: VaultClient, timeoutMs: number, late: Readiness): Promise<Readiness> {
  const base = { vault: vault.addr };
  let version: string | undefined;
  try {
    const res = await vault.request<never>("GET", "sys/health", { anonymous: true, timeoutMs });
    version = (res as unknown as { version?: string } | null)?.version;
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    if (err.failure === "timeout") return late;
    if (err.failure !== "http" && err.failure !== "sealed") return { ...base, ready: false, reason: err.message };
    if (err.status !== 429 && err.status !== 473) {
      return { ...base, ready: false, sealed: err.status === 503, reason: HEALTH[err.status] ?? err.message };
    }
  }
  try {
    await vault.request("GET", "auth/token/lookup-self", { timeoutMs });
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    if (err.failure === "timeout") return late;
    const reason = err.isForbidden ? "the Vault token is invalid, expired or revoked" : err.message;
    return { ...base, ready: false, sealed: false, version, reason };
  }
  return { ...base, ready: true, sealed: false, ...(version ? { version } : {}) };
}
