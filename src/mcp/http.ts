// MCP Streamable HTTP, stateless: each POST gets its own SDK transport and Server (the SDK cannot reuse a stateless transport).
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { createMcpServer, type McpDeps } from "./server.ts";

export interface McpHttpOptions {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

/** A JSON-RPC error as an HTTP response (id null: the request could not be read far enough to know it). */
export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } }), {
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

async function readBody(req: Request, limit: number): Promise<string | "too-large"> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) return "too-large";
  if (!req.body) return "";
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

export function createMcpHttpHandler(deps: McpDeps, options: McpHttpOptions) {
  return async function handleMcpPost(req: Request): Promise<Response> {
    const mode = responseMode(req.headers.get("accept"));
    if (!mode) return jsonRpcError(406, -32000, "Not Acceptable: accept application/json or text/event-stream");
    const body = await readBody(req, options.maxBodyBytes);
    if (body === "too-large") return jsonRpcError(413, -32600, `Request body too large: the limit is ${options.maxBodyBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return jsonRpcError(400, -32700, "Parse error: the request body is not valid JSON; send one JSON-RPC 2.0 message");
    }
    // The SDK insists on both media types and a JSON content type; we have already chosen the mode and parsed the body.
    const headers = new Headers(req.headers);
    headers.set("accept", "application/json, text/event-stream");
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    const normalized = new Request(req.url, { method: "POST", headers });

    const server = createMcpServer(deps);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: mode === "json" });
    await server.connect(transport);
    const response = await transport.handleRequest(normalized, { parsedBody: parsed });
    if (mode === "json" || !response.body) {
      void server.close();
      return response;
    }
    // An SSE answer streams after we return: close the per-request server once the stream ends or the client goes away.
    const closing = new TransformStream<Uint8Array, Uint8Array>({ flush: () => void server.close() });
    response.body.pipeTo(closing.writable).catch(() => void server.close());
    return new Response(closing.readable, { status: response.status, headers: response.headers });
  };
}
