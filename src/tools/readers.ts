// Reads behind MCP resources and prompts that no tool makes (a policy, a secret's metadata, what the token may do at a
// path): defined as tools, run by a registry of their own, so validation, masking and failures work as for a tool call.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import * as kv from "../vault/kv.ts";
import { apiPath, safeName, safePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { kvTarget, MountArg, PathArg } from "./kv.ts";
import { defineTool } from "./registry.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** sys/policies/acl/<name>: the policy's HCL. */
export const readPolicy = defineTool({
  name: "read_policy",
  toolset: "policy",
  title: "Read an ACL policy",
  description: "Reads one ACL policy's rules (HCL) from sys/policies/acl.",
  // A policy lives in no mount, so no path rule governs it (vault: "none"); MCP_TOOLS_ALLOW/DENY name read_policy.
  input: Type.Object({ name: Type.String({ description: 'Policy name, e.g. "default"', minLength: 1, vault: "none" }) }),
  output: Type.Object({ name: Type.String(), policy: Type.String({ description: "HCL" }) }),
  annotations: READ_ONLY,
  async run(args, ctx) {
    const name = safeName(args.name, "name");
    const res = await ctx.vault.read<{ name?: string; policy?: string }>(apiPath("sys/policies/acl", name));
    if (!res?.data) throw new ToolError(`No ACL policy named "${name.display}" exists (or this token may not read it).`);
    const policy = res.data.policy ?? "";
    return { text: `Policy "${name.display}":\n${policy}`, structured: { name: name.display, policy } };
  },
});

const VersionEntry = Type.Object({
  version: Type.Integer(),
  created_time: Type.Optional(Type.String()),
  deletion_time: Type.Optional(Type.String()),
  destroyed: Type.Optional(Type.Boolean()),
});

/** A secret's metadata, never its values: KV v2's metadata endpoint; on KV v1 only whether the folder lists it. */
export const readSecretMetadata = defineTool({
  name: "read_secret_metadata",
  toolset: "kv",
  title: "Read a secret's metadata",
  description: "Reads a KV secret's metadata (versions, times, custom metadata); never its values.",
  input: Type.Object({ mount: MountArg, path: PathArg }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    kv_version: Type.Integer(),
    exists: Type.Boolean(),
    current_version: Type.Optional(Type.Integer()),
    versions: Type.Optional(Type.Array(VersionEntry)),
    custom_metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
  annotations: READ_ONLY,
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path);
    const base = { mount: t.mount.display, path: t.path.display };
    if (t.info.kvVersion === 2) {
      const res = await ctx.vault.read<{ current_version?: number; versions?: Record<string, kv.KvVersionState>; custom_metadata?: Record<string, string> | null }>(
        apiPath(t.mount, "metadata", t.path),
      );
      if (!res?.data) return { text: `No secret at ${t.where}.`, structured: { ...base, kv_version: 2, exists: false } };
      const versions = Object.entries(res.data.versions ?? {}).map(([v, s]) => ({
        version: Number(v),
        ...(s.created_time ? { created_time: s.created_time } : {}),
        ...(s.deletion_time ? { deletion_time: s.deletion_time } : {}),
        ...(s.destroyed !== undefined ? { destroyed: s.destroyed } : {}),
      }));
      const current = res.data.current_version ?? 0;
      return {
        text: `${t.where} is at version ${current} (${versions.length} kept). Its values are not part of this answer: read_secret(mount="${t.mount.display}", path="${t.path.display}") reads them.`,
        structured: { ...base, kv_version: 2, exists: true, current_version: current, versions, ...(res.data.custom_metadata ? { custom_metadata: res.data.custom_metadata } : {}) },
      };
    }
    // KV v1 keeps no metadata: whether the secret exists is read from its folder's listing, not from its values.
    const segments = t.path.segments;
    const folder = safePath(segments.slice(0, -1).join("/"), "path", { allowEmpty: true });
    const { keys } = await ctx.vault.list(kv.listPath({ mount: t.mount, path: folder }, 1));
    const exists = keys.includes(segments[segments.length - 1]!);
    return { text: exists ? `${t.where} exists (KV v1 keeps no versions or metadata).` : `No secret at ${t.where}.`, structured: { ...base, kv_version: 1, exists } };
  },
});

/** What the server's token may do at a Vault API path, and the policies it holds. */
export const checkAccess = defineTool({
  name: "check_access",
  toolset: "policy",
  title: "Check the token's access to a path",
  description: "Asks Vault which capabilities this server's token has on an API path (sys/capabilities-self) and which policies it holds (lookup-self).",
  // An API path (secret/data/..., sys/...), not a mount/path target; asking reveals capabilities only, never data.
  input: Type.Object({ path: Type.String({ description: 'A Vault API path, e.g. "secret/data/myapp/db"', minLength: 1, vault: "none" }) }),
  output: Type.Object({
    path: Type.String(),
    capabilities: Type.Array(Type.String()),
    policies: Type.Array(Type.String()),
    policies_unread: Type.Optional(Type.String({ description: "Why the token's policies could not be read" })),
  }),
  annotations: READ_ONLY,
  async run(args, ctx) {
    const path = safePath(args.path, "path");
    const caps = await ctx.vault.write<Record<string, string[]>>("sys/capabilities-self", { paths: [path.display] });
    const capabilities = caps.data?.[path.display] ?? caps.data?.capabilities ?? [];
    let policies: string[] = [];
    let unread: string | undefined;
    try {
      const self = await ctx.vault.read<{ policies?: string[]; identity_policies?: string[] }>("auth/token/lookup-self");
      policies = [...new Set([...(self?.data?.policies ?? []), ...(self?.data?.identity_policies ?? [])])];
    } catch (err) {
      unread = err instanceof VaultError ? err.message : String(err);
    }
    return {
      text: `On ${path.display} this token has: ${capabilities.join(", ") || "no capabilities"}; its policies: ${policies.join(", ") || "(unknown)"}.`,
      structured: { path: path.display, capabilities, policies, ...(unread ? { policies_unread: unread } : {}) },
    };
  },
});

/** Not tools of the server (tools/list does not show them): reads that resources and prompts make. */
export const readerTools = [readPolicy, readSecretMetadata, checkAccess] as const;
