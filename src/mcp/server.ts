// The MCP protocol layer: a low-level SDK Server whose tools/list and tools/call are answered by the tool registry.
// Loaded only for what the fast path (fast-path.ts) leaves to the SDK: sessions, event streams, resources, prompts,
// batches and anything unusual; callTool (call.ts) answers tools/call on both paths.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { callerOf, callTool, describeType, describeValue, type McpDeps } from "./call.ts";
import { RpcError } from "./jsonrpc.ts";
import { getPrompt, listPrompts } from "./prompts.ts";
import { ErrorCode, INSTRUCTIONS, SERVER_CAPABILITIES, SERVER_NAME, SERVER_TITLE, SERVER_VERSION } from "./protocol.ts";
import { readResource, RESOURCE_TEMPLATES, RESOURCES } from "./resources.ts";

// The server never validates client-supplied schemas (no elicitation), so it skips building Ajv for every request.
const noSchemaValidation: jsonSchemaValidator = {
  getValidator: () => (input) => ({ valid: true, data: input as never, errorMessage: undefined }),
};

/** A Server wired to the registry. Cheap to build: the tool list and validators are prepared once in the registry. */
export function createMcpServer(deps: McpDeps): Server {
  const server = new Server(
    { name: SERVER_NAME, title: SERVER_TITLE, version: SERVER_VERSION },
    { capabilities: structuredClone(SERVER_CAPABILITIES), instructions: INSTRUCTIONS, jsonSchemaValidator: noSchemaValidation },
  );
  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({ tools: deps.registry.list(callerOf(extra)) }));
  // Resources and prompts read Vault only through callTool, so a read has the guardrails of a tool call.
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => readResource(deps, request.params.uri, callerOf(extra)));
  server.setRequestHandler(ListPromptsRequestSchema, async () => listPrompts());
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => getPrompt(deps, request.params, callerOf(extra)));
  // tools/call is not registered with the SDK, whose own handler parses params with zod first (a refusal is a multi-line
  // dump as -32603): the fallback hands it to callTool, the same function the fast path uses.
  server.fallbackRequestHandler = async (request, extra) => {
    if (request.method === "tools/call") return (await callTool(deps, request.params, callerOf(extra), extra?.requestId)) as never;
    // The SDK's own words and code for a method nobody handles.
    throw new RpcError(ErrorCode.MethodNotFound, "Method not found");
  };
  readableParamErrors(server);
  return server;
}


interface Issue {
  code?: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
}

type Handler = (request: { method: string; params?: unknown }, extra: unknown) => Promise<unknown>;

/**
 * The SDK parses each request's params with zod before its handler (initialize, ping, tools/list) runs, and a refusal
 * becomes -32603 with the multi-line issue list as its message. Each handler is wrapped so that such a refusal is
 * -32602 with one sentence. The map is SDK-internal (pinned version); without it nothing is wrapped, which the tests see.
 */
function readableParamErrors(server: Server): void {
  const handlers = (server as unknown as { _requestHandlers?: Map<string, Handler> })._requestHandlers;
  if (!(handlers instanceof Map)) return;
  for (const [method, handler] of handlers) {
    handlers.set(method, async (request, extra) => {
      try {
        return await handler(request, extra);
      } catch (err) {
        const issues = zodIssues(err);
        throw issues ? invalidParams(method, request, issues) : err;
      }
    });
  }
}

function zodIssues(err: unknown): Issue[] | undefined {
  // zod's classic and core errors ("ZodError", "$ZodError"); the SDK throws either, depending on the schema.
  if (!(err instanceof Error) || !/^\$?ZodError$/.test(err.name)) return undefined;
  const issues = (err as { issues?: unknown }).issues;
  return Array.isArray(issues) && issues.length > 0 ? (issues as Issue[]) : undefined;
}

const PARAMS_HINT: Record<string, string> = {
  initialize: 'initialize takes {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "...", "version": "..."}}',
  "tools/list": 'tools/list takes no params, or {"cursor": <string>}',
  ping: "ping takes no params",
};

/** One sentence naming each refused member (at most three), what it must be and what it was. */
export function invalidParams(method: string, request: unknown, issues: readonly Issue[]): RpcError {
  const parts = issues.slice(0, 3).map((issue) => {
    const path = issue.path[0] === "params" ? issue.path.slice(1) : issue.path;
    const name = path.length > 0 ? `"${path.map(String).join(".")}"` : "params";
    const value = valueAt(request, issue.path);
    const expected = issue.code === "invalid_type" && issue.expected ? describeType(issue.expected) : undefined;
    if (value === undefined) return `missing ${name}${expected ? ` (${expected})` : ""}`;
    if (expected) return `${name} must be ${expected}, got ${describeValue(value)}`;
    return `${name} is not accepted (${issue.message.replace(/\s+/g, " ").slice(0, 120)})`;
  });
  const more = issues.length > 3 ? ` and ${issues.length - 3} more` : "";
  const hint = PARAMS_HINT[method] ? `; ${PARAMS_HINT[method]}` : "";
  return new RpcError(ErrorCode.InvalidParams, `Invalid params for ${method}: ${parts.join(", ")}${more}${hint}.`);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}


