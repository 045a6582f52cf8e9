// The composition root: builds the Vault client, tool registry and MCP handlers from a Config. No side effects on import.
import { type Config, readPem } from "./config.ts";
import type { Logger } from "./log.ts";
import { createMcpHttpHandler } from "./mcp/http.ts";
import type { McpDeps } from "./mcp/server.ts";
import { McpSessions } from "./mcp/sessions.ts";
import { allTools } from "./tools/index.ts";
import { ToolRegistry } from "./tools/registry.ts";
import { tokenSourceFor } from "./vault/auth.ts";
import { type TokenSource, VaultClient } from "./vault/client.ts";
import { createReadinessCheck } from "./vault/health.ts";
import { MountInfoCache } from "./vault/mount-info.ts";

export interface Runtime extends McpDeps {
  vault: VaultClient;
  handleMcp(req: Request): Promise<Response>;
  readiness: ReturnType<typeof createReadinessCheck>;
  /** Present in stateful mode (MCP_STATEFUL). */
  sessions?: McpSessions;
  /** Ends what outlives a request (sessions and their streams); call before stopping the HTTP server. */
  close(): Promise<void>;
}

export function buildRuntime(config: Config, log: Logger, overrides: { tokens?: TokenSource; fetch?: typeof fetch } = {}): Runtime {
  const tls = config.vault.tls;
  if (tls.skipVerify) log.warn("VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the path can read the token");
  const vault = new VaultClient({
    addr: config.vault.addr,
    namespace: config.vault.namespace,
    timeoutMs: config.vault.timeoutMs,
    tokens: overrides.tokens ?? tokenSourceFor(config.vault),
    fetch: overrides.fetch,
    tls: {
      ca: readPem("VAULT_CACERT", tls.caCertFile),
      cert: readPem("VAULT_CLIENT_CERT", tls.clientCertFile),
      key: readPem("VAULT_CLIENT_KEY", tls.clientKeyFile),
      serverName: tls.serverName,
      skipVerify: tls.skipVerify,
    },
  });
  const registry = new ToolRegistry(allTools);
  const context = { vault, mounts: new MountInfoCache(vault), log };
  const deps = { registry, context };
  const sessions = config.http.stateful
    ? new McpSessions(deps, { idleMs: config.http.sessionIdleMs, maxSessions: config.http.maxSessions, log })
    : undefined;
  return {
    ...deps,
    vault,
    handleMcp: createMcpHttpHandler(deps, { maxBodyBytes: config.http.maxBodyBytes, sessions }),
    readiness: createReadinessCheck(vault),
    sessions,
    close: async () => sessions?.closeAll(),
  };
}
