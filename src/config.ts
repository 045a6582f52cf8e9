// Configuration, read once from flags and environment (as Vault's own tools read it) into a frozen, validated object.
import { readFileSync } from "node:fs";
import type { AuditTarget } from "./audit.ts";
import type { Level } from "./log.ts";
import type { VaultAuth } from "./vault/auth.ts";
import type { VaultTls } from "./vault/client.ts";
import type { IdentitySettings } from "./vault/identity.ts";
import { compileGlobs } from "./policy/globs.ts";
import { parseRateLimit } from "./policy/limits.ts";
import { allTools } from "./tools/index.ts";
import { selectTools, type ToolChoice, ToolChoiceError } from "./tools/toolsets.ts";
import { BOOLEAN_FLAGS, FLAGS, USAGE } from "./flags.ts";
import { type McpAuth, mcpAuth, vaultAuth, vaultIdentity } from "./config-auth.ts";
import { bool, ConfigError, durationMs, int, list } from "./config-values.ts";

export { ConfigError, type McpAuth };

export { USAGE };

export type { VaultAuth };

export interface Config {
  readonly command: "serve" | "stdio";
  readonly vault: {
    readonly addr: string;
    /** Never logged. */
    readonly auth: VaultAuth;
    readonly namespace?: string;
    readonly timeoutMs: number;
    readonly tls: {
      readonly caCertFile?: string;
      readonly clientCertFile?: string;
      readonly clientKeyFile?: string;
      readonly serverName?: string;
      readonly skipVerify: boolean;
    };
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly maxBodyBytes: number;
    /** Origins a browser may call from, besides loopback ones when bound to loopback. */
    readonly allowedOrigins: readonly string[];
    /** Opt-in MCP sessions (Mcp-Session-Id, GET notification stream, DELETE); stateless otherwise. */
    readonly stateful: boolean;
    /** With sessions: how long one may sit unused before it is closed. */
    readonly sessionIdleMs: number;
    /** With sessions: the most held at once. */
    readonly maxSessions: number;
    /** Serve HTTPS with this certificate and key (PEM files), for hosts without a TLS-terminating proxy. */
    readonly tls?: { readonly certFile: string; readonly keyFile: string };
    /** GET /metrics: on the MCP port ("mcp"), on a listener of its own (host and port), or not at all. */
    readonly metrics: { readonly serve: "mcp" | "off" } | { readonly serve: "separate"; readonly host: string; readonly port: number };
    /** MCP_AUTH: who may call /mcp. stdio trusts the process that started it. */
    readonly auth: McpAuth;
    /** MCP_ALLOWED_HOSTS off loopback: Host names accepted ("*": any); undefined: the defaults (src/http/guards.ts). */
    readonly allowedHosts?: readonly string[];
  };
  /** What callers may touch and how much they may ask (README "What a caller may touch"). */
  readonly policy: PolicySettings;
  readonly logLevel: Level;
  /** MCP_HEAP_TARGET_MB: collect garbage at once when the JS heap grows past this many MiB; 0 leaves it to the engine. */
  readonly heapTargetMb: number;
  /** MCP_VAULT_IDENTITY: whose Vault token a tool call uses (server, the caller's X-Vault-Token, or the caller's JWT exchanged). */
  readonly identity: IdentitySettings;
  /** MCP_AUDIT_LOG: where the audit log goes. */
  readonly audit: AuditTarget;
  readonly tools: {
    /** MCP_TOOLSETS (default "default": sys, kv, pki) or MCP_TOOLS: the names of the tools this server registers, in wiring-list order. */
    readonly enabled: readonly string[];
    /** MCP_KV1_MERGE: KV v1 merges are refused (default) or serialised in this process ("local": one replica only). */
    readonly kv1Merge: "refuse" | "local";
    /** MCP_SECRET_VALUES and its settings: how values declared sensitive reach the model. */
    readonly secretValues: {
      readonly mode: "reveal" | "mask" | "wrap";
      /** MCP_WRAP_TTL: how long a wrapping token can be opened. */
      readonly wrapTtlSeconds: number;
      /** MCP_MASK_KEY (inline, never a flag) or MCP_MASK_KEY_FILE: the fingerprints' HMAC key; unset: drawn per process. Never logged. */
      readonly maskKey?: string;
      readonly maskKeyFile?: string;
    };
  };
}

/** MCP_READ_ONLY, MCP_TOOLS_*, MCP_*_PATHS, MCP_POLICY_FILE and the limits; rules are checked (compiled) here, used in src/policy/. */
export interface PolicySettings {
  /** MCP_READ_ONLY: for the whole server; a policy file can add it for a caller, never lift it. */
  readonly readOnly: boolean;
  /** Undefined: every tool. */
  readonly toolsAllow?: readonly string[];
  readonly toolsDeny: readonly string[];
  /** Undefined: every path. */
  readonly pathsAllow?: readonly string[];
  readonly pathsDeny: readonly string[];
  /** MCP_POLICY_FILE: rules per caller (YAML), over the ones above. */
  readonly file?: string;
  /** MCP_RATE_LIMIT per caller, as written ("20/s,burst=40"). */
  readonly rateLimit?: string;
  /** MCP_MAX_CONCURRENT_CALLS: calls running at once, all callers together. */
  readonly maxConcurrent?: number;
  /** MCP_MAX_CONCURRENT_CALLS_PER_CALLER. */
  readonly maxConcurrentPerCaller?: number;
}

function parseArgs(argv: readonly string[]): { command: Config["command"]; env: Record<string, string> } {
  let command: Config["command"] = "serve";
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "serve" || arg === "stdio") {
      command = arg;
      continue;
    }
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const name = FLAGS[flag];
    if (!name) throw new ConfigError(`unknown argument "${arg}"\n\n${USAGE}`);
    if (BOOLEAN_FLAGS.has(flag) && inline === undefined) {
      env[name] = "true";
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    env[name] = value;
  }
  return { command, env };
}

function vaultAddr(value: string | undefined): string {
  const addr = value || "http://127.0.0.1:8200";
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw new ConfigError(`VAULT_ADDR must be a URL such as https://vault.example.com:8200, got "${addr}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`VAULT_ADDR must use http or https, got "${url.protocol}"`);
  if (url.username || url.password) throw new ConfigError("VAULT_ADDR must not carry credentials; use VAULT_TOKEN or VAULT_TOKEN_FILE");
  return addr.replace(/\/+$/, "");
}

const LEVELS = ["debug", "info", "warn", "error"];

export function loadConfig(argv: readonly string[], environment: Record<string, string | undefined>): Config {
  const { command, env: fromFlags } = parseArgs(argv);
  const env = { ...environment, ...fromFlags };
  const logLevel = (env.LOG_LEVEL || "info").toLowerCase();
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(", ")}, got "${env.LOG_LEVEL}"`);
  const config: Config = {
    command,
    vault: {
      addr: vaultAddr(env.VAULT_ADDR),
      auth: vaultAuth(env),
      namespace: env.VAULT_NAMESPACE || undefined,
      timeoutMs: durationMs("VAULT_CLIENT_TIMEOUT", env.VAULT_CLIENT_TIMEOUT, 30_000),
      tls: {
        caCertFile: env.VAULT_CACERT || undefined,
        clientCertFile: env.VAULT_CLIENT_CERT || undefined,
        clientKeyFile: env.VAULT_CLIENT_KEY || undefined,
        serverName: env.VAULT_TLS_SERVER_NAME || undefined,
        skipVerify: bool("VAULT_SKIP_VERIFY", env.VAULT_SKIP_VERIFY),
      },
    },
    http: {
      host: env.MCP_HOST || "127.0.0.1",
      port: int("MCP_PORT", env.MCP_PORT, 8084, 0, 65535),
      maxBodyBytes: int("MCP_MAX_BODY_BYTES", env.MCP_MAX_BODY_BYTES, 1024 * 1024, 1024, 64 * 1024 * 1024),
      allowedOrigins: (env.MCP_ALLOWED_ORIGINS ?? "")
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean),
      stateful: bool("MCP_STATEFUL", env.MCP_STATEFUL),
      sessionIdleMs: durationMs("MCP_SESSION_IDLE_TIMEOUT", env.MCP_SESSION_IDLE_TIMEOUT, 30 * 60_000),
      maxSessions: int("MCP_MAX_SESSIONS", env.MCP_MAX_SESSIONS, 1000, 1, 100_000),
      tls: listenerTls(env),
      metrics: metricsListener(env.MCP_METRICS_ADDR),
      auth: mcpAuth(env),
      allowedHosts: env.MCP_ALLOWED_HOSTS ? list(env.MCP_ALLOWED_HOSTS) : undefined,
    },
    policy: policySettings(env),
    logLevel: logLevel as Level,
    heapTargetMb: int("MCP_HEAP_TARGET_MB", env.MCP_HEAP_TARGET_MB, DEFAULT_HEAP_TARGET_MB, 0, 65_536),
    identity: vaultIdentity(env),
    audit: auditTarget(env.MCP_AUDIT_LOG),
    tools: { enabled: enabledTools(env), kv1Merge: kv1Merge(env.MCP_KV1_MERGE), secretValues: secretValues(env) },
  };
  if ((config.vault.tls.clientCertFile === undefined) !== (config.vault.tls.clientKeyFile === undefined)) {
    throw new ConfigError("VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together; set both or neither");
  }
  if (config.identity.mode !== "server" && command === "stdio") {
    throw new ConfigError(`MCP_VAULT_IDENTITY=${config.identity.mode} takes the Vault identity from each HTTP request; stdio has none (use serve, or MCP_VAULT_IDENTITY=server)`);
  }
  if (config.identity.mode === "jwt" && config.http.auth.mode !== "oauth") {
    throw new ConfigError("MCP_VAULT_IDENTITY=jwt exchanges the caller's verified JWT for a Vault token, so it needs MCP_AUTH=oauth");
  }
  return deepFreeze(config);
}

/**
 * See src/heap.ts. 8 MiB, measured on the bench's 16-client mix against bench/responder.ts, 5 interleaved runs of 4 s
 * (medians), with the SDK off the fast path: peak RSS 85.6 MiB off, 78.8 MiB at 8, at 240 and 237 µs server CPU per
 * call. A live heap above the target does not make it collect on every look (src/heap.ts).
 */
export const DEFAULT_HEAP_TARGET_MB = 8;

function auditTarget(value: string | undefined): AuditTarget {
  const v = (value ?? "").trim();
  if (v === "" || v.toLowerCase() === "stderr") return { to: "stderr" };
  if (v.toLowerCase() === "off") return { to: "off" };
  if (!v.startsWith("/")) throw new ConfigError(`MCP_AUDIT_LOG must be "stderr" (the default), "off", or an absolute file path, got "${value}"`);
  return { to: "file", file: v };
}

/** The policy settings, each rule compiled once here so that a bad glob or limit stops the start with the setting named. */
function policySettings(env: Record<string, string | undefined>): PolicySettings {
  const globs = (name: string, paths: boolean): string[] | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return undefined;
    const items = list(raw);
    try {
      compileGlobs(items, name, paths);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    return items;
  };
  let rateLimit: string | undefined;
  try {
    rateLimit = parseRateLimit(env.MCP_RATE_LIMIT ?? "", "MCP_RATE_LIMIT") ? env.MCP_RATE_LIMIT!.trim() : undefined;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const cap = (name: string) => (env[name] ? int(name, env[name], 0, 1, 1_000_000) : undefined);
  return {
    readOnly: bool("MCP_READ_ONLY", env.MCP_READ_ONLY),
    toolsAllow: globs("MCP_TOOLS_ALLOW", false),
    toolsDeny: globs("MCP_TOOLS_DENY", false) ?? [],
    pathsAllow: globs("MCP_ALLOWED_PATHS", true),
    pathsDeny: globs("MCP_DENIED_PATHS", true) ?? [],
    file: env.MCP_POLICY_FILE || undefined,
    rateLimit,
    maxConcurrent: cap("MCP_MAX_CONCURRENT_CALLS"),
    maxConcurrentPerCaller: cap("MCP_MAX_CONCURRENT_CALLS_PER_CALLER"),
  };
}

function listenerTls(env: Record<string, string | undefined>): Config["http"]["tls"] {
  const certFile = env.MCP_TLS_CERT_FILE || undefined;
  const keyFile = env.MCP_TLS_KEY_FILE || undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError("MCP_TLS_CERT_FILE and MCP_TLS_KEY_FILE go together (PEM certificate and its key); set both or neither");
  }
  return certFile && keyFile ? { certFile, keyFile } : undefined;
}

/** MCP_TOOLSETS or MCP_TOOLS (exclusive) as the names of the tools to serve; an unknown name stops the start, listing the valid ones. */
function enabledTools(env: Record<string, string | undefined>): string[] {
  const toolsets = list(env.MCP_TOOLSETS).map((w) => w.toLowerCase());
  const tools = list(env.MCP_TOOLS);
  if (toolsets.length > 0 && tools.length > 0) {
    throw new ConfigError("MCP_TOOLSETS and MCP_TOOLS are both set; set one (MCP_TOOLS names exact tools, MCP_TOOLSETS groups of them)");
  }
  const choice: ToolChoice = tools.length > 0 ? { tools } : { toolsets: toolsets.length > 0 ? toolsets : ["default"] };
  try {
    return selectTools(allTools, choice).map((t) => t.name);
  } catch (err) {
    if (err instanceof ToolChoiceError) throw new ConfigError(err.message);
    throw err;
  }
}

function kv1Merge(value: string | undefined): "refuse" | "local" {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "refuse") return "refuse";
  if (v === "local") return "local";
  throw new ConfigError(`MCP_KV1_MERGE must be "refuse" (the default) or "local" (one server process only), got "${value}"`);
}

const SECRET_VALUES = ["reveal", "mask", "wrap"] as const;
/** The shortest mask key accepted: 32 characters, e.g. `openssl rand -base64 32` (44). */
const MIN_MASK_KEY = 32;

function secretValues(env: Record<string, string | undefined>): Config["tools"]["secretValues"] {
  const raw = (env.MCP_SECRET_VALUES ?? "").trim().toLowerCase() || "reveal";
  const mode = SECRET_VALUES.find((m) => m === raw);
  if (!mode) throw new ConfigError(`MCP_SECRET_VALUES must be "reveal" (the default), "mask" or "wrap", got "${env.MCP_SECRET_VALUES}"`);
  const ttlMs = durationMs("MCP_WRAP_TTL", env.MCP_WRAP_TTL, 5 * 60_000);
  if (ttlMs < 1000 || ttlMs > 24 * 3_600_000 || ttlMs % 1000 !== 0) {
    throw new ConfigError(`MCP_WRAP_TTL must be whole seconds from 1s to 24h (e.g. "5m", the default), got "${env.MCP_WRAP_TTL}"`);
  }
  const maskKey = env.MCP_MASK_KEY || undefined;
  const maskKeyFile = env.MCP_MASK_KEY_FILE || undefined;
  if (maskKey && maskKeyFile) throw new ConfigError("MCP_MASK_KEY and MCP_MASK_KEY_FILE are both set; set one (the file is better: environments leak)");
  // The key itself is never quoted: only its length.
  if (maskKey && maskKey.length < MIN_MASK_KEY) {
    throw new ConfigError(`MCP_MASK_KEY must be at least ${MIN_MASK_KEY} characters (it has ${maskKey.length}); make one with: openssl rand -base64 32`);
  }
  return { mode, wrapTtlSeconds: ttlMs / 1000, maskKey, maskKeyFile };
}

/** The mask key from MCP_MASK_KEY or the file MCP_MASK_KEY_FILE names (trailing newline dropped); undefined when neither is set. */
export function readMaskKey(settings: Config["tools"]["secretValues"]): string | undefined {
  if (settings.maskKey || !settings.maskKeyFile) return settings.maskKey;
  let key: string;
  try {
    key = readFileSync(settings.maskKeyFile, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new ConfigError(`MCP_MASK_KEY_FILE: cannot read ${settings.maskKeyFile} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (key.length < MIN_MASK_KEY) {
    throw new ConfigError(`MCP_MASK_KEY_FILE: the key in ${settings.maskKeyFile} must be at least ${MIN_MASK_KEY} characters (it has ${key.length}); make one with: openssl rand -base64 32 > ${settings.maskKeyFile}`);
  }
  return key;
}

/** MCP_METRICS_ADDR: unset serves /metrics on the MCP port; "off" serves none; "host:port" or ":port" a listener of its own. */
function metricsListener(value: string | undefined): Config["http"]["metrics"] {
  const v = (value ?? "").trim();
  if (v === "") return { serve: "mcp" };
  if (v.toLowerCase() === "off") return { serve: "off" };
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]*)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError(`MCP_METRICS_ADDR must be "host:port" (e.g. "0.0.0.0:9090"), ":port", or "off", got "${value}"`);
  }
  return { serve: "separate", host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** Reads VAULT_CACERT, VAULT_CLIENT_CERT and VAULT_CLIENT_KEY once, at start-up (here, so that vault/ never reads the config). */
export function vaultTls(tls: Config["vault"]["tls"]): VaultTls {
  return {
    ca: readPem("VAULT_CACERT", tls.caCertFile),
    cert: readPem("VAULT_CLIENT_CERT", tls.clientCertFile),
    key: readPem("VAULT_CLIENT_KEY", tls.clientKeyFile),
    serverName: tls.serverName,
    skipVerify: tls.skipVerify,
  };
}

/** Reads a PEM file named by the config, with an error that names the setting. */
export function readPem(setting: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
