// KV v2 versions: delete, undelete and destroy exact versions, delete every version, roll back; helpers shared with kv-lifecycle.ts.
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import * as kv from "../vault/kv.ts";
import { ToolError } from "./errors.ts";
import { type KvTarget, kvTarget, MountArg, PathArg, readCall } from "./kv-common.ts";
import { defineTool, type ToolContext } from "./registry.ts";

const VersionsArg = Type.Array(Type.Integer({ minimum: 1 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
  description: "Version numbers, e.g. [1, 2] (read_secret_metadata lists them)",
});

export const metadataCall = (t: KvTarget) => `read_secret_metadata(mount="${t.mount.display}", path="${t.path.display}")`;

/** These tools work on KV v2's versions and metadata: a KV v1 mount is refused before anything is sent. */
export async function kv2Target(ctx: ToolContext, args: { mount: string; path: string }, tool: string, instead: string): Promise<KvTarget> {
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

export const VersionEntry = Type.Object({
  version: Type.Integer(),
  state: Type.Union([Type.Literal("live"), Type.Literal("deleted"), Type.Literal("destroyed")]),
  created_time: Type.Optional(Type.String()),
  deletion_time: Type.Optional(Type.String({ description: "When it was (or, with delete_version_after, will be) deleted" })),
  destroyed: Type.Optional(Type.Boolean()),
});

export function versionEntries(meta: kv.KvMetadata) {
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

/** The version tools, in the order the wiring list serves them. */
export const kvVersionTools = [deleteSecretVersions, undeleteSecretVersions, destroySecretVersions, deleteSecretMetadata, rollbackSecret];
