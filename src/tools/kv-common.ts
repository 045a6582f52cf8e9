// What the KV tools share: their arguments, the mount check, the words for missing secrets and refusals, and the merge write_secret, generate_secret and issue_pki_certificate(store_at) all use.
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import * as kv from "../vault/kv.ts";
import type { MountInfo } from "../vault/mount-info.ts";
import { safeMount, safePath, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import type { ToolContext } from "./registry.ts";
import { shellWord } from "./secret-values.ts";

export const MountArg = Type.String({ description: 'KV mount, e.g. "secret" (the default)', default: "secret", minLength: 1, vault: "mount" });
export const PathArg = Type.String({ description: 'Secret path inside the mount, e.g. "myapp/database"', minLength: 1, vault: "path" });
export const KeyArg = Type.String({ description: 'One key inside the secret, e.g. "password"', minLength: 1, vault: "none" });
export const JsonValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown())], {
  description: "A string, number, boolean, array or object; not null",
  // The union's branches as a type list too, so an adapter that keeps only type/description/enum still sees them.
  type: ["string", "number", "boolean", "array", "object"],
  sensitive: true,
});

export interface KvTarget extends kv.KvLocation {
  info: MountInfo;
  /** "secret/myapp/database", for messages. */
  where: string;
}

/**
 * How KV v1 read-modify-writes are run, as the operator set it (MCP_KV1_MERGE): "refuse" them, since v1 has no
 * check-and-set and another replica's write in between would be lost; or "local", serialised in this process only,
 * which is safe with exactly one replica. Read loosely so that a context without the setting means "refuse".
 */
export function kv1Merge(ctx: ToolContext): "refuse" | "local" {
  return ctx.settings?.kv1Merge === "local" ? "local" : "refuse";
}

/** The checked mount and path of a secret on a KV mount (v1 or v2); refuses a mount of another engine. */
export async function kvTarget(ctx: ToolContext, mountRaw: unknown, pathRaw: unknown, allowEmptyPath = false, names = { mount: "mount", path: "path" }): Promise<KvTarget> {
  const mount = safeMount(mountRaw, names.mount);
  const path = safePath(pathRaw, names.path, { allowEmpty: allowEmptyPath });
  const info = await ctx.mounts.get(mount);
  if (!info.kvVersion) {
    throw new ToolError(
      `The mount ${mount.display}/ is a ${info.type} secrets engine, not KV. Use a KV mount (list_mounts shows them) or the ${info.type} tools.`,
    );
  }
  return { mount, path, info, where: path.display ? `${mount.display}/${path.display}` : `${mount.display}/` };
}

/** The secret's live data (the latest version, or `version`), or null when there is none. */
export function readLatest(vault: VaultClient, t: KvTarget, version?: number): Promise<kv.KvSecret | null> {
  return t.info.kvVersion === 2 ? kv.readV2(vault, t, version) : kv.readV1(vault, t);
}

/** Explains a missing KV v2 secret: never written, or deleted/destroyed (and how to get it back). */
export async function missing(vault: VaultClient, t: KvTarget, version?: number): Promise<ToolError> {
  const mountArg = `mount="${t.mount.display}"`;
  if (t.info.kvVersion === 2) {
    const meta = await kv.readMetadataV2(vault, t);
    const v = version ?? meta?.current_version;
    const state = v !== undefined ? meta?.versions[String(v)] : undefined;
    if (state?.destroyed) return new ToolError(`Version ${v} of ${t.where} was destroyed and cannot be recovered. Read another version, or write a new one.`);
    if (state?.deletion_time) {
      return new ToolError(
        `Version ${v} of ${t.where} was deleted at ${state.deletion_time}. It can be recovered with \`vault kv undelete -versions=${v} ${t.where}\`, ` +
          "or read an earlier version with the version argument.",
      );
    }
    if (version !== undefined && meta) {
      return new ToolError(`${t.where} has no version ${version} (current version is ${meta.current_version}).`);
    }
  }
  return new ToolError(
    `No secret exists at ${t.where}. Use list_secrets(${mountArg}, path="${parentOf(t.path)}") to see what is there, ` +
      `or write_secret(${mountArg}, path="${t.path.display}", ...) to create it.`,
  );
}

export function parentOf(path: SafePath): string {
  return path.segments.slice(0, -1).join("/");
}

export function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function noSuchKey(t: KvTarget, key: string, data: Record<string, unknown>): ToolError {
  const keys = Object.keys(data);
  return new ToolError(`The secret ${t.where} has no key "${key}". Its keys are: ${keys.length > 0 ? keys.join(", ") : "(none)"}.`);
}

export function readCall(t: KvTarget): string {
  return `read_secret(mount="${t.mount.display}", path="${t.path.display}")`;
}

/** The command a person runs to read the secret (one key, one version) with Vault's own CLI. */
export function kvGetCommand(t: KvTarget, options: { key?: string; version?: number } = {}): string {
  const flags = [`-mount=${shellWord(t.mount.display)}`];
  if (options.version !== undefined) flags.push(`-version=${options.version}`);
  if (options.key !== undefined) flags.push(`-field=${shellWord(options.key)}`);
  return `vault kv get ${flags.join(" ")} ${shellWord(t.path.display)}`;
}

/** Where to keep secrets that several writers change: a KV v2 mount next to this one. */
export function kv2Advice(t: KvTarget): string {
  return `use a KV v2 mount, which merges safely under Vault's own lock: create_mount(path="${t.mount.display}-v2", type="kv-v2")`;
}

export const OPERATOR_NOTE = "(An operator running exactly one server replica can allow it with MCP_KV1_MERGE=local.)";

export const REPLACE_ADVICE =
  "pass replace=true to write exactly these keys as the whole secret (keys it holds now and not given here are removed)";

/** KV v1 merges are refused unless the operator said this is the only replica; `instead` is the tool's other way. */
export function kv1MergeRefused(t: KvTarget, instead: string | undefined, nothing = "Nothing was written."): ToolError {
  return new ToolError(
    `KV v1 has no check-and-set, so merging keys into ${t.where} cannot be made safe with more than one server replica: ` +
      `another replica writing this secret at the same moment could silently drop the keys given here. ${nothing} ` +
      `${instead ? `Either ${instead}, or ${kv2Advice(t)}` : `Instead, ${kv2Advice(t)}`}. ${OPERATOR_NOTE}`,
  );
}

/** Throws before anything is done when merging into `t` would be refused (KV v1 without MCP_KV1_MERGE=local). */
export function checkMergeable(ctx: ToolContext, t: KvTarget, nothing: string): void {
  if (t.info.kvVersion === 1 && kv1Merge(ctx) === "refuse") throw kv1MergeRefused(t, undefined, nothing);
}

/**
 * Merges `changes` into the secret, keeping the keys it already holds, as write_secret does: KV v2 by merge patch under
 * Vault's lock (with cas, once against that version); KV v1 only when the operator allows it, serialised in this process.
 */
export async function mergeIntoSecret(ctx: ToolContext, t: KvTarget, changes: Record<string, unknown>, cas?: number, instead?: string) {
  if (t.info.kvVersion === 2) return mergeV2(ctx.vault, t, changes, cas);
  if (kv1Merge(ctx) === "refuse") throw kv1MergeRefused(t, instead);
  const created = await kv.withV1Lock(t, async () => {
    const current = await kv.readV1(ctx.vault, t);
    await kv.putV1(ctx.vault, t, { ...(current?.data ?? {}), ...changes });
    return current === null;
  });
  return { created, version: undefined };
}

export function kv1KeyDeleteRefused(t: KvTarget): ToolError {
  return new ToolError(
    `KV v1 has no check-and-set, so removing one key from ${t.where} cannot be made safe with more than one server replica: ` +
      "it means writing the other keys back, and another replica's write in between would be lost or the key written back. Nothing was changed. " +
      `Either read it with ${readCall(t)} and write the keys to keep with write_secret(mount="${t.mount.display}", path="${t.path.display}", data={...}, replace=true), ` +
      `delete the whole secret with delete_secret(mount="${t.mount.display}", path="${t.path.display}") (no key), or ${kv2Advice(t)}. ${OPERATOR_NOTE}`,
  );
}

export function keptChanging(t: KvTarget, doing: string): ToolError {
  return new ToolError(`${t.where} kept changing while ${doing} (${kv.CAS_RETRIES} attempts); nothing was written. Retry the call.`);
}

/** Merges `changes` into a KV v2 secret; with cas, once and only against that version. */
export async function mergeV2(vault: VaultClient, t: KvTarget, changes: Record<string, unknown>, cas?: number): Promise<{ version?: number; created: boolean }> {
  if (cas === 0) return { version: (await kv.putV2(vault, t, changes, 0)) ?? 1, created: true };
  if (cas === undefined) {
    const result = await kv.mergeV2(vault, t, changes);
    if (result === kv.AGAIN) throw keptChanging(t, "writing it");
    return result;
  }
  try {
    return { version: await kv.patchV2(vault, t, changes, cas), created: false };
  } catch (err) {
    if (err instanceof VaultError && err.isNotFound) throw new ToolError(`No live secret exists at ${t.where}, so cas=${cas} cannot match. Use cas=0 to create it.`);
    throw err;
  }
}
