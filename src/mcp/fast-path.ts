// The common stateless case without the SDK: one JSON-RPC request (ping, tools/list, tools/call, a plain initialize) or
// the initialized notification, answered in JSON mode with the bytes the SDK path would send. Anything else is left to
// the SDK, which is loaded then (protocol.ts loadSdk), so a server serving only these never evaluates it.
import type { Caller } from "../caller.ts";
import type { ListedTool } from "../tools/registry.ts";
import { isPlainObject, onlyKeys } from "./jsonrpc.ts";
import { callTool, type McpDeps } from "./call.ts";
import { ErrorCode, initializeResult, isPlainInitialize, SUPPORTED_PROTOCOL_VERSIONS } from "./protocol.ts";

/** Answers `message` when it is one of the shapes handled here; undefined means "send it through the SDK". */
export type FastPath = (message: unknown, protocolVersionHeader: string | null, caller?: Caller) => Promise<Response> | undefined;

const JSON_HEADERS = { "Content-Type": "application/json" };
const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const CALL_KEYS = new Set(["name", "arguments"]);

type Id = string | number;

// The SDK's Protocol writes a success as {result, jsonrpc, id} and a failure as {jsonrpc, id, error}; so do we.
const answer = (resultJson: string, id: Id) => new Response(`{"result":${resultJson},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`, { status: 200, headers: JSON_HEADERS });
const failure = (id: Id, code: number, message: string, data?: unknown) =>
  new Response(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined ? { data } : {}) } }), { status: 200, headers: JSON_HEADERS });

function isEmpty(params: unknown): boolean {
  if (params === undefined) return true;
  if (!isPlainObject(params)) return false;
  for (const _ in params) return false;
  return true;
}

export function createFastPath(deps: McpDeps): FastPath {
  const { registry } = deps;
  // Keyed by the list itself: one entry without a policy, one per rule set with one (registry.list returns the same array for the same rules).
  const listJson = new WeakMap<ListedTool[], string>();

  const toolsList = (caller: Caller | undefined) => {
    const tools = registry.list(caller);
    let json = listJson.get(tools);
    if (json === undefined) listJson.set(tools, (json = JSON.stringify({ tools })));
    return json;
  };

  async function toolCall(id: Id, params: Record<string, unknown>, caller: Caller | undefined): Promise<Response> {
    try {
      return answer(JSON.stringify(await callTool(deps, params, caller, id)), id);
    } catch (err) {
      // What the SDK's Protocol makes of a throw from a request handler.
      const e = err as { code?: unknown; message?: string; data?: unknown };
      return failure(id, Number.isSafeInteger(e.code) ? (e.code as number) : ErrorCode.InternalError, e.message ?? "Internal error", e.data);
    }
  }

  return function fastPath(message, protocolVersionHeader, caller) {
    if (!isPlainObject(message) || message.jsonrpc !== "2.0" || !onlyKeys(message, REQUEST_KEYS)) return undefined;
    if (!("id" in message)) {
      // The notification every client sends after initialize: nothing to answer, 202 as the SDK's transport says it.
      if (message.method !== "notifications/initialized" || !isEmpty(message.params)) return undefined;
      if (protocolVersionHeader !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersionHeader)) return undefined;
      return Promise.resolve(new Response(null, { status: 202 }));
    }
    const id = message.id;
    if (typeof id !== "string" && !(typeof id === "number" && Number.isSafeInteger(id))) return undefined;
    const params = message.params;
    if (params !== undefined && !isPlainObject(params)) return undefined;
    const method = message.method;
    if (method === "initialize") {
      // Only the plain shape, which the SDK's schema certainly accepts; the differential test holds the answer to the SDK's.
      if (!isPlainInitialize(params)) return undefined;
      return Promise.resolve(answer(JSON.stringify(initializeResult(params.protocolVersion)), id));
    }
    // Every other request is checked against the header's revision by the SDK transport first.
    if (protocolVersionHeader !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersionHeader)) return undefined;
    switch (method) {
      case "tools/call": {
        if (!params || !onlyKeys(params, CALL_KEYS) || typeof params.name !== "string") return undefined;
        const args = params.arguments;
        // Arguments that are not an object or carry an own "__proto__" are rare oddities: the SDK path answers them
        // (through the same callTool), so this path stays as narrow as the differential test proves it.
        if (args !== undefined && (!isPlainObject(args) || Object.hasOwn(args, "__proto__"))) return undefined;
        return toolCall(id, params, caller);
      }
      case "tools/list":
        return isEmpty(params) ? Promise.resolve(answer(toolsList(caller), id)) : undefined;
      case "ping":
        return isEmpty(params) ? Promise.resolve(answer("{}", id)) : undefined;
      default:
        return undefined;
    }
  };
}
