// JSON-RPC 2.0 framing shared by every transport: what is a message, and the one-sentence errors for what is not.

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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when every own enumerable key of `value` is one of `allowed`. */
export function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k in value) if (!allowed.has(k)) return false;
  return true;
}
