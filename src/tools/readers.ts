// Reads behind MCP resources and prompts, run by a registry of their own so that they work whichever toolsets are
// served: validation, masking and failures work as for a tool call. read_policy is the served tool itself; check_access
// (what the token may do at a path, and its policies) is made by no served tool.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { safePath } from "../vault/paths.ts";
import * as sys from "../vault/sys.ts";
import { readSecretMetadata } from "./kv-lifecycle.ts";
import { readPolicy } from "./policies.ts";
import { defineTool } from "./registry.ts";
import { readTransitKey } from "./transit.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

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
    const capabilities = (await sys.capabilitiesSelf(ctx.vault, [path.display]))[path.display] ?? [];
    let policies: string[] = [];
    let unread: string | undefined;
    try {
      const self = await sys.lookupSelf(ctx.vault);
      policies = [...new Set([...(self.policies ?? []), ...(self.identity_policies ?? [])])];
    } catch (err) {
      unread = err instanceof VaultError ? err.message : String(err);
    }
    return {
      text: `On ${path.display} this token has: ${capabilities.join(", ") || "no capabilities"}; its policies: ${policies.join(", ") || "(unknown)"}.`,
      structured: { path: path.display, capabilities, policies, ...(unread ? { policies_unread: unread } : {}) },
    };
  },
});

/**
 * The readers' registry: read_policy, read_secret_metadata and read_transit_key (served tools of the policy, kv and transit
 * toolsets, here also when those toolsets are not served) and check_access, which no served tool makes.
 */
export const readerTools = [readPolicy, readSecretMetadata, checkAccess, readTransitKey] as const;
