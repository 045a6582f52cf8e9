// KV v1 and v2 on the wire: the request each operation on one secret sends, and what Vault's answer means.
import type { VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";
import { apiPath, type SafePath } from "./paths.ts";

/** One secret: its mount and its path inside the mount, both already checked (paths.ts). */
export interface KvLocation {
  mount: SafePath;
  path: SafePath;
}

export interface KvVersionState {
  version?: number;
  created_time?: string;
  deletion_time?: string;
  destroyed?: boolean;
  custom_metadata?: Record<string, string> | null;
}

export interface KvSecret {
  data: Record<string, unknown>;
  /** KV v2 only: the version read. */
  metadata?: KvVersionState;
}

/** KV v2 metadata of one secret: every version Vault still keeps, and which is the latest. */
export interface KvMetadata {
  current_version: number;
  versions: Record<string, KvVersionState>;
}

/** How many times a check-and-set loop tries before it tells the caller the secret kept changing. */
export const CAS_RETRIES = 8;

/** Returned by a check-and-set step that wants another attempt without a mismatch (someone else acted first). */
export const AGAIN = Symbol("again");

/**
 * Runs `step` until it returns a value; a check-and-set mismatch or AGAIN means another writer won, so it runs again.
 * AGAIN after CAS_RETRIES attempts: the secret kept changing. Any other failure propagates at once.
 */
export async function untilCasHolds<T>(step: () => Promise<T | typeof AGAIN>): Promise<T | typeof AGAIN> {
  for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
    try {
      const result = await step();
      if (result !== AGAIN) return result;
    } catch (err) {
      if (!(err instanceof VaultError && err.isCasMismatch)) throw err;
    }
  }
  return AGAIN;
}

/** Per-secret queue for KV v1: serialises this process's read-modify-writes and deletes, and only this process's. */
const v1Locks = new Map<string, Promise<unknown>>();
export async function withV1Lock<T>(at: KvLocation, fn: () => Promise<T>): Promise<T> {
  const secret = `${at.mount.display}/${at.path.display}`;
  const prev = v1Locks.get(secret) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  v1Locks.set(secret, tail);
  try {
    return await run;
  } finally {
    if (v1Locks.get(secret) === tail) v1Locks.delete(secret);
  }
}

/** A version that can be read: neither soft-deleted nor destroyed. */
export function isLive(state: KvVersionState | undefined): boolean {
  return !!state && !state.deletion_time && !state.destroyed;
}

/** KV v2: a version's data (the latest by default), or null when it is missing, deleted or destroyed. */
export async function readV2(vault: VaultClient, at: KvLocation, version?: number): Promise<KvSecret | null> {
  const res = await vault.read<{ data: Record<string, unknown> | null; metadata: KvVersionState }>(apiPath(at.mount, "data", at.path), { version });
  if (!res?.data?.data) return null;
  return { data: res.data.data, metadata: res.data.metadata };
}

/** KV v2: the secret's metadata, or null when it has never been written (or was destroyed with its metadata). */
export async function readMetadataV2(vault: VaultClient, at: KvLocation): Promise<KvMetadata | null> {
  const res = await vault.read<Partial<KvMetadata>>(apiPath(at.mount, "metadata", at.path));
  if (!res?.data) return null;
  return { current_version: res.data.current_version ?? 0, versions: res.data.versions ?? {} };
}

/**
 * KV v2: sets the top-level keys of `changes` in the latest version (null removes a key), under Vault's per-secret lock.
 * Returns the new version. Throws VaultError 404 when there is no live latest version to patch.
 */
export async function patchV2(vault: VaultClient, at: KvLocation, changes: Record<string, unknown>, cas?: number): Promise<number | undefined> {
  if (!mergePatchIsExact(changes)) return rewriteV2(vault, at, changes, cas);
  // Resent once after a lost answer: the same keys patched twice hold the same values (at worst one more version), and
  // a check-and-set that our own first copy beat is reported by the client as the uncertain loss it is.
  const res = await vault.patch<{ version?: number }>(
    apiPath(at.mount, "data", at.path),
    { data: changes, ...(cas !== undefined ? { options: { cas } } : {}) },
    { idempotent: true },
  );
  return res.data?.version;
}

/**
 * JSON merge patch (RFC 7396) merges objects key by key and drops null members at every depth: exact for values that
 * hold no object (strings, numbers, booleans, lists of those), not for a value that is or holds an object.
 */
function mergePatchIsExact(changes: Record<string, unknown>): boolean {
  const flat = (v: unknown): boolean => v === null || typeof v !== "object" || (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object"));
  return Object.values(changes).every(flat);
}

/**
 * The same top-level change as patchV2 for values a merge patch would alter: reads the latest version and writes it
 * back whole with these keys replaced, with check-and-set against the version read (a concurrent writer makes the
 * write fail with a mismatch, never lose a key). Throws 404 like a PATCH when there is no live latest version.
 */
async function rewriteV2(vault: VaultClient, at: KvLocation, changes: Record<string, unknown>, cas?: number): Promise<number | undefined> {
  const path = apiPath(at.mount, "data", at.path);
  const latest = await readV2(vault, at);
  const version = latest?.metadata?.version;
  if (!latest || version === undefined) throw new VaultError("PATCH", path, 404, [], "http", vault.addr);
  if (cas !== undefined && cas !== version) {
    throw new VaultError("PATCH", path, 400, [`check-and-set parameter did not match the current version`], "http", vault.addr);
  }
  let data = latest.data;
  for (const [k, v] of Object.entries(changes)) data = v === null ? withoutKey(data, k) : withKey(data, k, v);
  return putV2(vault, at, data, version);
}

/** KV v2: writes `data` as the whole new version. cas 0 writes only if the secret does not exist; N only if its current version is N. */
export async function putV2(vault: VaultClient, at: KvLocation, data: Record<string, unknown>, cas?: number): Promise<number | undefined> {
  // Only a check-and-set write may be resent: without one, a late second copy could overwrite another writer's version.
  const res = await vault.write<{ version?: number }>(
    apiPath(at.mount, "data", at.path),
    { data, ...(cas !== undefined ? { options: { cas } } : {}) },
    { idempotent: cas !== undefined },
  );
  return res.data?.version;
}

/** KV v2: soft-deletes exactly these versions (recoverable with undelete), never "whatever is latest by then". */
export async function deleteVersionsV2(vault: VaultClient, at: KvLocation, versions: number[]): Promise<void> {
  // Deleting the same versions twice leaves them as deleting them once: safe to resend.
  await vault.write(apiPath(at.mount, "delete", at.path), { versions }, { idempotent: true });
}

/** KV v1: the secret's data, or null when there is none. */
export async function readV1(vault: VaultClient, at: KvLocation): Promise<KvSecret | null> {
  const res = await vault.read(apiPath(at.mount, at.path));
  return res?.data ? { data: res.data } : null;
}

/** KV v1: replaces the whole secret with `data` (v1 has no merge and no check-and-set). */
export async function putV1(vault: VaultClient, at: KvLocation, data: Record<string, unknown>): Promise<void> {
  await vault.write(apiPath(at.mount, at.path), data);
}

/** KV v1: removes the secret for good. */
export async function deleteV1(vault: VaultClient, at: KvLocation): Promise<void> {
  await vault.delete(apiPath(at.mount, at.path));
}

/** The API path a LIST of the folder `at.path` goes to, with the trailing slash that asks for its children. */
export function listPath(at: KvLocation, kvVersion: 1 | 2): string {
  return `${kvVersion === 2 ? apiPath(at.mount, "metadata", at.path) : apiPath(at.mount, at.path)}/`;
}

/** Own keys only: a key named "constructor" or "__proto__" exists only when the secret really holds it. */
export function hasKey(data: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(data, key);
}

/** A copy of `data` with `key` set as an own property, even "__proto__" (plain assignment would set the prototype). */
export function withKey(data: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = { ...data };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** A copy of `data` without `key`. */
export function withoutKey(data: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([k]) => k !== key));
}

/**
 * KV v2: merges `changes` into the latest version (null removes a key), creating the secret when there is none,
 * guarded so that a concurrent creator is patched rather than overwritten. AGAIN: it kept changing.
 */
export async function mergeV2(vault: VaultClient, at: KvLocation, changes: Record<string, unknown>): Promise<{ version?: number; created: boolean } | typeof AGAIN> {
  return untilCasHolds(async () => {
    try {
      // Vault applies the patch under its per-key lock, so concurrent writers of different keys all keep theirs.
      return { version: await patchV2(vault, at, changes), created: false };
    } catch (err) {
      if (!(err instanceof VaultError && err.isNotFound)) throw err;
    }
    const meta = await readMetadataV2(vault, at);
    const current = meta?.current_version ?? 0;
    // Someone created it since our PATCH: patch theirs rather than write over it.
    if (current > 0 && isLive(meta?.versions[String(current)])) return AGAIN;
    return { version: (await putV2(vault, at, changes, current)) ?? current + 1, created: true };
  });
}

export interface Replaced {
  version?: number;
  /** No version (v2) or no secret (v1) existed when read just before the write. */
  created: boolean;
  /** Keys the live secret held when read just before the write, and that the write did not give. */
  removed: string[];
  /** KV v2: the version that still holds the removed keys. */
  previous?: number;
}

/**
 * KV v2: writes exactly `data` as a new version, with check-and-set against the version it read, so the keys it
 * reports removed are exactly those of the version it replaced. A caller's `cas` is tried once (a mismatch throws);
 * without it a mismatch reads again, and AGAIN means the secret kept changing.
 */
export async function replaceV2(vault: VaultClient, at: KvLocation, data: Record<string, unknown>, cas?: number): Promise<Replaced | typeof AGAIN> {
  const attempt = async (): Promise<Replaced> => {
    const latest = await readV2(vault, at);
    // A deleted latest version holds nothing live, but check-and-set still counts it.
    const current = latest?.metadata?.version ?? (await readMetadataV2(vault, at))?.current_version ?? 0;
    const version = await putV2(vault, at, data, cas ?? current);
    const removed = latest ? Object.keys(latest.data).filter((k) => !hasKey(data, k)) : [];
    return { version, created: current === 0, removed, ...(latest ? { previous: current } : {}) };
  };
  return cas !== undefined ? attempt() : untilCasHolds(attempt);
}

/** KV v1: writes exactly `data` as the whole secret, in this process's queue; reads first only to say which keys went. */
export async function replaceV1(vault: VaultClient, at: KvLocation, data: Record<string, unknown>): Promise<Replaced> {
  return withV1Lock(at, async () => {
    const before = await readV1(vault, at);
    await putV1(vault, at, data);
    return { created: before === null, removed: before ? Object.keys(before.data).filter((k) => !hasKey(data, k)) : [] };
  });
}

/** KV v2: everything the metadata endpoint says of one secret (settings, times, every version's state). */
export interface KvFullMetadata extends KvMetadata {
  oldest_version?: number;
  created_time?: string;
  updated_time?: string;
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: string;
  custom_metadata?: Record<string, string> | null;
}

/** KV v2: the secret's whole metadata, or null when it has none (never written, or its metadata was deleted). */
export async function readFullMetadataV2(vault: VaultClient, at: KvLocation): Promise<KvFullMetadata | null> {
  const res = await vault.read<Partial<KvFullMetadata>>(apiPath(at.mount, "metadata", at.path));
  if (!res?.data) return null;
  return { ...res.data, current_version: res.data.current_version ?? 0, versions: res.data.versions ?? {} };
}

/** The settings write_secret_metadata may change; a field left out is kept as Vault holds it. */
export interface KvMetadataSettings {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: string;
  /** Replaces the whole custom metadata ({} clears it). */
  custom_metadata?: Record<string, string>;
}

/** KV v2: sets the secret's metadata (creating it when the secret has none). The same settings twice are the same: safe to resend. */
export async function writeMetadataV2(vault: VaultClient, at: KvLocation, settings: KvMetadataSettings): Promise<void> {
  await vault.write(apiPath(at.mount, "metadata", at.path), settings, { idempotent: true });
}

/** KV v2: deletes every version and the metadata, for good. Not resent: a secret recreated meanwhile would go too. */
export async function deleteMetadataV2(vault: VaultClient, at: KvLocation): Promise<void> {
  await vault.delete(apiPath(at.mount, "metadata", at.path));
}

/** KV v2: recovers soft-deleted versions (a destroyed one stays destroyed). The same versions twice: safe to resend. */
export async function undeleteVersionsV2(vault: VaultClient, at: KvLocation, versions: number[]): Promise<void> {
  await vault.write(apiPath(at.mount, "undelete", at.path), { versions }, { idempotent: true });
}

/** KV v2: destroys these versions' data for good (their metadata stays, marked destroyed). Safe to resend. */
export async function destroyVersionsV2(vault: VaultClient, at: KvLocation, versions: number[]): Promise<void> {
  await vault.write(apiPath(at.mount, "destroy", at.path), { versions }, { idempotent: true });
}

/**
 * KV v2: applies `patch` to the latest version as a JSON merge patch (RFC 7396) exactly: objects merge key by key at
 * every depth, null removes a key, anything else replaces. Returns the new version; 404 when there is no live latest
 * version. A merge patch applied twice gives what it gives once, so it may be resent (a cas our own first copy beat is
 * reported by the client as the uncertain loss it is).
 */
export async function mergePatchV2(vault: VaultClient, at: KvLocation, patch: Record<string, unknown>, cas?: number): Promise<number | undefined> {
  const res = await vault.patch<{ version?: number }>(
    apiPath(at.mount, "data", at.path),
    { data: patch, ...(cas !== undefined ? { options: { cas } } : {}) },
    { idempotent: true },
  );
  return res.data?.version;
}

/** A version's state now: destroyed, deleted (a deletion time passed), or live (possibly with a deletion scheduled). */
export function versionState(state: KvVersionState | undefined, now = Date.now()): "live" | "deleted" | "destroyed" | "unknown" {
  if (!state) return "unknown";
  if (state.destroyed) return "destroyed";
  if (state.deletion_time && Date.parse(state.deletion_time) <= now) return "deleted";
  return "live";
}
