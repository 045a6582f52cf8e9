// Guidance in the structured result: a summary and the suggested next calls, read from a tool's (already masked) text.
// Some clients (kagent's Go agent) hand the model only structuredContent on success, so the text's hints must be there too.

/** Longest summary kept: one line a model reads at a glance, not a second copy of the answer. */
export const MAX_SUMMARY = 240;
/** At most this many suggested calls; a text that suggests more is an error's catalogue, not a next step. */
const MAX_NEXT = 5;

export interface Guidance {
  /** The first line of the text answer. */
  summary: string;
  /** The calls the text suggests, in its own `tool(arg="...")` form; only names of tools this server serves. */
  next?: string[];
}

/** The fields the registry adds to every output schema. */
export const GUIDANCE_PROPERTIES = {
  summary: { type: "string", description: "The first line of the text answer: what the call did" },
  next: {
    type: "array",
    items: { type: "string" },
    description: 'Calls the answer suggests next, as tool(arg="..."); absent when it suggests none',
  },
} as const;

export const GUIDANCE_FIELDS = Object.keys(GUIDANCE_PROPERTIES);

/** Adds summary (required) and next to a plain output schema, in place. */
export function addGuidanceSchema(schema: Record<string, unknown>): void {
  const properties = (schema.properties ??= {}) as Record<string, unknown>;
  for (const [name, prop] of Object.entries(GUIDANCE_PROPERTIES)) properties[name] = structuredClone(prop);
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  schema.required = [...required.filter((r) => r !== "summary"), "summary"];
}

/**
 * The guidance in `text`, which must be the text the model is shown (rendered from the masked view, secrets withheld):
 * guidance repeats only what the text already says, so it can carry nothing the text does not.
 */
export function guidance(text: string, isTool: (name: string) => boolean): Guidance {
  const next = suggestedCalls(text, isTool);
  return next.length > 0 ? { summary: summaryOf(text), next } : { summary: summaryOf(text) };
}

export function summaryOf(text: string): string {
  // The first line that is not blank, found without splitting the whole text.
  let line = "";
  for (let start = 0; start <= text.length; ) {
    const end = text.indexOf("\n", start);
    line = text.slice(start, end < 0 ? text.length : end).trim();
    if (line !== "" || end < 0) break;
    start = end + 1;
  }
  return line.length > MAX_SUMMARY ? `${line.slice(0, MAX_SUMMARY - 3).trimEnd()}...` : line;
}

const CALL_START = /\b([a-z][a-z0-9_]*)\(/g;

/** Each `tool(...)` in the text whose name is a tool, parentheses balanced outside quoted strings, in order, once each. */
export function suggestedCalls(text: string, isTool: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(CALL_START)) {
    if (found.length >= MAX_NEXT) break;
    const name = m[1]!;
    if (!isTool(name)) continue;
    const end = closingParen(text, m.index! + m[0].length);
    if (end < 0) continue;
    const call = text.slice(m.index!, end + 1);
    // A call the model could make: named arguments only (or none), never prose in parentheses.
    if (!/^[a-z0-9_]+\(\s*(\)|[a-z_]+=)/.test(call)) continue;
    if (!found.includes(call)) found.push(call);
  }
  return found;
}

function closingParen(text: string, from: number): number {
  let depth = 1;
  let quoted = false;
  for (let i = from; i < text.length && i < from + 1000; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (--depth === 0) return c === ")" ? i : -1;
    } else if (c === "\n") return -1;
  }
  return -1;
}

/** A structured result without the registry's guidance: the tool's own fields, for comparing them exactly. */
export function withoutGuidance(structured: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!structured) return structured;
  const { summary: _s, next: _n, ...own } = structured;
  return own;
}
