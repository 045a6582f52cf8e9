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

// sys/health answers with these statuses; each but 200 and 429/473 (standbys that forward) means not ready.
const HEALTH: Record<number, string> = {
  501: "Vault is not initialised",
  503: "Vault is sealed",
  530: "this Vault node has been removed from its cluster",
};

export function createReadinessCheck(vault: VaultClient, cacheMs = 2000): () => Promise<Readiness> {
  let cached: { at: number; value: Promise<Readiness> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > cacheMs) cached = { at: now, value: check(vault) };
    return cached.value;
  };
}

async function check(vault: VaultClient): Promise<Readiness> {
  const base = { vault: vault.addr };
  let version: string | undefined;
  try {
    const res = await vault.request<never>("GET", "sys/health", { anonymous: true });
    version = (res as unknown as { version?: string } | null)?.version;
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    if (err.failure !== "http" && err.failure !== "sealed") return { ...base, ready: false, reason: err.message };
    if (err.status !== 429 && err.status !== 473) {
      return { ...base, ready: false, sealed: err.status === 503, reason: HEALTH[err.status] ?? err.message };
    }
  }
  try {
    await vault.request("GET", "auth/token/lookup-self");
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    const reason = err.isForbidden ? "the Vault token is invalid, expired or revoked" : err.message;
    return { ...base, ready: false, sealed: false, version, reason };
  }
  return { ...base, ready: true, sealed: false, ...(version ? { version } : {}) };
}
