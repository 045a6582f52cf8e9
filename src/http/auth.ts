// Who may call /mcp (MCP_AUTH): none, bearer (static named tokens) or oauth (JWT access tokens); the 401/403 answers and their challenges.
import { anonymousCaller, type AuthMethod, type Caller } from "../caller.ts";
import type { Logger } from "../log.ts";
import { jsonRpcError } from "../mcp/http.ts";
import { BearerTokens } from "./bearer.ts";
import { OAuthVerifier, type OAuthSettings } from "./oauth.ts";

export type AuthSettings = { readonly mode: "none" } | { readonly mode: "bearer"; readonly tokensFile: string } | ({ readonly mode: "oauth" } & OAuthSettings);

export const REALM = "vault-mcp-server";

export interface Authenticator {
  readonly mode: AuthMethod;
  /** The caller of a request, or the answer that refuses it (401, 403, 503). Synchronous unless a JWT must be verified. */
  authenticate(req: Request, address: string | undefined): Caller | Response | Promise<Caller | Response>;
  /** oauth: GET /.well-known/oauth-protected-resource (RFC 9728). */
  protectedResource?(req: Request): Response;
  /** oauth: the WWW-Authenticate value of a 403 for a tool whose scope the token lacks. */
  scopeChallenge?(req: Request, scope: string): string;
}

/** The bearer token of an Authorization header ("Bearer <token>", any case of the scheme), or undefined. */
export function bearerToken(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /^bearer +([\x21-\x7e]+) *$/i.exec(header);
  return m ? m[1] : undefined;
}

const quoted = (s: string) => `"${s.replace(/["\\]/g, "")}"`;

function refuse(status: number, message: string, challenge?: string, extra: Record<string, string> = {}): Response {
  return jsonRpcError(status, -32000, message, { ...(challenge ? { "www-authenticate": challenge } : {}), ...extra });
}

/** MCP_AUTH=none: everyone is the anonymous caller; no header is read. */
export const NO_AUTH: Authenticator = { mode: "none", authenticate: (_req, address) => anonymousCaller(address) };

export function createAuthenticator(settings: AuthSettings, options: { log: Logger; fetch?: typeof fetch; jwksCooldownMs?: number }): Authenticator {
  if (settings.mode === "none") return NO_AUTH;
  if (settings.mode === "bearer") return bearerAuthenticator(new BearerTokens(settings.tokensFile, { log: options.log }));
  return oauthAuthenticator(new OAuthVerifier(settings, { log: options.log, fetch: options.fetch, cooldownMs: options.jwksCooldownMs }));
}

export function bearerAuthenticator(tokens: BearerTokens): Authenticator {
  const challenge = `Bearer realm=${quoted(REALM)}`;
  return {
    mode: "bearer",
    authenticate(req, address) {
      const token = bearerToken(req.headers.get("authorization"));
      if (token === undefined) return refuse(401, "Unauthorized: send Authorization: Bearer <token> with a token from MCP_AUTH_TOKENS_FILE", challenge);
      const name = tokens.match(token);
      if (name === undefined) return refuse(401, "Unauthorized: the bearer token is not one this server knows", `${challenge}, error="invalid_token"`);
      return Object.freeze({ name, auth: "bearer" as const, address });
    },
  };
}

export function oauthAuthenticator(verifier: OAuthVerifier): Authenticator {
  const { readScope, writeScope } = verifier.settings;
  const scopes = [readScope, writeScope].filter((s): s is string => !!s).join(" ");
  const origin = (req: Request) => new URL(req.url).origin;
  const challenge = (req: Request, params: string) => `Bearer ${params}${params ? ", " : ""}resource_metadata=${quoted(verifier.metadataUrl(origin(req)))}`;
  return {
    mode: "oauth",
    async authenticate(req, address) {
      const token = bearerToken(req.headers.get("authorization"));
      if (token === undefined) {
        const wanted = scopes ? `scope=${quoted(scopes)}` : "";
        return refuse(401, "Unauthorized: send Authorization: Bearer <access token> from the authorization server this server's metadata names", challenge(req, wanted));
      }
      const verdict = await verifier.verify(token, address);
      if (verdict.ok) return verdict.caller;
      if (verdict.status === 401) {
        return refuse(401, `Unauthorized: ${verdict.description}`, challenge(req, `error="invalid_token", error_description=${quoted(verdict.description)}`));
      }
      if (verdict.status === 503) return refuse(503, `Service Unavailable: ${verdict.description}`, undefined, { "retry-after": "5" });
      return refuse(403, `Forbidden: ${verdict.description}`);
    },
    protectedResource: (req) => Response.json(verifier.metadata(origin(req)), { headers: { "cache-control": "max-age=300" } }),
    scopeChallenge: (req, scope) => challenge(req, `error="insufficient_scope", scope=${quoted(scope)}`),
  };
}
