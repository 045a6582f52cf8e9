// MCP Streamable HTTP. Stateless by default: each POST gets its own SDK transport and Server (the SDK cannot reuse a
// stateless transport). With sessions (MCP_STATEFUL), an initialize opens a session that later requests name.
import { anonymousCaller, type Caller, withVaultToken } from "../caller.ts";
import { createFastPath } from "./fast-path.ts";
import { idOf, isPlainObject, PARSE_ERROR_MESSAGE } from "./jsonrpc.ts";
import { loadSdk, SUPPORTED_PROTOCOL_VERSIONS } from "./protocol.ts";
import { authInfoFor, type InsufficientScope, type McpDeps, scopeRefusal } from "./call.ts";
import type { McpSessions } from "./sessions.ts";
import type { Limits } from "../policy/limits.ts";

export interface McpHttpOptions {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Present in stateful mode: the sessions that initialize requests open and Mcp-Session-Id names. */
  sessions?: McpSessions;
  /** Answer single JSON-mode requests from the registry without a per-request SDK Server (fast-path.ts); on unless false. */
  fastPath?: boolean;
  /** With a scope policy (deps.scopes): the WWW-Authenticate value of a 403 for a tool the caller's token lacks the scope for. */
  scopeChallenge?: (req: Request, scope: string) => string;
  /** MCP_RATE_LIMIT and the concurrency caps: a request over them is answered 429 with Retry-After, never held. */
  limits?: Limits;
  /** MCP_VAULT_IDENTITY=request: the X-Vault-Token header is carried into the Caller as the call's Vault token. */
  captureVaultToken?: boolean;
}

// Parameter names that carry a credential; a value shaped like a Vault token or a JWT counts too, whatever its name.
const TOKEN_PARAM = /(^|[-_.])(token|jwt|access[-_]?token|vault[-_]?token|secret[-_]?id)$/i;
const TOKEN_VALUE = /^(hv[sbr]\.|[sbr]\.[A-Za-z0-9]{20,}$|eyJ[\w-]+\.eyJ[\w-]+\.)/;

/**
 * 400 for a request whose URL carries a token in its query string, which proxies, access logs and browser history
 * keep: a token is taken only from a header. The parameter is named, its value never repeated.
 */
export function queryTokenRefusal(url: string): Response | undefined {
  const q = url.indexOf("?");
  if (q < 0) return undefined;
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
    if (!TOKEN_PARAM.test(name) && !TOKEN_VALUE.test(value)) continue;
    return jsonRpcError(
      400,
      -32000,
      `Bad Request: the URL's query string carries a token (parameter ${JSON.stringify(name.slice(0, 64))}); this server never takes a token from a URL, where proxies and logs keep it. ` +
        "Send it in a header (Authorization: Bearer <token>, or X-Vault-Token with MCP_VAULT_IDENTITY=request), and treat the one sent as leaked: revoke or rotate it.",
    );
  }
  return undefined;
}

/** The first tools/call in a message (or batch) that `caller` may not make, as scopeRefusal (server.ts) decides. */
function refusedCall(deps: McpDeps, message: unknown, caller: Caller | undefined): { refusal: InsufficientScope; id: unknown } | undefined {
  for (const m of Array.isArray(message) ? message : [message]) {
    if (!isPlainObject(m) || m.method !== "tools/call" || !isPlainObject(m.params) || typeof m.params.name !== "string") continue;
    const refusal = scopeRefusal(deps, m.params.name, caller);
    if (refusal) return { refusal, id: m.id ?? null };
  }
  return undefined;
}

/** The methods that do work in Vault for a caller, and so spend from its limits. */
const LIMITED_METHODS = new Set(["tools/call", "resources/read", "prompts/get"]);

/** How many limited requests a message (or a batch: each counts) holds. */
function limitedCount(message: unknown): number {
  if (!Array.isArray(message)) return isPlainObject(message) && LIMITED_METHODS.has(message.method as string) && message.id !== undefined ? 1 : 0;
  let n = 0;
  for (const m of message) if (isPlainObject(m) && LIMITED_METHODS.has(m.method as string) && m.id !== undefined) n++;
  return n;
}

/** `release` once the response is complete: now for JSON, when the stream ends (or the client leaves) for an event stream. */
function releasedWhenDone(response: Response, release: () => void): Response {
  if (!response.body || !response.headers.get("content-type")?.includes("text/event-stream")) {
    release();
    return response;
  }
  const done = new TransformStream<Uint8Array, Uint8Array>({ flush: release });
  response.body.pipeTo(done.writable).catch(release);
  return new Response(done.readable, { status: response.status, headers: response.headers });
}

/** A JSON-RPC error as an HTTP response (id null: the request could not be read far enough to know it). */
export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}, id: unknown = null): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

type Mode = "json" | "sse";

/**
 * JSON unless the client accepts only an event stream. A missing Accept (curl, scripts) or a wildcard means JSON:
 * the troubleshooting line `curl -X POST .../mcp -d '{...}'` must work as typed.
 */
export function responseMode(accept: string | null): Mode | null {
  if (!accept) return "json";
  const types = accept.split(",").map((t) => t.split(";")[0]!.trim().toLowerCase());
  if (types.some((t) => t === "application/json" || t === "application/*" || t === "*/*")) return "json";
  if (types.includes("text/event-stream")) return "sse";
  return null;
}

/**
 * The revisions we serve are the initialize-based ones (2024-11-05 to 2025-11-25). A request declaring another one,
 * such as 2026-07-28's stateless probe `server/discover`, gets 400 with an implementation-defined (-32000) error:
 * per 2026-07-28's backward-compatibility rules that tells a dual-era client to fall back to initialize at once,
 * where a modern error code (-32022) would tell it to stay modern and retry.
 */
export function unsupportedRevision(header: string | null): string | null {
  if (header === null || SUPPORTED_PROTOCOL_VERSIONS.includes(header)) return null;
  return (
    `Bad Request: unsupported MCP protocol version "${header}"; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}. ` +
    "Send initialize with one of them (2025-11-25 is the newest)."
  );
}

async function readBody(req: Request, limit: number): Promise<string | "too-large"> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) return "too-large";
  if (!req.body) return "";
  if (Number.isFinite(declared) && !req.headers.has("transfer-encoding")) {
    // Declared and within the limit: read it whole, which costs far less than the stream reader below. Without a
    // transfer coding, HTTP/1.1 ends the body at the declared length, so it cannot be longer than what was checked.
    return await req.text();
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return "too-large";
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const methodNotAllowed = () =>
  jsonRpcError(405, -32000, "Method not allowed: this server is stateless; send JSON-RPC messages with POST /mcp", { allow: "POST" });

/** Answers every request to /mcp: POST always; GET (the notification stream) and DELETE (end a session) with sessions. */
/** The audit line of a request refused here, before callTool could record it: one per call the request carried. */
function auditRefused(deps: McpDeps, parsed: unknown, caller: Caller | undefined, outcome: "rate_limited" | "refused", rule?: string): void {
  const audit = deps.audit;
  if (!audit?.enabled) return;
  for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
    if (!m || typeof m !== "object") continue;
    const { method, id, params } = m as { method?: unknown; id?: unknown; params?: { name?: unknown; uri?: unknown } };
    if (method !== "tools/call" && method !== "resources/read" && method !== "prompts/get") continue;
    const target = typeof params?.name === "string" ? params.name : typeof params?.uri === "string" ? params.uri : undefined;
    audit.record({ method, id, caller, identity: deps.identities?.mode ?? "server", target, outcome, rule, durationMs: 0 });
  }
}

export function createMcpHttpHandler(deps: McpDeps, options: McpHttpOptions) {
  const sessions = options.sessions;
  const fast = options.fastPath === false ? undefined : createFastPath(deps);

  async function handlePost(req: Request, client: string | undefined, caller: Caller | undefined): Promise<Response> {
    const mode = responseMode(req.headers.get("accept"));
    if (!mode) return jsonRpcError(406, -32000, "Not Acceptable: accept application/json or text/event-stream");
    const body = await readBody(req, options.maxBodyBytes);
    if (body === "too-large") return jsonRpcError(413, -32600, `Request body too large: the limit is ${options.maxBodyBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return jsonRpcError(400, -32700, PARSE_ERROR_MESSAGE);
    }
    const unsupported = unsupportedRevision(req.headers.get("mcp-protocol-version"));
    if (unsupported && !(await loadSdk()).isInitializeRequest(parsed)) return jsonRpcError(400, -32000, unsupported, {}, idOf(parsed));
    // callTool refuses a call whose scope is missing on every path; asking first here lets HTTP say 403, as OAuth clients expect.
    if (deps.scopes) {
      const refused = refusedCall(deps, parsed, caller);
      if (refused) {
        auditRefused(deps, parsed, caller, "refused", `scope:${refused.refusal.scope}`);
        const challenge = options.scopeChallenge?.(req, refused.refusal.scope);
        return jsonRpcError(403, refused.refusal.code, refused.refusal.message, challenge ? { "www-authenticate": challenge } : {}, refused.id);
      }
    }
    // Limits are taken here, for every path below (fast path, SDK, sessions); a refusal is 429 at once, never a wait.
    const limits = options.limits;
    const count = limits?.limiting ? limitedCount(parsed) : 0;
    if (count === 0) return dispatch(req, parsed, mode, client, caller);
    const permit = limits!.admit(caller, count);
    if (!permit.ok) {
      auditRefused(deps, parsed, caller, "rate_limited");
      return jsonRpcError(429, -32000, permit.message, { "retry-after": String(permit.retryAfter) }, Array.isArray(parsed) ? null : idOf(parsed));
    }
    let response: Response;
    try {
      response = await dispatch(req, parsed, mode, client, caller);
    } catch (err) {
      permit.release();
      throw err;
    }
    return releasedWhenDone(response, permit.release);
  }

  async function dispatch(req: Request, parsed: unknown, mode: Mode, client: string | undefined, caller: Caller | undefined): Promise<Response> {
    // Session traffic (a session id, or an initialize that opens one) stays on the SDK below; so does all else fast-path.ts declines.
    const forSession = sessions && (req.headers.get("mcp-session-id") || (parsed as { method?: unknown } | null)?.method === "initialize");
    const quick = mode === "json" && !forSession ? fast?.(parsed, req.headers.get("mcp-protocol-version"), caller) : undefined;
    if (quick) return quick;
    const { createMcpServer, invalidMessage, isInitializeRequest, WebStandardStreamableHTTPServerTransport } = await loadSdk();
    // Checked only here, off the fast path (which takes nothing but well-formed requests): the SDK transport would call
    // valid JSON that is not JSON-RPC a parse error (-32700), where JSON-RPC says Invalid Request (-32600).
    const invalid = invalidMessage(parsed);
    if (invalid) return jsonRpcError(400, invalid.code, invalid.message, {}, invalid.id);
    // The SDK insists on both media types and a JSON content type; we have already chosen the mode and parsed the body.
    const headers = new Headers(req.headers);
    headers.set("accept", "application/json, text/event-stream");
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    const normalized = new Request(req.url, { method: "POST", headers });
    // The SDK hands authInfo to the request handlers, which is how the caller reaches callTool off the fast path.
    const authInfo = caller && authInfoFor(caller);

    if (sessions) {
      const id = req.headers.get("mcp-session-id");
      if (id) return sessions.handle(id, normalized, parsed, authInfo);
      if (isInitializeRequest(parsed)) return sessions.open(normalized, parsed, mode === "json", client, authInfo);
      // No session named and not opening one: served statelessly, so curl and sessionless clients still work.
    }

    const server = createMcpServer(deps);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: mode === "json" });
    await server.connect(transport);
    const response = await transport.handleRequest(normalized, { parsedBody: parsed, authInfo });
    if (mode === "json" || !response.body) {
      void server.close();
      return response;
    }
    // An SSE answer streams after we return: close the per-request server once the stream ends or the client goes away.
    const closing = new TransformStream<Uint8Array, Uint8Array>({ flush: () => void server.close() });
    response.body.pipeTo(closing.writable).catch(() => void server.close());
    return new Response(closing.readable, { status: response.status, headers: response.headers });
  }

  /**
   * `client` identifies the peer (its address) where the HTTP layer knows it; sessions are capped per client. `caller`
   * is who the HTTP layer authenticated; it reaches callTool on every path.
   */
  return async function handleMcp(req: Request, client?: string, caller?: Caller): Promise<Response> {
    const leaked = queryTokenRefusal(req.url);
    if (leaked) return leaked;
    if (options.captureVaultToken) {
      const token = req.headers.get("x-vault-token")?.trim();
      if (token) caller = withVaultToken(caller ?? anonymousCaller(client), token);
    }
    if (req.method === "POST") return handlePost(req, client, caller);
    if (!sessions) return methodNotAllowed();
    if (req.method !== "GET" && req.method !== "DELETE") {
      return jsonRpcError(405, -32000, `Method not allowed: use POST, GET or DELETE on /mcp`, { allow: "GET, POST, DELETE" });
    }
    const id = req.headers.get("mcp-session-id");
    if (!id) return jsonRpcError(400, -32000, `Bad Request: ${req.method} /mcp needs the Mcp-Session-Id header that initialize returned`);
    return sessions.handle(id, req, undefined, caller && authInfoFor(caller));
  };
}
