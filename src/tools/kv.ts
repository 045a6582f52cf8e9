// KV secrets, v1 and v2 behind one set of tools: read_secret, write_secret, list_secrets, delete_secret; the merge others reuse.
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import * as kv from "../vault/kv.ts";
import type { MountInfo } from "../vault/mount-info.ts";
import { safeMount, safePath, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { defineTool, type ToolContext } from "./registry.ts";
import { shellWord } from "./secret-values.ts";

export const MountArg = Type.String({ description: 'KV mount, e.g. "secret" (the default)', default: "secret", minLength: 1, vault: "mount" });
export const PathArg = Type.String({ description: 'Secret path inside the mount, e.g. "myapp/database"', minLength: 1, vault: "path" });
export const KeyArg = Type.String({ description: 'One key inside the secret, e.g. "password"', minLength: 1, vault: "none" });
const JsonValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown())], {
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
function kv1Merge(ctx: ToolContext): "refuse" | "local" {
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
function readLatest(vault: VaultClient, t: KvTarget, version?: number): Promise<kv.KvSecret | null> {
  return t.info.kvVersion === 2 ? kv.readV2(vault, t, version) : kv.readV1(vault, t);
}

/** Explains a missing KV v2 secret: never written, or deleted/destroyed (and how to get it back). */
async function missing(vault: VaultClient, t: KvTarget, version?: number): Promise<ToolError> {
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

function parentOf(path: SafePath): string {
  return path.segments.slice(0, -1).join("/");
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function noSuchKey(t: KvTarget, key: string, data: Record<string, unknown>): ToolError {
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
function kv2Advice(t: KvTarget): string {
  return `use a KV v2 mount, which merges safely under Vault's own lock: create_mount(path="${t.mount.display}-v2", type="kv-v2")`;
}

const OPERATOR_NOTE = "(An operator running exactly one server replica can allow it with MCP_KV1_MERGE=local.)";

const REPLACE_ADVICE =
  "pass replace=true to write exactly these keys as the whole secret (keys it holds now and not given here are removed)";

/** KV v1 merges are refused unless the operator said this is the only replica; `instead` is the tool's other way. */
function kv1MergeRefused(t: KvTarget, instead: string | undefined, nothing = "Nothing was written."): ToolError {
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

function kv1KeyDeleteRefused(t: KvTarget): ToolError {
  return new ToolError(
    `KV v1 has no check-and-set, so removing one key from ${t.where} cannot be made safe with more than one server replica: ` +
      "it means writing the other keys back, and another replica's write in between would be lost or the key written back. Nothing was changed. " +
      `Either read it with ${readCall(t)} and write the keys to keep with write_secret(mount="${t.mount.display}", path="${t.path.display}", data={...}, replace=true), ` +
      `delete the whole secret with delete_secret(mount="${t.mount.display}", path="${t.path.display}") (no key), or ${kv2Advice(t)}. ${OPERATOR_NOTE}`,
  );
}

const VersionInfo = {
  version: Type.Optional(Type.Integer()),
  created_time: Type.Optional(Type.String()),
};

export const readSecret = defineTool({
  name: "read_secret",
  toolset: "kv",
  title: "Read a secret",
  description:
    "Reads a secret from a KV mount (v1 or v2, detected automatically): all its keys, or one key. " +
    "For KV v2 it returns version metadata and can read an older version.",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    version: Type.Optional(Type.Integer({ minimum: 1, description: "KV v2 only: read this version instead of the latest" })),
    key: Type.Optional(KeyArg),
  }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown({ sensitive: true })),
    ...VersionInfo,
    kv_version: Type.Integer(),
    custom_metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path);
    if (args.version !== undefined && t.info.kvVersion === 1) {
      throw new ToolError(`Invalid argument "version": ${t.mount.display}/ is a KV v1 mount, which keeps no versions; omit version.`);
    }
    const found = await readLatest(ctx.vault, t, args.version);
    if (!found) throw await missing(ctx.vault, t, args.version);
    let data = found.data;
    if (args.key !== undefined) {
      if (!kv.hasKey(data, args.key)) throw noSuchKey(t, args.key, data);
      data = kv.withKey({}, args.key, data[args.key]);
    }
    const meta = found.metadata;
    const header = meta?.version !== undefined ? `Secret at ${t.where} (version ${meta.version}, created ${meta.created_time}):` : `Secret at ${t.where}:`;
    return {
      // From the view: the values as the operator lets the model see them.
      text: (view) => `${header}\n${Object.entries(view.data).map(([k, v]) => `  ${k}: ${show(v)}`).join("\n")}`,
      humanRead: kvGetCommand(t, { key: args.key, version: meta?.version }),
      structured: {
        mount: t.mount.display,
        path: t.path.display,
        data,
        kv_version: t.info.kvVersion as number,
        ...(meta?.version !== undefined ? { version: meta.version, created_time: meta.created_time } : {}),
        ...(meta?.custom_metadata ? { custom_metadata: meta.custom_metadata } : {}),
      },
    };
  },
});

function keptChanging(t: KvTarget, doing: string): ToolError {
  return new ToolError(`${t.where} kept changing while ${doing} (${kv.CAS_RETRIES} attempts); nothing was written. Retry the call.`);
}

/** Merges `changes` into a KV v2 secret; with cas, once and only against that version. */
async function mergeV2(vault: VaultClient, t: KvTarget, changes: Record<string, unknown>, cas?: number): Promise<{ version?: number; created: boolean }> {
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

async function replace(vault: VaultClient, t: KvTarget, data: Record<string, unknown>, cas?: number): Promise<kv.Replaced> {
  if (t.info.kvVersion === 1) return kv.replaceV1(vault, t, data);
  const result = await kv.replaceV2(vault, t, data, cas);
  if (result === kv.AGAIN) throw keptChanging(t, "replacing it");
  return result;
}

function casMismatch(t: KvTarget, cas: number): ToolError {
  return new ToolError(
    `Check-and-set failed: cas=${cas} does not match the current version of ${t.where}. Nothing was written. ` +
      `Read it with ${readCall(t)} and retry with its version.`,
  );
}

export const writeSecret = defineTool({
  name: "write_secret",
  toolset: "kv",
  title: "Write a secret",
  description:
    "Stores keys in a secret on a KV mount (v1 or v2). Give one key and value, or several keys in data. " +
    "The keys given are merged into the secret: other keys it already holds are kept. On KV v2 each write makes a new version; " +
    "cas makes it conditional (0 = only if the secret does not exist yet, N = only if the current version is N). " +
    "replace=true writes exactly the keys given as the whole secret instead. KV v1 cannot merge safely (no check-and-set): use replace=true there.",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    key: Type.Optional(KeyArg),
    value: Type.Optional(JsonValue),
    data: Type.Optional(Type.Record(Type.String({ minLength: 1 }), JsonValue, { description: 'Several keys at once, e.g. {"username": "app", "password": "..."}' })),
    cas: Type.Optional(Type.Integer({ minimum: 0, description: "KV v2 check-and-set: 0 writes only if the secret does not exist; N only if its current version is N" })),
    replace: Type.Optional(
      Type.Boolean({
        description: "Write exactly these keys as the whole secret, removing the others it holds (KV v2: as a new version, the old one is kept). Needed on KV v1",
      }),
    ),
  }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    keys_written: Type.Array(Type.String()),
    created: Type.Boolean(),
    version: Type.Optional(Type.Integer()),
    replaced: Type.Optional(Type.Boolean()),
    keys_removed: Type.Optional(Type.Array(Type.String())),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    // Spread and withKey copy own properties only, so "__proto__" is a key like any other, never the prototype.
    let changes: Record<string, unknown> = { ...(args.data ?? {}) };
    if (args.key !== undefined || args.value !== undefined) {
      if (args.key === undefined) throw new ToolError('Invalid arguments for write_secret: "value" was given without "key"; name the key to store it under.');
      if (args.value === undefined) throw new ToolError(`Invalid arguments for write_secret: "key" was given without "value"; give the value to store at "${args.key}".`);
      if (kv.hasKey(changes, args.key)) throw new ToolError(`Invalid arguments for write_secret: key "${args.key}" is given both as key and in data; give it once.`);
      changes = kv.withKey(changes, args.key, args.value);
    }
    const keys = Object.keys(changes);
    if (keys.length === 0) {
      throw new ToolError('Invalid arguments for write_secret: nothing to write. Give key and value (key="password", value="...") or data={"password": "..."}.');
    }
    const t = await kvTarget(ctx, args.mount, args.path);
    const v1 = t.info.kvVersion === 1;
    if (v1 && args.cas !== undefined) throw new ToolError(`Invalid argument "cas": ${t.mount.display}/ is a KV v1 mount, which has no check-and-set; omit cas.`);
    const base = { mount: t.mount.display, path: t.path.display, keys_written: keys };
    try {
      if (args.replace) {
        const r = await replace(ctx.vault, t, changes, args.cas);
        const removed = r.removed.length === 0 ? "" : `\nKeys removed (${r.previous !== undefined ? `still in version ${r.previous}` : "held just before the write"}): ${r.removed.join(", ")}`;
        return {
          text:
            `Replaced the whole secret at ${t.where}${r.version !== undefined ? ` with version ${r.version}` : ""}${r.created ? " (it did not exist before)" : ""}; ` +
            `it now holds exactly: ${keys.join(", ")}${removed}\nYou can retrieve it with: ${readCall(t)}`,
          structured: { ...base, created: r.created, ...(r.version !== undefined ? { version: r.version } : {}), replaced: true, keys_removed: r.removed },
        };
      }
      const { version, created } = await mergeIntoSecret(ctx, t, changes, args.cas, REPLACE_ADVICE);
      return {
        text: `Secret stored successfully at ${t.where}\n${version !== undefined ? `Version: ${version}\n` : ""}Keys written: ${keys.join(", ")}\nYou can retrieve it with: ${readCall(t)}`,
        structured: { ...base, created, ...(version !== undefined ? { version } : {}) },
      };
    } catch (err) {
      if (err instanceof VaultError && err.isCasMismatch && args.cas !== undefined) throw casMismatch(t, args.cas);
      throw err;
    }
  },
});

export const listSecrets = defineTool({
  name: "list_secrets",
  toolset: "kv",
  title: "List secrets",
  description: 'Lists the secrets and folders (ending in "/") directly under a path of a KV mount. Values are not read.',
  input: Type.Object({
    mount: MountArg,
    path: Type.String({ description: 'Folder inside the mount; "" (the default) lists the top level', default: "", vault: "path", vaultList: true }),
  }),
  output: Type.Object({ mount: Type.String(), path: Type.String(), keys: Type.Array(Type.String({ vault: "entry" })) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path, true);
    const { keys } = await ctx.vault.list(kv.listPath(t, t.info.kvVersion as 1 | 2));
    const folder = t.path.display ? `${t.where}/` : t.where;
    if (keys.length === 0) {
      return {
        text: `No secrets under ${folder}. Use write_secret(mount="${t.mount.display}", path="${t.path.display ? `${t.path.display}/` : ""}name", ...) to create one.`,
        structured: { mount: t.mount.display, path: t.path.display, keys },
      };
    }
    // Rendered from the view: a policy may show fewer entries than Vault listed.
    const render = (view: { keys: string[] }) => {
      const shown = view.keys;
      if (shown.length === 0) return `Nothing under ${folder} that you may see.`;
      const lines = shown.map((k) => (k.endsWith("/") ? `- ${k} (folder)` : `- ${k}`));
      return `${shown.length} entr${shown.length === 1 ? "y" : "ies"} under ${folder}:\n${lines.join("\n")}`;
    };
    return { text: render, structured: { mount: t.mount.display, path: t.path.display, keys } };
  },
});

/** KV v2: soft-deletes exactly the latest version it read, then reads the metadata to say what is live now. */
async function deleteLatestV2(vault: VaultClient, t: KvTarget) {
  const current = await kv.readV2(vault, t);
  if (!current) throw await missing(vault, t);
  const v = current.metadata?.version;
  if (v === undefined) throw new ToolError(`Vault's answer for ${t.where} named no version, so nothing was deleted. Retry the call.`);
  await kv.deleteVersionsV2(vault, t, [v]);
  let text = `Deleted version ${v} of ${t.where} (soft delete). It can be recovered with \`vault kv undelete -versions=${v} ${t.where}\`.`;
  let newer: number | undefined;
  try {
    const meta = await kv.readMetadataV2(vault, t);
    const state = meta?.versions[String(v)];
    if (state && !state.deletion_time && !state.destroyed) {
      throw new ToolError(
        `Vault answered the request to delete version ${v} of ${t.where}, but its metadata shows version ${v} is not deleted ` +
          `(undeleted since, or the delete was not applied). Check with ${readCall(t)} before retrying.`,
      );
    }
    const latest = meta?.current_version ?? v;
    // A writer may have made a newer version between our read and the delete: the secret then still reads as live.
    if (latest > v && kv.isLive(meta?.versions[String(latest)])) {
      newer = latest;
      text +=
        `\nA newer version ${latest} was written meanwhile and is not deleted: ${t.where} still has live data. ` +
        `Call delete_secret again to delete it too, or ${readCall(t)} to see it.`;
    }
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    text += `\nWhether a newer version was written meanwhile could not be checked (${err.message}); ${readCall(t)} shows what is live now.`;
  }
  return { text, version: v, newer };
}

export const deleteSecret = defineTool({
  name: "delete_secret",
  toolset: "kv",
  title: "Delete a secret or one of its keys",
  description:
    "Without key: deletes the secret (KV v2: soft-deletes its latest version, which can be undeleted; KV v1: removes it for good). " +
    "With key: removes only that key, keeping the others (KV v2: as a new version; KV v1 cannot do this safely with several server replicas).",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    key: Type.Optional(KeyArg),
  }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    deleted_key: Type.Optional(Type.String()),
    version: Type.Optional(Type.Integer()),
    newer_version: Type.Optional(Type.Integer({ description: "KV v2: a version written while deleting, still live" })),
    recoverable: Type.Boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path);
    const base = { mount: t.mount.display, path: t.path.display };
    if (args.key === undefined) {
      if (t.info.kvVersion === 2) {
        const d = await deleteLatestV2(ctx.vault, t);
        return { text: d.text, structured: { ...base, version: d.version, ...(d.newer !== undefined ? { newer_version: d.newer } : {}), recoverable: true } };
      }
      // In this replica's queue, so that no merge that read the secret before the delete writes it back after.
      return kv.withV1Lock(t, async () => {
        if (!(await kv.readV1(ctx.vault, t))) throw await missing(ctx.vault, t);
        await kv.deleteV1(ctx.vault, t);
        return { text: `Deleted ${t.where} permanently (KV v1 keeps no versions).`, structured: { ...base, recoverable: false } };
      });
    }
    const key = args.key;
    if (t.info.kvVersion === 2) {
      const result = await kv.untilCasHolds(async () => {
        const current = await kv.readV2(ctx.vault, t);
        if (!current) throw await missing(ctx.vault, t);
        if (!kv.hasKey(current.data, key)) throw noSuchKey(t, key, current.data);
        const cas = current.metadata?.version;
        return { cas, version: await kv.patchV2(ctx.vault, t, kv.withKey({}, key, null), cas) };
      });
      if (result === kv.AGAIN) throw new ToolError(`${t.where} kept changing while removing "${key}" (${kv.CAS_RETRIES} attempts); nothing was removed. Retry the call.`);
      const v = result.version;
      return {
        text: `Removed key "${key}" from ${t.where}; the other keys are kept.\nVersion: ${v} (version ${result.cas} still holds the old value)`,
        structured: { ...base, deleted_key: key, ...(v !== undefined ? { version: v } : {}), recoverable: true },
      };
    }
    if (kv1Merge(ctx) === "refuse") throw kv1KeyDeleteRefused(t);
    return kv.withV1Lock(t, async () => {
      const current = await kv.readV1(ctx.vault, t);
      if (!current) throw await missing(ctx.vault, t);
      if (!kv.hasKey(current.data, key)) throw noSuchKey(t, key, current.data);
      await kv.putV1(ctx.vault, t, kv.withoutKey(current.data, key));
      return {
        text: `Removed key "${key}" from ${t.where} permanently (KV v1); the other keys are kept.`,
        structured: { ...base, deleted_key: key, recoverable: false },
      };
    });
  },
});

export const kvTools = [readSecret, writeSecret, listSecrets, deleteSecret];
