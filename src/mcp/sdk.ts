// The SDK side of the protocol layer, in one module that loadSdk() imports on first need (sessions, event streams,
// resources, prompts, batches, anything the fast path declines), so a server answering only the common requests never
// evaluates the SDK's schemas.
export { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
export { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
export { invalidMessage } from "./messages.ts";
export { createMcpServer } from "./server.ts";
