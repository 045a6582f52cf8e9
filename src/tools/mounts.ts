// Secrets engine mounts: create_mount, list_mounts, delete_mount (sys/mounts).
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { manageableMount, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { defineTool, type ToolContext } from "./registry.ts";

/** The names people use for KV, mapped to Vault's type plus version option. */
const KV_ALIASES: Record<string, { type: string; version: string }> = {
  "kv-v2": { type: "kv", version: "2" },
  kv2: { type: "kv", version: "2" },
  "kv-v1": { type: "kv", version: "1" },
  kv1: { type: "kv", version: "1" },
  kv: { type: "kv", version: "1" },
};

const ENGINE_TYPE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const MountEntry = Type.Object({
  path: Type.String({ description: "Mount path without trailing slash", vault: "mount" }),
  type: Type.String(),
  description: Type.String(),
  kv_version: Type.Optional(Type.Integer()),
  accessor: Type.Optional(Type.String()),
  default_lease_ttl: Type.Optional(Type.Integer()),
  max_lease_ttl: Type.Optional(Type.Integer()),
});

interface RawMount {
  type?: string;
  description?: string;
  accessor?: string;
  options?: Record<string, string> | null;
  config?: { default_lease_ttl?: number; max_lease_ttl?: number };
}

function entry(path: string, m: RawMount) {
  const kv = m.type === "kv" || m.type === "generic";
  return {
    path: path.replace(/\/+$/, ""),
    type: m.type ?? "unknown",
    description: m.description ?? "",
    ...(kv ? { kv_version: m.options?.version === "2" ? 2 : 1 } : {}),
    ...(m.accessor ? { accessor: m.accessor } : {}),
    ...(m.config?.default_lease_ttl !== undefined ? { default_lease_ttl: m.config.default_lease_ttl } : {}),
    ...(m.config?.max_lease_ttl !== undefined ? { max_lease_ttl: m.config.max_lease_ttl } : {}),
  };
}

function typeLabel(e: { type: string; kv_version?: number }): string {
  return e.kv_version ? `kv-v${e.kv_version}` : e.type;
}

/**
 * POST sys/mounts/<path>, shared by every tool that mounts an engine. A taken path or a refused body becomes a ToolError
 * (nothing was changed); on success the mount cache forgets the path. `hints` end each message with the tool's advice.
 */
export async function mountEngine(
  { vault, mounts }: Pick<ToolContext, "vault" | "mounts">,
  path: SafePath,
  body: { type: string; description: string; options?: Record<string, string>; config?: Record<string, string> },
  hints: { taken: string; refused: (reason: string) => string },
): Promise<void> {
  try {
    await vault.write(`sys/mounts/${path.encoded}`, body);
  } catch (err) {
    if (err instanceof VaultError && err.failure === "http" && err.status === 400) {
      if (err.errors.some((e) => /already in use/i.test(e))) {
        throw new ToolError(`A secrets engine is already mounted at ${path.display}/ (or the path overlaps one). Nothing was changed. ${hints.taken}`);
      }
      throw new ToolError(hints.refused(err.errors.join("; ")));
    }
    throw err;
  }
  mounts.forget(path.display);
}

export const createMount = defineTool({
  name: "create_mount",
  toolset: "sys",
  title: "Create a secrets engine mount",
  description:
    'Enables a secrets engine at a new path, for example a KV v2 store at "myapp" (type "kv-v2") or PKI at "pki". ' +
    "Refuses to replace an engine already mounted at that path.",
  input: Type.Object({
    path: Type.String({ description: 'Where to mount the engine, e.g. "myapp" or "team/kv"', minLength: 1, vault: "mount" }),
    type: Type.String({
      description: 'Engine type as Vault names it: "kv-v2" (or "kv2"), "kv-v1" (or "kv"), "pki", "transit", "database", ...',
      minLength: 1,
    }),
    description: Type.Optional(Type.String({ description: "Human-readable description shown by list_mounts" })),
    options: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Engine options, e.g. {"version": "2"} for KV' }),
    ),
    default_lease_ttl: Type.Optional(Type.String({ description: 'Default lease TTL, e.g. "768h"' })),
    max_lease_ttl: Type.Optional(Type.String({ description: 'Maximum lease TTL, e.g. "87600h"' })),
  }),
  output: Type.Object({ path: Type.String(), type: Type.String(), kv_version: Type.Optional(Type.Integer()), created: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const path = manageableMount(args.path, "path");
    const requested = args.type.trim().toLowerCase();
    const alias = KV_ALIASES[requested];
    const type = alias?.type ?? requested;
    if (!ENGINE_TYPE.test(type)) {
      throw new ToolError(`Invalid argument "type": "${args.type}" is not an engine type; use one such as "kv-v2", "kv-v1", "pki" or "transit".`);
    }
    const options = { ...(args.options ?? {}) };
    if (alias) {
      if (options.version && options.version !== alias.version) {
        throw new ToolError(`Invalid argument "options": version "${options.version}" contradicts type "${args.type}"; drop one of them.`);
      }
      options.version = alias.version;
    }
    const config: Record<string, string> = {};
    if (args.default_lease_ttl) config.default_lease_ttl = args.default_lease_ttl;
    if (args.max_lease_ttl) config.max_lease_ttl = args.max_lease_ttl;
    await mountEngine(
      ctx,
      path,
      {
        type,
        description: args.description ?? "",
        ...(Object.keys(options).length > 0 ? { options } : {}),
        ...(Object.keys(config).length > 0 ? { config } : {}),
      },
      {
        taken: "Choose another path, or use list_mounts to see what is there.",
        refused: (why) => `Vault refused to mount ${type} at ${path.display}/: ${why}. Check the type and options.`,
      },
    );
    const kvVersion = type === "kv" ? Number(options.version ?? "1") : undefined;
    const label = kvVersion ? `kv-v${kvVersion}` : type;
    const next = kvVersion
      ? `You can store a secret with: write_secret(mount="${path.display}", path="app/config", key="username", value="admin")`
      : type === "pki"
        ? `Next, create a root issuer with: create_pki_issuer(mount="${path.display}", type="root", common_name="example.com")`
        : "Use list_mounts to see it.";
    return {
      text: `Mounted a ${label} secrets engine at ${path.display}/\n${next}`,
      structured: { path: path.display, type: label, ...(kvVersion ? { kv_version: kvVersion } : {}), created: true },
    };
  },
});

export const listMounts = defineTool({
  name: "list_mounts",
  toolset: "sys",
  title: "List secrets engine mounts",
  description: "Lists every secrets engine mounted in Vault with its type (kv-v1, kv-v2, pki, ...) and description.",
  input: Type.Object({}),
  output: Type.Object({ mounts: Type.Array(MountEntry) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(_args, { vault }) {
    const res = await vault.read<Record<string, RawMount>>("sys/mounts");
    const data = res?.data ?? {};
    const list = Object.entries(data)
      .filter(([, m]) => m && typeof m === "object" && typeof m.type === "string")
      .map(([p, m]) => entry(p, m))
      .sort((a, b) => a.path.localeCompare(b.path));
    // Rendered from the view: a policy may show fewer mounts than Vault has.
    const render = (view: { mounts: typeof list }) => {
      const lines = view.mounts.map((m) => `- ${m.path}/ (${typeLabel(m)})${m.description ? `: ${m.description}` : ""}`);
      return `${view.mounts.length} secrets engine${view.mounts.length === 1 ? "" : "s"} mounted:\n${lines.join("\n")}`;
    };
    return { text: render, structured: { mounts: list } };
  },
});

/** GET sys/mounts/<path>: the mount there, or the one enclosing it (Vault resolves the longest prefix), or null. */
async function mountCovering(vault: ToolContext["vault"], path: SafePath): Promise<RawMount | null> {
  try {
    const res = await vault.read<RawMount>(`sys/mounts/${path.encoded}`);
    return res?.data?.type ? res.data : null;
  } catch (err) {
    // Vault 1.13+ answers 400 "No secret engine mount at ..." rather than 404.
    if (err instanceof VaultError && err.status === 400 && err.errors.some((e) => /no secret engine mount/i.test(e))) return null;
    throw err;
  }
}

/**
 * The mount that `path` lies inside, when `path` is not itself a mount. Mounts never nest, so it is the shortest
 * prefix of `path` that resolves; asking sys/mounts/<prefix> needs no right beyond what delete_mount already needs.
 */
async function enclosingMount(vault: ToolContext["vault"], path: SafePath): Promise<{ path: SafePath; mount: RawMount } | null> {
  for (let n = 1; n < path.segments.length; n++) {
    const segments = path.segments.slice(0, n);
    const prefix = { segments, display: segments.join("/"), encoded: segments.map(encodeURIComponent).join("/") };
    const mount = await mountCovering(vault, prefix);
    if (mount) return { path: prefix, mount };
  }
  return null;
}

export const deleteMount = defineTool({
  name: "delete_mount",
  toolset: "sys",
  title: "Delete a secrets engine mount",
  description:
    "Disables the secrets engine at a path. This permanently destroys every secret, key and certificate stored in it and revokes its leases. " +
    "The path must be the mount itself, not a path inside it.",
  input: Type.Object({
    path: Type.String({ description: 'The mount to remove, e.g. "myapp"', minLength: 1, vault: "mount" }),
  }),
  output: Type.Object({ path: Type.String(), type: Type.String(), deleted: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { vault, mounts }) {
    const path = manageableMount(args.path, "path");
    // Vault answers 204 for a path with no mount, and for one inside a mount, so look first to tell the model the truth.
    const existing = await mountCovering(vault, path);
    if (!existing) {
      throw new ToolError(`No secrets engine is mounted at ${path.display}/, so nothing was deleted. Use list_mounts to see the mounts that exist.`);
    }
    const outer = await enclosingMount(vault, path);
    if (outer) {
      const inner = path.segments.slice(outer.path.segments.length).join("/");
      const e = entry(outer.path.display, outer.mount);
      throw new ToolError(
        `${path.display}/ is not a mount: it lies inside the ${typeLabel(e)} secrets engine mounted at ${outer.path.display}/, so nothing was deleted. ` +
          `Only a whole mount can be deleted: delete_mount(path="${outer.path.display}") would delete ${outer.path.display}/ and everything stored in it` +
          (e.kv_version ? `; to remove one secret use delete_secret(mount="${outer.path.display}", path="${inner}").` : "."),
      );
    }
    const label = typeLabel(entry(path.display, existing));
    await vault.delete(`sys/mounts/${path.encoded}`);
    mounts.forget(path.display);
    // A 204 alone does not prove it: read it back, and say "Deleted" only when the engine is gone.
    let after: RawMount | null;
    try {
      after = await mountCovering(vault, path);
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      throw new ToolError(
        `Vault answered the request to delete the ${label} secrets engine at ${path.display}/, but reading it back failed (${err.message}), ` +
          "so whether it is gone is not known. Check with list_mounts before retrying.",
      );
    }
    // Another engine mounted there since (a new accessor) means ours is gone.
    if (after && !(after.accessor && existing.accessor && after.accessor !== existing.accessor)) {
      throw new ToolError(
        `Vault answered the request to delete ${path.display}/, but the ${label} secrets engine is still mounted there, so it was not deleted. ` +
          "Check with list_mounts; if it persists, check Vault's logs.",
      );
    }
    return {
      text: `Deleted the ${label} secrets engine at ${path.display}/ and everything stored in it.`,
      structured: { path: path.display, type: label, deleted: true },
    };
  },
});

export const mountTools = [createMount, listMounts, deleteMount];
