// The tool registry: defines tools, validates and defaults their arguments, and turns every throw into an isError result.
import type { Caller } from "../caller.ts";
import type { Static, TObject, TSchema } from "@sinclair/typebox";
import type { TypeCheck } from "@sinclair/typebox/compiler";
import type { Logger } from "../log.ts";
import { Journal, type VaultClient } from "../vault/client.ts";
import type { MountInfoCache } from "../vault/mount-info.ts";
import { type CallOutcome, describeFailure, failureClass, journalNote, ToolError } from "./errors.ts";
import { conceal, type Disclosure, SecretValuesInfo, type SecretValuesSettings, secretStrings, standIn, standInRefusal, withhold, withholdDeep } from "./secret-values.ts";
import { checkDeclarations, containsSensitive, findSensitive, labels, mapSensitive } from "./sensitive.ts";
import { type Policy, type Refusal, type Rules, restrictsPaths, toolRefusal, visibleAny } from "../policy/policy.ts";
import { compileListPlan, compileTargets, entryTarget, type ListPlan, type TargetPlan } from "../policy/targets.ts";
import type { Target } from "../policy/policy.ts";
import { addGuidanceSchema, GUIDANCE_FIELDS, guidance } from "./guidance.ts";
import { listedSchema } from "./listed-schema.ts";
import { prepareArguments } from "./arguments.ts";

export { MAX_ARGUMENT_DEPTH } from "./arguments.ts";
import type { Toolset } from "./toolsets.ts";

export type { CallOutcome };

export interface CallObserver {
  started(tool: string): void;
  finished(tool: string, outcome: CallOutcome, seconds: number): void;
}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** Operator settings that change what tools may do (from Config; never from a tool argument). */
export interface ToolSettings {
  /** KV v1 merges (read, add keys, write back) are safe only with one server process: "local" allows them. */
  readonly kv1Merge: "refuse" | "local";
  /** MCP_SECRET_VALUES: how values declared sensitive reach the model. Absent: revealed, as before the setting existed. */
  readonly secretValues?: SecretValuesSettings;
}

/** What every tool receives: the Vault client, the mount cache, a logger, the operator's settings. */
export interface ToolContext {
  vault: VaultClient;
  mounts: MountInfoCache;
  log: Logger;
  settings?: ToolSettings;
  /** Who called, as the HTTP layer authenticated them; absent over stdio (the process that started the server). */
  caller?: Caller;
}

export interface EmbeddedText {
  /** File-like name such as "certificate.pem"; becomes the last segment of the resource URI. */
  name: string;
  uri: string;
  mimeType: string;
  text: string;
}

export type { Disclosure };

/** Builds text or resources from the view: `structured` as the model sees it, sensitive values already masked or wrapped. */
export type Render<O, T> = (view: O, disclosure: Disclosure) => T;

/**
 * A tool's answer. A tool whose output declares sensitive fields builds its text and resources with a Render from the
 * view, never from the values it holds; the registry withholds any sensitive value found anywhere else all the same.
 */
export interface ToolAnswer<O> {
  text: string | Render<O, string>;
  structured: O;
  resources?: EmbeddedText[] | Render<O, EmbeddedText[]>;
  /** How a person with Vault access reads the sensitive values in full; told when they are masked (a function: built only then). */
  humanRead?: string | (() => string);
  /** The call did not do all that was asked (what it did is in the text); structured is still sent. */
  isError?: boolean;
}

export interface ToolDefinition<I extends TObject = TObject, O extends TObject = TObject> {
  name: string;
  /** The group MCP_TOOLSETS selects it by (src/tools/toolsets.ts); required, so a new tool cannot leave it out. */
  toolset: Toolset;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  run(args: Static<I>, ctx: ToolContext): Promise<ToolAnswer<Static<O>>>;
}

/** Identity function that keeps `run`'s argument types tied to the schema. */
export function defineTool<I extends TObject, O extends TObject>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

/** A tool as tools/list shows it. */
export interface ListedTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  annotations: ToolAnnotations & { title: string };
}

export interface CallResult {
  [key: string]: unknown;
  content: ({ type: "text"; text: string } | { type: "resource"; resource: { uri: string; mimeType: string; text: string } })[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const NAME = /^[A-Za-z0-9._-]{1,128}$/;

interface Entry {
  def: ToolDefinition;
  /** Compiled on the tool's first call, then kept: compiling every tool at start-up took ~15 ms of the cold start. */
  check?: TypeCheck<TObject>;
  accepted: string[];
  /** Whether the output declares sensitive fields (then the operator's MCP_SECRET_VALUES applies to it). */
  sensitiveOutput: boolean;
  /** The Vault objects its arguments name, as its input schema declares them (src/policy/targets.ts). */
  targets: TargetPlan;
  /** Its list outputs, filtered to what a caller may touch. */
  lists?: ListPlan;
}

/** The policy refusal behind a result, for the audit log: `refusalOf(result)` in callTool names the rule. */
const refusals = new WeakMap<CallResult, Refusal>();

export function refusalOf(result: CallResult): Refusal | undefined {
  return refusals.get(result);
}

/**
 * Tool names for an error text: all of them when there are few; otherwise those that share a word with `near` (the
 * name the caller tried), or the first few, and the count, so the message stays one readable sentence.
 */
export function toolNamesHint(names: readonly string[], near?: string): string {
  if (names.length <= 20) return names.join(", ");
  const words = new Set((near ?? "").toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 2));
  const alike = names.filter((n) => n.split("_").some((w) => words.has(w)));
  const shown = (alike.length > 0 ? alike : names).slice(0, 12);
  return `${shown.join(", ")}${names.length > shown.length ? `, and ${names.length - shown.length} more (tools/list shows them all)` : ""}`;
}

export class UnknownTool extends Error {
  constructor(
    readonly tool: string,
    readonly available: string[],
  ) {
    super(`Unknown tool "${tool}". Available tools: ${toolNamesHint(available, tool)}`);
    this.name = "UnknownTool";
  }
}

export class ToolRegistry {
  private readonly tools = new Map<string, Entry>();
  private listed: ListedTool[] = [];

  constructor(definitions: readonly ToolDefinition<any, any>[]) {
    for (const def of definitions) this.add(def);
  }

  private add(def: ToolDefinition): void {
    if (!NAME.test(def.name)) throw new Error(`tool name "${def.name}" must match ${NAME}`);
    if (this.tools.has(def.name)) throw new Error(`tool "${def.name}" is registered twice`);
    checkDeclarations(def.name, def.input, "input");
    checkDeclarations(def.name, def.output, "output");
    const sensitiveOutput = containsSensitive(def.output);
    if (sensitiveOutput && Object.hasOwn(def.output.properties, "secret_values")) throw new Error(`${def.name}: "secret_values" is the registry's own output field`);
    for (const field of GUIDANCE_FIELDS) if (Object.hasOwn(def.output.properties, field)) throw new Error(`${def.name}: "${field}" is the registry's own output field`);
    const targets = compileTargets(def.name, def.input);
    const lists = compileListPlan(def.name, def.output);
    this.tools.set(def.name, { def, accepted: Object.keys(def.input.properties), sensitiveOutput, targets, lists });
    const outputSchema = plainSchema(def.output);
    if (sensitiveOutput) (outputSchema.properties as Record<string, unknown>).secret_values = plainSchema(SecretValuesInfo);
    addGuidanceSchema(outputSchema);
    this.listed.push({
      name: def.name,
      title: def.title,
      description: sensitiveOutput ? `${def.description} ${SECRET_VALUES_NOTE}` : def.description,
      inputSchema: plainSchema(def.input),
      outputSchema,
      annotations: { title: def.title, ...def.annotations },
    });
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  /**
   * The tools/list answer, built once; with a policy, the tools `caller` may call, built once per rule set (so the
   * same array, and the JSON the fast path caches for it, comes back until the rules change).
   */
  list(caller?: Caller): ListedTool[] {
    const policy = this.policy;
    if (!policy?.active) return this.listed;
    const rules = policy.rulesFor(caller);
    let listed = this.listedFor.get(rules);
    if (!listed) {
      listed = this.listed.filter((t) => !toolRefusal(rules, { name: t.name, readOnly: t.annotations.readOnlyHint }));
      // Nothing hidden: the full list itself, so the JSON cached for it is shared.
      if (listed.length === this.listed.length) listed = this.listed;
      this.listedFor.set(rules, listed);
    }
    return listed;
  }

  private readonly listedFor = new WeakMap<Rules, ListedTool[]>();

  /** What callers may touch (MCP_READ_ONLY, MCP_TOOLS_*, MCP_*_PATHS, MCP_POLICY_FILE); absent: everything. */
  policy: Policy | undefined;

  has(name: string): boolean {
    return this.tools.has(name);
  }

  /** Told when each call starts and how it ended: for metrics. */
  observer: CallObserver | undefined;

  /**
   * Runs a tool. Throws UnknownTool (a protocol error); every other failure is an isError result. `seen`, when given,
   * is told how the call ended (for the audit log).
   */
  async call(name: string, rawArgs: unknown, ctx: ToolContext, seen?: { outcome?: CallOutcome }): Promise<CallResult> {
    const entry = this.tools.get(name);
    if (!entry) throw new UnknownTool(name, this.names());
    const observer = this.observer;
    if (!observer) {
      return this.run(entry, rawArgs, ctx).then((r) => {
        if (seen) seen.outcome = r.outcome;
        return r.result;
      });
    }
    const started = performance.now();
    observer.started(name);
    let outcome: CallOutcome = "internal";
    try {
      const { result, outcome: o } = await this.run(entry, rawArgs, ctx);
      outcome = o;
      if (seen) seen.outcome = o;
      return result;
    } finally {
      observer.finished(name, outcome, (performance.now() - started) / 1000);
    }
  }

  private async run(entry: Entry, rawArgs: unknown, ctx: ToolContext): Promise<{ result: CallResult; outcome: CallOutcome }> {
    const name = entry.def.name;
    // The policy is checked here, on every path, before anything reaches Vault: hiding a tool from tools/list is not enough.
    const policy = this.policy;
    const rules = policy?.active ? policy.rulesFor(ctx.caller) : undefined;
    if (rules) {
      const refused = toolRefusal(rules, { name, readOnly: entry.def.annotations.readOnlyHint });
      if (refused) return refusedResult(refused);
    }
    const args = prepareArguments(entry, rawArgs);
    if (typeof args === "string") return { result: errorResult(args), outcome: "invalid_arguments" };
    let listed: string | undefined;
    if (rules && entry.targets.any && restrictsPaths(rules)) {
      let targets: Target[];
      try {
        targets = entry.targets.resolve(args as Record<string, unknown>);
      } catch (err) {
        // Fails closed: a name that cannot be normalised is refused here with the words the tool would use.
        return { result: errorResult(err instanceof Error ? `Invalid arguments for ${name}: ${err.message}.` : String(err)), outcome: "invalid_arguments" };
      }
      const refused = policy!.check(ctx.caller, { targets });
      if (refused) return refusedResult(refused);
      listed = targets.find((t) => t.listing)?.path;
    }
    // A value this server showed in place of a secret must never be stored in its place.
    const sent = findSensitive(entry.def.input, args);
    for (const f of sent) {
      const what = standIn(f.value);
      if (what) return { result: errorResult(standInRefusal(f.at.join("."), what)), outcome: "invalid_arguments" };
    }
    const concealing = (ctx.settings?.secretValues?.mode ?? "reveal") !== "reveal";
    // Values sent in sensitive arguments are never quoted back while the operator conceals values.
    const sentSecrets = concealing ? secretStrings(sent.map((f) => f.value)) : [];
    // Every request this call makes that could change Vault is journaled, so a failure can say what did change.
    const journal = new Journal();
    try {
      let answer = await entry.def.run(args, { ...ctx, vault: ctx.vault.recording(journal) });
      if (rules && entry.lists && restrictsPaths(rules)) answer = filterLists(entry.lists, answer, rules, listed, ctx);
      const result = await this.answer(entry, answer, ctx, sentSecrets);
      return { result, outcome: result.isError ? "tool_error" : "ok" };
    } catch (err) {
      const { text, unexpected } = describeFailure(err);
      if (unexpected) ctx.log.error("tool failed unexpectedly", { tool: name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      // A tool's own ToolError already says what its earlier steps did; any other failure gets the journal's account.
      return { result: errorResult(withhold(err instanceof ToolError ? text : text + journalNote(journal, err), sentSecrets)), outcome: failureClass(err) };
    }
  }

  /**
   * The one place the operator's MCP_SECRET_VALUES is applied: sensitive values are masked or wrapped in the view, the
   * text and resources are rendered from the view, and any sensitive value found anywhere else is withheld.
   */
  private async answer(entry: Entry, answer: ToolAnswer<any>, ctx: ToolContext, sentSecrets: string[]): Promise<CallResult> {
    const settings = ctx.settings?.secretValues;
    const output = entry.def.output;
    const found = entry.sensitiveOutput && settings && settings.mode !== "reveal" ? findSensitive(output, answer.structured) : [];
    let view: unknown = answer.structured;
    let disclosure: Disclosure = { mode: settings?.mode ?? "reveal" };
    let lead = "";
    let note = "";
    let envelope: Record<string, unknown> | undefined;
    if (settings && found.length > 0) {
      const names = labels(found);
      const replace = (by: (value: unknown, index: number) => string) => {
        let i = 0;
        return mapSensitive(output, answer.structured, (v) => by(v, i++));
      };
      ({ view, disclosure, lead, note, envelope } = await conceal(settings, ctx.vault, found, names, replace, typeof answer.humanRead === "function" ? answer.humanRead() : answer.humanRead));
    }
    const text = typeof answer.text === "function" ? answer.text(view, disclosure) : answer.text;
    const resources = typeof answer.resources === "function" ? answer.resources(view, disclosure) : (answer.resources ?? []);
    const secrets = [...new Set([...sentSecrets, ...secretStrings(found.map((f) => f.value))])];
    const shown = { text: lead + text, resources, view };
    // The same object back unless something was withheld.
    const kept = secrets.length === 0 ? shown : (withholdDeep(shown, secrets) as typeof shown);
    if (kept !== shown) {
      ctx.log.warn("a tool's answer held a secret value outside its declared fields; it was withheld", { tool: entry.def.name });
    }
    const result: CallResult = {
      content: [
        { type: "text", text: kept.text + note },
        ...kept.resources.map((r) => ({ type: "resource" as const, resource: { uri: r.uri, mimeType: r.mimeType, text: r.text } })),
      ],
      // Guidance is read from the text the model is shown, so it says nothing the masked text does not.
      structuredContent: { ...guidance(kept.text, (n) => this.tools.has(n)), ...(kept.view as Record<string, unknown>), ...(envelope ? { secret_values: envelope } : {}) },
    };
    if (answer.isError || disclosure.undelivered) result.isError = true;
    return result;
  }
}

const SECRET_VALUES_NOTE =
  "Secret values in its answer are shown, masked, or wrapped in a single-use Vault token for a person, as the operator set MCP_SECRET_VALUES.";

function errorResult(text: string): CallResult {
  return { content: [{ type: "text", text }], isError: true };
}

function refusedResult(refusal: Refusal): { result: CallResult; outcome: CallOutcome } {
  const result = errorResult(refusal.message);
  refusals.set(result, refusal);
  return { result, outcome: "denied" };
}

/**
 * A list answer with only the entries the caller may touch (an object entry is kept when one of its names may be and
 * none is denied). Its text is rendered from that view, so a tool with list outputs must give text as a Render.
 */
function filterLists(plan: ListPlan, answer: ToolAnswer<any>, rules: Rules, listed: string | undefined, ctx: ToolContext): ToolAnswer<any> {
  const structured = { ...(answer.structured as Record<string, unknown>) };
  let removed = 0;
  const named = (role: Parameters<typeof entryTarget>[0], value: unknown) => (typeof value === "string" && value !== "" ? entryTarget(role, value, listed) : undefined);
  for (const field of plan.fields) {
    const items = structured[field.key];
    if (!Array.isArray(items)) continue;
    const kept = items.filter((item) => {
      const names = field.role ? [named(field.role, item)] : (field.fields ?? []).map((f) => named(f.role, (item as Record<string, unknown> | null)?.[f.key]));
      // Deny wins: an issuer whose name is denied stays hidden even when its id is not; an entry that names nothing is hidden.
      return visibleAny(rules, names.filter((n) => n !== undefined));
    });
    removed += items.length - kept.length;
    structured[field.key] = kept;
  }
  if (removed === 0) return answer;
  if (typeof answer.text !== "function") {
    ctx.log.error("a list tool's text is not rendered from its view, so its filtered answer is shown as data", {});
    return { ...answer, structured, text: JSON.stringify(structured) };
  }
  return { ...answer, structured };
}

/** A JSON-only copy of a TypeBox schema (no symbol keys), safe to send and to compare, in the form every adapter keeps. */
function plainSchema(schema: TSchema): Record<string, unknown> {
  return listedSchema(schema);
}
