// Which Vault API paths a tool call may touch, given its arguments as the model sent them; the fuzz holds every audited request to this.
import { allTools } from "../../src/tools/index.ts";

/** One request as Vault's audit log (or the server's fetch) shows it: operation and path below /v1/, without query string. */
export interface SeenRequest {
  operation: string;
  path: string;
  /** The HTTP status Vault answered, where the server's fetch saw it. */
  status?: number;
}

/** The token endpoints the server's token keeper may call at any time, whatever the tool. */
const TOKEN_SELF = new Set(["auth/token/lookup-self", "auth/token/renew-self"]);

/** Tools whose `path` argument is a mount to create or delete (sys/mounts/<path>). */
const MOUNT_MANAGERS = new Set(["create_mount", "delete_mount", "enable_pki", "enable_transit"]);

/** The schema defaults the registry applies, which decide the mount a call without one works on: read from each tool's own schema. */
export const DEFAULT_MOUNT: Record<string, string> = Object.fromEntries(
  allTools.flatMap((t) => {
    const props = t.input.properties as Record<string, { default?: unknown }>;
    const d = MOUNT_MANAGERS.has(t.name) ? props.path?.default : props.mount?.default;
    return typeof d === "string" ? [[t.name, d]] : [];
  }),
);
const PKI_DEFAULT = "pki";

/** A mount argument as the server reads it: one leading and one trailing slash are tolerated (paths.ts). */
function normal(raw: string): string {
  let s = raw;
  if (s.startsWith("/")) s = s.slice(1);
  if (s.endsWith("/")) s = s.slice(0, -1);
  return s;
}

export interface Scope {
  /** Mounts whose own paths (<mount>/...) the call may read and write. */
  mounts: string[];
  /** Paths the call may touch exactly: mount lookups, the mount it manages. */
  exact: Set<string>;
  /** Paths the call may only read: the mounts that could enclose the one a mount tool manages. */
  reads: Set<string>;
  /** Paths named by what Vault answered, not by an argument (the token's own entity): matched by shape. */
  shapes?: RegExp[];
}

/** Paths Vault answers in its HTTP layer without routing them, so its audit log never shows them (read_cluster_health). */
export const UNAUDITED = new Set(["sys/health", "sys/leader"]);

/** A policy name as write_policy and the others read it: one slash either side tolerated, and Vault's lower case. */
function policyScope(a: Record<string, unknown>): string | undefined {
  return typeof a.name === "string" ? `sys/policies/acl/${normal(a.name).toLowerCase()}` : undefined;
}

/**
 * The sys/, auth/ and identity/ paths each policy, identity and operations tool may touch, built from its arguments as
 * the tool builds them; undefined for every other tool.
 */
function vaultApiScope(tool: string, a: Record<string, unknown>): string[] | undefined {
  const str = (k: string) => (typeof a[k] === "string" ? normal(a[k] as string) : undefined);
  const one = (p: string | undefined) => (p === undefined ? [] : [p]);
  switch (tool) {
    case "list_policies":
      return ["sys/policies/acl"];
    case "read_policy":
    case "write_policy":
    case "delete_policy":
      return one(policyScope(a));
    case "check_capabilities":
      return ["sys/capabilities-self"];
    case "lookup_self":
    case "read_entity_self":
      return [];
    case "list_auth_methods":
    case "read_auth_method":
      return ["sys/auth"];
    case "read_cluster_health":
      return [...UNAUDITED];
    case "read_mount":
      return ["sys/mounts"];
    case "tune_mount": {
      const p = str("path");
      return ["sys/mounts", ...one(p === undefined ? undefined : `sys/mounts/${p}/tune`)];
    }
    case "list_audit_devices":
      return ["sys/audit"];
    case "list_leases": {
      const p = str("prefix");
      return one(p === undefined ? undefined : p === "" ? "sys/leases/lookup" : `sys/leases/lookup/${p}`);
    }
    case "read_lease":
      return ["sys/leases/lookup"];
    case "revoke_lease":
      return ["sys/leases/lookup", "sys/leases/revoke"];
  }
  return undefined;
}

/** What `tool` called with `args` may touch. Arguments that are not strings widen nothing. */
export function scopeOf(tool: string, args: unknown): Scope {
  const a = args && typeof args === "object" && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  const scope: Scope = { mounts: [], exact: new Set(TOKEN_SELF), reads: new Set() };
  const own = vaultApiScope(tool, a);
  if (own) {
    for (const p of own) scope.exact.add(p);
    // The entity id comes from lookup-self's answer, and the tool puts it in the path only when it is a UUID.
    if (tool === "read_entity_self") scope.shapes = [/^identity\/entity\/id\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/];
    return scope;
  }
  if (tool === "list_mounts") {
    scope.exact.add("sys/mounts");
    return scope;
  }
  if (MOUNT_MANAGERS.has(tool)) {
    const raw = Object.hasOwn(a, "path") ? a.path : DEFAULT_MOUNT[tool];
    if (typeof raw !== "string") return scope;
    const path = normal(raw);
    scope.exact.add(`sys/mounts/${path}`);
    // To say which mount encloses a path that is not a mount itself; deleting one of them would be the bug.
    const segments = path.split("/");
    for (let n = 1; n < segments.length; n++) scope.reads.add(`sys/mounts/${segments.slice(0, n).join("/")}`);
    return scope;
  }
  const mountArgs = tool === "create_pki_issuer" ? ["mount", "parent_mount"] : ["mount"];
  const raws: unknown[] = mountArgs.map((name) => (Object.hasOwn(a, name) ? a[name] : name === "mount" ? (DEFAULT_MOUNT[tool] ?? PKI_DEFAULT) : undefined));
  // issue_pki_certificate's store_at names the KV mount the certificate and key are written to (default "secret").
  const storeAt = a.store_at;
  if (tool === "issue_pki_certificate" && storeAt && typeof storeAt === "object" && !Array.isArray(storeAt)) {
    const at = storeAt as Record<string, unknown>;
    raws.push(Object.hasOwn(at, "mount") ? at.mount : "secret");
  }
  for (const raw of raws) {
    if (typeof raw !== "string") continue;
    const mount = normal(raw);
    scope.mounts.push(mount);
    // The mount-type lookup (mount-info.ts), and the sys/mounts fallback it uses when the first one is refused.
    scope.exact.add(`sys/internal/ui/mounts/${mount}`);
    scope.exact.add("sys/mounts");
  }
  return scope;
}

/** Lookups every tool may make before it refuses an argument; anything else after an argument error is a request that should not have been sent. */
export function isLookup(path: string): boolean {
  return TOKEN_SELF.has(path) || path === "sys/mounts" || path.startsWith("sys/internal/ui/mounts/");
}

// Vault's own API prefixes, in any letter case: a call reaches them only through the exact paths a scope lists.
const RESERVED = /^(sys|auth|identity)(\/|$)/i;
// What a path that stayed inside its mount never holds once Vault has decoded it.
const RELATIVE_OR_EMPTY = /(^|\/)\.{1,2}(\/|$)|\/\/|^\/|\/$/;
const SMUGGLED = /[\u0000-\u001f\u007f?#\\]/;

/** Why `req` lies outside `scope`, or undefined when it is inside. */
export function escape(scope: Scope, req: SeenRequest): string | undefined {
  const { path } = req;
  // LIST asks for a folder, which Vault's audit log shows with its trailing slash.
  const bare = req.operation === "list" && path.endsWith("/") ? path.slice(0, -1) : path;
  if (RELATIVE_OR_EMPTY.test(bare)) return `${req.operation} ${JSON.stringify(path)} has an empty, "." or ".." segment`;
  if (SMUGGLED.test(path)) return `${req.operation} ${JSON.stringify(path)} holds a control character, "?", "#" or a backslash`;
  if (scope.exact.has(bare)) return undefined;
  if (scope.shapes?.some((re) => re.test(bare))) return undefined;
  if (req.operation === "read" && scope.reads.has(bare)) return undefined;
  if (RESERVED.test(path)) return `${req.operation} ${JSON.stringify(path)} reaches Vault's own API, which this call may not touch`;
  if (scope.mounts.some((m) => m !== "" && path.startsWith(`${m}/`))) return undefined;
  return `${req.operation} ${JSON.stringify(path)} lies outside the mounts this call names (${scope.mounts.map((m) => JSON.stringify(m)).join(", ") || "none"})`;
}
