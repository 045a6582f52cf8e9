// KV secrets, v1 and v2 behind one set of tools: read_secret, write_secret, list_secrets, delete_secret (what they share is in kv-common.ts).
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import * as kv from "../vault/kv.ts";
import { ToolError } from "./errors.ts";
import { defineTool } from "./registry.ts";
import { JsonValue, keptChanging, KeyArg, kv1KeyDeleteRefused, kv1Merge, kvGetCommand, type KvTarget, kvTarget, mergeIntoSecret, missing, MountArg, noSuchKey, PathArg, readCall, readLatest, REPLACE_ADVICE, show } from "./kv-common.ts";

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
      humanRead: () => kvGetCommand(t, { key: args.key, version: meta?.version }),
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
