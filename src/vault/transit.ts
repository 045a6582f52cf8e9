// Transit on the wire: the request each key and data operation sends, and what Vault's answer means.
import type { VaultClient, VaultResponse } from "./client.ts";
import { apiPath, type SafePath } from "./paths.ts";

/** The key types Vault's transit engine creates. */
export const KEY_TYPES = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096", "hmac"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** Most items one batch call sends: Vault has no limit of its own, so one call stays a bounded request. */
export const BATCH_LIMIT = 100;

/** GET transit/keys/<name> as Vault answers it; only the fields read. Never key material (Vault never sends it here). */
export interface RawKey {
  type?: string;
  keys?: Record<string, number | { public_key?: string; creation_time?: string; name?: string }>;
  latest_version?: number;
  min_available_version?: number;
  min_decryption_version?: number;
  min_encryption_version?: number;
  deletion_allowed?: boolean;
  exportable?: boolean;
  derived?: boolean;
  convergent_encryption?: boolean;
  auto_rotate_period?: number;
  supports_encryption?: boolean;
  supports_decryption?: boolean;
  supports_signing?: boolean;
}

export interface KeyVersion {
  version: number;
  created: string;
  /** Asymmetric keys only: PEM (ECDSA, RSA) or base64 (ed25519). */
  public_key?: string;
}

/** The key as the tools show it: settings, and every version Vault keeps with its public key where there is one. */
export interface KeyView {
  mount: string;
  name: string;
  type: string;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  min_available_version: number;
  deletion_allowed: boolean;
  exportable: boolean;
  derived: boolean;
  convergent_encryption: boolean;
  auto_rotate_period: number;
  supports_encryption: boolean;
  supports_signing: boolean;
  versions: KeyVersion[];
}

function createdAt(v: number | { creation_time?: string }): string {
  if (typeof v === "number") return new Date(v * 1000).toISOString();
  return v.creation_time ?? "";
}

export function keyView(mount: SafePath, name: string, r: RawKey): KeyView {
  const versions = Object.entries(r.keys ?? {})
    .map(([n, v]) => ({ version: Number(n), created: createdAt(v), ...(typeof v === "object" && v.public_key ? { public_key: v.public_key } : {}) }))
    .sort((a, b) => a.version - b.version);
  return {
    mount: mount.display,
    name,
    type: r.type ?? "unknown",
    latest_version: r.latest_version ?? 0,
    min_decryption_version: r.min_decryption_version ?? 1,
    min_encryption_version: r.min_encryption_version ?? 0,
    min_available_version: r.min_available_version ?? 0,
    deletion_allowed: r.deletion_allowed ?? false,
    exportable: r.exportable ?? false,
    derived: r.derived ?? false,
    convergent_encryption: r.convergent_encryption ?? false,
    auto_rotate_period: r.auto_rotate_period ?? 0,
    supports_encryption: r.supports_encryption ?? false,
    supports_signing: r.supports_signing ?? false,
    versions,
  };
}

export const keyPath = (mount: SafePath, name: SafePath, ...rest: string[]) => apiPath(mount, "keys", name, ...rest);

/** The key, or null when the mount has none by that name. */
export async function readKey(vault: VaultClient, mount: SafePath, name: SafePath): Promise<RawKey | null> {
  return (await vault.read<RawKey>(keyPath(mount, name)))?.data ?? null;
}

export async function listKeys(vault: VaultClient, mount: SafePath): Promise<string[]> {
  return (await vault.list(apiPath(mount, "keys"))).keys;
}

/** The version a "vault:v<N>:..." ciphertext, HMAC or signature names, or undefined. */
export function versionOf(value: string): number | undefined {
  const m = /^vault:v(\d+):/.exec(value);
  return m ? Number(m[1]) : undefined;
}

export const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** Whether `s` is standard base64 (what Vault takes for plaintext, input and context). */
export function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

/** Decoded bytes as text when they are valid UTF-8, else the base64 itself. */
export function asText(base64: string): { text: string; encoding: "utf8" | "base64" } {
  const bytes = Buffer.from(base64, "base64");
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf8" };
  } catch {
    return { text: base64, encoding: "base64" };
  }
}

/** One result of a batch: Vault's answer for the item, or its refusal of that item alone. */
export interface BatchResult {
  ciphertext?: string;
  plaintext?: string;
  key_version?: number;
  error?: string;
}

/**
 * POST transit/<op>/<name>: encrypt, decrypt, rewrap, hmac, sign, verify. These change nothing in Vault (a key missing
 * is never created: the tools read it first), so a lost answer may be resent.
 */
export async function keyOperation<T>(vault: VaultClient, op: string, mount: SafePath, name: SafePath, body: Record<string, unknown>): Promise<VaultResponse<T>> {
  return vault.write<T>(apiPath(mount, op, name), body, { idempotent: true });
}
