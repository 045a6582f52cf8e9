// ACL policies (toolset policy): list_policies, read_policy, write_policy, delete_policy, check_capabilities.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { safePath } from "../vault/paths.ts";
import * as sys from "../vault/sys.ts";
import { ToolError } from "./errors.ts";
import { defineTool } from "./registry.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

// A policy lives in no mount, so no path rule governs it (vault: "none"); MCP_TOOLS_ALLOW/DENY name the tools.
const NameArg = Type.String({ description: 'Policy name, e.g. "myapp-read"; Vault keeps names in lower case', minLength: 1, maxLength: 128, vault: "none" });

/** Policies Vault itself keeps: root can never be written or deleted, default can be edited but not deleted. */
const BUILT_IN: Record<string, string> = {
  root: "root is Vault's built-in policy with every capability; it cannot be written or deleted",
  default: "default is attached to every token unless it is created without it; Vault does not let it be deleted (edit it with write_policy instead)",
};

export const listPolicies = defineTool({
  name: "list_policies",
  toolset: "policy",
  title: "List ACL policies",
  description: "Lists the names of every ACL policy in Vault (sys/policies/acl).",
  input: Type.Object({}),
  output: Type.Object({ policies: Type.Array(Type.String()) }),
  annotations: READ_ONLY,
  async run(_args, { vault }) {
    const policies = (await sys.listPolicies(vault)).sort();
    return {
      text: (view) => `${view.policies.length} ACL polic${view.policies.length === 1 ? "y" : "ies"}: ${view.policies.join(", ")}. read_policy(name) shows one's rules.`,
      structured: { policies },
    };
  },
});

export const readPolicy = defineTool({
  name: "read_policy",
  toolset: "policy",
  title: "Read an ACL policy",
  description: "Reads one ACL policy's rules (HCL) from sys/policies/acl.",
  input: Type.Object({ name: NameArg }),
  output: Type.Object({ name: Type.String(), policy: Type.String({ description: "HCL" }) }),
  annotations: READ_ONLY,
  async run(args, { vault }) {
    const name = sys.policyName(args.name);
    const policy = await sys.readPolicy(vault, name);
    if (policy === null) throw new ToolError(`No ACL policy named "${name.display}" exists (or this token may not read it). list_policies shows the names there are.`);
    return { text: `Policy "${name.display}":\n${policy}`, structured: { name: name.display, policy } };
  },
});

export const writePolicy = defineTool({
  name: "write_policy",
  toolset: "policy",
  title: "Write an ACL policy",
  description:
    "Creates or replaces an ACL policy with the HCL rules given; Vault parses them and refuses invalid HCL with its reason. " +
    "Replacing a policy changes at once what every token holding it may do. Refuses root.",
  input: Type.Object({
    name: NameArg,
    policy: Type.String({ description: 'The rules in HCL, e.g. path "secret/data/myapp/*" { capabilities = ["read"] }', minLength: 1, maxLength: 1_000_000 }),
  }),
  output: Type.Object({ name: Type.String(), created: Type.Boolean({ description: "False when an existing policy was replaced" }), policy: Type.String() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { vault }) {
    const name = sys.policyName(args.name);
    if (name.display === "root") throw new ToolError(`Invalid argument "name": ${BUILT_IN.root}. Nothing was changed; choose another name.`);
    const before = await sys.readPolicy(vault, name);
    try {
      await sys.writePolicy(vault, name, args.policy);
    } catch (err) {
      if (err instanceof VaultError && err.failure === "http" && err.status === 400) {
        throw new ToolError(`Vault refused the policy "${name.display}": ${err.errors.join("; ")}. Nothing was changed; fix the HCL in "policy" and call write_policy again.`);
      }
      throw err;
    }
    // "Written" only when Vault reads back the rules sent.
    const after = await sys.readPolicy(vault, name);
    if (after === null || after.trim() !== args.policy.trim()) {
      throw new ToolError(`Vault accepted the policy "${name.display}", but reading it back ${after === null ? "found none" : "showed other rules"}; check with read_policy(name="${name.display}").`);
    }
    const created = before === null;
    return {
      text: `${created ? "Created" : "Replaced"} the ACL policy "${name.display}"${created ? "" : "; every token holding it now has these rules"}. check_capabilities(paths) shows what this server's token may do on a path.`,
      structured: { name: name.display, created, policy: after },
    };
  },
});

export const deletePolicy = defineTool({
  name: "delete_policy",
  toolset: "policy",
  title: "Delete an ACL policy",
  description:
    "Deletes an ACL policy. Tokens that hold it lose what it granted at once, and its rules cannot be recovered (read_policy first to keep a copy). Refuses root and default.",
  input: Type.Object({ name: NameArg }),
  output: Type.Object({ name: Type.String(), deleted: Type.Boolean(), policy: Type.String({ description: "The rules it had" }) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { vault }) {
    const name = sys.policyName(args.name);
    const builtIn = BUILT_IN[name.display];
    if (builtIn) throw new ToolError(`Invalid argument "name": ${builtIn}. Nothing was deleted.`);
    // Vault answers 204 for a name it does not have, so look first to tell the truth.
    const before = await sys.readPolicy(vault, name);
    if (before === null) throw new ToolError(`No ACL policy named "${name.display}" exists, so nothing was deleted. list_policies shows the names there are.`);
    await sys.deletePolicy(vault, name);
    if ((await sys.readPolicy(vault, name)) !== null) {
      throw new ToolError(`Vault answered the request to delete the policy "${name.display}", but it is still there; check with read_policy(name="${name.display}").`);
    }
    return {
      text: `Deleted the ACL policy "${name.display}"; tokens that held it lost what it granted. This cannot be undone: its rules were:\n${before}`,
      structured: { name: name.display, deleted: true, policy: before },
    };
  },
});

const MAX_PATHS = 50;

/** Vault's capabilities, and what each lets a token do, for the text answer. */
const MEANING: Record<string, string> = {
  root: "everything (root)",
  deny: "nothing (denied)",
  sudo: "root-protected endpoints (sudo)",
  create: "create",
  read: "read",
  update: "update",
  patch: "patch",
  delete: "delete",
  list: "list",
};

export const checkCapabilities = defineTool({
  name: "check_capabilities",
  toolset: "policy",
  title: "Check the token's capabilities on paths",
  description:
    "Asks Vault what this server's token may do on each API path given (sys/capabilities-self), e.g. secret/data/myapp/db or sys/mounts. " +
    `Paths are API paths, including data/ or metadata/ for KV v2; up to ${MAX_PATHS} at once. Reveals capabilities only, never data.`,
  input: Type.Object({
    // API paths anywhere in Vault, asked about, never read: no mount/path target.
    paths: Type.Array(Type.String({ minLength: 1 }), { description: 'Vault API paths, e.g. ["secret/data/myapp/db", "pki/issue/web"]', minItems: 1, maxItems: MAX_PATHS, vault: "none" }),
  }),
  output: Type.Object({
    capabilities: Type.Array(Type.Object({ path: Type.String(), capabilities: Type.Array(Type.String()), allowed: Type.Boolean({ description: "Whether any capability but deny is granted" }) })),
  }),
  annotations: READ_ONLY,
  async run(args, { vault }) {
    // Vault trims each path before it answers, and answers under the trimmed path: so the question is asked trimmed.
    const paths = [...new Set(args.paths.map((p, i) => safePath(p.trim(), `paths.${i}`).display))];
    const caps = await sys.capabilitiesSelf(vault, paths);
    const capabilities = paths.map((path) => {
      const list = caps[path] ?? [];
      return { path, capabilities: list, allowed: list.length > 0 && !list.includes("deny") };
    });
    const lines = capabilities.map((c) => `- ${c.path}: ${c.allowed ? c.capabilities.map((x) => MEANING[x] ?? x).join(", ") : "nothing (denied)"}`);
    return { text: `This server's token may do, per path:\n${lines.join("\n")}`, structured: { capabilities } };
  },
});

export const policyTools = [listPolicies, readPolicy, writePolicy, deletePolicy, checkCapabilities];
