// The common stateless case without the SDK's per-request Server and transport: one JSON-RPC request (ping, tools/list,
// tools/call, initialize) answered in JSON mode with the bytes the SDK path would send. Anything else is left to the SDK.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { safeParse } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import { CallToolResultSchema, ErrorCode, InitializeRequestSchema, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import type { CallResult, ListedTool } from "../tools/registry.ts";
import { UnknownTool } from "../tools/registry.ts";
import { createMcpServer, type McpDeps } from "./server.ts";

/** Answers `message` when it is one of the shapes handled here; undefined means "send it through the SDK". */
export type FastPath = (message: unknown, protocolVersionHeader: string | null) => Promise<Response> | undefined;

const JSON_HEADERS = { "Content-Type": "application/json" };
const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const CALL_KEYS = new Set(["name", "arguments"]);

type Id = string | number;

// The SDK's Protocol writes a success as {result, jsonrpc, id} and a failure as {jsonrpc, id, error}; so do we.
const answer = (resultJson: string, id: Id) => new Response(`{"result":${resultJson},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`, { status: 200, headers: JSON_HEADERS });
const failure = (id: Id, code: number, message: string, data?: unknown) =>
  new Response(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined ? { data } : {}) } }), { status: 200, headers: JSON_HEADERS });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const k in value) if (!allowed.has(k)) return false;
  return true;
}

function isEmpty(params: unknown): boolean {
  if (params === undefined) return true;
  if (!isPlainObject(params)) return false;
  for (const _ in params) return false;
  return true;
}

export function createFastPath(deps: McpDeps): FastPath {
  const { registry, context } = deps;
  // A Server built as the SDK path builds one, never connected: initialize answers come from it, so they cannot drift.
  // Its handler is internal to the SDK (pinned); without it, initialize goes through the SDK like anything else.
  const template: Server = createMcpServer(deps);
  const initialize = (template as unknown as { _oninitialize?: (request: unknown) => Promise<unknown> })._oninitialize?.bind(template);
  let listed: ListedTool[] | undefined;
  let listJson = "";

  const toolsList = () => {
    const tools = registry.list();
    if (tools !== listed) {
      listed = tools;
      listJson = JSON.stringify({ tools });
    }
    return listJson;
  };

  async function callTool(id: Id, name: string, args: unknown): Promise<Response> {
    let result: CallResult;
    try {
      result = await registry.call(name, args, context);
    } catch (err) {
      // What server.ts and the SDK's Protocol make of a throw.
      if (err instanceof UnknownTool) return failure(id, ErrorCode.InvalidParams, `MCP error ${ErrorCode.InvalidParams}: ${err.message}`);
      const e = err as { code?: unknown; message?: string; data?: unknown };
      return failure(id, Number.isSafeInteger(e.code) ? (e.code as number) : ErrorCode.InternalError, e.message ?? "Internal error", e.data);
    }
    if (isCanonicalResult(result)) return answer(JSON.stringify(result), id);
    // Not the shape the registry makes: let the SDK's own result schema decide, exactly as its Server does.
    const checked = safeParse(CallToolResultSchema, result);
    if (!checked.success) {
      const why = checked.error instanceof Error ? checked.error.message : String(checked.error);
      return failure(id, ErrorCode.InvalidParams, `MCP error ${ErrorCode.InvalidParams}: Invalid tools/call result: ${why}`);
    }
    return answer(JSON.stringify(checked.data), id);
  }

  return function fastPath(message, protocolVersionHeader) {
    if (!isPlainObject(message) || message.jsonrpc !== "2.0" || !onlyKeys(message, REQUEST_KEYS)) return undefined;
    const id = message.id;
    if (typeof id !== "string" && !(typeof id === "number" && Number.isSafeInteger(id))) return undefined;
    const params = message.params;
    if (params !== undefined && !isPlainObject(params)) return undefined;
    const method = message.method;
    if (method === "initialize") {
      const parsed = InitializeRequestSchema.safeParse(message);
      if (!parsed.success || !initialize) return undefined;
      return initialize(parsed.data).then((result) => answer(JSON.stringify(result), id));
    }
    // Every other request is checked against the header's revision by the SDK transport first.
    if (protocolVersionHeader !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersionHeader)) return undefined;
    switch (method) {
      case "tools/call": {
        if (!params || !onlyKeys(params, CALL_KEYS) || typeof params.name !== "string") return undefined;
        const args = params.arguments;
        // The SDK's schema copies arguments key by key, dropping an own "__proto__"; leave such oddities to it.
        if (args !== undefined && (!isPlainObject(args) || Object.hasOwn(args, "__proto__"))) return undefined;
        return callTool(id, params.name, args);
      }
      case "tools/list":
        return isEmpty(params) ? Promise.resolve(answer(toolsList(), id)) : undefined;
      case "ping":
        return isEmpty(params) ? Promise.resolve(answer("{}", id)) : undefined;
      default:
        return undefined;
    }
  };
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
