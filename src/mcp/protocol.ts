// What the protocol layer needs without loading the SDK: our server's identity and capabilities, JSON-RPC error codes,
// the protocol revisions served, and initialize's answer. The SDK (its zod schemas are a third of the start-up time and
// megabytes of heap) is loaded only for what the fast path leaves to it; test/mcp/protocol.test.ts holds these to the
// SDK's own values.
import { isPlainObject, onlyKeys } from "./jsonrpc.ts";

export const SERVER_NAME = "vault-mcp-server";
export const SERVER_TITLE = "Vault MCP Server";
export const SERVER_VERSION = "0.1.0";

export const INSTRUCTIONS =
  "Operates HashiCorp Vault: secrets engine mounts, KV secrets (v1 and v2) and PKI certificates. " +
  'KV tools default to the "secret" mount. Errors explain what to do next; a permission error means the Vault token lacks a capability, not that the call was malformed.';

export const SERVER_CAPABILITIES = { tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } } as const;

/** JSON-RPC error codes, as the SDK's ErrorCode names them. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

export const LATEST_PROTOCOL_VERSION = "2025-11-25";
/** The revisions the SDK's Server negotiates, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [LATEST_PROTOCOL_VERSION, "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"];

const INITIALIZE_KEYS = new Set(["protocolVersion", "capabilities", "clientInfo"]);
const CLIENT_INFO_KEYS = new Set(["name", "version", "title"]);
const CAPABILITY_KEYS = new Set(["roots", "sampling", "elicitation"]);
const ROOTS_KEYS = new Set(["listChanged"]);
const NO_KEYS = new Set<string>();

const isEmptyObject = (v: unknown) => isPlainObject(v) && onlyKeys(v, NO_KEYS);

/**
 * True for initialize params of the plain shape every client we know sends (protocolVersion, clientInfo with name,
 * version and perhaps title, capabilities among roots/sampling/elicitation): params the SDK's schema certainly accepts.
 * Anything richer is left to the SDK, which validates it and answers exactly as it would.
 */
export function isPlainInitialize(params: unknown): params is { protocolVersion: string } {
  if (!isPlainObject(params) || !onlyKeys(params, INITIALIZE_KEYS)) return false;
  if (typeof params.protocolVersion !== "string") return false;
  const info = params.clientInfo;
  if (!isPlainObject(info) || !onlyKeys(info, CLIENT_INFO_KEYS)) return false;
  if (typeof info.name !== "string" || typeof info.version !== "string" || (info.title !== undefined && typeof info.title !== "string")) return false;
  const caps = params.capabilities;
  if (!isPlainObject(caps) || !onlyKeys(caps, CAPABILITY_KEYS)) return false;
  if (caps.roots !== undefined) {
    const roots = caps.roots;
    if (!isPlainObject(roots) || !onlyKeys(roots, ROOTS_KEYS) || (roots.listChanged !== undefined && typeof roots.listChanged !== "boolean")) return false;
  }
  if (caps.sampling !== undefined && !isEmptyObject(caps.sampling)) return false;
  if (caps.elicitation !== undefined && !isEmptyObject(caps.elicitation)) return false;
  return true;
}

/** initialize's result, as the SDK's Server makes it: the client's revision when served, else the newest. */
export function initializeResult(requested: string): Record<string, unknown> {
  return {
    protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
    capabilities: SERVER_CAPABILITIES,
    serverInfo: { name: SERVER_NAME, title: SERVER_TITLE, version: SERVER_VERSION },
    instructions: INSTRUCTIONS,
  };
}

let sdk: Promise<typeof import("./sdk.ts")> | undefined;

/** The SDK's Server, transport and schemas, loaded once, when something first needs them. */
export function loadSdk(): Promise<typeof import("./sdk.ts")> {
  sdk ??= import("./sdk.ts");
  return sdk;
}
