// Configuration, read once from flags and environment (as Vault's own tools read it) into a frozen, validated object.
import { readFileSync } from "node:fs";
import type { Level } from "./log.ts";

export interface Config {
  readonly command: "serve" | "stdio";
  readonly vault: {
    readonly addr: string;
    /** Never logged; undefined when a token file or auth method supplies it. */
    readonly token?: string;
    readonly tokenFile?: string;
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
  };
  readonly logLevel: Level;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Flag name -> environment variable it mirrors. Tokens are deliberately not flags: argv is visible to every user. */
const FLAGS: Record<string, string> = {
  "--vault-addr": "VAULT_ADDR",
  "--vault-namespace": "VAULT_NAMESPACE",
  "--vault-token-file": "VAULT_TOKEN_FILE",
  "--vault-cacert": "VAULT_CACERT",
  "--vault-client-cert": "VAULT_CLIENT_CERT",
  "--vault-client-key": "VAULT_CLIENT_KEY",
  "--vault-tls-server-name": "VAULT_TLS_SERVER_NAME",
  "--vault-skip-verify": "VAULT_SKIP_VERIFY",
  "--vault-timeout": "VAULT_CLIENT_TIMEOUT",
  "--host": "MCP_HOST",
  "--port": "MCP_PORT",
  "--max-body-bytes": "MCP_MAX_BODY_BYTES",
  "--allowed-origins": "MCP_ALLOWED_ORIGINS",
  "--stateful": "MCP_STATEFUL",
  "--session-idle-timeout": "MCP_SESSION_IDLE_TIMEOUT",
  "--max-sessions": "MCP_MAX_SESSIONS",
  "--log-level": "LOG_LEVEL",
};

/** Flags that mean "true" when given alone. */
const BOOLEAN_FLAGS = new Set(["--vault-skip-verify", "--stateful"]);

export const USAGE = `Usage: vault-mcp-server [serve|stdio] [flags]

  serve (default)  MCP Streamable HTTP at POST /mcp (plus /healthz, /readyz)
  stdio            MCP over standard input/output, for desktop clients

Flags (each mirrors an environment variable):
${Object.entries(FLAGS)
  .map(([f, e]) => `  ${f.padEnd(24)} ${e}`)
  .join("\n")}

The Vault token comes from VAULT_TOKEN or VAULT_TOKEN_FILE, never from a flag.`;

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

function bool(name: string, value: string | undefined): boolean {
  if (value === undefined || value === "") return false;
  if (/^(1|t|true|yes|on)$/i.test(value)) return true;
  if (/^(0|f|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Vault's duration forms: "30s", "1m", "1500ms", or a bare number of seconds. */
function durationMs(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === "") return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`${name} must be a duration such as "30s" or "1m", got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
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
      token: env.VAULT_TOKEN || undefined,
      tokenFile: env.VAULT_TOKEN_FILE || undefined,
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
    },
    logLevel: logLevel as Level,
  };
  if (!config.vault.token && !config.vault.tokenFile) {
    throw new ConfigError("no Vault token: set VAULT_TOKEN, or VAULT_TOKEN_FILE to a file holding one");
  }
  if ((config.vault.tls.clientCertFile === undefined) !== (config.vault.tls.clientKeyFile === undefined)) {
    throw new ConfigError("VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together; set both or neither");
  }
  return deepFreeze(config);
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
