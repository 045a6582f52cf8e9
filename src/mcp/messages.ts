// Whether a parsed body is a JSON-RPC message at all, and the one-sentence Invalid Request when it is not. It asks the
// SDK's own schema, so it is loaded with the SDK, off the fast path (which takes only well-formed requests).
import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { idOf, isPlainObject, MAX_BATCH, type RpcFailure } from "./jsonrpc.ts";
import { ErrorCode } from "./protocol.ts";

/**
 * Undefined when `parsed` (already valid JSON) is a JSON-RPC message or a batch of them; otherwise the Invalid Request
 * (-32600) to answer, whose message says what is wrong. A batch with one bad member is refused whole, as the SDK's HTTP
 * transport does, so no member of it runs.
 */
export function invalidMessage(parsed: unknown): RpcFailure | undefined {
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return invalid(null, "an empty batch; send at least one message");
    if (parsed.length > MAX_BATCH) return invalid(null, `a batch of ${parsed.length} messages; at most ${MAX_BATCH} are accepted`);
    for (let i = 0; i < parsed.length; i++) {
      const why = problemOf(parsed[i]);
      if (why) return invalid(null, `batch member ${i + 1} is ${why}`);
    }
    return undefined;
  }
  const why = problemOf(parsed);
  return why ? invalid(idOf(parsed), `the message is ${why}`) : undefined;
}

function invalid(id: string | number | null, why: string): RpcFailure {
  return { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${why}`, id };
}

const SHAPE = 'a JSON-RPC 2.0 request is {"jsonrpc": "2.0", "id": <string or integer>, "method": <string>, "params"?: <object>}';
const MEMBERS = new Set(["jsonrpc", "id", "method", "params", "result", "error"]);

/** Why `message` is not a JSON-RPC message, as the end of a sentence; undefined when it is one. */
function problemOf(message: unknown): string | undefined {
  if (!isPlainObject(message)) return `${describe(message)}, not an object; ${SHAPE}`;
  if (JSONRPCMessageSchema.safeParse(message).success) return undefined;
  if (message.jsonrpc !== "2.0") return `missing "jsonrpc": "2.0"; ${SHAPE}`;
  for (const key of Object.keys(message)) if (!MEMBERS.has(key)) return `carrying an unexpected member ${JSON.stringify(key.slice(0, 40))}; ${SHAPE}`;
  if ("method" in message) {
    if (typeof message.method !== "string") return `carrying a "method" that is ${describe(message.method)}, not a string`;
    if ("id" in message && idOf(message) === null) return `carrying an "id" that is ${describe(message.id)}; an id is a string or an integer`;
    if ("params" in message && !isPlainObject(message.params)) return `carrying "params" that are ${describe(message.params)}, not an object`;
    return `not a valid request or notification; ${SHAPE}`;
  }
  if ("result" in message || "error" in message) return 'a malformed response: it needs an "id" and either an object "result" or an "error" with an integer "code" and a string "message"';
  return `missing "method"; ${SHAPE}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

