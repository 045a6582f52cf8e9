// Schemas as tools/list shows them: plain JSON Schema every model adapter keeps (enums, not unions of literals; no
// patternProperties; a defaulted argument not required), and the accepted-but-not-advertised forms of a few arguments.
import type { TSchema } from "@sinclair/typebox";

/** A JSON-only copy of a TypeBox schema (no symbol keys) in the form lossy adapters keep; safe to send and to compare. */
export function listedSchema(schema: TSchema): Record<string, unknown> {
  return plain(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
}

// TypeBox's Type.Record(Type.String(), X): any key, which JSON Schema says with additionalProperties.
const ANY_KEY = new Set(["^(.*)$", "^.*$"]);

function plain(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(plain);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = plain(v);
  // A union of literals of one type is a closed set: {type, enum}, which survives an adapter keeping type/description/enum.
  if (Array.isArray(out.anyOf)) {
    const branches = out.anyOf as Record<string, unknown>[];
    const types = new Set(branches.map((b) => b.type));
    if (branches.length > 0 && types.size === 1 && branches.every((b) => "const" in b && Object.keys(b).every((k) => k === "const" || k === "type"))) {
      const { anyOf: _, ...rest } = out;
      return { type: branches[0]!.type, enum: branches.map((b) => b.const), ...rest };
    }
  }
  if (out.patternProperties && typeof out.patternProperties === "object") {
    const patterns = Object.entries(out.patternProperties as Record<string, unknown>);
    if (patterns.length === 1 && ANY_KEY.has(patterns[0]![0]) && (out.additionalProperties === undefined || out.additionalProperties === false)) {
      const { patternProperties: _, ...rest } = out;
      return { ...rest, additionalProperties: patterns[0]![1] };
    }
  }
  // The registry applies every default before validation, so an argument with one may always be left out.
  if (out.type === "object" && Array.isArray(out.required) && out.properties && typeof out.properties === "object") {
    const props = out.properties as Record<string, Record<string, unknown>>;
    const required = (out.required as string[]).filter((name) => props[name]?.default === undefined);
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

/** Where a schema keeps its coercion: a symbol, so JSON never shows it and tools/list does not advertise it. */
const COERCE = Symbol.for("vault-mcp-server.coerce");

type Coercion = (value: unknown) => unknown;

/**
 * An array-of-strings argument that also accepts "a, b, c" (not advertised: the array is the one form models are told).
 * The comma form is split, trimmed and emptied of blanks before validation.
 */
export function commaSeparated<T extends TSchema>(schema: T): T {
  const coerce: Coercion = (value) => (typeof value === "string" && value.trim() !== "" ? value.split(",").map((s) => s.trim()).filter((s) => s !== "") : value);
  return Object.assign(schema, { [COERCE]: coerce });
}

/** The arguments with each top-level argument's accepted-but-not-advertised form turned into the advertised one. */
export function coerceArguments(schema: TSchema, args: Record<string, unknown>): Record<string, unknown> {
  let out = args;
  for (const [name, coerce] of coercionsOf(schema)) {
    if (!Object.hasOwn(args, name)) continue;
    const value = coerce(args[name]);
    if (value !== args[name]) out = { ...out, [name]: value };
  }
  return out;
}

const coercions = new WeakMap<TSchema, [string, Coercion][]>();

/** The schema's top-level arguments that have a coercion, found once per schema (most tools have none). */
function coercionsOf(schema: TSchema): [string, Coercion][] {
  let found = coercions.get(schema);
  if (!found) {
    const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
    found = [];
    for (const [name, prop] of Object.entries(properties)) {
      const coerce = (prop as unknown as Record<symbol, Coercion | undefined>)[COERCE];
      if (coerce) found.push([name, coerce]);
    }
    coercions.set(schema, found);
  }
  return found;
}
