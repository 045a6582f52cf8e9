// Configuration of who calls and as which Vault identity: MCP_AUTH and its OAuth settings, MCP_VAULT_IDENTITY, VAULT_AUTH_METHOD.
import type { AuthSettings } from "./http/auth.ts";
import type { VaultAuth } from "./vault/auth.ts";
import type { IdentitySettings } from "./vault/identity.ts";
import { PathError, safePath } from "./vault/paths.ts";
import { ConfigError, list } from "./config-values.ts";
import { K8S_TOKEN_PATH } from "./flags.ts";

/** How callers of /mcp prove who they are (the HTTP layer's own settings type). Secrets are never here: only the files that hold them. */
export type McpAuth = AuthSettings;

export const IDENTITIES = ["server", "request", "jwt"];

export function vaultIdentity(env: Record<string, string | undefined>): IdentitySettings {
  const mode = (env.MCP_VAULT_IDENTITY || "server").trim().toLowerCase();
  if (!IDENTITIES.includes(mode)) throw new ConfigError(`MCP_VAULT_IDENTITY must be one of ${IDENTITIES.join(", ")}, got "${env.MCP_VAULT_IDENTITY}"`);
  if (mode === "server" || mode === "request") return { mode };
  const role = env.MCP_VAULT_JWT_ROLE || undefined;
  const roleClaim = env.MCP_VAULT_JWT_ROLE_CLAIM || undefined;
  if (role && roleClaim) throw new ConfigError("MCP_VAULT_JWT_ROLE and MCP_VAULT_JWT_ROLE_CLAIM are both set; set one (a fixed role, or the claim that names it)");
  return { mode: "jwt", mount: authMount("MCP_VAULT_JWT_MOUNT", env.MCP_VAULT_JWT_MOUNT || env.VAULT_JWT_MOUNT, "jwt"), role, roleClaim };
}

export const METHODS = ["token", "kubernetes", "jwt", "approle"];

export function vaultAuth(env: Record<string, string | undefined>): VaultAuth {
  const method = (env.VAULT_AUTH_METHOD || "token").toLowerCase();
  const token = env.VAULT_TOKEN || undefined;
  const tokenFile = env.VAULT_TOKEN_FILE || undefined;
  if (!METHODS.includes(method)) throw new ConfigError(`VAULT_AUTH_METHOD must be one of ${METHODS.join(", ")}, got "${env.VAULT_AUTH_METHOD}"`);
  if (method === "token") {
    if (!token && !tokenFile) {
      throw new ConfigError(
        "no Vault token: set VAULT_TOKEN, or VAULT_TOKEN_FILE to a file holding one, or VAULT_AUTH_METHOD to kubernetes, jwt or approle to log in",
      );
    }
    return { method, token, tokenFile };
  }
  // Two sources of a token would leave it unclear which one is used.
  if (token || tokenFile) {
    const which = token ? "VAULT_TOKEN" : "VAULT_TOKEN_FILE";
    throw new ConfigError(`${which} is set, but VAULT_AUTH_METHOD=${method} logs in to get its own token; unset ${which} or VAULT_AUTH_METHOD`);
  }
  if (method === "approle") {
    const roleId = env.VAULT_APPROLE_ROLE_ID || undefined;
    if (!roleId) throw new ConfigError("VAULT_APPROLE_ROLE_ID is required with VAULT_AUTH_METHOD=approle: the role_id of the AppRole to log in as");
    const secretId = env.VAULT_APPROLE_SECRET_ID || undefined;
    const secretIdFile = env.VAULT_APPROLE_SECRET_ID_FILE || undefined;
    if ((secretId === undefined) === (secretIdFile === undefined)) {
      throw new ConfigError("VAULT_AUTH_METHOD=approle needs exactly one of VAULT_APPROLE_SECRET_ID or VAULT_APPROLE_SECRET_ID_FILE (a file holding the secret_id)");
    }
    return { method, mount: authMount("VAULT_APPROLE_MOUNT", env.VAULT_APPROLE_MOUNT, "approle"), roleId, secretId, secretIdFile };
  }
  const prefix = method === "kubernetes" ? "VAULT_K8S" : "VAULT_JWT";
  const role = env[`${prefix}_ROLE`] || undefined;
  if (!role) throw new ConfigError(`${prefix}_ROLE is required with VAULT_AUTH_METHOD=${method}: the name of the Vault role to log in as`);
  return {
    method: method as "kubernetes" | "jwt",
    mount: authMount(`${prefix}_MOUNT`, env[`${prefix}_MOUNT`], method),
    role,
    jwtFile: env[`${prefix}_TOKEN_PATH`] || K8S_TOKEN_PATH,
  };
}

/** An auth mount path below auth/, such as "kubernetes" or "k8s/prod-cluster". */
export function authMount(name: string, value: string | undefined, fallback: string): string {
  try {
    return safePath(value || fallback, name).display;
  } catch (err) {
    if (err instanceof PathError) throw new ConfigError(`${name} must be an auth mount path such as "${fallback}": ${err.reason}`);
    throw err;
  }
}

/** An issuer or key URL: https, or http only to this host (a test's or a sidecar's issuer). */
export function authUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be a URL such as https://issuer.example.com, got "${value}"`);
  }
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) throw new ConfigError(`${name} must use https (http only to loopback), got "${value}"`);
  return value;
}

/** MCP_OAUTH_*_SCOPE: a scope name, "none" (no scope needed), or the default. */
export function scopeSetting(name: string, value: string | undefined, fallback: string): string | undefined {
  const v = (value ?? "").trim();
  if (v === "") return fallback;
  if (v.toLowerCase() === "none") return undefined;
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v)) throw new ConfigError(`${name} must be one scope name (no spaces or quotes) or "none", got "${value}"`);
  return v;
}

export const AUTH_MODES = ["none", "bearer", "oauth"];

export function mcpAuth(env: Record<string, string | undefined>): McpAuth {
  const mode = (env.MCP_AUTH || "none").trim().toLowerCase();
  if (!AUTH_MODES.includes(mode)) throw new ConfigError(`MCP_AUTH must be one of ${AUTH_MODES.join(", ")}, got "${env.MCP_AUTH}"`);
  if (mode === "none") return { mode: "none" };
  if (mode === "bearer") {
    const tokensFile = env.MCP_AUTH_TOKENS_FILE || undefined;
    if (!tokensFile) throw new ConfigError('MCP_AUTH=bearer needs MCP_AUTH_TOKENS_FILE: a file of "name:token" lines, one per caller');
    return { mode: "bearer", tokensFile };
  }
  const issuer = env.MCP_OAUTH_ISSUER || undefined;
  if (!issuer) throw new ConfigError("MCP_AUTH=oauth needs MCP_OAUTH_ISSUER: the exact iss of the tokens to accept (a Kubernetes cluster's is in its /.well-known/openid-configuration)");
  const audience = list(env.MCP_OAUTH_AUDIENCE);
  if (audience.length === 0) throw new ConfigError("MCP_AUTH=oauth needs MCP_OAUTH_AUDIENCE: the aud the tokens must be minted for (RFC 8707), e.g. this server's URL or \"vault-mcp-server\"");
  return {
    mode: "oauth",
    issuer: authUrl("MCP_OAUTH_ISSUER", issuer),
    audience,
    jwksUrl: env.MCP_OAUTH_JWKS_URL ? authUrl("MCP_OAUTH_JWKS_URL", env.MCP_OAUTH_JWKS_URL) : undefined,
    resource: env.MCP_OAUTH_RESOURCE ? authUrl("MCP_OAUTH_RESOURCE", env.MCP_OAUTH_RESOURCE) : undefined,
    readScope: scopeSetting("MCP_OAUTH_READ_SCOPE", env.MCP_OAUTH_READ_SCOPE, "vault:read"),
    writeScope: scopeSetting("MCP_OAUTH_WRITE_SCOPE", env.MCP_OAUTH_WRITE_SCOPE, "vault:write"),
    subjects: list(env.MCP_OAUTH_SUBJECTS),
    caFile: env.MCP_OAUTH_CA_FILE || undefined,
    jwksTokenFile: env.MCP_OAUTH_JWKS_TOKEN_FILE || undefined,
  };
}
