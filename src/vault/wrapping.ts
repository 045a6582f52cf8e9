// Response wrapping on the wire: sys/wrapping/wrap puts values in a single-use token that only its holder can open, once.
import type { VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";

export const WRAP_PATH = "sys/wrapping/wrap";

export interface WrapInfo {
  /** The single-use wrapping token; `vault unwrap <token>` opens it once. */
  token: string;
  ttlSeconds: number;
  /** ISO 8601: when Vault discards it unopened. */
  expiresAt: string;
}

/**
 * Wraps `data` in a new single-use token. Resent once after a lost answer: the first copy's token, if Vault made one,
 * reached no one and expires unopened at the end of its TTL, so a second token is the only one anybody holds.
 */
export async function wrapData(vault: VaultClient, data: Record<string, unknown>, ttlSeconds: number): Promise<WrapInfo> {
  const res = await vault.write(WRAP_PATH, data, { idempotent: true, wrapTtlSeconds: ttlSeconds });
  const info = (res as { wrap_info?: { token?: unknown; ttl?: unknown; creation_time?: unknown } }).wrap_info;
  if (typeof info?.token !== "string" || info.token === "" || typeof info.ttl !== "number") {
    throw new VaultError("POST", WRAP_PATH, 200, ["the answer carries no wrap_info with a token and a ttl"], "unreadable", vault.addr);
  }
  const created = typeof info.creation_time === "string" ? Date.parse(info.creation_time) : NaN;
  const expiresAt = new Date((Number.isFinite(created) ? created : Date.now()) + info.ttl * 1000).toISOString();
  return { token: info.token, ttlSeconds: info.ttl, expiresAt };
}
