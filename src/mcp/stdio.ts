// MCP over stdio for desktop clients: one long-lived Server; stdout carries only protocol messages.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer, type McpDeps } from "./server.ts";

export async function serveStdio(deps: McpDeps): Promise<{ closed: Promise<void> }> {
  const server = createMcpServer(deps);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(transport);
  // The client closing stdin ends the session.
  process.stdin.on("end", () => void server.close());
  return { closed };
}
