// The composition root: builds the Vault client, tool registry and MCP handlers from a Config. No side effects on import.
import { type Config, readMaskKey } from "./config.ts";
import type { Logger } from "./log.ts";
import { createMcpHttpHandler } from "./mcp/http.ts";
import type { McpDeps } from "./mcp/server.ts";
import { McpSessions } from "./mcp/sessions.ts";
import { allTools } from "./tools/index.ts";
import { ToolRegistry } from "./tools/registry.ts";
import { secretValuesSettings } from "./tools/secret-values.ts";
import { withWrapTtl } from "./vault/wrapping.ts";
import { tokenSourceFor } from "./vault/auth.ts";
import { explainingTlsFailures, vaultTls } from "./vault/auth-tls.ts";
import { type TokenSource, VaultClient } from "./vault/client.ts";
import { createTelemetry, type Telemetry } from "./telemetry.ts";
import { createReadinessCheck } from "./vault/health.ts";
import { MountInfoCache } from "./vault/mount-info.ts";
import { TokenKeeper } from "./vault/token-keeper.ts";
import type { LeaseTiming } from "./vault/token-lease.ts";
import { SERVER_VERSION } from "./mcp/server.ts";

export interface Runtime extends McpDeps {
  vault: VaultClient;
  handleMcp(req: Request, client?: string): Promise<Response>;
  readiness: ReturnType<typeof createReadinessCheck>;
  /** What GET /metrics serves. */
  telemetry: Telemetry;
  /** Present in stateful mode (MCP_STATEFUL). */
  sessions?: McpSessions;
  /** Ends what outlives a request (sessions and their streams); call before stopping the HTTP server. */
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  tokens?: TokenSource;
  fetch?: typeof fetch;
  /** For tests of token renewal: shorter intervals than production's. */
  leaseTiming?: Partial<LeaseTiming>;
}

export function buildRuntime(config: Config, log: Logger, overrides: RuntimeOverrides = {}): Runtime {
  const telemetry = createTelemetry(SERVER_VERSION);
  if (config.vault.tls.skipVerify) log.warn("VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the path can read the token");
  const connection = {
    addr: config.vault.addr,
    namespace: config.vault.namespace,
    timeoutMs: config.vault.timeoutMs,
    fetch: explainingTlsFailures(withWrapTtl(overrides.fetch ?? fetch, config.tools.secretValues.wrapTtlSeconds)),
    tls: vaultTls(config.vault.tls),
    observe: telemetry.vault,
  };
  const tokens =
    overrides.tokens ??
    tokenSourceFor(config.vault.auth, { client: (t) => new VaultClient({ ...connection, tokens: t }), log, timing: overrides.leaseTiming });
  const vault = new VaultClient({ ...connection, tokens });
  if (tokens instanceof TokenKeeper) tokens.onEvent = telemetry.token;
  const registry = new ToolRegistry(allTools);
  registry.observer = telemetry.calls;
  const values = config.tools.secretValues;
  const secretValues = secretValuesSettings(values.mode, values.wrapTtlSeconds, values.mode === "reveal" ? undefined : readMaskKey(values));
  const context = { vault, mounts: new MountInfoCache(vault), log, settings: { kv1Merge: config.tools.kv1Merge, secretValues } };
  const deps = { registry, context };
  const sessions = config.http.stateful
    ? new McpSessions(deps, { idleMs: config.http.sessionIdleMs, maxSessions: config.http.maxSessions, log })
    : undefined;
  const readiness = createReadinessCheck(vault);
  telemetry.watch({ tokenTtlSeconds: tokens instanceof TokenKeeper ? () => tokens.ttlSeconds() : undefined, readiness });
  return {
    ...deps,
    vault,
    telemetry,
    handleMcp: createMcpHttpHandler(deps, { maxBodyBytes: config.http.maxBodyBytes, sessions }),
    readiness,
    sessions,
    close: async () => sessions?.closeAll(),
  };
}
