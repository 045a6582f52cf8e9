// Transit secrets engine: enable_transit and its named keys (create, list, read, rotate, configure, delete); data operations are in transit-data.ts.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { MountNotFound } from "../vault/mount-info.ts";
import { manageableMount, safeMount, safeName, type SafePath } from "../vault/paths.ts";
import * as transit from "../vault/transit.ts";
import { refusal, ToolError, vaultNotes, vaultWords } from "./errors.ts";
import { mountEngine } from "./mounts.ts";
import { duration } from "./pki-common.ts";
import { defineTool, type ToolContext } from "./registry.ts";

export const MountArg = Type.String({ description: 'Transit mount, e.g. "transit" (the default)', default: "transit", minLength: 1, vault: "mount" });
export const KeyNameArg = Type.String({ description: 'Name of the transit key, e.g. "orders"', minLength: 1, vault: "name" });

/** Checks `raw` is a safe mount path with a transit engine mounted exactly there. */
export async function transitMount(ctx: ToolContext, raw: unknown): Promise<SafePath> {
  const mount = safeMount(raw, "mount");
  let type: string;
  try {
    type = (await ctx.mounts.get(mount)).type;
  } catch (err) {
    if (!(err instanceof MountNotFound)) throw err;
    throw new ToolError(`No secrets engine is mounted at ${mount.display}/. Create a transit engine there with enable_transit(path="${mount.display}"), or use list_mounts to find the transit mount you meant.`);
  }
  if (type !== "transit") {
    throw new ToolError(`The mount ${mount.display}/ is a ${type} secrets engine, not transit. Pass a transit mount as mount (list_mounts shows each mount's type), or create one with enable_transit.`);
  }
  return mount;
}

export function noSuchKey(mount: SafePath, name: SafePath): ToolError {
  return new ToolError(
    `No transit key "${name.display}" exists in ${mount.display}/. Use list_transit_keys(mount="${mount.display}") to see its keys, ` +
      `or create_transit_key(mount="${mount.display}", name="${name.display}") to create it.`,
  );
}

/** The mount and key a key tool works on, both checked to exist. */
export async function existingKey(ctx: ToolContext, args: { mount: string; name: string }): Promise<{ mount: SafePath; name: SafePath; key: transit.RawKey }> {
  const name = safeName(args.name, "name");
  const mount = await transitMount(ctx, args.mount);
  const key = await transit.readKey(ctx.vault, mount, name);
  if (!key) throw noSuchKey(mount, name);
  return { mount, name, key };
}

const KeyVersion = Type.Object({
  version: Type.Integer(),
  created: Type.String({ description: "ISO 8601" }),
  public_key: Type.Optional(Type.String({ description: "Asymmetric keys: PEM (ECDSA, RSA) or base64 (ed25519). Never the private key" })),
});

const KeyView = Type.Object({
  mount: Type.String(),
  name: Type.String(),
  type: Type.String(),
  latest_version: Type.Integer(),
  min_decryption_version: Type.Integer(),
  min_encryption_version: Type.Integer({ description: "0: the latest version encrypts" }),
  min_available_version: Type.Integer(),
  deletion_allowed: Type.Boolean(),
  exportable: Type.Boolean(),
  derived: Type.Boolean(),
  convergent_encryption: Type.Boolean(),
  auto_rotate_period: Type.Integer({ description: "Seconds; 0: no automatic rotation" }),
  supports_encryption: Type.Boolean(),
  supports_signing: Type.Boolean(),
  versions: Type.Array(KeyVersion),
});

function describeKey(v: transit.KeyView): string {
  const uses = [v.supports_encryption && "encrypt_data/decrypt_data", v.supports_signing && "sign_data/verify_signature", v.type === "hmac" && "generate_hmac"].filter(Boolean);
  return [
    `Transit key "${v.name}" in ${v.mount}/: type ${v.type}, latest version ${v.latest_version} (versions ${v.versions.map((k) => k.version).join(", ") || "none"} kept).`,
    `Decrypts/verifies from version ${v.min_decryption_version}; encrypts/signs with ${v.min_encryption_version === 0 ? "the latest" : `version ${v.min_encryption_version} or later`}. ` +
      `Automatic rotation: ${v.auto_rotate_period ? `every ${duration(v.auto_rotate_period)}` : "off"}. Deletion ${v.deletion_allowed ? "allowed" : "not allowed"}; ` +
      `exportable ${v.exportable}; derived ${v.derived}${v.convergent_encryption ? " (convergent)" : ""}.`,
    `Use it with ${uses.join(", ") || "generate_hmac"}.${v.versions.some((k) => k.public_key) ? " The public key of each version is in versions[].public_key." : ""}`,
  ].join("\n");
}

export const enableTransit = defineTool({
  name: "enable_transit",
  toolset: "transit",
  title: "Enable a transit secrets engine",
  description:
    'Mounts a transit secrets engine (encryption as a service: Vault keeps the keys, callers send data) at a path, "transit" by default. ' +
    "Refuses when something is already mounted there. Next step: create_transit_key.",
  input: Type.Object({
    path: Type.String({ description: 'Where to mount it, e.g. "transit" (the default)', default: "transit", minLength: 1, vault: "mount" }),
    description: Type.Optional(Type.String({ description: "Human-readable description shown by list_mounts" })),
  }),
  output: Type.Object({ path: Type.String(), type: Type.Literal("transit"), created: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const path = manageableMount(args.path, "path");
    await mountEngine(ctx, path, { type: "transit", description: args.description ?? "" }, {
      taken: "Choose another path, or use list_mounts to see what is there (an existing transit mount can be used as it is).",
      refused: (why) => `Vault refused to mount transit at ${path.display}/: ${why}. Nothing was changed.`,
    });
    return {
      text: `Mounted a transit secrets engine at ${path.display}/.\nNext, create a key: create_transit_key(mount="${path.display}", name="my-key").`,
      structured: { path: path.display, type: "transit" as const, created: true },
    };
  },
});

export const createTransitKey = defineTool({
  name: "create_transit_key",
  toolset: "transit",
  title: "Create a transit key",
  description:
    'Creates a named encryption or signing key in a transit mount; Vault generates it and never lets it out unless exportable. type "aes256-gcm96" (the default), ' +
    '"chacha20-poly1305" or "aes128-gcm96" encrypt; "ed25519", "ecdsa-p256"/"-p384"/"-p521" and "rsa-2048"/"-3072"/"-4096" sign (RSA also encrypts); "hmac" only makes HMACs. ' +
    "Refuses when a key of that name exists (nothing is changed then). exportable cannot be turned off later.",
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    type: Type.Union(transit.KEY_TYPES.map((t) => Type.Literal(t)), { description: 'Key type; default "aes256-gcm96"', default: "aes256-gcm96", vault: "none" }),
    exportable: Type.Optional(Type.Boolean({ description: "Allow the key to be exported later; cannot be undone. Default false" })),
    derived: Type.Optional(Type.Boolean({ description: "Derive a key per context (then every encrypt/decrypt needs context). Default false" })),
    convergent_encryption: Type.Optional(Type.Boolean({ description: "Same plaintext and context give the same ciphertext; needs derived=true. Default false" })),
    auto_rotate_period: Type.Optional(Type.String({ description: 'Rotate automatically this often, e.g. "720h" (at least 1h); default: never', minLength: 1 })),
    key_size: Type.Optional(Type.Integer({ minimum: 32, maximum: 512, description: 'type "hmac" only: key size in bytes, 32 to 512; default 32' })),
  }),
  output: Type.Object({ ...KeyView.properties, created: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    if (args.key_size !== undefined && args.type !== "hmac") throw new ToolError(`Invalid argument "key_size": only an "hmac" key takes a size; drop it for type "${args.type}".`);
    const name = safeName(args.name, "name");
    const mount = await transitMount(ctx, args.mount);
    const before = await transit.readKey(ctx.vault, mount, name);
    if (before) {
      throw new ToolError(
        `A transit key "${name.display}" already exists in ${mount.display}/ (type ${before.type}, latest version ${before.latest_version}); nothing was changed. ` +
          `Use it as it is, read_transit_key to see it, rotate_transit_key for a new version, or choose another name.`,
      );
    }
    const body = {
      type: args.type,
      ...(args.exportable !== undefined ? { exportable: args.exportable } : {}),
      ...(args.derived !== undefined ? { derived: args.derived } : {}),
      ...(args.convergent_encryption !== undefined ? { convergent_encryption: args.convergent_encryption } : {}),
      ...(args.auto_rotate_period !== undefined ? { auto_rotate_period: args.auto_rotate_period } : {}),
      ...(args.type === "hmac" ? { key_size: args.key_size ?? 32 } : {}),
    };
    let res;
    try {
      // Resending is safe: Vault keeps the key a first request made, and the read below shows it.
      res = await ctx.vault.write(transit.keyPath(mount, name), body, { idempotent: true });
    } catch (err) {
      // Vault answers some refusals with 500 (derived hmac keys); no key there afterwards proves nothing was created.
      const refused500 = err instanceof VaultError && err.failure === "http" && err.status >= 500 && !(await transit.readKey(ctx.vault, mount, name));
      const why = refusal(err) ?? (refused500 ? vaultWords(err) : undefined);
      if (why) throw new ToolError(`Vault refused to create transit key "${name.display}": ${why}. Nothing was created; check type, derived/convergent_encryption and auto_rotate_period.`);
      throw err;
    }
    const after = await transit.readKey(ctx.vault, mount, name);
    if (!after) throw new ToolError(`Vault answered the request to create transit key "${name.display}", but it cannot be read back, so it was not created. Retry, or check Vault's logs.`);
    const view = transit.keyView(mount, name.display, after);
    return { text: `Created transit key "${name.display}" in ${mount.display}/.\n${describeKey(view)}${vaultNotes(res.warnings)}`, structured: { ...view, created: true } };
  },
});

export const listTransitKeys = defineTool({
  name: "list_transit_keys",
  toolset: "transit",
  title: "List transit keys",
  description: "Lists the named keys of a transit mount; read_transit_key shows each one's type and versions.",
  input: Type.Object({ mount: Type.String({ description: 'Transit mount, e.g. "transit" (the default)', default: "transit", minLength: 1, vault: "mount", vaultList: true }) }),
  output: Type.Object({ mount: Type.String(), keys: Type.Array(Type.String({ vault: "name" })) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await transitMount(ctx, args.mount);
    const keys = await transit.listKeys(ctx.vault, mount);
    const structured = { mount: mount.display, keys };
    if (keys.length === 0) return { text: `${mount.display}/ has no keys yet. Create one with create_transit_key(mount="${mount.display}", name="my-key").`, structured };
    return { text: (view) => `${view.keys.length} key(s) in ${mount.display}/:\n${view.keys.map((k) => `- ${k}`).join("\n")}`, structured };
  },
});

export const readTransitKey = defineTool({
  name: "read_transit_key",
  toolset: "transit",
  title: "Read a transit key",
  description: "Shows a transit key's type, versions, settings and, for asymmetric keys, each version's public key. Never the key material itself.",
  input: Type.Object({ mount: MountArg, name: KeyNameArg }),
  output: KeyView,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const { mount, name, key } = await existingKey(ctx, args);
    const view = transit.keyView(mount, name.display, key);
    return { text: describeKey(view), structured: view };
  },
});

export const rotateTransitKey = defineTool({
  name: "rotate_transit_key",
  toolset: "transit",
  title: "Rotate a transit key",
  description:
    "Adds a new version to a transit key; new encryptions and signatures use it, while older versions still decrypt and verify (down to min_decryption_version). " +
    "Re-encrypt old ciphertexts with rewrap_data.",
  input: Type.Object({ mount: MountArg, name: KeyNameArg }),
  output: Type.Object({ mount: Type.String(), name: Type.String(), previous_version: Type.Integer(), latest_version: Type.Integer() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const { mount, name, key } = await existingKey(ctx, args);
    const previous = key.latest_version ?? 0;
    await ctx.vault.write(transit.keyPath(mount, name, "rotate"), {});
    const after = await transit.readKey(ctx.vault, mount, name);
    const latest = after?.latest_version ?? 0;
    if (latest <= previous) throw new ToolError(`Vault answered the rotation of "${name.display}", but its latest version is still ${latest}; it was not rotated. Check with read_transit_key.`);
    return {
      text:
        `Rotated transit key "${name.display}" in ${mount.display}/: version ${latest} now encrypts and signs (was ${previous}); older versions still decrypt.\n` +
        `Re-encrypt stored ciphertexts with rewrap_data(mount="${mount.display}", name="${name.display}", ciphertext="vault:v${previous}:...").`,
      structured: { mount: mount.display, name: name.display, previous_version: previous, latest_version: latest },
    };
  },
});

export const updateTransitKeyConfig = defineTool({
  name: "update_transit_key_config",
  toolset: "transit",
  title: "Configure a transit key",
  description:
    "Changes a transit key's settings: min_decryption_version (older versions can no longer decrypt or verify: ciphertexts under them become unreadable until it is lowered again), " +
    "min_encryption_version, deletion_allowed (needed before delete_transit_key), auto_rotate_period. Only the settings given are changed.",
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    min_decryption_version: Type.Optional(Type.Integer({ minimum: 1, description: "Oldest version that may decrypt or verify" })),
    min_encryption_version: Type.Optional(Type.Integer({ minimum: 0, description: "Oldest version that may encrypt or sign; 0: the latest" })),
    deletion_allowed: Type.Optional(Type.Boolean({ description: "Whether delete_transit_key may delete the key" })),
    auto_rotate_period: Type.Optional(Type.String({ description: 'e.g. "720h" (at least 1h); "0" turns automatic rotation off', minLength: 1 })),
  }),
  output: KeyView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const body = Object.fromEntries(
      (["min_decryption_version", "min_encryption_version", "deletion_allowed", "auto_rotate_period"] as const).filter((k) => args[k] !== undefined).map((k) => [k, args[k]]),
    );
    if (Object.keys(body).length === 0) {
      throw new ToolError("Invalid arguments: give at least one of min_decryption_version, min_encryption_version, deletion_allowed, auto_rotate_period. Nothing was changed.");
    }
    const { mount, name } = await existingKey(ctx, args);
    let res;
    try {
      res = await ctx.vault.write(transit.keyPath(mount, name, "config"), body, { idempotent: true });
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused the settings of transit key "${name.display}": ${why}. Nothing was changed; read_transit_key shows its versions.`);
      throw err;
    }
    const after = await transit.readKey(ctx.vault, mount, name);
    if (!after) throw noSuchKey(mount, name);
    const view = transit.keyView(mount, name.display, after);
    const unapplied = Object.entries(body).filter(([k, v]) => k !== "auto_rotate_period" && view[k as keyof typeof view] !== v).map(([k]) => k);
    if (unapplied.length > 0) throw new ToolError(`Vault answered, but ${unapplied.join(", ")} read back unchanged, so not every setting was applied. Check with read_transit_key.`);
    return { text: `Updated transit key "${name.display}" in ${mount.display}/ (${Object.keys(body).join(", ")}).\n${describeKey(view)}${vaultNotes(res.warnings)}`, structured: view };
  },
});

export const deleteTransitKey = defineTool({
  name: "delete_transit_key",
  toolset: "transit",
  title: "Delete a transit key",
  description:
    "Deletes a transit key and every version of it. This cannot be undone: everything encrypted with it can never be decrypted again, and its signatures never verified. " +
    "Vault refuses unless the key's deletion_allowed is true (set it with update_transit_key_config).",
  input: Type.Object({ mount: MountArg, name: KeyNameArg }),
  output: Type.Object({ mount: Type.String(), name: Type.String(), deleted: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const { mount, name, key } = await existingKey(ctx, args);
    if (!key.deletion_allowed) {
      throw new ToolError(
        `Transit key "${name.display}" in ${mount.display}/ has deletion_allowed=false, so Vault refuses to delete it; nothing was deleted. This guard exists because deleting a key makes ` +
          "everything encrypted with it unreadable forever. If that is really meant, first call " +
          `update_transit_key_config(mount="${mount.display}", name="${name.display}", deletion_allowed=true), then delete_transit_key again.`,
      );
    }
    try {
      await ctx.vault.delete(transit.keyPath(mount, name), { idempotent: true });
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused to delete transit key "${name.display}": ${why}. Nothing was deleted.`);
      throw err;
    }
    if (await transit.readKey(ctx.vault, mount, name)) throw new ToolError(`Vault answered the deletion of "${name.display}", but the key is still there, so it was not deleted.`);
    return {
      text: `Deleted transit key "${name.display}" and all its versions from ${mount.display}/. This cannot be undone: data encrypted with it can no longer be decrypted.`,
      structured: { mount: mount.display, name: name.display, deleted: true },
    };
  },
});

export const transitKeyTools = [enableTransit, createTransitKey, listTransitKeys, readTransitKey, rotateTransitKey, updateTransitKeyConfig, deleteTransitKey];
