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
export async function wrapData(vault: VaultClient, data: Record<string, unknown>): Promise<WrapInfo> {
  const res = await vault.write(WRAP_PATH, data, { idempotent: true });
  const info = (res as { wrap_info?: { token?: unknown; ttl?: unknown; creation_time?: unknown } }).wrap_info;
  if (typeof info?.token !== "string" || info.token === "" || typeof info.ttl !== "number") {
    throw new VaultError("POST", WRAP_PATH, 200, ["the answer carries no wrap_info with a token and a ttl"], "unreadable", vault.addr);
  }
  const created = typeof info.creation_time === "string" ? Date.parse(info.creation_time) : NaN;
  const expiresAt = new Date((Number.isFinite(created) ? created : Date.now()) + info.ttl * 1000).toISOString();
  return { token: info.token, ttlSeconds: info.ttl, expiresAt };
}

/**
 * A fetch that adds X-Vault-Wrap-TTL to requests for sys/wrapping/wrap, which Vault refuses without it. The client has
 * no per-request headers; this keeps the TTL, an operator setting, out of every tool.
 */
export function withWrapTtl(inner: typeof fetch, ttlSeconds: number): typeof fetch {
  const wrapped = (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!new URL(url).pathname.endsWith(`/v1/${WRAP_PATH}`)) return inner(input, init);
    // The client always passes its headers as a plain record.
    const headers = { ...(init?.headers as Record<string, string> | undefined), "x-vault-wrap-ttl": `${ttlSeconds}s` };
    return inner(input, { ...init, headers });
  };
  return Object.assign(wrapped, inner) as typeof fetch;
}
