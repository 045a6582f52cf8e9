// Which arguments of a tool name Vault objects, as its input schema declares them (`vault: ...`), and what they name.
import type { TObject, TSchema } from "@sinclair/typebox";
import { PathError, safeMount, safeName, safePath } from "../vault/paths.ts";
import type { Target } from "./policy.ts";

/**
 * The declaration on an argument's schema:
 * - `vault: "mount"`: a mount path ("secret", "team/kv"); alone it is the target (create_mount, list_pki_roles).
 * - `vault: "path"`: a path inside a mount; the target is "mount/path". `vaultOf` names the mount argument (default "mount").
 * - `vault: "name"`: one name inside a mount (a role, an issuer); the target is "mount/name".
 * - `vault: "none"`: looks like a name but names no Vault object the rules govern (a key inside a secret, a certificate's
 *   common name, a key type); declared so that no argument is left out by forgetting.
 * `vaultList: true` marks the argument whose target the tool lists (list_secrets' path, list_pki_roles' mount).
 */
export type VaultRole = "mount" | "path" | "name" | "none";

export interface VaultDeclaration {
  vault?: VaultRole;
  vaultOf?: string;
  vaultList?: boolean;
}

/** Argument names that look as if they name a Vault object: each must carry a declaration. */
const NAME_LIKE = /(^|_)(mount|path|paths|role|roles|issuer|issuers|name|names|key|keys|ref)(_|$)/;

interface Spec {
  /** The property name, and its dotted name from the top for messages ("store_at.mount"). */
  readonly key: string;
  readonly argument: string;
  readonly role: Exclude<VaultRole, "none">;
  readonly of: string;
  readonly listing: boolean;
}

interface Level {
  readonly specs: readonly Spec[];
  readonly nested: readonly { key: string; level: Level }[];
}

/** A tool's compiled declarations: resolve(args) gives the targets of one call. */
export interface TargetPlan {
  /** Whether the tool names any Vault object. */
  readonly any: boolean;
  /** The targets named by validated, defaulted arguments, normalised as the tools normalise them; PathError when one cannot be. */
  resolve(args: Record<string, unknown>): Target[];
}

type Node = TSchema & VaultDeclaration & { properties?: Record<string, TSchema>; type?: unknown };

/** Whether a value of this schema can be (or hold) a string: only those can name a Vault object. */
function holdsString(schema: Node & { anyOf?: Node[]; items?: Node }): boolean {
  if (schema.type === "string") return true;
  if (schema.anyOf?.some(holdsString)) return true;
  return schema.type === "array" && schema.items !== undefined && holdsString(schema.items);
}

function compileLevel(tool: string, schema: Node, prefix: string): Level {
  const specs: Spec[] = [];
  const nested: { key: string; level: Level }[] = [];
  const props = schema.properties ?? {};
  for (const [key, child] of Object.entries(props) as [string, Node][]) {
    const argument = prefix + key;
    const role = child.vault;
    if (role !== undefined && !["mount", "path", "name", "none"].includes(role)) throw new Error(`${tool}: argument "${argument}" declares vault: "${role}"; use mount, path, name or none`);
    if (child.type === "object" && child.properties) {
      const level = compileLevel(tool, child, `${argument}.`);
      if (level.specs.length > 0 || level.nested.length > 0) nested.push({ key, level });
      continue;
    }
    if (role === undefined) {
      if (NAME_LIKE.test(key) && holdsString(child)) {
        throw new Error(`${tool}: argument "${argument}" looks as if it names a Vault object; declare it in the schema with vault: "mount", "path", "name" or "none" (src/policy/targets.ts)`);
      }
      continue;
    }
    if (role === "none") continue;
    const of = child.vaultOf ?? "mount";
    specs.push({ key, argument, role, of, listing: child.vaultList === true });
  }
  for (const s of specs) {
    if (s.role === "mount") continue;
    const mount = specs.find((m) => m.key === s.of);
    if (!mount || mount.role !== "mount") throw new Error(`${tool}: argument "${s.argument}" is inside mount argument "${prefix}${s.of}", which does not declare vault: "mount"`);
  }
  return { specs, nested };
}

function resolveLevel(level: Level, args: Record<string, unknown>, out: Target[]): void {
  const mounts = new Map<string, string>();
  const used = new Set<string>();
  for (const s of level.specs) {
    if (s.role !== "mount" || args[s.key] === undefined) continue;
    mounts.set(s.key, safeMount(args[s.key], s.argument).display);
  }
  for (const s of level.specs) {
    if (s.role === "mount" || args[s.key] === undefined) continue;
    const mount = mounts.get(s.of);
    if (mount === undefined) continue;
    const inner = s.role === "name" ? safeName(args[s.key], s.argument) : safePath(args[s.key], s.argument, { allowEmpty: s.listing });
    used.add(s.of);
    out.push({ path: inner.display ? `${mount}/${inner.display}` : mount, argument: s.argument, ...(s.listing ? { listing: true } : {}) });
  }
  for (const s of level.specs) {
    const mount = mounts.get(s.key);
    if (s.role !== "mount" || mount === undefined || used.has(s.key)) continue;
    out.push({ path: mount, argument: s.argument, ...(s.listing ? { listing: true } : {}) });
  }
  for (const n of level.nested) {
    const value = args[n.key];
    if (typeof value === "object" && value !== null && !Array.isArray(value)) resolveLevel(n.level, value as Record<string, unknown>, out);
  }
}

/**
 * Compiles a tool's declarations at registration. Throws when an argument looks as if it names a Vault object but
 * declares nothing, or a path or name has no mount to lie in: a tool cannot forget to have its targets checked.
 */
export function compileTargets(tool: string, input: TObject): TargetPlan {
  const root = compileLevel(tool, input as Node, "");
  const any = root.specs.length > 0 || root.nested.length > 0;
  return {
    any,
    resolve(args) {
      const out: Target[] = [];
      if (any) resolveLevel(root, args, out);
      return out;
    },
  };
}

/** How an entry of a list answer is read, from its output schema declaration (`vault` on the field). */
export type EntryRole = "entry" | "name" | "mount";

interface ListField {
  /** The array's property name in the output. */
  readonly key: string;
  /** Items are strings (undefined) or objects whose named fields name the item. */
  readonly fields?: readonly { key: string; role: EntryRole }[];
  readonly role?: EntryRole;
}

/** A tool's list outputs: arrays whose items name Vault objects, to be filtered to what the caller may touch. */
export interface ListPlan {
  readonly fields: readonly ListField[];
}

/**
 * Reads the output declarations: an array whose items are `vault: "entry"` strings (relative to the listed folder, a
 * trailing "/" marking a folder), `vault: "name"` strings (a name in the listed mount), or objects with such fields;
 * `vault: "mount"` names a mount by its full path. Undefined when the tool lists nothing.
 */
export function compileListPlan(tool: string, output: TObject): ListPlan | undefined {
  const fields: ListField[] = [];
  for (const [key, child] of Object.entries(output.properties) as [string, Node & { items?: Node }][]) {
    const items = child.items;
    if (child.type !== "array" || !items) continue;
    const role = items.vault as EntryRole | undefined;
    if (role) {
      fields.push({ key, role });
      continue;
    }
    const named = Object.entries(items.properties ?? {})
      .filter(([, p]) => (p as Node).vault !== undefined)
      .map(([k, p]) => ({ key: k, role: (p as Node).vault as EntryRole }));
    if (named.length > 0) fields.push({ key, fields: named });
  }
  for (const f of fields) {
    for (const r of f.fields?.map((x) => x.role) ?? [f.role]) {
      if (r !== "entry" && r !== "name" && r !== "mount") throw new Error(`${tool}: output field "${f.key}" declares vault: "${r}"; list entries are entry, name or mount`);
    }
  }
  return fields.length > 0 ? { fields } : undefined;
}

/** An entry's target ("mount/path") and whether it is a folder (a mount, or a KV key ending in "/"). */
export function entryTarget(role: EntryRole, value: string, listed: string | undefined): { path: string; folder: boolean } | undefined {
  if (role === "mount") return { path: value.replace(/\/+$/, ""), folder: true };
  if (listed === undefined) return undefined;
  const folder = role === "entry" && value.endsWith("/");
  const name = folder ? value.slice(0, -1) : value;
  return { path: `${listed}/${name}`, folder };
}

export { PathError };
