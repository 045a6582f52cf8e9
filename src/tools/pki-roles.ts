// PKI roles, the templates certificates are issued from: create_pki_role, list_pki_roles, read_pki_role, delete_pki_role.
import { type Static, Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { apiPath, safeName, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { duration, keyTypeArg, ListedMountArg, MountArg, pkiMount, refusal, vaultNotes } from "./pki-common.ts";
import { defineTool } from "./registry.ts";

const RoleNameArg = Type.String({ description: 'Role name, e.g. "web-server"', minLength: 1, vault: "name" });

const RoleView = Type.Object({
  mount: Type.String(),
  role_name: Type.String(),
  allowed_domains: Type.Array(Type.String()),
  allow_subdomains: Type.Boolean(),
  allow_bare_domains: Type.Boolean(),
  allow_glob_domains: Type.Boolean(),
  allow_any_name: Type.Boolean(),
  allow_ip_sans: Type.Boolean(),
  allow_localhost: Type.Boolean(),
  max_ttl: Type.Optional(Type.String({ description: "Absent when the mount's maximum applies" })),
  ttl: Type.Optional(Type.String({ description: "Absent when the mount's default applies" })),
  key_type: Type.String(),
  key_bits: Type.Integer(),
  issuer_ref: Type.String(),
});
type RoleViewT = Static<typeof RoleView>;

interface RawRole {
  allowed_domains?: string[] | null;
  allow_subdomains?: boolean;
  allow_bare_domains?: boolean;
  allow_glob_domains?: boolean;
  allow_any_name?: boolean;
  allow_ip_sans?: boolean;
  allow_localhost?: boolean;
  max_ttl?: number;
  ttl?: number;
  key_type?: string;
  key_bits?: number;
  issuer_ref?: string;
}

function roleView(mount: SafePath, name: string, r: RawRole): RoleViewT {
  return {
    mount: mount.display,
    role_name: name,
    allowed_domains: r.allowed_domains ?? [],
    allow_subdomains: r.allow_subdomains ?? false,
    allow_bare_domains: r.allow_bare_domains ?? false,
    allow_glob_domains: r.allow_glob_domains ?? false,
    allow_any_name: r.allow_any_name ?? false,
    allow_ip_sans: r.allow_ip_sans ?? false,
    allow_localhost: r.allow_localhost ?? false,
    ...(r.max_ttl ? { max_ttl: duration(r.max_ttl) } : {}),
    ...(r.ttl ? { ttl: duration(r.ttl) } : {}),
    key_type: r.key_type ?? "",
    key_bits: r.key_bits ?? 0,
    issuer_ref: r.issuer_ref ?? "default",
  };
}

/** Which names a role lets through, in words. */
function allowedNames(v: RoleViewT): string {
  if (v.allow_any_name) return "any name";
  if (v.allowed_domains.length === 0) return v.allow_localhost ? 'only "localhost"' : "no names";
  const kinds = [v.allow_bare_domains && "the domains themselves", v.allow_subdomains && "their subdomains", v.allow_glob_domains && "glob matches"].filter(Boolean);
  return `names under ${v.allowed_domains.join(", ")} (${kinds.length > 0 ? kinds.join(", ") : "exact names only; allow_subdomains or allow_bare_domains widen it"})`;
}

function describeRole(v: RoleViewT): string {
  return [
    `Role "${v.role_name}" in ${v.mount}/ may issue ${allowedNames(v)}.`,
    `IP SANs ${v.allow_ip_sans ? "allowed" : "not allowed"}; key ${v.key_type}${v.key_bits ? ` ${v.key_bits} bits` : ""}; ` +
      `issuer "${v.issuer_ref}"; ttl ${v.ttl ?? "mount default"}, max_ttl ${v.max_ttl ?? "mount maximum"}.`,
  ].join("\n");
}

async function readRole(ctx: { vault: VaultClient }, mount: SafePath, role: SafePath): Promise<RawRole | null> {
  return (await ctx.vault.read<RawRole>(apiPath(mount, "roles", role)))?.data ?? null;
}

export function noSuchRole(mount: SafePath, role: SafePath): ToolError {
  return new ToolError(
    `No role "${role.display}" exists in ${mount.display}/. Use list_pki_roles(mount="${mount.display}") to see its roles, ` +
      `or create_pki_role(mount="${mount.display}", role_name="${role.display}", allowed_domains=[...]) to create it.`,
  );
}

export const createPkiRole = defineTool({
  name: "create_pki_role",
  toolset: "pki",
  title: "Create or replace a PKI role",
  description:
    "Creates a role in a PKI mount: the rules for the certificates issue_pki_certificate may issue (which names, lifetime, key type, issuer). " +
    "If the role exists, all its settings are replaced by these. Defaults: no domains, subdomains/bare/glob/any name not allowed, IP SANs allowed, " +
    'max_ttl 8760h (one year), key_type "rsa", issuer_ref "default".',
  input: Type.Object({
    mount: MountArg,
    role_name: RoleNameArg,
    allowed_domains: Type.Array(Type.String({ minLength: 1 }), { description: 'Domains certificates may name, e.g. ["example.com"]', default: [] }),
    allow_subdomains: Type.Boolean({ description: "Allow names under allowed_domains, e.g. api.example.com for example.com", default: false }),
    allow_bare_domains: Type.Boolean({ description: "Allow the allowed_domains themselves, e.g. example.com", default: false }),
    allow_glob_domains: Type.Boolean({ description: 'Read allowed_domains as globs, e.g. "web-*.example.com"', default: false }),
    allow_any_name: Type.Boolean({ description: "Allow any common name, ignoring allowed_domains", default: false }),
    allow_ip_sans: Type.Boolean({ description: "Allow IP addresses as subject alternative names (ip_sans)", default: true }),
    max_ttl: Type.String({ description: 'Longest lifetime of a certificate from this role; default "8760h" (one year)', default: "8760h", minLength: 1 }),
    ttl: Type.Optional(Type.String({ description: "Lifetime when issue_pki_certificate gives no ttl; default: the mount's default lease TTL, capped by max_ttl", minLength: 1 })),
    key_type: keyTypeArg({ description: 'Key type of issued certificates: "rsa" (default), "ec" or "ed25519"', default: "rsa" }),
    issuer_ref: Type.String({ description: 'Issuer that signs: a name or ID from list_pki_issuers, or "default" (the default)', default: "default", minLength: 1, vault: "none" }),
  }),
  output: Type.Object({ ...RoleView.properties, created: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const role = safeName(args.role_name, "role_name");
    const issuerRef = safeName(args.issuer_ref, "issuer_ref");
    const mount = await pkiMount(ctx, args.mount);
    const existed = (await readRole(ctx, mount, role)) !== null;
    const body = {
      allowed_domains: args.allowed_domains,
      allow_subdomains: args.allow_subdomains,
      allow_bare_domains: args.allow_bare_domains,
      allow_glob_domains: args.allow_glob_domains,
      allow_any_name: args.allow_any_name,
      allow_ip_sans: args.allow_ip_sans,
      max_ttl: args.max_ttl,
      ...(args.ttl !== undefined ? { ttl: args.ttl } : {}),
      key_type: args.key_type,
      issuer_ref: issuerRef.display,
    };
    let res;
    try {
      res = await ctx.vault.write<RawRole>(apiPath(mount, "roles", role), body);
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused the settings of role "${role.display}": ${why}. Nothing was changed.`);
      throw err;
    }
    const data = res.data?.key_type ? res.data : await readRole(ctx, mount, role);
    const view = roleView(mount, role.display, data ?? {});
    const example = view.allowed_domains[0] && !view.allow_glob_domains ? `${view.allow_subdomains ? "www." : ""}${view.allowed_domains[0]}` : "<a name the role allows>";
    return {
      text:
        `${existed ? "Replaced the settings of" : "Created"} role "${role.display}" in ${mount.display}/.\n${describeRole(view)}${vaultNotes(res.warnings)}\n` +
        `Issue a certificate with: issue_pki_certificate(mount="${mount.display}", role_name="${role.display}", common_name="${example}")`,
      structured: { ...view, created: !existed },
    };
  },
});

export const listPkiRoles = defineTool({
  name: "list_pki_roles",
  toolset: "pki",
  title: "List PKI roles",
  description: "Lists the roles of a PKI mount; read_pki_role shows what each one allows.",
  input: Type.Object({ mount: ListedMountArg }),
  output: Type.Object({ mount: Type.String(), roles: Type.Array(Type.String({ vault: "name" })) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await pkiMount(ctx, args.mount);
    const { keys } = await ctx.vault.list(apiPath(mount, "roles"));
    const structured = { mount: mount.display, roles: keys };
    if (keys.length === 0) {
      return {
        text: `${mount.display}/ has no roles yet. Create one with create_pki_role(mount="${mount.display}", role_name="web-server", allowed_domains=["example.com"]).`,
        structured,
      };
    }
    // Rendered from the view: a policy may show fewer roles than Vault listed.
    return { text: (view) => `${view.roles.length} role(s) in ${mount.display}/:\n${view.roles.map((k) => `- ${k}`).join("\n")}`, structured };
  },
});

export const readPkiRole = defineTool({
  name: "read_pki_role",
  toolset: "pki",
  title: "Read a PKI role",
  description: "Shows the settings of a PKI role: which names it may issue, IP SANs, lifetimes, key type and issuer.",
  input: Type.Object({ mount: MountArg, role_name: RoleNameArg }),
  output: RoleView,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const role = safeName(args.role_name, "role_name");
    const mount = await pkiMount(ctx, args.mount);
    const data = await readRole(ctx, mount, role);
    if (!data) throw noSuchRole(mount, role);
    const view = roleView(mount, role.display, data);
    return { text: describeRole(view), structured: view };
  },
});

export const deletePkiRole = defineTool({
  name: "delete_pki_role",
  toolset: "pki",
  title: "Delete a PKI role",
  description: "Deletes a role from a PKI mount. Certificates already issued from it stay valid; no new ones can be issued with it.",
  input: Type.Object({ mount: MountArg, role_name: RoleNameArg }),
  output: Type.Object({ mount: Type.String(), role_name: Type.String(), deleted: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const role = safeName(args.role_name, "role_name");
    const mount = await pkiMount(ctx, args.mount);
    // Vault answers 204 for a role that does not exist, so look first to tell the model the truth.
    if (!(await readRole(ctx, mount, role))) throw noSuchRole(mount, role);
    await ctx.vault.delete(apiPath(mount, "roles", role));
    return {
      text: `Deleted role "${role.display}" from ${mount.display}/. Certificates issued from it remain valid until they expire.`,
      structured: { mount: mount.display, role_name: role.display, deleted: true },
    };
  },
});

// Advertised as a list; "a, b" is accepted as well (coerced by the registry), since models often send one.

export const pkiRoleTools = [createPkiRole, listPkiRoles, readPkiRole, deletePkiRole];
