// Tool arguments on their way in: defaults applied, unknown names refused, types checked, and the words a model is told when they are wrong.
import type { Static, TObject, TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { Value, ValueErrorType, type ValueError } from "@sinclair/typebox/value";
import { hasLoneSurrogate, LONE_SURROGATE_REASON } from "../vault/paths.ts";
import { coerceArguments } from "./listed-schema.ts";
import { sensitiveAt } from "./sensitive.ts";

/** What checking a tool's arguments needs: its name and input schema, the names it accepts, and its compiled check (cached here). */
export interface ArgumentPlan {
  def: { name: string; input: TObject };
  accepted: string[];
  /** Compiled on the tool's first call, then kept: compiling every tool at start-up took ~15 ms of the cold start. */
  check?: TypeCheck<TObject>;
  /** The schema's defaults, found on the first call: top-level ones as a list, or "nested" when TypeBox must walk it. */
  defaults?: [string, unknown][] | "nested";
}

/** Defaults applied, unknown names refused, types checked. Returns the message for the model when they are wrong. */
export function prepareArguments(entry: ArgumentPlan, raw: unknown): Static<TObject> | string {
  const tool = entry.def.name;
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return `Invalid arguments for ${tool}: expected an object of named arguments (${entry.accepted.join(", ")}), got ${Array.isArray(raw) ? "an array" : typeof raw}.`;
  }
  const unknown = Object.keys(raw as object).filter((k) => !entry.accepted.includes(k));
  if (unknown.length > 0) {
    const accepted = entry.accepted.length > 0 ? entry.accepted.join(", ") : "no arguments";
    // A few names are enough to see the mistake; echoing 60,000 of them back is not.
    const named = unknown.slice(0, MAX_NAMED).map(quotedName).join(", ");
    const more = unknown.length > MAX_NAMED ? ` and ${unknown.length - MAX_NAMED} more` : "";
    return `Unknown argument${unknown.length > 1 ? "s" : ""} ${named}${more} for ${tool}. It accepts: ${accepted}.`;
  }
  // Before anything recursive (cloning, defaults, validation) sees them, so no nesting can overflow the stack.
  const unsafe = unsafeArgument(raw as Record<string, unknown>);
  if (unsafe) return `Invalid arguments for ${tool}: ${unsafe}.`;
  // Defaults live in the schema and are applied here, in code, before validation: never only advertised.
  const args = applyDefaults(entry, coerceArguments(entry.def.input, cloneData(raw as Record<string, unknown>)));
  // Compiled once per tool: validation is on every call's path.
  const check = (entry.check ??= TypeCompiler.Compile(entry.def.input));
  if (check.Check(args)) return args;
  const problems = [...check.Errors(args)];
  const messages = unique(problems.filter(isLeafProblem(problems)).map((e) => describeProblem(e, entry.def.input)));
  return `Invalid arguments for ${tool}: ${messages.slice(0, 3).join("; ")}.`;
}

/**
 * The schema's defaults applied to missing arguments: directly when they are all top-level (every tool's today), which
 * is what TypeBox's Value.Default does for them without walking each argument's schema twice; by Value.Default otherwise.
 */
function applyDefaults(entry: ArgumentPlan, args: Record<string, unknown>): Record<string, unknown> {
  const defaults = (entry.defaults ??= topLevelDefaults(entry.def.input));
  if (defaults === "nested") return Value.Default(entry.def.input, args) as Record<string, unknown>;
  for (const [name, value] of defaults) if (args[name] === undefined) args[name] = cloneData(value);
  return args;
}

function topLevelDefaults(schema: TObject): [string, unknown][] | "nested" {
  if ("default" in schema || hasDefault(schema.additionalProperties)) return "nested";
  const out: [string, unknown][] = [];
  for (const name of Object.getOwnPropertyNames(schema.properties)) {
    const prop = schema.properties[name] as Record<string, unknown>;
    // A default below the top (inside an object, array or union argument) needs TypeBox's walk.
    for (const key of Object.keys(prop)) if (key !== "default" && hasDefault(prop[key])) return "nested";
    if ("default" in prop) out.push([name, prop.default]);
  }
  return out;
}

/** True when a default is declared anywhere in `value` (a schema or part of one). */
function hasDefault(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(hasDefault);
  if ("default" in value) return true;
  return Object.values(value).some(hasDefault);
}

/**
 * A copy of arguments (JSON data: objects, arrays, strings, numbers, booleans, null), so applying defaults never changes
 * what the caller sent (the audit log names the arguments as sent). Far cheaper than structuredClone for the small
 * objects arguments are; called after unsafeArgument, so the depth is bounded.
 */
function cloneData<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(cloneData) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    // defineProperty, so a key named "__proto__" is an own property as it was in the original, never the prototype.
    if (key === "__proto__") Object.defineProperty(out, key, { value: cloneData(v), enumerable: true, writable: true, configurable: true });
    else out[key] = cloneData(v);
  }
  return out as T;
}

const MAX_NAMED = 10;
/** Deeper than any secret or role a person writes; far shallower than the stack a recursive clone or check needs. */
export const MAX_ARGUMENT_DEPTH = 64;

function quotedName(name: string): string {
  return name.length > 40 ? `${JSON.stringify(name.slice(0, 40))}...` : JSON.stringify(name);
}

/**
 * The first thing no tool should be handed, as a phrase naming the argument: a string or key holding a lone UTF-16
 * surrogate (it has no UTF-8 form, so it can neither go into a Vault path nor be stored faithfully as a value), or
 * nesting deeper than MAX_ARGUMENT_DEPTH. Iterative, so it is safe on any depth.
 */
function unsafeArgument(args: Record<string, unknown>): string | undefined {
  const stack: { value: unknown; path: string; top: string; depth: number }[] = [];
  for (const key of Object.keys(args).reverse()) stack.push({ value: args[key], path: key, top: key, depth: 1 });
  while (stack.length > 0) {
    const { value, path, top, depth } = stack.pop()!;
    if (typeof value === "string") {
      if (hasLoneSurrogate(value)) return `argument ${quotedName(path)} ${LONE_SURROGATE_REASON}`;
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth > MAX_ARGUMENT_DEPTH) {
      return `argument ${quotedName(top)} is nested more than ${MAX_ARGUMENT_DEPTH} levels deep; send a flatter value (a secret's data is a map of keys to strings, numbers or small objects)`;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}.${i}`, top, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    for (const key of keys) if (hasLoneSurrogate(key)) return `argument ${quotedName(path)} has a key that ${LONE_SURROGATE_REASON}`;
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      stack.push({ value: (value as Record<string, unknown>)[key], path: `${path}.${key}`, top, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Keeps the most telling problem per argument: "missing" over "wrong type", and branches over TypeBox's union summary. */
function isLeafProblem(all: ValueError[]) {
  const missing = new Set(all.filter((e) => e.type === ValueErrorType.ObjectRequiredProperty).map((e) => e.path));
  return (e: ValueError) => {
    if (missing.has(e.path) && e.type !== ValueErrorType.ObjectRequiredProperty) return false;
    return !(e.type === ValueErrorType.Union && all.some((o) => o !== e && o.path.startsWith(e.path) && o.path !== e.path));
  };
}

function describeProblem(e: ValueError, root: TObject): string {
  const arg = e.path.replace(/^\//, "").replace(/\//g, ".") || "(arguments)";
  const topName = arg.split(".")[0] ?? arg;
  const top = root.properties[topName] as TSchema | undefined;
  const hint = top?.description ? ` (${top.description})` : "";
  if (e.type === ValueErrorType.ObjectRequiredProperty) return `missing required argument "${arg}"${hint}`;
  // A value meant to be secret is described, never quoted.
  const got = sensitiveAt(root, e.path.split("/").slice(1)) ? described(e.value) : shown(e.value);
  return `argument "${arg}" ${expectation(e)}, got ${got}${hint}`;
}

function expectation(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) {
    const literals = (s.anyOf as Record<string, unknown>[]).map((b) => b.const).filter((c) => c !== undefined);
    if (literals.length > 0) return `must be one of ${literals.map((c) => JSON.stringify(c)).join(", ")}`;
  }
  switch (e.type) {
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s.maxLength} characters`;
    case ValueErrorType.StringPattern:
      return `must match ${s.pattern}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${s.minimum}`;
    case ValueErrorType.NumberMaximum:
      return `must be at most ${s.maximum}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${s.minItems} item(s)`;
    case ValueErrorType.ObjectMinProperties:
      return `must have at least ${s.minProperties} entr${s.minProperties === 1 ? "y" : "ies"}`;
    case ValueErrorType.ObjectAdditionalProperties:
      return "has a property that is not allowed";
    default:
      break;
  }
  if (typeof s.type === "string") return `must be ${article(s.type)}`;
  return e.message.charAt(0).toLowerCase() + e.message.slice(1);
}

function article(type: string): string {
  return type === "integer" || type === "object" || type === "array" ? `an ${type}` : `a ${type}`;
}

function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function described(value: unknown): string {
  if (typeof value === "string") return `a string of ${value.length} characters`;
  return value === undefined ? "nothing" : value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
