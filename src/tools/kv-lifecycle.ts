// KV v2 lifecycle: a secret's metadata and settings, merge patches, and deleting, undeleting, destroying and rolling back versions.
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import * as kv from "../vault/kv.ts";
import { safePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { type KvTarget, kvTarget, MountArg, PathArg, readCall } from "./kv.ts";
import { defineTool, type ToolContext } from "./registry.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const VersionsArg = Type.Array(Type.Integer({ minimum: 1 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
  description: "Version numbers, e.g. [1, 2] (read_secret_metadata lists them)",
});

const metadataCall = (t: KvTarget) => `read_secret_metadata(mount="${t.mount.display}", path="${t.path.display}")`;

/** These tools work on KV v2's versions and metadata: a KV v1 mount is refused before anything is sent. */
async function kv2Target(ctx: ToolContext, args: { mount: string; path: string }, tool: string, instead: string): Promise<KvTarget> {
  const t = await kvTarget(ctx, args.mount, args.path);
  if (t.info.kvVersion !== 2) {
    throw new ToolError(`${tool} needs a KV v2 mount, and ${t.mount.display}/ is KV v1, which keeps no versions or metadata. Nothing was changed. ${instead}`);
  }
  return t;
}

/** The secret's metadata, or a ToolError saying there is no such secret. */
async function existing(vault: VaultClient, t: KvTarget, nothing: string): Promise<kv.KvFullMetadata> {
  const meta = await kv.readFullMetadataV2(vault, t);
  if (!meta) {
    throw new ToolError(
      `No secret exists at ${t.where}, so ${nothing}. Use list_secrets(mount="${t.mount.display}") to see what is there, or write_secret to create it.`,
    );
  }
  return meta;
}

const VersionEntry = Type.Object({
  version: Type.Integer(),
  state: Type.Union([Type.Literal("live"), Type.Literal("deleted"), Type.Literal("destroyed")]),
  created_time: Type.Optional(Type.String()),
  deletion_time: Type.Optional(Type.String({ description: "When it was (or, with delete_version_after, will be) deleted" })),
  destroyed: Type.Optional(Type.Boolean()),
});

function versionEntries(meta: kv.KvMetadata) {
  return Object.entries(meta.versions)
    .map(([v, s]) => ({
      version: Number(v),
      state: kv.versionState(s) as "live" | "deleted" | "destroyed",
      ...(s.created_time ? { created_time: s.created_time } : {}),
      ...(s.deletion_time ? { deletion_time: s.deletion_time } : {}),
      ...(s.destroyed !== undefined ? { destroyed: s.destroyed } : {}),
    }))
    .sort((a, b) => a.version - b.version);
}

/** A secret's metadata, never its values: KV v2's metadata endpoint; on KV v1 only whether its folder lists it. */
export const readSecretMetadata = defineTool({
  name: "read_secret_metadata",
  toolset: "kv",
  title: "Read a secret's metadata",
  description:
    "Reads a KV v2 secret's metadata, never its values: current and oldest version, created and updated time, max_versions, cas_required, " +
    "delete_version_after, custom_metadata, and every version's state (live, deleted, destroyed). On KV v1, which keeps no metadata, it says only whether the secret exists.",
  input: Type.Object({ mount: MountArg, path: PathArg }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    kv_version: Type.Integer(),
    exists: Type.Boolean(),
    current_version: Type.Optional(Type.Integer()),
    oldest_version: Type.Optional(Type.Integer()),
    created_time: Type.Optional(Type.String()),
    updated_time: Type.Optional(Type.String()),
    max_versions: Type.Optional(Type.Integer({ description: "0: the mount's setting (10 unless changed)" })),
    cas_required: Type.Optional(Type.Boolean()),
    delete_version_after: Type.Optional(Type.String({ description: '"0s": versions are never deleted by age' })),
    custom_metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
    versions: Type.Optional(Type.Array(VersionEntry)),
  }),
  annotations: READ_ONLY,
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path);
    const base = { mount: t.mount.display, path: t.path.display };
    if (t.info.kvVersion === 2) {
      const meta = await kv.readFullMetadataV2(ctx.vault, t);
      if (!meta) {
        return {
          text: `No secret at ${t.where} (no metadata). write_secret(mount="${t.mount.display}", path="${t.path.display}", ...) creates it.`,
          structured: { ...base, kv_version: 2, exists: false },
        };
      }
      const versions = versionEntries(meta);
      const count = (s: string) => versions.filter((v) => v.state === s).length;
      const settings = {
        ...(meta.oldest_version !== undefined ? { oldest_version: meta.oldest_version } : {}),
        ...(meta.created_time ? { created_time: meta.created_time } : {}),
        ...(meta.updated_time ? { updated_time: meta.updated_time } : {}),
        ...(meta.max_versions !== undefined ? { max_versions: meta.max_versions } : {}),
        ...(meta.cas_required !== undefined ? { cas_required: meta.cas_required } : {}),
        ...(meta.delete_version_after !== undefined ? { delete_version_after: meta.delete_version_after } : {}),
        ...(meta.custom_metadata ? { custom_metadata: meta.custom_metadata } : {}),
      };
      const custom = Object.entries(meta.custom_metadata ?? {});
      const text =
        `${t.where} is at version ${meta.current_version} (oldest kept: ${meta.oldest_version ?? "?"}; ${count("live")} live, ${count("deleted")} deleted, ${count("destroyed")} destroyed).\n` +
        versions.map((v) => `  v${v.version}: ${v.state}${v.created_time ? `, created ${v.created_time}` : ""}${v.state === "deleted" ? `, deleted ${v.deletion_time}` : ""}`).join("\n") +
        `\nSettings: max_versions=${meta.max_versions ?? 0}, cas_required=${meta.cas_required ?? false}, delete_version_after=${meta.delete_version_after ?? "0s"}` +
        (custom.length > 0 ? `; custom_metadata: ${custom.map(([k, v]) => `${k}=${v}`).join(", ")}` : "") +
        `\nIts values are not part of this answer: ${readCall(t)} reads them.`;
      return { text, structured: { ...base, kv_version: 2, exists: true, current_version: meta.current_version, ...settings, versions } };
    }
    // KV v1 keeps no metadata: whether the secret exists is read from its folder's listing, not from its values.
    const segments = t.path.segments;
    const folder = safePath(segments.slice(0, -1).join("/"), "path", { allowEmpty: true });
    const { keys } = await ctx.vault.list(kv.listPath({ mount: t.mount, path: folder }, 1));
    const exists = keys.includes(segments[segments.length - 1]!);
    return { text: exists ? `${t.where} exists (KV v1 keeps no versions or metadata).` : `No secret at ${t.where}.`, structured: { ...base, kv_version: 1, exists } };
  },
});

const SettingsOut = {
  max_versions: Type.Integer(),
  cas_required: Type.Boolean(),
  delete_version_after: Type.String(),
  custom_metadata: Type.Record(Type.String(), Type.String()),
};

export const writeSecretMetadata = defineTool({
  name: "write_secret_metadata",
  toolset: "kv",
  title: "Change a secret's metadata settings",
  description:
    "KV v2: sets a secret's max_versions, cas_required, delete_version_after and custom_metadata; settings not given are kept. " +
    "custom_metadata replaces the whole set of custom keys ({} clears it). Works before the secret's first version too. Values are never touched.",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    max_versions: Type.Optional(Type.Integer({ minimum: 0, description: "Versions to keep; older ones are destroyed. 0: the mount's setting" })),
    cas_required: Type.Optional(Type.Boolean({ description: "Every write to this secret must give cas" })),
    delete_version_after: Type.Optional(Type.String({ minLength: 1, description: 'Soft-delete each version this long after it is written, e.g. "720h"; "0s" turns it off' })),
    custom_metadata: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 512 }), { maxProperties: 64, description: 'Non-secret labels, e.g. {"owner": "team-a"}' }),
    ),
  }),
  output: Type.Object({ mount: Type.String(), path: Type.String(), changed: Type.Array(Type.String()), ...SettingsOut }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const settings: kv.KvMetadataSettings = {
      ...(args.max_versions !== undefined ? { max_versions: args.max_versions } : {}),
      ...(args.cas_required !== undefined ? { cas_required: args.cas_required } : {}),
      ...(args.delete_version_after !== undefined ? { delete_version_after: args.delete_version_after } : {}),
      ...(args.custom_metadata !== undefined ? { custom_metadata: { ...args.custom_metadata } } : {}),
    };
    const changed = Object.keys(settings);
    if (changed.length === 0) {
      throw new ToolError("Invalid arguments for write_secret_metadata: nothing to change. Give max_versions, cas_required, delete_version_after or custom_metadata.");
    }
    const t = await kv2Target(ctx, args, "write_secret_metadata", "KV v1 has no settings per secret.");
    await kv.writeMetadataV2(ctx.vault, t, settings);
    // Read back: "set" only for what Vault now holds.
    const meta = await kv.readFullMetadataV2(ctx.vault, t);
    if (!meta) throw new ToolError(`Vault accepted the metadata for ${t.where}, but reading it back found none. Check with ${metadataCall(t)}.`);
    const now = {
      max_versions: meta.max_versions ?? 0,
      cas_required: meta.cas_required ?? false,
      delete_version_after: meta.delete_version_after ?? "0s",
      custom_metadata: meta.custom_metadata ?? {},
    };
    const differs = changed.filter((k) =>
      k === "custom_metadata"
        ? JSON.stringify(Object.entries(now.custom_metadata).sort()) !== JSON.stringify(Object.entries(settings.custom_metadata ?? {}).sort())
        : k === "delete_version_after"
          ? false // Vault normalises durations ("1h" reads back as "1h0m0s").
          : now[k as "max_versions" | "cas_required"] !== settings[k as "max_versions" | "cas_required"],
    );
    if (differs.length > 0) {
      throw new ToolError(`Vault accepted the metadata for ${t.where}, but reading it back shows other values for: ${differs.join(", ")} (another writer?). Check with ${metadataCall(t)}.`);
    }
    const custom = Object.entries(now.custom_metadata);
    return {
      text:
        `Metadata of ${t.where} set (${changed.join(", ")}). It now reads: max_versions=${now.max_versions}, cas_required=${now.cas_required}, ` +
        `delete_version_after=${now.delete_version_after}, custom_metadata: ${custom.length > 0 ? custom.map(([k, v]) => `${k}=${v}`).join(", ") : "(none)"}.`,
      structured: { mount: t.mount.display, path: t.path.display, changed, ...now },
    };
  },
});

/** A JSON value a merge patch may carry, null included (it removes the key). */
const PatchValue = Type.Union([Type.Null(), Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown())], {
  description: "A value, an object merged key by key (nested nulls remove nested keys), or null to remove the key",
  type: ["null", "string", "number", "boolean", "array", "object"],
  sensitive: true,
});

/**
 * Where `value` holds, inside an array, an object with a null member: RFC 7396 stores such an array as given, but
 * Vault's merge patch drops those members, so the secret would not hold what was sent.
 */
function nullInArray(value: unknown, at: string, inArray = false): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nullInArray(item, `${at}[${i}]`, true);
      if (found) return found;
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (v === null && inArray) return `${at}.${k}`;
      const found = nullInArray(v, `${at}.${k}`, inArray);
      if (found) return found;
    }
  }
  return undefined;
}

export const patchSecret = defineTool({
  name: "patch_secret",
  toolset: "kv",
  title: "Patch a secret (JSON merge patch)",
  description:
    "KV v2: applies data to the latest version as a JSON merge patch (RFC 7396) under Vault's lock, writing a new version: objects are merged key by key at every depth, " +
    "a null value removes that key (nested too), any other value (arrays included) replaces what is there. Unlike write_secret, nested objects are merged, not replaced. " +
    "The secret must exist (write_secret creates it). cas=N applies only if the current version is N. KV v1 has no patch: use write_secret.",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    data: Type.Record(Type.String({ minLength: 1 }), PatchValue, { minProperties: 1, description: 'The merge patch, e.g. {"db": {"port": 5433}, "old_key": null}' }),
    cas: Type.Optional(Type.Integer({ minimum: 1, description: "Check-and-set: apply only if the current version is N" })),
  }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    version: Type.Integer(),
    keys_set: Type.Array(Type.String()),
    keys_removed: Type.Array(Type.String()),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path);
    if (t.info.kvVersion !== 2) {
      throw new ToolError(
        `patch_secret needs KV v2, and ${t.mount.display}/ is a KV v1 mount, which has no merge patch. Nothing was written. ` +
          `Use write_secret(mount="${t.mount.display}", path="${t.path.display}", data={...}, replace=true) to write the whole secret instead.`,
      );
    }
    const patch: Record<string, unknown> = { ...args.data };
    for (const [k, v] of Object.entries(patch)) {
      const at = nullInArray(v, k);
      if (at) {
        throw new ToolError(
          `Invalid argument "data": ${at} is a null inside an object inside an array. A merge patch stores arrays as given, but Vault drops such nulls, ` +
            "so the secret would not hold what was sent. Nothing was written. Leave that member out (or give it a value), or write the array with write_secret.",
        );
      }
    }
    let version: number | undefined;
    try {
      version = await kv.mergePatchV2(ctx.vault, t, patch, args.cas);
    } catch (err) {
      if (err instanceof VaultError && err.isNotFound) {
        throw new ToolError(
          `No live secret at ${t.where} to patch (never written, or its latest version is deleted or destroyed). Nothing was written. ` +
            `${metadataCall(t)} shows its versions; write_secret creates it, undelete_secret_versions recovers a deleted version.`,
        );
      }
      if (err instanceof VaultError && err.isCasMismatch && args.cas !== undefined) {
        throw new ToolError(`Check-and-set failed: cas=${args.cas} does not match the current version of ${t.where}. Nothing was written. ${metadataCall(t)} shows the current version.`);
      }
      throw err;
    }
    if (version === undefined) throw new ToolError(`Vault answered the patch of ${t.where} without a version, so whether it took is not known. Check with ${metadataCall(t)}.`);
    const keys = Object.keys(patch);
    const removed = keys.filter((k) => patch[k] === null);
    const set = keys.filter((k) => patch[k] !== null);
    return {
      text:
        `Patched ${t.where}: version ${version}.${set.length > 0 ? ` Keys set or merged: ${set.join(", ")}.` : ""}${removed.length > 0 ? ` Keys removed: ${removed.join(", ")}.` : ""} ` +
        `Version ${version - 1} still holds the data before the patch. You can retrieve it with: ${readCall(t)}`,
      structured: { mount: t.mount.display, path: t.path.display, version, keys_set: set, keys_removed: removed },
    };
  },
});

type VersionOp = "delete" | "undelete" | "destroy";

const VersionsOut = Type.Object({
  mount: Type.String(),
  path: Type.String(),
  versions: Type.Array(Type.Integer()),
  current_version: Type.Integer(),
  states: Type.Array(VersionEntry),
});

/** Runs one of KV v2's version operations on exactly `versions`, refusing ones it cannot apply, then reads back each one's state. */
async function onVersions(ctx: ToolContext, args: { mount: string; path: string; versions: number[] }, op: VersionOp) {
  const tool = `${op}_secret_versions`;
  const t = await kv2Target(ctx, args, tool, op === "destroy" ? "delete_secret removes a KV v1 secret for good." : "delete_secret removes a KV v1 secret.");
  const versions = [...new Set(args.versions)].sort((a, b) => a - b);
  const before = await existing(ctx.vault, t, "nothing was changed");
  const unknown = versions.filter((v) => !before.versions[String(v)]);
  if (unknown.length > 0) {
    const kept = Object.keys(before.versions).join(", ") || "none";
    throw new ToolError(`${t.where} keeps no version ${unknown.join(", ")} (versions kept: ${kept}). Nothing was changed. ${metadataCall(t)} lists them.`);
  }
  if (op === "undelete") {
    const gone = versions.filter((v) => before.versions[String(v)]?.destroyed);
    if (gone.length > 0) throw new ToolError(`Version ${gone.join(", ")} of ${t.where} was destroyed and cannot be recovered. Nothing was changed; undelete the other versions alone.`);
  }
  if (op === "delete") await kv.deleteVersionsV2(ctx.vault, t, versions);
  else if (op === "undelete") await kv.undeleteVersionsV2(ctx.vault, t, versions);
  else await kv.destroyVersionsV2(ctx.vault, t, versions);
  const after = await kv.readFullMetadataV2(ctx.vault, t);
  const states = after ? versionEntries(after).filter((e) => versions.includes(e.version)) : [];
  const took = (e: (typeof states)[number]) => (op === "destroy" ? e.state === "destroyed" : op === "delete" ? e.state !== "live" || !!e.deletion_time : e.state === "live" && !e.deletion_time);
  const missed = versions.filter((v) => !states.some((e) => e.version === v && took(e)));
  if (missed.length > 0) {
    throw new ToolError(
      `Vault accepted the request to ${op} version ${versions.join(", ")} of ${t.where}, but its metadata shows version ${missed.join(", ")} not ${op}d ` +
        `(another writer since, or not applied). Check with ${metadataCall(t)} before retrying.`,
    );
  }
  return { t, versions, states, current: after?.current_version ?? before.current_version };
}

function versionsTool(op: VersionOp, title: string, description: string, annotations: { destructiveHint: boolean }, said: (where: string, list: string, t: KvTarget) => string) {
  return defineTool({
    name: `${op}_secret_versions`,
    toolset: "kv",
    title,
    description,
    input: Type.Object({ mount: MountArg, path: PathArg, versions: VersionsArg }),
    output: VersionsOut,
    annotations: { readOnlyHint: false, destructiveHint: annotations.destructiveHint, idempotentHint: true, openWorldHint: false },
    async run(args, ctx) {
      const { t, versions, states, current } = await onVersions(ctx, args, op);
      const list = versions.join(", ");
      return {
        text: `${said(t.where, list, t)}\nCurrent version: ${current}; ${metadataCall(t)} shows every version's state.`,
        structured: { mount: t.mount.display, path: t.path.display, versions, current_version: current, states },
      };
    },
  });
}

export const deleteSecretVersions = versionsTool(
  "delete",
  "Soft-delete versions of a secret",
  "KV v2: soft-deletes exactly these versions of a secret: their data can no longer be read, but undelete_secret_versions recovers it. Other versions are untouched.",
  { destructiveHint: true },
  (where, list, t) => `Deleted version ${list} of ${where} (soft delete). undelete_secret_versions(mount="${t.mount.display}", path="${t.path.display}", versions=[${list}]) recovers them.`,
);

export const undeleteSecretVersions = versionsTool(
  "undelete",
  "Recover soft-deleted versions of a secret",
  "KV v2: recovers soft-deleted versions of a secret, so their data can be read again. A destroyed version cannot be recovered.",
  { destructiveHint: false },
  (where, list) => `Undeleted version ${list} of ${where}: their data can be read again.`,
);

export const destroySecretVersions = versionsTool(
  "destroy",
  "Destroy versions of a secret permanently",
  "KV v2: permanently destroys the data of these versions of a secret. This cannot be undone: a destroyed version can never be read or recovered " +
    "(its metadata stays, marked destroyed). Use delete_secret_versions for a recoverable delete.",
  { destructiveHint: true },
  (where, list) => `Destroyed version ${list} of ${where} permanently; their data cannot be recovered.`,
);

export const deleteSecretMetadata = defineTool({
  name: "delete_secret_metadata",
  toolset: "kv",
  title: "Delete a secret with all its versions permanently",
  description:
    "KV v2: permanently deletes a secret's metadata and every one of its versions. This cannot be undone: no version can be read or recovered afterwards. " +
    "delete_secret (the latest version) and delete_secret_versions are recoverable deletes.",
  input: Type.Object({ mount: MountArg, path: PathArg }),
  output: Type.Object({ mount: Type.String(), path: Type.String(), versions_deleted: Type.Integer({ description: "How many versions Vault kept before" }), current_version: Type.Integer() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const t = await kv2Target(ctx, args, "delete_secret_metadata", "delete_secret removes a KV v1 secret for good.");
    const before = await existing(ctx.vault, t, "nothing was deleted");
    await kv.deleteMetadataV2(ctx.vault, t);
    if (await kv.readFullMetadataV2(ctx.vault, t)) {
      throw new ToolError(`Vault accepted deleting ${t.where}, but its metadata is still there (written again since?). Check with ${metadataCall(t)}.`);
    }
    const count = Object.keys(before.versions).length;
    return {
      text: `Deleted ${t.where} permanently: its metadata and all ${count} version${count === 1 ? "" : "s"} (up to version ${before.current_version}). This cannot be undone.`,
      structured: { mount: t.mount.display, path: t.path.display, versions_deleted: count, current_version: before.current_version },
    };
  },
});

export const rollbackSecret = defineTool({
  name: "rollback_secret",
  toolset: "kv",
  title: "Roll a secret back to an earlier version",
  description:
    "KV v2: writes the data of an earlier version as a new version, with check-and-set against the current one, so nothing written meanwhile is overwritten unseen. " +
    "Earlier versions are kept. The values are not returned; read_secret reads them.",
  input: Type.Object({ mount: MountArg, path: PathArg, version: Type.Integer({ minimum: 1, description: "The version whose data becomes the new version" }) }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    version: Type.Integer({ description: "The new version" }),
    rolled_back_to: Type.Integer(),
    previous_version: Type.Integer(),
    keys_restored: Type.Array(Type.String()),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const t = await kv2Target(ctx, args, "rollback_secret", "write_secret writes the whole secret.");
    const target = args.version;
    const result = await kv.untilCasHolds(async () => {
      const meta = await existing(ctx.vault, t, "nothing was written");
      const state = kv.versionState(meta.versions[String(target)]);
      if (state === "unknown") throw new ToolError(`${t.where} keeps no version ${target} (current version is ${meta.current_version}). Nothing was written. ${metadataCall(t)} lists the versions.`);
      if (state === "destroyed") throw new ToolError(`Version ${target} of ${t.where} was destroyed, so its data cannot be rolled back to. Nothing was written.`);
      if (state === "deleted") {
        throw new ToolError(
          `Version ${target} of ${t.where} is deleted. Nothing was written. Recover it first with undelete_secret_versions(mount="${t.mount.display}", path="${t.path.display}", versions=[${target}]).`,
        );
      }
      if (target === meta.current_version) throw new ToolError(`Version ${target} is already the current version of ${t.where}; nothing was written.`);
      const old = await kv.readV2(ctx.vault, t, target);
      if (!old) return kv.AGAIN;
      const version = await kv.putV2(ctx.vault, t, old.data, meta.current_version);
      return { version, previous: meta.current_version, keys: Object.keys(old.data) };
    });
    if (result === kv.AGAIN) throw new ToolError(`${t.where} kept changing while rolling back (${kv.CAS_RETRIES} attempts); nothing was written. Retry the call.`);
    if (result.version === undefined) throw new ToolError(`Vault answered the rollback of ${t.where} without a version, so whether it took is not known. Check with ${metadataCall(t)}.`);
    return {
      text:
        `Rolled ${t.where} back to version ${target}: its data is now version ${result.version} (keys: ${result.keys.join(", ") || "(none)"}). ` +
        `Version ${result.previous} and all earlier versions are kept. You can retrieve it with: ${readCall(t)}`,
      structured: { mount: t.mount.display, path: t.path.display, version: result.version, rolled_back_to: target, previous_version: result.previous, keys_restored: result.keys },
    };
  },
});

export const kvLifecycleTools = [
  readSecretMetadata,
  writeSecretMetadata,
  patchSecret,
  deleteSecretVersions,
  undeleteSecretVersions,
  destroySecretVersions,
  deleteSecretMetadata,
  rollbackSecret,
];

