// Vault's own API (sys/, auth/token/, identity/) as the policy, identity and operations tools use it: every path is built
// here from checked parts (a policy name, an auth path, a mount), never from a raw argument, and answers are parsed.
import type { VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";
import { apiPath, PathError, type SafePath, safeName, safePath } from "./paths.ts";

// --- ACL policies (sys/policies/acl) ---

/** Vault keeps policy names in lower case; `root` and `default` are its own. */
export function policyName(raw: unknown, argument = "name"): SafePath {
  const name = safeName(raw, argument);
  const lower = name.display.toLowerCase();
  return { segments: [lower], display: lower, encoded: encodeURIComponent(lower) };
}

export const policyPath = (name: SafePath) => apiPath("sys/policies/acl", name);

export async function listPolicies(vault: VaultClient): Promise<string[]> {
  return (await vault.list("sys/policies/acl")).keys;
}

/** The policy's HCL, or null when there is none of that name. */
export async function readPolicy(vault: VaultClient, name: SafePath): Promise<string | null> {
  const res = await vault.read<{ policy?: string }>(policyPath(name));
  return res?.data ? (res.data.policy ?? "") : null;
}

/** Sending the same rules twice leaves Vault as sending them once. */
export async function writePolicy(vault: VaultClient, name: SafePath, policy: string): Promise<void> {
  await vault.write(policyPath(name), { policy }, { idempotent: true });
}

export async function deletePolicy(vault: VaultClient, name: SafePath): Promise<void> {
  await vault.delete(policyPath(name), { idempotent: true });
}

/** sys/capabilities-self: the calling token's capabilities on each path. */
export async function capabilitiesSelf(vault: VaultClient, paths: readonly string[]): Promise<Record<string, string[]>> {
  const res = await vault.write<Record<string, unknown>>("sys/capabilities-self", { paths });
  const data = res.data ?? {};
  const out: Record<string, string[]> = {};
  for (const p of paths) {
    const caps = data[p] ?? (paths.length === 1 ? data.capabilities : undefined);
    out[p] = Array.isArray(caps) ? caps.filter((c): c is string => typeof c === "string") : [];
  }
  return out;
}

// --- The token and its identity ---

export interface TokenSelf {
  display_name?: string;
  policies?: string[];
  identity_policies?: string[];
  ttl?: number;
  creation_ttl?: number;
  renewable?: boolean;
  entity_id?: string;
  type?: string;
  orphan?: boolean;
  expire_time?: string | null;
  creation_time?: number;
  meta?: Record<string, string> | null;
  num_uses?: number;
  path?: string;
}

export async function lookupSelf(vault: VaultClient): Promise<TokenSelf> {
  const res = await vault.read<TokenSelf & { id?: string; accessor?: string }>("auth/token/lookup-self");
  // The token itself and its accessor never leave this function.
  const { id: _id, accessor: _accessor, ...rest } = res?.data ?? {};
  return rest;
}

const ENTITY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Entity {
  id: string;
  name?: string;
  policies?: string[] | null;
  disabled?: boolean;
  metadata?: Record<string, string> | null;
  aliases?: { id?: string; name?: string; mount_type?: string; mount_path?: string; mount_accessor?: string }[] | null;
  group_ids?: string[] | null;
  direct_group_ids?: string[] | null;
  inherited_group_ids?: string[] | null;
  creation_time?: string;
  last_update_time?: string;
}

/** identity/entity/id/<id>, for an id Vault itself gave (checked to be a UUID before it goes into a path); null when gone. */
export async function readEntity(vault: VaultClient, id: string): Promise<Entity | null> {
  if (!ENTITY_ID.test(id)) throw new VaultError("GET", "identity/entity/id", 200, [`entity_id "${id}" is not an entity id`], "unreadable", vault.addr);
  const res = await vault.read<Entity>(apiPath("identity/entity/id", id));
  return res?.data ?? null;
}

// --- Auth methods (sys/auth) ---

/** What sys/auth and sys/mounts say of each entry: an auth method and a secrets engine are mounted alike. */
interface RawEntry<Config> {
  type?: string;
  description?: string;
  accessor?: string;
  local?: boolean;
  seal_wrap?: boolean;
  options?: Record<string, string> | null;
  config?: { default_lease_ttl?: number; max_lease_ttl?: number; [k: string]: unknown } & Config;
  running_plugin_version?: string;
}

export type RawAuthMethod = RawEntry<{ token_type?: string }>;

export async function listAuthMethods(vault: VaultClient): Promise<Record<string, RawAuthMethod>> {
  const data = (await vault.read<Record<string, RawAuthMethod>>("sys/auth"))?.data ?? {};
  return Object.fromEntries(Object.entries(data).filter(([, m]) => m && typeof m === "object" && typeof m.type === "string"));
}

/** An auth method's path ("token", "kubernetes", "team/userpass") as sys/auth/<path> takes it. */
export function authPath(raw: unknown, argument = "path"): SafePath {
  return safePath(typeof raw === "string" ? raw.replace(/^\/?auth\//i, "") : raw, argument);
}

/**
 * The method mounted exactly at `path`, or null: read from the sys/auth listing, since sys/auth/<path> needs sudo and
 * the listing does not.
 */
export async function readAuthMethod(vault: VaultClient, path: SafePath): Promise<RawAuthMethod | null> {
  return (await listAuthMethods(vault))[`${path.display}/`] ?? null;
}

// --- Health ---

export interface ClusterHealth {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  performance_standby: boolean;
  version: string;
  cluster_name?: string;
  cluster_id?: string;
  replication_performance_mode: string;
  replication_dr_mode: string;
  ha_enabled?: boolean;
  is_self?: boolean;
  leader_address?: string;
  leader_cluster_address?: string;
}

/**
 * sys/health (asked to answer 200 whatever the state, so the body is always read) and sys/leader: both answer without a
 * token, so they are sent without one.
 */
export async function clusterHealth(vault: VaultClient): Promise<ClusterHealth> {
  const query = { standbyok: "true", perfstandbyok: "true", sealedcode: "200", uninitcode: "200", drsecondarycode: "200", performancestandbycode: "200", standbycode: "200" };
  const h = ((await vault.request<Record<string, unknown>>("GET", "sys/health", { query, anonymous: true })) ?? {}) as Record<string, unknown>;
  let leader: Record<string, unknown> = {};
  // A sealed or uninitialised node has no leader to tell.
  if (h.initialized === true && h.sealed !== true) leader = ((await vault.request<Record<string, unknown>>("GET", "sys/leader", { anonymous: true })) ?? {}) as Record<string, unknown>;
  const str = (v: unknown, d = "") => (typeof v === "string" ? v : d);
  return {
    initialized: h.initialized === true,
    sealed: h.sealed === true,
    standby: h.standby === true,
    performance_standby: h.performance_standby === true,
    version: str(h.version, "unknown"),
    ...(typeof h.cluster_name === "string" ? { cluster_name: h.cluster_name } : {}),
    ...(typeof h.cluster_id === "string" ? { cluster_id: h.cluster_id } : {}),
    replication_performance_mode: str(h.replication_performance_mode, "unknown"),
    replication_dr_mode: str(h.replication_dr_mode, "unknown"),
    ...(typeof leader.ha_enabled === "boolean" ? { ha_enabled: leader.ha_enabled } : {}),
    ...(typeof leader.is_self === "boolean" ? { is_self: leader.is_self } : {}),
    ...(str(leader.leader_address) ? { leader_address: str(leader.leader_address) } : {}),
    ...(str(leader.leader_cluster_address) ? { leader_cluster_address: str(leader.leader_cluster_address) } : {}),
  };
}

// --- Mounts (sys/mounts) ---

export type RawMount = RawEntry<{ force_no_cache?: boolean }>;

/** The engine mounted exactly at `path` (not one enclosing it: sys/mounts/<path> would answer for that), or null. */
export async function mountAt(vault: VaultClient, path: SafePath): Promise<RawMount | null> {
  const data = (await vault.read<Record<string, RawMount>>("sys/mounts"))?.data ?? {};
  const m = data[`${path.display}/`];
  return m && typeof m === "object" && typeof m.type === "string" ? m : null;
}

export interface MountTune {
  default_lease_ttl?: string;
  max_lease_ttl?: string;
  description?: string;
  options?: Record<string, string>;
}

/** POST sys/mounts/<path>/tune: the same settings sent twice leave the mount as sending them once. */
export async function tuneMount(vault: VaultClient, path: SafePath, tune: MountTune): Promise<void> {
  await vault.write(`sys/mounts/${path.encoded}/tune`, tune, { idempotent: true });
}

// --- Audit devices (sys/audit) ---

export interface RawAuditDevice {
  type?: string;
  description?: string;
  path?: string;
  local?: boolean;
  options?: Record<string, string> | null;
}

export async function listAuditDevices(vault: VaultClient): Promise<Record<string, RawAuditDevice>> {
  const data = (await vault.read<Record<string, RawAuditDevice>>("sys/audit"))?.data ?? {};
  return Object.fromEntries(Object.entries(data).filter(([, d]) => d && typeof d === "object" && typeof d.type === "string"));
}

// --- Leases (sys/leases) ---

// What Vault's lease ids look like: the path that made the secret, then an id ("auth/token/create/h8a1...",
// "database/creds/app/2f6a614c-..."). Only used as a body field, never in a URL.
const LEASE_ID = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

export function leaseId(raw: unknown, argument = "lease_id"): string {
  if (typeof raw !== "string") throw new PathError(argument, "must be a string");
  const id = raw.trim();
  if (id.length > 1024) throw new PathError(argument, "is longer than 1024 characters");
  if (!LEASE_ID.test(id) || id.split("/").some((s) => s === "." || s === "..")) {
    throw new PathError(argument, `"${raw.length > 80 ? `${raw.slice(0, 80)}...` : raw}" is not a Vault lease id (which looks like "auth/token/create/h8a1..." or "database/creds/app/2f6a..."); list_leases shows the ids under a prefix`);
  }
  return id;
}

/** A lease prefix ("auth/token/create"); "" is the top. */
export function leasePrefix(raw: unknown, argument = "prefix"): SafePath {
  return safePath(raw, argument, { allowEmpty: true });
}

/** LIST sys/leases/lookup/<prefix>: lease ids and deeper prefixes (ending in "/"). */
export async function listLeases(vault: VaultClient, prefix: SafePath): Promise<string[]> {
  return (await vault.list(apiPath("sys/leases/lookup", prefix))).keys;
}

export interface Lease {
  id: string;
  issue_time?: string;
  expire_time?: string | null;
  last_renewal?: string | null;
  renewable?: boolean;
  ttl?: number;
}

/** sys/leases/lookup with the id in the body; null when Vault knows no such lease ("invalid lease"). */
export async function readLease(vault: VaultClient, id: string): Promise<Lease | null> {
  try {
    const res = await vault.write<Lease>("sys/leases/lookup", { lease_id: id }, { idempotent: true });
    return res.data?.id ? res.data : null;
  } catch (err) {
    if (err instanceof VaultError && err.status === 400 && err.errors.some((e) => /invalid lease/i.test(e))) return null;
    throw err;
  }
}

/** sys/leases/revoke, synchronously: Vault answers once the secret is revoked. Revoking a revoked lease changes nothing. */
export async function revokeLease(vault: VaultClient, id: string): Promise<void> {
  await vault.write("sys/leases/revoke", { lease_id: id, sync: true }, { idempotent: true });
}
