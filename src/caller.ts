// Who is calling: what the HTTP layer established about a request, carried to the MCP handler (and, later, the tools).

/** How the caller was established: MCP_AUTH's modes. */
export type AuthMethod = "none" | "bearer" | "oauth";

/**
 * The caller of one HTTP request, made by the HTTP layer (src/http/auth.ts) and handed to callTool (src/mcp/server.ts)
 * on every path (fast path, SDK per request, sessions). Plain data, frozen, safe to log: it never holds a secret as a
 * property (the JWT is behind `credential()`, which JSON.stringify and loggers skip).
 */
export interface Caller {
  /** The identity the audit log names: a bearer token's name from MCP_AUTH_TOKENS_FILE, a JWT's `sub`; "anonymous" with MCP_AUTH=none. */
  readonly name: string;
  readonly auth: AuthMethod;
  /** The peer's address as the listener saw it (no forwarding header is trusted); undefined for an in-process request. */
  readonly address?: string;
  /** oauth: the token's scopes (its `scope` string, or a `scp` array). */
  readonly scopes?: readonly string[];
  /** oauth: the verified claims (iss, sub, aud, exp, client_id, groups, kubernetes.io, ...), for per-caller policy. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** oauth: seconds since the epoch when the token, and so this standing, ends. */
  readonly expiresAt?: number;
  /** oauth: the verified JWT itself, e.g. to exchange at Vault's jwt auth. A function so that no log line or JSON can carry it. */
  readonly credential?: () => string;
  /**
   * MCP_VAULT_IDENTITY=request: the request's X-Vault-Token header, the Vault token this caller's tool calls use. A
   * function for the same reason as `credential`; captured by the HTTP layer (src/mcp/http.ts) only in that mode.
   */
  readonly vaultToken?: () => string;
}

/** `caller` with the Vault token its request carried (frozen, like every Caller). */
export function withVaultToken(caller: Caller, token: string): Caller {
  return Object.freeze({ ...caller, vaultToken: () => token });
}

/** A caller with no credentials: MCP_AUTH=none. */
export function anonymousCaller(address: string | undefined): Caller {
  return { name: "anonymous", auth: "none", address };
}
