// MCP_AUTH=oauth: the MCP authorization spec's resource server. JWT access tokens verified with jose (no hand-written JOSE).
import { readFileSync } from "node:fs";
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify, type RemoteJWKSet } from "jose";
import type { Caller } from "../caller.ts";
import type { Logger } from "../log.ts";
import { SecretFile } from "../vault/token-file.ts";

/** The only signature algorithms accepted: no "none", no HMAC (whose key would be the public key), no RSA-PSS zoo. */
export const ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** Clock skew allowed on exp and nbf, in seconds. */
export const CLOCK_SKEW_SECONDS = 30;

export interface OAuthSettings {
  /** The `iss` every token must carry, exactly; also where the discovery document is looked up. */
  readonly issuer: string;
  /** The `aud` a token must name, at least one of (RFC 8707: the token was minted for this server). */
  readonly audience: readonly string[];
  /** Where the keys are; when absent, the issuer's discovery document says (jwks_uri). */
  readonly jwksUrl?: string;
  /** This server's resource identifier in its RFC 9728 metadata; by default the URL the request came to, at /mcp. */
  readonly resource?: string;
  /** Scope needed by read-only tools (a write scope also does); undefined: none needed. */
  readonly readScope?: string;
  /** Scope needed by every other tool; undefined: none needed. */
  readonly writeScope?: string;
  /** `sub` values let in ("system:serviceaccount:kagent:*": a trailing * matches any rest); empty: any subject. */
  readonly subjects: readonly string[];
  /** PEM CA bundle for the issuer's and JWKS's HTTPS (a cluster's API server CA). */
  readonly caFile?: string;
  /** A token sent to the discovery and JWKS endpoints (a pod's own service-account token: the API server asks for one). */
  readonly jwksTokenFile?: string;
}

export type Verdict =
  | { ok: true; caller: Caller }
  /** 401: no usable token. 403: a valid token whose subject is not let in. 503: the issuer's keys could not be had. */
  | { ok: false; status: 401 | 403 | 503; error?: "invalid_token"; description: string };

export interface OAuthOptions {
  log: Logger;
  fetch?: typeof fetch;
  /** How soon after a key fetch an unknown `kid` may cause another (jose's default is 30 s). */
  cooldownMs?: number;
}

const WELL_KNOWN_OIDC = "/.well-known/openid-configuration";
const WELL_KNOWN_OAUTH = "/.well-known/oauth-authorization-server";
const FETCH_TIMEOUT_MS = 5000;

/** Whether `sub` is one the settings let in. */
export function subjectAllowed(patterns: readonly string[], sub: string): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith("*") ? sub.startsWith(p.slice(0, -1)) : p === sub));
}

/** A token's scopes: the space-separated `scope` claim (RFC 9068), or `scp` as some issuers write it. */
export function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === "string");
  return [];
}

/** Where RFC 9728 puts the metadata of `resource`: the well-known prefix inserted before its path. */
export function metadataUrlFor(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

export class OAuthVerifier {
  private jwks: RemoteJWKSet | undefined;
  private discovering: Promise<RemoteJWKSet> | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly ca: string | undefined;
  private readonly bearer: SecretFile | undefined;

  constructor(
    readonly settings: OAuthSettings,
    private readonly options: OAuthOptions,
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.ca = settings.caFile ? readText(settings.caFile, "MCP_OAUTH_CA_FILE") : undefined;
    this.bearer = settings.jwksTokenFile ? new SecretFile("MCP_OAUTH_JWKS_TOKEN_FILE", settings.jwksTokenFile) : undefined;
    if (settings.jwksUrl) this.jwks = this.remoteSet(settings.jwksUrl);
  }

  /** This resource's RFC 9728 metadata, for a request that came to `origin` (scheme://host[:port]). */
  metadata(origin: string): Record<string, unknown> {
    const scopes = [this.settings.readScope, this.settings.writeScope].filter((s): s is string => !!s);
    return {
      resource: this.resourceFor(origin),
      authorization_servers: [this.settings.issuer],
      ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
      bearer_methods_supported: ["header"],
      resource_name: "vault-mcp-server",
    };
  }

  resourceFor(origin: string): string {
    return this.settings.resource ?? `${origin}/mcp`;
  }

  metadataUrl(origin: string): string {
    return metadataUrlFor(this.resourceFor(origin));
  }

  async verify(token: string, address: string | undefined): Promise<Verdict> {
    let jwks: RemoteJWKSet;
    try {
      jwks = this.jwks ?? (await this.discover());
    } catch (err) {
      return this.unavailable(err);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.settings.issuer,
        audience: [...this.settings.audience],
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp", "sub"],
      }));
    } catch (err) {
      const description = refusalOf(err);
      if (description === undefined) return this.unavailable(err);
      return { ok: false, status: 401, error: "invalid_token", description };
    }
    const sub = payload.sub as string;
    if (!subjectAllowed(this.settings.subjects, sub)) {
      return { ok: false, status: 403, description: `subject "${sub}" is not one MCP_OAUTH_SUBJECTS lets in` };
    }
    const caller: Caller = Object.freeze({
      name: sub,
      auth: "oauth" as const,
      address,
      scopes: Object.freeze(scopesOf(payload)),
      claims: Object.freeze({ ...payload }),
      expiresAt: payload.exp,
      credential: () => token,
    });
    return { ok: true, caller };
  }

  private unavailable(err: unknown): Verdict {
    this.options.log.warn("cannot get the OAuth issuer's signing keys", { issuer: this.settings.issuer, reason: err instanceof Error ? err.message : String(err) });
    return { ok: false, status: 503, description: "the authorization server's signing keys cannot be fetched right now; try again shortly" };
  }

  private remoteSet(url: string): RemoteJWKSet {
    return createRemoteJWKSet(new URL(url), {
      timeoutDuration: FETCH_TIMEOUT_MS,
      ...(this.options.cooldownMs !== undefined ? { cooldownDuration: this.options.cooldownMs } : {}),
      [customFetch]: (u, init) => this.get(u, init),
    });
  }

  /** GET with the configured CA and, when set, the pod's own token (read fresh: the kubelet rotates it). */
  private get(url: string, init: { headers?: Headers; signal?: AbortSignal; redirect?: "manual" | "follow" | "error" } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.bearer) headers.set("authorization", `Bearer ${this.bearer.read()}`);
    return this.fetchImpl(url, {
      method: "GET",
      headers,
      redirect: init.redirect ?? "manual",
      signal: init.signal ?? AbortSignal.timeout(FETCH_TIMEOUT_MS),
      ...(this.ca ? { tls: { ca: this.ca } } : {}),
    } as RequestInit);
  }

  /** Finds jwks_uri in the issuer's OpenID or RFC 8414 metadata, once; a failure is retried by the next request. */
  private discover(): Promise<RemoteJWKSet> {
    this.discovering ??= (async () => {
      const issuer = this.settings.issuer.replace(/\/$/, "");
      const url = new URL(issuer);
      const path = url.pathname === "/" ? "" : url.pathname;
      const candidates = [`${issuer}${WELL_KNOWN_OIDC}`, `${url.origin}${WELL_KNOWN_OAUTH}${path}`];
      const reasons: string[] = [];
      for (const candidate of candidates) {
        try {
          const res = await this.get(candidate);
          if (!res.ok) {
            reasons.push(`${candidate}: HTTP ${res.status}`);
            continue;
          }
          const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
          // OpenID Discovery and RFC 8414 both require the document to name the issuer it was fetched for.
          if (doc.issuer !== this.settings.issuer) {
            reasons.push(`${candidate}: names issuer ${JSON.stringify(doc.issuer)}`);
            continue;
          }
          if (typeof doc.jwks_uri !== "string") {
            reasons.push(`${candidate}: no jwks_uri`);
            continue;
          }
          this.jwks = this.remoteSet(doc.jwks_uri);
          return this.jwks;
        } catch (err) {
          reasons.push(`${candidate}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      throw new Error(`no usable discovery document (${reasons.join("; ")}); set MCP_OAUTH_JWKS_URL`);
    })().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }
}

function readText(file: string, setting: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Why a token is refused, in words for error_description; undefined when the failure is ours or the issuer's (not the token's). */
function refusalOf(err: unknown): string | undefined {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return "the token was issued by another issuer";
    if (err.claim === "aud") return "the token is not meant for this server (audience)";
    if (err.claim === "nbf") return "the token is not valid yet";
    return `the token's ${err.claim} claim is missing or invalid`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return `the token's algorithm is not accepted (only ${ALGORITHMS.join(", ")})`;
  if (err instanceof errors.JWKSNoMatchingKey) return "the token is signed with a key the issuer does not publish";
  if (err instanceof errors.JWKSMultipleMatchingKeys) return "the token names no single key of the issuer";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return "the token is not a valid signed JWT";
  return undefined;
}
