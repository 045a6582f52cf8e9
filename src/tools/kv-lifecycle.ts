// KV v2 lifecycle: a secret's metadata and settings and merge patches; the version tools are in kv-versions.ts.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import * as kv from "../vault/kv.ts";
import { safePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { kvTarget, MountArg, PathArg, readCall } from "./kv-common.ts";
import { kv2Target, kvVersionTools, metadataCall, VersionEntry, versionEntries } from "./kv-versions.ts";
import { defineTool } from "./registry.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

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

export const kvLifecycleTools = [readSecretMetadata, writeSecretMetadata, patchSecret, ...kvVersionTools];
