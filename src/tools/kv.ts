// KV secrets, v1 and v2 behind one set of tools: read_secret, write_secret, list_secrets, delete_secret.
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import type { MountInfo } from "../vault/mount-info.ts";
import { apiPath, safeMount, safePath, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { defineTool, type ToolContext } from "./registry.ts";

const MountArg = Type.String({ description: 'KV mount, e.g. "secret" (the default)', default: "secret", minLength: 1 });
const PathArg = Type.String({ description: 'Secret path inside the mount, e.g. "myapp/database"', minLength: 1 });
const KeyArg = Type.String({ description: 'One key inside the secret, e.g. "password"', minLength: 1 });
const JsonValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown())], {
  description: "A string, number, boolean, array or object; not null",
});

const CAS_RETRIES = 8;

interface KvTarget {
  mount: SafePath;
  path: SafePath;
  info: MountInfo;
  /** "secret/myapp/database", for messages. */
  where: string;
}

interface KvMetadata {
  version?: number;
  created_time?: string;
  deletion_time?: string;
  destroyed?: boolean;
  custom_metadata?: Record<string, string> | null;
}

interface KvRead {
  data: Record<string, unknown>;
  metadata?: KvMetadata;
}

async function target(ctx: ToolContext, mountRaw: unknown, pathRaw: unknown, allowEmptyPath = false): Promise<KvTarget> {
  const mount = safeMount(mountRaw, "mount");
  const path = safePath(pathRaw, "path", { allowEmpty: allowEmptyPath });
  const info = await ctx.mounts.get(mount);
  if (!info.kvVersion) {
    throw new ToolError(
      `The mount ${mount.display}/ is a ${info.type} secrets engine, not KV. Use a KV mount (list_mounts shows them) or the ${info.type} tools.`,
    );
  }
  return { mount, path, info, where: path.display ? `${mount.display}/${path.display}` : `${mount.display}/` };
}

/** The secret's latest live data, or null when there is none (never written, or its latest version deleted). */
async function readLatest(vault: VaultClient, t: KvTarget, version?: number): Promise<KvRead | null> {
  if (t.info.kvVersion === 2) {
    const res = await vault.read<{ data: Record<string, unknown> | null; metadata: KvMetadata }>(apiPath(t.mount, "data", t.path), {
      version,
    });
    if (!res?.data?.data) return null;
    return { data: res.data.data, metadata: res.data.metadata };
  }
  const res = await vault.read(apiPath(t.mount, t.path));
  return res?.data ? { data: res.data } : null;
}

/** Explains a missing KV v2 secret: never written, or deleted/destroyed (and how to get it back). */
async function missing(vault: VaultClient, t: KvTarget, version?: number): Promise<ToolError> {
  const mountArg = `mount="${t.mount.display}"`;
  if (t.info.kvVersion === 2) {
    const meta = await vault.read<{ current_version?: number; versions?: Record<string, KvMetadata> }>(apiPath(t.mount, "metadata", t.path));
    const v = version ?? meta?.data?.current_version;
    const state = v !== undefined ? meta?.data?.versions?.[String(v)] : undefined;
    if (state?.destroyed) return new ToolError(`Version ${v} of ${t.where} was destroyed and cannot be recovered. Read another version, or write a new one.`);
    if (state?.deletion_time) {
      return new ToolError(
        `Version ${v} of ${t.where} was deleted at ${state.deletion_time}. It can be recovered with \`vault kv undelete -versions=${v} ${t.where}\`, ` +
          "or read an earlier version with the version argument.",
      );
    }
    if (version !== undefined && meta?.data) {
      return new ToolError(`${t.where} has no version ${version} (current version is ${meta.data.current_version}).`);
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

const VersionInfo = {
  version: Type.Optional(Type.Integer()),
  created_time: Type.Optional(Type.String()),
};

export const readSecret = defineTool({
  name: "read_secret",
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
    data: Type.Record(Type.String(), Type.Unknown()),
    ...VersionInfo,
    kv_version: Type.Integer(),
    custom_metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const t = await target(ctx, args.mount, args.path);
    if (args.version !== undefined && t.info.kvVersion === 1) {
      throw new ToolError(`Invalid argument "version": ${t.mount.display}/ is a KV v1 mount, which keeps no versions; omit version.`);
    }
    const found = await readLatest(ctx.vault, t, args.version);
    if (!found) throw await missing(ctx.vault, t, args.version);
    let data = found.data;
    if (args.key !== undefined) {
      if (!(args.key in data)) throw noSuchKey(t, args.key, data);
      data = { [args.key]: data[args.key] };
    }
    const meta = found.metadata;
    const header = meta?.version !== undefined ? `Secret at ${t.where} (version ${meta.version}, created ${meta.created_time}):` : `Secret at ${t.where}:`;
    const lines = Object.entries(data).map(([k, v]) => `  ${k}: ${show(v)}`);
    return {
      text: `${header}\n${lines.join("\n")}`,
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

/** Per-secret queue for KV v1, which has no check-and-set: serialises this replica's read-merge-writes. */
const v1Locks = new Map<string, Promise<unknown>>();
async function withV1Lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = v1Locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  v1Locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (v1Locks.get(key) === tail) v1Locks.delete(key);
  }
}

/** Merges `changes` into a KV v2 secret with JSON merge patch (null removes a key), creating it when absent. */
async function mergeV2(vault: VaultClient, t: KvTarget, changes: Record<string, unknown>, cas?: number): Promise<{ version: number; created: boolean }> {
  const dataPath = apiPath(t.mount, "data", t.path);
  if (cas === 0) {
    const res = await vault.write<{ version: number }>(dataPath, { data: changes, options: { cas: 0 } });
    return { version: res.data?.version ?? 1, created: true };
  }
  for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
    try {
      // Vault applies the patch under its per-key lock, so concurrent writers of different keys all keep theirs.
      const res = await vault.patch<{ version: number }>(dataPath, { data: changes, ...(cas !== undefined ? { options: { cas } } : {}) });
      return { version: res.data?.version ?? 0, created: false };
    } catch (err) {
      if (!(err instanceof VaultError && err.isNotFound)) throw err;
    }
    if (cas !== undefined) throw new ToolError(`No live secret exists at ${t.where}, so cas=${cas} cannot match. Use cas=0 to create it.`);
    // Nothing to patch: create it, guarded so a concurrent creator is not overwritten (then patch again).
    const meta = await vault.read<{ current_version?: number; versions?: Record<string, KvMetadata> }>(apiPath(t.mount, "metadata", t.path));
    const current = meta?.data?.current_version ?? 0;
    const latest = meta?.data?.versions?.[String(current)];
    // Someone created it since our PATCH: patch theirs rather than write over it.
    if (current > 0 && latest && !latest.deletion_time && !latest.destroyed) continue;
    try {
      const res = await vault.write<{ version: number }>(dataPath, { data: changes, options: { cas: current } });
      return { version: res.data?.version ?? current + 1, created: true };
    } catch (err) {
      if (!(err instanceof VaultError && err.isCasMismatch)) throw err;
    }
  }
  throw new ToolError(`${t.where} kept changing while writing it (${CAS_RETRIES} attempts). Retry the call.`);
}

function casMismatch(t: KvTarget, cas: number): ToolError {
  return new ToolError(
    `Check-and-set failed: cas=${cas} does not match the current version of ${t.where}. Nothing was written. ` +
      `Read it with read_secret(mount="${t.mount.display}", path="${t.path.display}") and retry with its version.`,
  );
}

export const writeSecret = defineTool({
  name: "write_secret",
  title: "Write a secret",
  description:
    "Stores keys in a secret on a KV mount (v1 or v2). Give one key and value, or several keys in data. " +
    "The keys given are merged into the secret: other keys it already holds are kept. On KV v2 each write makes a new version; " +
    "cas makes it conditional (0 = only if the secret does not exist yet, N = only if the current version is N).",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    key: Type.Optional(KeyArg),
    value: Type.Optional(JsonValue),
    data: Type.Optional(Type.Record(Type.String({ minLength: 1 }), JsonValue, { description: 'Several keys at once, e.g. {"username": "app", "password": "..."}' })),
    cas: Type.Optional(Type.Integer({ minimum: 0, description: "KV v2 check-and-set: 0 writes only if the secret does not exist; N only if its current version is N" })),
  }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    keys_written: Type.Array(Type.String()),
    created: Type.Boolean(),
    version: Type.Optional(Type.Integer()),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const changes: Record<string, unknown> = { ...(args.data ?? {}) };
    if (args.key !== undefined || args.value !== undefined) {
      if (args.key === undefined) throw new ToolError('Invalid arguments for write_secret: "value" was given without "key"; name the key to store it under.');
      if (args.value === undefined) throw new ToolError(`Invalid arguments for write_secret: "key" was given without "value"; give the value to store at "${args.key}".`);
      if (args.key in changes) throw new ToolError(`Invalid arguments for write_secret: key "${args.key}" is given both as key and in data; give it once.`);
      changes[args.key] = args.value;
    }
    if (Object.keys(changes).length === 0) {
      throw new ToolError('Invalid arguments for write_secret: nothing to write. Give key and value (key="password", value="...") or data={"password": "..."}.');
    }
    const t = await target(ctx, args.mount, args.path);
    let version: number | undefined;
    let created: boolean;
    if (t.info.kvVersion === 2) {
      try {
        ({ version, created } = await mergeV2(ctx.vault, t, changes, args.cas));
      } catch (err) {
        if (err instanceof VaultError && err.isCasMismatch && args.cas !== undefined) throw casMismatch(t, args.cas);
        throw err;
      }
    } else {
      if (args.cas !== undefined) throw new ToolError(`Invalid argument "cas": ${t.mount.display}/ is a KV v1 mount, which has no check-and-set; omit cas.`);
      created = await withV1Lock(t.where, async () => {
        const current = await readLatest(ctx.vault, t);
        await ctx.vault.write(apiPath(t.mount, t.path), { ...(current?.data ?? {}), ...changes });
        return current === null;
      });
    }
    const keys = Object.keys(changes);
    const read = `read_secret(mount="${t.mount.display}", path="${t.path.display}")`;
    return {
      text: `Secret stored successfully at ${t.where}\n${version !== undefined ? `Version: ${version}\n` : ""}Keys written: ${keys.join(", ")}\nYou can retrieve it with: ${read}`,
      structured: { mount: t.mount.display, path: t.path.display, keys_written: keys, created, ...(version !== undefined ? { version } : {}) },
    };
  },
});

export const listSecrets = defineTool({
  name: "list_secrets",
  title: "List secrets",
  description: 'Lists the secrets and folders (ending in "/") directly under a path of a KV mount. Values are not read.',
  input: Type.Object({
    mount: MountArg,
    path: Type.String({ description: 'Folder inside the mount; "" (the default) lists the top level', default: "" }),
  }),
  output: Type.Object({ mount: Type.String(), path: Type.String(), keys: Type.Array(Type.String()) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const t = await target(ctx, args.mount, args.path, true);
    const listPath = t.info.kvVersion === 2 ? apiPath(t.mount, "metadata", t.path) : apiPath(t.mount, t.path);
    // A trailing slash asks Vault for the folder's children.
    const { keys } = await ctx.vault.list(`${listPath}/`);
    const folder = t.path.display ? `${t.where}/` : t.where;
    if (keys.length === 0) {
      return {
        text: `No secrets under ${folder}. Use write_secret(mount="${t.mount.display}", path="${t.path.display ? `${t.path.display}/` : ""}name", ...) to create one.`,
        structured: { mount: t.mount.display, path: t.path.display, keys },
      };
    }
    const lines = keys.map((k) => (k.endsWith("/") ? `- ${k} (folder)` : `- ${k}`));
    return {
      text: `${keys.length} entr${keys.length === 1 ? "y" : "ies"} under ${folder}:\n${lines.join("\n")}`,
      structured: { mount: t.mount.display, path: t.path.display, keys },
    };
  },
});

export const deleteSecret = defineTool({
  name: "delete_secret",
  title: "Delete a secret or one of its keys",
  description:
    "Without key: deletes the secret (KV v2: soft-deletes its latest version, which can be undeleted; KV v1: removes it for good). " +
    "With key: removes only that key, keeping the others (KV v2: as a new version).",
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
    recoverable: Type.Boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const t = await target(ctx, args.mount, args.path);
    const base = { mount: t.mount.display, path: t.path.display };
    if (args.key === undefined) {
      const current = await readLatest(ctx.vault, t);
      if (!current) throw await missing(ctx.vault, t);
      if (t.info.kvVersion === 2) {
        await ctx.vault.delete(apiPath(t.mount, "data", t.path));
        const v = current.metadata?.version;
        return {
          text: `Deleted version ${v} of ${t.where} (soft delete). It can be recovered with \`vault kv undelete -versions=${v} ${t.where}\`.`,
          structured: { ...base, ...(v !== undefined ? { version: v } : {}), recoverable: true },
        };
      }
      await ctx.vault.delete(apiPath(t.mount, t.path));
      return { text: `Deleted ${t.where} permanently (KV v1 keeps no versions).`, structured: { ...base, recoverable: false } };
    }
    const key = args.key;
    if (t.info.kvVersion === 2) {
      for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
        const current = await readLatest(ctx.vault, t);
        if (!current) throw await missing(ctx.vault, t);
        if (!(key in current.data)) throw noSuchKey(t, key, current.data);
        const cas = current.metadata?.version;
        try {
          const res = await ctx.vault.patch<{ version: number }>(apiPath(t.mount, "data", t.path), { data: { [key]: null }, options: { cas } });
          const v = res.data?.version;
          return {
            text: `Removed key "${key}" from ${t.where}; the other keys are kept.\nVersion: ${v} (version ${cas} still holds the old value)`,
            structured: { ...base, deleted_key: key, ...(v !== undefined ? { version: v } : {}), recoverable: true },
          };
        } catch (err) {
          if (!(err instanceof VaultError && err.isCasMismatch)) throw err;
        }
      }
      throw new ToolError(`${t.where} kept changing while removing "${key}" (${CAS_RETRIES} attempts). Retry the call.`);
    }
    return withV1Lock(t.where, async () => {
      const current = await readLatest(ctx.vault, t);
      if (!current) throw await missing(ctx.vault, t);
      if (!(key in current.data)) throw noSuchKey(t, key, current.data);
      const { [key]: _removed, ...rest } = current.data;
      await ctx.vault.write(apiPath(t.mount, t.path), rest);
      return {
        text: `Removed key "${key}" from ${t.where} permanently (KV v1); the other keys are kept.`,
        structured: { ...base, deleted_key: key, recoverable: false },
      };
    });
  },
});

export const kvTools = [readSecret, writeSecret, listSecrets, deleteSecret];
