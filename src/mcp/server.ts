// The MCP protocol layer: a low-level SDK Server whose tools/list and tools/call are answered by the tool registry.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { type ToolContext, type ToolRegistry, UnknownTool } from "../tools/registry.ts";

export const SERVER_NAME = "vault-mcp-server";
export const SERVER_VERSION = "0.1.0";

const INSTRUCTIONS =
  "Operates HashiCorp Vault: secrets engine mounts, KV secrets (v1 and v2) and PKI certificates. " +
  'KV tools default to the "secret" mount. Errors explain what to do next; a permission error means the Vault token lacks a capability, not that the call was malformed.';

// The server never validates client-supplied schemas (no elicitation), so it skips building Ajv for every request.
const noSchemaValidation: jsonSchemaValidator = {
  getValidator: () => (input) => ({ valid: true, data: input as never, errorMessage: undefined }),
};

export interface McpDeps {
  registry: ToolRegistry;
  context: ToolContext;
}

/** A Server wired to the registry. Cheap to build: the tool list and validators are prepared once in the registry. */
export function createMcpServer({ registry, context }: McpDeps): Server {
  const server = new Server(
    { name: SERVER_NAME, title: "Vault MCP Server", version: SERVER_VERSION },
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS, jsonSchemaValidator: noSchemaValidation },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: registry.list() }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    try {
      return await registry.call(request.params.name, request.params.arguments, context);
    } catch (err) {
      if (err instanceof UnknownTool) throw new McpError(ErrorCode.InvalidParams, err.message);
      throw err;
    }
  });
  return server;
}
