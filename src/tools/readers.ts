// Reads behind MCP resources and prompts that no tool makes (a policy, what the token may do at a path), and the served
// read_secret_metadata: run by a registry of their own, so that they work whichever toolsets are served, with validation,
// masking and failures as for a tool call.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { apiPath, safeName, safePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { readSecretMetadata } from "./kv-lifecycle.ts";
import { defineTool } from "./registry.ts";
import { readTransitKey } from "./transit.ts";

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

/** Reads that resources and prompts make: read_secret_metadata is also a served tool (kv toolset), the others are not. */
export const readerTools = [readPolicy, readSecretMetadata, checkAccess, readTransitKey] as const;
