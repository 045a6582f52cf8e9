// The composition root: builds the Vault client, tool registry and MCP handlers from a Config. No side effects on import.
import { type AuditLog, createAuditLog } from "./audit.ts";
import { type Config, readMaskKey, vaultTls } from "./config.ts";
import { hostname, networkInterfaces } from "node:os";
import { type Authenticator, createAuthenticator, NO_AUTH } from "./http/auth.ts";
import { allowedHostsFrom, defaultAllowedHosts, type GuardPolicy } from "./http/guards.ts";
import type { Logger } from "./log.ts";
import { createMcpHttpHandler } from "./mcp/http.ts";
import type { McpDeps } from "./mcp/call.ts";
import { McpSessions } from "./mcp/sessions.ts";
import { allTools } from "./tools/index.ts";
import { ToolRegistry } from "./tools/registry.ts";
import { secretValuesSettings } from "./tools/secret-values.ts";
import { tokenSourceFor } from "./vault/auth.ts";
import { explainingTlsFailures } from "./vault/auth-tls.ts";
import { type TokenSource, VaultClient } from "./vault/client.ts";
import { createTelemetry, type Telemetry } from "./telemetry.ts";
import { buildPolicy, type Limits, type Policy } from "./policy/index.ts";
import { createReadinessCheck } from "./vault/health.ts";
import { createIdentities } from "./vault/identity.ts";
import { MountInfoCache } from "./vault/mount-info.ts";
import { TokenKeeper } from "./vault/token-keeper.ts";
import type { LeaseTiming } from "./vault/token-lease.ts";
import { SERVER_VERSION } from "./mcp/protocol.ts";

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
  /** Who may call /mcp (MCP_AUTH); none over stdio. */
  auth: Authenticator;
  /** Host and Origin checks for the HTTP listener. */
  guard: GuardPolicy;
  /** What each caller may touch (also consulted by the registry); resources and prompts ask policy.check too. */
  policy: Policy;
  /** Rate and concurrency limits per caller, applied by the HTTP handler (429). */
  limits: Limits;
  /** MCP_AUDIT_LOG (reopened on SIGHUP, flushed by close()). */
  audit: AuditLog;
}

export interface RuntimeOverrides {
  tokens?: TokenSource;
  fetch?: typeof fetch;
  /** For tests of token renewal: shorter intervals than production's. */
  leaseTiming?: Partial<LeaseTiming>;
  /** For tests of key rotation: how soon an unknown JWT kid may fetch the issuer's keys again (jose's default 30 s). */
  jwksCooldownMs?: number;
  /** For tests of the audit log on stderr: where its lines go instead. */
  auditWrite?: (line: string) => void;
}

/** This machine's own addresses (a pod's IP), which MCP_ALLOWED_HOSTS accepts by default. */
function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal)
    .map((i) => i!.address);
}

export function buildRuntime(config: Config, log: Logger, overrides: RuntimeOverrides = {}): Runtime {
  const telemetry = createTelemetry(SERVER_VERSION);
  if (config.vault.tls.skipVerify) log.warn("VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the path can read the token");
  const connection = {
    addr: config.vault.addr,
    namespace: config.vault.namespace,
    timeoutMs: config.vault.timeoutMs,
    fetch: explainingTlsFailures(overrides.fetch ?? fetch),
    tls: vaultTls(config.vault.tls),
    observe: telemetry.vault,
  };
  const tokens =
    overrides.tokens ??
    tokenSourceFor(config.vault.auth, { client: (t) => new VaultClient({ ...connection, tokens: t }), log, timing: overrides.leaseTiming });
  const vault = new VaultClient({ ...connection, tokens });
  if (tokens instanceof TokenKeeper) tokens.onEvent = telemetry.token;
  // Tools outside MCP_TOOLSETS / MCP_TOOLS are not registered: neither listed nor callable on this server.
  const enabled = new Set(config.tools.enabled);
  const registry = new ToolRegistry(allTools.filter((t) => enabled.has(t.name)));
  registry.observer = telemetry.calls;
  // A policy file that does not parse throws here: the server does not start on rules it cannot read.
  const { policy, limits } = buildPolicy(config.policy, log);
  // No rule configured: the registry skips the policy altogether, so a call costs what it did before.
  if (policy.active) registry.policy = policy;
  const values = config.tools.secretValues;
  const secretValues = secretValuesSettings(values.mode, values.wrapTtlSeconds, values.mode === "reveal" ? undefined : readMaskKey(values));
  const context = { vault, mounts: new MountInfoCache(vault), log, settings: { kv1Merge: config.tools.kv1Merge, secretValues } };
  // stdio trusts the process that started it: authentication and scopes are for HTTP callers.
  const http = config.command === "serve";
  const authSettings = config.http.auth;
  const auth = http ? createAuthenticator(authSettings, { log, fetch: overrides.fetch, jwksCooldownMs: overrides.jwksCooldownMs }) : NO_AUTH;
  const scopes = http && authSettings.mode === "oauth" ? { read: authSettings.readScope, write: authSettings.writeScope } : undefined;
  const guard: GuardPolicy = {
    bindHost: config.http.host,
    allowedOrigins: config.http.allowedOrigins,
    allowedHosts: allowedHostsFrom(config.http.allowedHosts, () => defaultAllowedHosts(config.http.host, hostname(), ownAddresses())),
  };
  // Per-caller Vault identities share the server's address, TLS and connections, never its token.
  const identities = createIdentities(config.identity, { vault, log, timing: overrides.leaseTiming });
  const audit = createAuditLog(config.audit, log, overrides.auditWrite);
  const deps = { registry, context, scopes, identities, audit };
  const sessions = config.http.stateful
    ? new McpSessions(deps, { idleMs: config.http.sessionIdleMs, maxSessions: config.http.maxSessions, log })
    : undefined;
  const readiness = createReadinessCheck(vault);
  telemetry.watch({ tokenTtlSeconds: tokens instanceof TokenKeeper ? () => tokens.ttlSeconds() : undefined, readiness });
  return {
    ...deps,
    vault,
    telemetry,
    handleMcp: createMcpHttpHandler(deps, {
      maxBodyBytes: config.http.maxBodyBytes,
      limits,
      sessions,
      scopeChallenge: auth.scopeChallenge,
      captureVaultToken: config.identity.mode === "request",
    }),
    readiness,
    sessions,
    close: async () => {
      await sessions?.closeAll();
      identities?.close();
      await audit.flush();
    },
    auth,
    guard,
    policy,
    limits,
  };
}
