// JSON-RPC 2.0 framing shared by every transport: what is a message, and the one-sentence errors for what is not.
import { ErrorCode, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";

/** The SDK's limit on messages in one batch (its HTTP transport refuses more); stdio keeps the same. */
export const MAX_BATCH = 100;

/**
 * A JSON-RPC error thrown by a request handler. The SDK's Protocol (and the fast path) send `code`, `message` and
 * `data` as they are: unlike McpError, the message gets no "MCP error -32602:" prefix, which clients add again.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export interface RpcFailure {
  code: number;
  message: string;
  /** The id of the message at fault when it could be read, else null (as JSON-RPC asks). */
  id: string | number | null;
}

export const PARSE_ERROR_MESSAGE = "Parse error: the request body is not valid JSON; send one JSON-RPC 2.0 message";

/** The id a client would recognise, when the message has a usable one. */
export function idOf(message: unknown): string | number | null {
  const id = isPlainObject(message) ? message.id : undefined;
  return typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)) ? id : null;
}

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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
