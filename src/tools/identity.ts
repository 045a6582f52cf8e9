// Who the server is to Vault (toolset identity): lookup_self, read_entity_self, list_auth_methods, read_auth_method.
import { Type } from "@sinclair/typebox";
import * as sys from "../vault/sys.ts";
import { ToolError } from "./errors.ts";
import { defineTool } from "./registry.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

function duration(seconds: number): string {
  if (seconds <= 0) return "never expires";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h}h${m ? `${m}m` : ""}` : m > 0 ? `${m}m` : `${seconds}s`;
}

export const lookupSelf = defineTool({
  name: "lookup_self",
  toolset: "identity",
  title: "Look up this server's token",
  description:
    "Shows what Vault knows of this server's own token: display name, policies, time to live, whether it renews, its entity. Never the token or its accessor.",
  input: Type.Object({}),
  output: Type.Object({
    display_name: Type.String(),
    policies: Type.Array(Type.String()),
    identity_policies: Type.Array(Type.String()),
    ttl: Type.Integer({ description: "Seconds left; 0 means it never expires" }),
    renewable: Type.Boolean(),
    entity_id: Type.String({ description: '"" when the token has no entity' }),
    type: Type.String(),
    orphan: Type.Boolean(),
    expire_time: Type.Optional(Type.String()),
    auth_path: Type.Optional(Type.String({ description: "The auth method path that issued it" })),
  }),
  annotations: READ_ONLY,
  async run(_args, { vault }) {
    const t = await sys.lookupSelf(vault);
    const s = {
      display_name: t.display_name ?? "",
      policies: t.policies ?? [],
      identity_policies: t.identity_policies ?? [],
      ttl: t.ttl ?? 0,
      renewable: t.renewable === true,
      entity_id: t.entity_id ?? "",
      type: t.type ?? "service",
      orphan: t.orphan === true,
      ...(t.expire_time ? { expire_time: t.expire_time } : {}),
      ...(t.path ? { auth_path: t.path } : {}),
    };
    const policies = [...s.policies, ...s.identity_policies.map((p) => `${p} (from its entity)`)];
    return {
      text:
        `This server's token is "${s.display_name}" (${s.type}), with policies ${policies.join(", ") || "(none)"}; ` +
        `it ${s.ttl > 0 ? `expires in ${duration(s.ttl)}` : "never expires"}${s.renewable ? " and is renewable" : " and cannot be renewed"}. ` +
        (s.entity_id ? `Its entity is ${s.entity_id}: read_entity_self shows it.` : "It has no identity entity."),
      structured: s,
    };
  },
});

const Alias = Type.Object({ name: Type.String(), mount_type: Type.String(), mount_path: Type.String() });

export const readEntitySelf = defineTool({
  name: "read_entity_self",
  toolset: "identity",
  title: "Read this server's identity entity",
  description: "Reads the identity entity behind this server's token (name, policies, aliases, groups), found through the token's entity id.",
  input: Type.Object({}),
  output: Type.Object({
    has_entity: Type.Boolean(),
    id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    policies: Type.Optional(Type.Array(Type.String())),
    disabled: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
    aliases: Type.Optional(Type.Array(Alias)),
    group_ids: Type.Optional(Type.Array(Type.String())),
  }),
  annotations: READ_ONLY,
  async run(_args, { vault }) {
    const self = await sys.lookupSelf(vault);
    const id = self.entity_id ?? "";
    if (!id) {
      return {
        text: "This server's token has no identity entity (a root token, or one created directly with auth/token/create). lookup_self shows its policies.",
        structured: { has_entity: false },
      };
    }
    const e = await sys.readEntity(vault, id);
    if (!e) throw new ToolError(`This server's token names entity ${id}, but Vault has no such entity (it may have been deleted). lookup_self shows the token's own policies.`);
    const aliases = (e.aliases ?? []).map((a) => ({ name: a.name ?? "", mount_type: a.mount_type ?? "", mount_path: a.mount_path ?? "" }));
    const s = {
      has_entity: true,
      id: e.id,
      name: e.name ?? "",
      policies: e.policies ?? [],
      disabled: e.disabled === true,
      metadata: e.metadata ?? {},
      aliases,
      group_ids: e.group_ids ?? [],
    };
    return {
      text:
        `This server's entity is "${s.name}" (${s.id})${s.disabled ? ", DISABLED" : ""}, with policies ${s.policies.join(", ") || "(none)"}, ` +
        `${aliases.length} alias${aliases.length === 1 ? "" : "es"}${aliases.length ? ` (${aliases.map((a) => `${a.name} via ${a.mount_path}`).join(", ")})` : ""} and ${s.group_ids.length} group(s).`,
      structured: s,
    };
  },
});

const AuthEntry = Type.Object({
  path: Type.String({ description: "Path under auth/, without trailing slash" }),
  type: Type.String(),
  description: Type.String(),
  accessor: Type.Optional(Type.String()),
  local: Type.Optional(Type.Boolean()),
  default_lease_ttl: Type.Optional(Type.Integer()),
  max_lease_ttl: Type.Optional(Type.Integer()),
  token_type: Type.Optional(Type.String()),
});

function authEntry(path: string, m: sys.RawAuthMethod) {
  return {
    path: path.replace(/\/+$/, ""),
    type: m.type ?? "unknown",
    description: m.description ?? "",
    ...(m.accessor ? { accessor: m.accessor } : {}),
    ...(typeof m.local === "boolean" ? { local: m.local } : {}),
    ...(typeof m.config?.default_lease_ttl === "number" ? { default_lease_ttl: m.config.default_lease_ttl } : {}),
    ...(typeof m.config?.max_lease_ttl === "number" ? { max_lease_ttl: m.config.max_lease_ttl } : {}),
    ...(typeof m.config?.token_type === "string" ? { token_type: m.config.token_type } : {}),
  };
}

export const listAuthMethods = defineTool({
  name: "list_auth_methods",
  toolset: "identity",
  title: "List auth methods",
  description: "Lists every auth method enabled in Vault (token, kubernetes, approle, ...) with its path and type (sys/auth).",
  input: Type.Object({}),
  output: Type.Object({ auth_methods: Type.Array(AuthEntry) }),
  annotations: READ_ONLY,
  async run(_args, { vault }) {
    const methods = Object.entries(await sys.listAuthMethods(vault))
      .map(([p, m]) => authEntry(p, m))
      .sort((a, b) => a.path.localeCompare(b.path));
    return {
      text: (view) =>
        `${view.auth_methods.length} auth method${view.auth_methods.length === 1 ? "" : "s"} enabled:\n` +
        view.auth_methods.map((m) => `- auth/${m.path}/ (${m.type})${m.description ? `: ${m.description}` : ""}`).join("\n"),
      structured: { auth_methods: methods },
    };
  },
});

export const readAuthMethod = defineTool({
  name: "read_auth_method",
  toolset: "identity",
  title: "Read an auth method",
  description: 'Reads one auth method\'s settings (type, description, lease TTLs, token type) by its path, e.g. "token" or "kubernetes".',
  input: Type.Object({
    // Under auth/, reached only through sys/auth/<path>: no secrets mount target.
    path: Type.String({ description: 'The auth method\'s path, e.g. "token" or "kubernetes" (a leading "auth/" is accepted)', minLength: 1, vault: "none" }),
  }),
  output: AuthEntry,
  annotations: READ_ONLY,
  async run(args, { vault }) {
    const path = sys.authPath(args.path);
    const m = await sys.readAuthMethod(vault, path);
    if (!m) throw new ToolError(`No auth method is enabled at auth/${path.display}/. list_auth_methods shows the ones there are.`);
    const e = authEntry(path.display, m);
    const ttl = (s?: number) => (s ? `${s}s` : "the system default");
    return {
      text: `auth/${e.path}/ is a ${e.type} auth method${e.description ? ` ("${e.description}")` : ""}; default lease TTL ${ttl(e.default_lease_ttl)}, maximum ${ttl(e.max_lease_ttl)}${e.token_type ? `, tokens of type ${e.token_type}` : ""}.`,
      structured: e,
    };
  },
});

export const identityTools = [lookupSelf, readEntitySelf, listAuthMethods, readAuthMethod];
