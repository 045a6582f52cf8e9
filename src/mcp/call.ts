// Answering a tools/call, whatever carried it (the fast path or the SDK's Server): scopes, the caller's Vault identity,
// the audit line, and the registry. No SDK at run time: the fast path serves the common requests without loading it.
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { type AuditLog, callTarget } from "../audit.ts";
import type { Caller } from "../caller.ts";
import { type CallOutcome, type CallResult, type ListedTool, refusalOf as policyRefusalOf, type ToolContext, type ToolRegistry, toolNamesHint, UnknownTool } from "../tools/registry.ts";
import { IdentityRefused, type VaultIdentities } from "../vault/identity.ts";
import { isPlainObject, RpcError } from "./jsonrpc.ts";
import { ErrorCode } from "./protocol.ts";

export interface McpDeps {
  registry: ToolRegistry;
  context: ToolContext;
  /** MCP_AUTH=oauth on HTTP: the scopes tools need. Absent: no scope is checked (none, bearer, stdio). */
  scopes?: ScopePolicy;
  /** MCP_VAULT_IDENTITY=request|jwt: each caller's own Vault identity. Absent (server): the context's client and mount cache. */
  identities?: VaultIdentities;
  /** MCP_AUDIT_LOG: told of every tools/call. Absent or off: nothing is recorded. */
  audit?: AuditLog;
}

/**
 * A tools/call refused before it ran, by the rule named `rule` (the audit log records it): "identity" for a call with no
 * Vault identity; a policy layer throws its own subclass, or any error with a string `rule`.
 */
export class CallRefused extends RpcError {
  constructor(
    readonly rule: string,
    message: string,
    code = -32000,
  ) {
    super(code, message);
    this.name = "CallRefused";
  }
}

/** Which scope a tool needs: `read` for a read-only tool (readOnlyHint; `write` also does), `write` for the rest. Undefined: none needed. */
export interface ScopePolicy {
  readonly read?: string;
  readonly write?: string;
}

/** A tools/call refused for a missing scope: -32000, and HTTP 403 insufficient_scope where HTTP carries it. */
export class InsufficientScope extends RpcError {
  constructor(
    readonly tool: string,
    /** The scope that would let this call through. */
    readonly scope: string,
    message: string,
  ) {
    super(-32000, message);
    this.name = "InsufficientScope";
  }
}

const readOnlyByList = new WeakMap<readonly ListedTool[], ReadonlySet<string>>();

/** The read-only tools, from the annotations tools/list shows (built once per registry list). */
function readOnlyTools(registry: ToolRegistry): ReadonlySet<string> {
  const listed = registry.list();
  let names = readOnlyByList.get(listed);
  if (!names) {
    names = new Set(listed.filter((t) => t.annotations.readOnlyHint).map((t) => t.name));
    readOnlyByList.set(listed, names);
  }
  return names;
}

/**
 * Why `caller` may not call tool `name` under the scope policy, or undefined when it may. The one place that decides
 * it: callTool enforces it on every path, and the HTTP handler asks it first only to answer 403 rather than 200.
 * Fails closed: with a policy, a caller that is not an oauth caller is refused.
 */
export function scopeRefusal(deps: McpDeps, name: string, caller: Caller | undefined): InsufficientScope | undefined {
  const policy = deps.scopes;
  if (!policy || !deps.registry.has(name)) return undefined;
  const readOnly = readOnlyTools(deps.registry).has(name);
  const needed = readOnly ? policy.read : policy.write;
  if (needed === undefined) return undefined;
  const has = caller?.auth === "oauth" ? (caller.scopes ?? []) : [];
  if (has.includes(needed) || (readOnly && policy.write !== undefined && has.includes(policy.write))) return undefined;
  const held = has.length > 0 ? `this token has ${has.map((s) => `"${s}"`).join(", ")}` : "this token has no scopes";
  return new InsufficientScope(
    name,
    needed,
    `Forbidden: ${name} ${readOnly ? "reads" : "changes"} Vault and needs scope "${needed}"; ${held}. Ask the authorization server for a token with scope "${needed}".`,
  );
}

/** The caller the HTTP handler attached to a request (as the SDK's authInfo); undefined over stdio. */
export function callerOf(extra: { authInfo?: AuthInfo } | undefined): Caller | undefined {
  return extra?.authInfo?.extra?.caller as Caller | undefined;
}

/** The SDK's authInfo for a caller, so the SDK hands it to request handlers (stateless and session requests alike). */
export function authInfoFor(caller: Caller): AuthInfo {
  // The token itself stays out: only the Caller, whose credential() is for code that means to use it.
  return { token: "", clientId: caller.name, scopes: [...(caller.scopes ?? [])], expiresAt: caller.expiresAt, extra: { caller } };
}

/**
 * Answers a tools/call whatever carried it (the SDK Server of server.ts or the fast path), so the answer cannot depend on the
 * path. Malformed params and an unknown tool throw RpcError (-32602); a missing scope throws InsufficientScope; a call
 * with no Vault identity (MCP_VAULT_IDENTITY=request|jwt) throws CallRefused; anything wrong with the arguments
 * themselves is the registry's isError result, which tells the model how to recover.
 * `caller` is who the HTTP layer says is calling; undefined only off HTTP (stdio: the process that started us).
 * `requestId` is the JSON-RPC id, for the audit log.
 */
export async function callTool(deps: McpDeps, params: unknown, caller?: Caller, requestId?: unknown): Promise<CallResult> {
  const audit = deps.audit;
  if (!audit?.enabled) return runTool(deps, params, caller, undefined);
  const started = performance.now();
  const seen: CallSeen = { requestIds: [] };
  let outcome: string = "internal";
  let rule: string | undefined;
  try {
    const result = await runTool(deps, params, caller, seen);
    // A policy rule's refusal is audited as refused by that rule, not as Vault's "denied".
    const refusedBy = policyRefusalOf(result);
    if (refusedBy) ({ outcome, rule } = { outcome: "refused", rule: refusedBy.rule });
    else outcome = seen.outcome ?? (result.isError ? "tool_error" : "ok");
    return result;
  } catch (err) {
    ({ outcome, rule } = refusalOf(err));
    throw err;
  } finally {
    const p = isPlainObject(params) ? params : {};
    const name = typeof p.name === "string" ? p.name : undefined;
    const target = callTarget(p.arguments, name === undefined ? undefined : inputSchemaOf(deps.registry, name));
    audit.record({
      method: "tools/call",
      id: requestId,
      caller,
      identity: deps.identities?.mode ?? "server",
      target: name,
      mount: target.mount,
      path: target.path,
      args: target.args,
      outcome,
      rule,
      durationMs: performance.now() - started,
      vaultRequestIds: seen.requestIds,
    });
  }
}

/** What the audit log learns while a call runs: how the registry classed it, and Vault's request ids. */
interface CallSeen {
  outcome?: CallOutcome;
  requestIds: string[];
}

/** How a call that threw is audited: refused by a rule, rate-limited, malformed, or an internal failure. */
function refusalOf(err: unknown): { outcome: string; rule?: string } {
  if (err instanceof InsufficientScope) return { outcome: "refused", rule: `scope:${err.scope}` };
  const e = err as { rule?: unknown; rateLimited?: unknown; name?: unknown; code?: unknown } | null;
  if (e && (e.rateLimited === true || e.name === "RateLimited")) return { outcome: "rate_limited", rule: typeof e.rule === "string" ? e.rule : undefined };
  if (e && typeof e.rule === "string") return { outcome: "refused", rule: e.rule };
  if (err instanceof RpcError && err.code === ErrorCode.InvalidParams) return { outcome: "invalid" };
  return { outcome: "internal" };
}

const schemasByList = new WeakMap<readonly ListedTool[], Map<string, ListedTool["inputSchema"]>>();

/** A tool's input schema as tools/list shows it (for its defaults), indexed once per registry list. */
function inputSchemaOf(registry: ToolRegistry, name: string): { properties?: Record<string, { default?: unknown }> } | undefined {
  const listed = registry.list();
  let byName = schemasByList.get(listed);
  if (!byName) {
    byName = new Map(listed.map((t) => [t.name, t.inputSchema]));
    schemasByList.set(listed, byName);
  }
  return byName.get(name) as { properties?: Record<string, { default?: unknown }> } | undefined;
}

async function runTool(deps: McpDeps, params: unknown, caller: Caller | undefined, seen: CallSeen | undefined): Promise<CallResult> {
  const { registry, context } = deps;
  if (!isPlainObject(params)) {
    throw new RpcError(ErrorCode.InvalidParams, 'Invalid params for tools/call: params must be an object {"name": <tool name>, "arguments": {...}}.');
  }
  const name = params.name;
  if (typeof name !== "string") {
    const why = name === undefined ? 'missing "name"' : `"name" must be a string, got ${describeValue(name)}`;
    throw new RpcError(ErrorCode.InvalidParams, `Invalid params for tools/call: ${why}; name one of the tools that tools/list shows (${toolNamesHint(registry.names())}).`);
  }
  if (deps.scopes) {
    const refusal = scopeRefusal(deps, name, caller);
    if (refusal) throw refusal;
  }
  let ctx: ToolContext = caller ? { ...context, caller } : context;
  // The caller's own Vault identity: its client and its mount cache, never the server's token in its place.
  if (deps.identities && registry.has(name)) {
    try {
      const identity = await deps.identities.resolve(caller);
      ctx = { ...ctx, vault: identity.vault, mounts: identity.mounts };
    } catch (err) {
      if (err instanceof IdentityRefused) throw new CallRefused("identity", err.message);
      throw err;
    }
  }
  if (seen) ctx = { ...ctx, vault: ctx.vault.withRequestIds(seen.requestIds) };
  let result: CallResult;
  try {
    result = await registry.call(name, params.arguments, ctx, seen);
  } catch (err) {
    if (err instanceof UnknownTool) throw new RpcError(ErrorCode.InvalidParams, err.message);
    throw err;
  }
  if (isCanonicalResult(result)) return result;
  // Not the shape the registry makes: the SDK's own result schema decides, and its parse is what is sent.
  const { safeParse } = await import("@modelcontextprotocol/sdk/server/zod-compat.js");
  const { CallToolResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
  const checked = safeParse(CallToolResultSchema, result);
  if (!checked.success) throw new RpcError(ErrorCode.InternalError, `Internal error: ${name} returned a result that is not a valid MCP tool result; this is a bug.`);
  return checked.data as CallResult;
}


/**
 * True when JSON.stringify(result) is already what the SDK's CallToolResultSchema parse would give: the keys, order and
 * content block shapes the registry produces (text and embedded text resources), and no "__proto__" key the parse drops.
 */
function isCanonicalResult(result: CallResult): boolean {
  let step = 0;
  for (const k in result) {
    const order = k === "content" ? 1 : k === "structuredContent" ? 2 : k === "isError" ? 3 : 0;
    if (order <= step) return false;
    step = order;
  }
  if (!Array.isArray(result.content)) return false;
  for (const block of result.content as unknown[]) {
    if (!isPlainObject(block)) return false;
    if (block.type === "text") {
      if (typeof block.text !== "string" || !sameKeys(block, TEXT_KEYS)) return false;
    } else if (block.type === "resource") {
      const r = block.resource;
      if (!sameKeys(block, RESOURCE_KEYS) || !isPlainObject(r) || !sameKeys(r, RESOURCE_TEXT_KEYS)) return false;
      if (typeof r.uri !== "string" || typeof r.mimeType !== "string" || typeof r.text !== "string") return false;
    } else return false;
  }
  const structured = result.structuredContent;
  if (structured !== undefined && (!isPlainObject(structured) || Object.hasOwn(structured, "__proto__"))) return false;
  if ("isError" in result && typeof result.isError !== "boolean") return false;
  return true;
}

const TEXT_KEYS = ["type", "text"];
const RESOURCE_KEYS = ["type", "resource"];
const RESOURCE_TEXT_KEYS = ["uri", "mimeType", "text"];

function sameKeys(value: Record<string, unknown>, keys: string[]): boolean {
  let i = 0;
  for (const k in value) if (keys[i++] !== k) return false;
  return i === keys.length;
}

export function describeType(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return describeType(typeof value);
}
