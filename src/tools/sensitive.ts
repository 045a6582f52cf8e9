// Fields declared `sensitive: true` in a tool's TypeBox schemas: finding them in a value, copying it with them replaced.
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

type Node = TSchema & {
  sensitive?: unknown;
  properties?: Record<string, TSchema>;
  patternProperties?: Record<string, TSchema>;
  additionalProperties?: unknown;
  items?: TSchema | TSchema[];
  anyOf?: TSchema[];
  oneOf?: TSchema[];
  allOf?: TSchema[];
};

/** One sensitive value found in a value: where (property names and indices from the root), and the value itself. */
export interface Found {
  at: readonly string[];
  value: unknown;
}

/** What a marker in place of a value looks like, to check that every sensitive output field can hold one. */
const SAMPLE_MARKER = "[masked: 24 chars, fingerprint vmfp:0123456789abcdef]";

export function isSensitive(schema: TSchema | undefined): boolean {
  return (schema as Node | undefined)?.sensitive === true;
}

function children(schema: Node): TSchema[] {
  const out: TSchema[] = [];
  if (schema.properties) out.push(...Object.values(schema.properties));
  if (schema.patternProperties) out.push(...Object.values(schema.patternProperties));
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") out.push(schema.additionalProperties as TSchema);
  if (Array.isArray(schema.items)) out.push(...schema.items);
  else if (schema.items) out.push(schema.items);
  for (const branch of [schema.anyOf, schema.oneOf, schema.allOf]) if (branch) out.push(...branch);
  return out;
}

const containing = new WeakMap<TSchema, boolean>();

/** Whether the schema declares any sensitive field, at any depth. */
export function containsSensitive(schema: TSchema): boolean {
  const known = containing.get(schema);
  if (known !== undefined) return known;
  const result = isSensitive(schema) || children(schema as Node).some(containsSensitive);
  containing.set(schema, result);
  return result;
}

/**
 * Refuses declarations the walk below cannot honour, when a tool is registered rather than when a value leaks: a
 * sensitive field inside a union (which branch applies is not known), and, in an output, a sensitive field that could
 * not hold the marker put in its place (a client validates structuredContent against the output schema).
 */
export function checkDeclarations(tool: string, schema: TSchema, side: "input" | "output"): void {
  const visit = (node: Node, where: string): void => {
    if (isSensitive(node)) {
      if (side === "output" && !Value.Check(node, SAMPLE_MARKER)) {
        throw new Error(`${tool}: the sensitive output field ${where} must accept a string, the marker shown in its place`);
      }
      return;
    }
    for (const branch of [node.anyOf, node.oneOf, node.allOf]) {
      if (branch?.some(containsSensitive)) throw new Error(`${tool}: ${where} declares a sensitive field inside a union; mark the union itself sensitive`);
    }
    for (const [name, child] of Object.entries(node.properties ?? {})) visit(child as Node, `${where}.${name}`);
    for (const child of Object.values(node.patternProperties ?? {})) visit(child as Node, `${where}.*`);
    if (node.additionalProperties && typeof node.additionalProperties === "object") visit(node.additionalProperties as Node, `${where}.*`);
    if (node.items && !Array.isArray(node.items)) visit(node.items as Node, `${where}[]`);
  };
  visit(schema as Node, side);
}

const patterns = new Map<string, RegExp>();

/** The schema that governs `key` of an object schema: a named property, a matching pattern, or additionalProperties. */
function propertySchema(schema: Node, key: string): TSchema | undefined {
  if (schema.properties && Object.hasOwn(schema.properties, key)) return schema.properties[key];
  for (const [pattern, sub] of Object.entries(schema.patternProperties ?? {})) {
    let re = patterns.get(pattern);
    if (!re) patterns.set(pattern, (re = new RegExp(pattern, "u")));
    if (re.test(key)) return sub;
  }
  return schema.additionalProperties && typeof schema.additionalProperties === "object" ? (schema.additionalProperties as TSchema) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A copy of `value` in which each sensitive value (as `schema` declares them) is replaced by what `replace` returns;
 * everything else is kept as it is. Keys are copied as own properties, "__proto__" included.
 */
export function mapSensitive(schema: TSchema, value: unknown, replace: (value: unknown, at: readonly string[]) => unknown): unknown {
  return walk(schema, value, (v, link) => replace(v, pathOf(link)), undefined, true);
}

/** Every sensitive value in `value`, in document order. Reads only: nothing is copied. */
export function findSensitive(schema: TSchema, value: unknown): Found[] {
  const found: Found[] = [];
  walk(
    schema,
    value,
    (v, link) => {
      found.push({ at: pathOf(link), value: v });
      return v;
    },
    undefined,
    false,
  );
  return found;
}

/** Where the walk is, innermost last: built one link per step, turned into an array only for a value found. */
interface PathLink {
  parent: PathLink | undefined;
  key: string;
}

function pathOf(link: PathLink | undefined): string[] {
  const out: string[] = [];
  for (let l = link; l; l = l.parent) out.push(l.key);
  return out.reverse();
}

function walk(schema: TSchema, value: unknown, visit: (value: unknown, at: PathLink | undefined) => unknown, link: PathLink | undefined, copy: boolean): unknown {
  if (isSensitive(schema)) return visit(value, link);
  if (!containsSensitive(schema)) return value;
  const node = schema as Node;
  if (Array.isArray(value) && node.items && !Array.isArray(node.items)) {
    const items = node.items;
    if (!copy) {
      for (let i = 0; i < value.length; i++) walk(items, value[i], visit, { parent: link, key: String(i) }, false);
      return value;
    }
    return value.map((v, i) => walk(items, v, visit, { parent: link, key: String(i) }, true));
  }
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> | undefined = copy ? {} : undefined;
  for (const key of Object.keys(value)) {
    const sub = propertySchema(node, key);
    const v = sub ? walk(sub, value[key], visit, { parent: link, key }, copy) : value[key];
    if (!out) continue;
    if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out ?? value;
}

/** Whether the argument at `segments` (e.g. ["data", "password"]) is, or lies inside, a sensitive field. */
export function sensitiveAt(schema: TSchema, segments: readonly string[]): boolean {
  let node: TSchema | undefined = schema;
  for (const segment of segments) {
    if (!node) return false;
    if (isSensitive(node)) return true;
    const n: Node = node as Node;
    node = n.items && !Array.isArray(n.items) && /^\d+$/.test(segment) ? n.items : propertySchema(n, segment);
  }
  return isSensitive(node);
}

/**
 * A short name per value, for a wrapped payload and for people: the last key (a secret's key, a field's name), or the
 * whole dotted path where two values would share one.
 */
export function labels(found: readonly Found[]): string[] {
  const last = found.map((f) => f.at[f.at.length - 1] ?? "value");
  const count = new Map<string, number>();
  for (const l of last) count.set(l, (count.get(l) ?? 0) + 1);
  return found.map((f, i) => ((count.get(last[i]!) ?? 0) > 1 ? f.at.join(".") : last[i]!));
}
