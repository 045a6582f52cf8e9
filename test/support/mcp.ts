// Real SDK Clients for tests: over HTTP against the in-process app (no port), and helpers to read tool results.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { silentLogger } from "../../src/log.ts";
import { withoutGuidance } from "../../src/tools/guidance.ts";
import { buildRuntime, type Runtime, type RuntimeOverrides } from "../../src/runtime.ts";
import { testVault } from "./vault.ts";

export interface TestServer {
  runtime: Runtime;
  app: ReturnType<typeof createApp>;
  /** Sends a request to the app as if it came over the network from 127.0.0.1. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
}

/** An in-process server pointed at the test Vault (or another address/token), configured from env-like settings. */
export function testServer(env: Record<string, string> = {}, overrides: RuntimeOverrides = {}): TestServer {
  const vault = testVault();
  // The audit log is tested on its own (test/audit); elsewhere its lines would only fill the runner's output.
  // Every toolset unless the test chooses (the default toolsets are tested in test/tools/toolsets.test.ts).
  const tools = env.MCP_TOOLS === undefined && env.MCP_TOOLSETS === undefined ? { MCP_TOOLSETS: "all" } : {};
  const config = loadConfig([], { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, MCP_AUDIT_LOG: "off", ...tools, ...env });
  const runtime = buildRuntime(config, silentLogger, overrides);
  const app = createApp({
    handleMcp: runtime.handleMcp,
    readiness: runtime.readiness,
    guard: runtime.guard,
    auth: runtime.auth,
    ...(config.http.metrics.serve === "mcp" ? { metrics: runtime.telemetry.render } : {}),
  });
  const fetchApp = (input: string | URL | Request, init?: RequestInit) =>
    app.handle(input instanceof Request ? input : new Request(input.toString(), init));
  return { runtime, app, fetch: fetchApp };
}

export const MCP_URL = "http://127.0.0.1:8084/mcp";

/** An initialised SDK Client talking Streamable HTTP to `server` (a fresh in-process server by default); `requestInit` adds headers such as Authorization. */
export async function connectClient(server: TestServer = testServer(), requestInit?: RequestInit): Promise<Client> {
  const client = new Client({ name: "vault-mcp-server-tests", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), { fetch: server.fetch, requestInit });
  await client.connect(transport);
  return client;
}

export interface ToolResult {
  content: { type: string; text?: string; resource?: { uri: string; mimeType?: string; text?: string } }[];
  structuredContent?: Record<string, any>;
  isError?: boolean;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

/** The text of a result's first text block. */
export function text(result: ToolResult): string {
  return result.content.find((c) => c.type === "text")?.text ?? "";
}

/** Calls a tool that must succeed; fails the test with the tool's own words when it does not. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${text(result)}`);
  return result;
}

/** Calls a tool that must fail and answers its error text. */
export async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  if (!result.isError) throw new Error(`${name} was expected to fail but answered: ${text(result)}`);
  return text(result);
}

/** The tool's own structured fields (the registry's summary and next are tested in test/guidance). */
export function sc(result: ToolResult): Record<string, any> {
  if (!result.structuredContent) throw new Error(`no structuredContent in: ${text(result)}`);
  return withoutGuidance(result.structuredContent)!;
}

/** A name no other test uses, for mounts and secrets. */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Direct Vault API access with the root token, to set up and to check what tools did, independently of them. */
export async function vaultApi(method: string, path: string, body?: unknown, token = testVault().token): Promise<{ status: number; json: any }> {
  const list = method === "LIST";
  const res = await fetch(`${testVault().addr}/v1/${path}${list ? "?list=true" : ""}`, {
    method: list ? "GET" : method,
    headers: { "x-vault-token": token, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    // Loopback Vault: never through a developer's HTTP_PROXY.
    proxy: false,
  } as RequestInit);
  const raw = await res.text();
  return { status: res.status, json: raw ? JSON.parse(raw) : null };
}

/**
 * A lease Vault keeps in dev mode, with the token it leases: a child token made through auth/token/create has one under
 * auth/token/create/. Its TTL is drawn at random, so the lease that expires in the same second as the token is its own.
 */
export async function tokenLease(): Promise<{ token: string; leaseId: string }> {
  const ttl = 3000 + Math.floor(Math.random() * 80_000);
  const token = (await vaultApi("POST", "auth/token/create", { policies: ["default"], ttl: `${ttl}s` })).json.auth.client_token as string;
  const expires = String((await vaultApi("GET", "auth/token/lookup-self", undefined, token)).json.data.expire_time).slice(0, 19);
  const keys: string[] = (await vaultApi("LIST", "sys/leases/lookup/auth/token/create")).json.data.keys;
  for (const key of keys) {
    const id = `auth/token/create/${key}`;
    const lease = await vaultApi("PUT", "sys/leases/lookup", { lease_id: id });
    if (String(lease.json.data?.expire_time).slice(0, 19) === expires) return { token, leaseId: id };
  }
  throw new Error("no lease found for the token just made");
}
