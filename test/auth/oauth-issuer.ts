// A JWT issuer on loopback for the MCP_AUTH=oauth tests: keys made at run time, discovery and JWKS served as an identity
// provider or a Kubernetes API server serves them, and a signer for good and bad tokens.
import { readFileSync } from "node:fs";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from "jose";

type Alg = "RS256" | "ES256" | "EdDSA";

interface Key {
  kid: string;
  alg: Alg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export interface IssuerOptions {
  /** Where discovery lives below the origin ("" for the root; "/realms/x" as Keycloak does). */
  path?: string;
  /** Serve discovery at /.well-known/oauth-authorization-server only (RFC 8414), not OpenID's. */
  rfc8414Only?: boolean;
  /** Refuse discovery and JWKS without this bearer token, as a Kubernetes API server does by default. */
  requireToken?: string;
  /** Where the JWKS is (the API server's is /openid/v1/jwks). */
  jwksPath?: string;
  /** Serve HTTPS with this certificate. */
  tls?: { certFile: string; keyFile: string };
  /** Override the issuer the discovery document names (to test a mismatch). */
  claimedIssuer?: string;
}

export interface TestIssuer {
  /** The `iss` value, e.g. http://127.0.0.1:40123 (plus the path). */
  url: string;
  jwksUrl: string;
  /** The kid of the RS256 key it started with (kids are numbered across every issuer in the process). */
  firstKid: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  /** Authorization headers seen on discovery and JWKS requests. */
  authorizations(): (string | null)[];
  /** A signed token: defaults iss=this issuer, aud=vault-mcp-server, sub=agent, exp in 10 minutes. */
  sign(claims?: Record<string, unknown>, options?: { kid?: string; alg?: Alg; header?: Record<string, unknown> }): Promise<string>;
  /** An unsigned token (alg "none"). */
  unsigned(claims?: Record<string, unknown>): string;
  /** A token signed with HMAC-SHA256 using the current RSA key's public key (PEM) as the secret. */
  hmacWithPublicKey(claims?: Record<string, unknown>): Promise<string>;
  /** Adds a key (the new current one) and publishes it; `retire` drops the old ones from the JWKS. */
  rotate(options?: { alg?: Alg; retire?: boolean }): Promise<string>;
  /** A key made but not published (a token signed with it names an unknown kid) until publish() rotates it in. */
  unpublishedKey(): Promise<{ kid: string; sign(claims?: Record<string, unknown>, header?: { kid?: string }): Promise<string>; publish(options?: { retire?: boolean }): void }>;
  stop(): void;
}

let kids = 0;

async function makeKey(alg: Alg): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `k${++kids}-${alg.toLowerCase()}`;
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export async function startIssuer(options: IssuerOptions = {}): Promise<TestIssuer> {
  const path = options.path ?? "";
  const jwksPath = options.jwksPath ?? "/jwks";
  let keys: Key[] = [await makeKey("RS256")];
  const firstKid = keys[0]!.kid;
  let fetches = 0;
  const seen: (string | null)[] = [];
  let origin = "";
  const refused = (req: Request) => options.requireToken !== undefined && req.headers.get("authorization") !== `Bearer ${options.requireToken}`;

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(options.tls ? { tls: { cert: readFileSync(options.tls.certFile, "utf8"), key: readFileSync(options.tls.keyFile, "utf8") } } : {}),
    fetch(req) {
      const p = new URL(req.url).pathname;
      seen.push(req.headers.get("authorization"));
      const discovery = options.rfc8414Only ? `/.well-known/oauth-authorization-server${path}` : `${path}/.well-known/openid-configuration`;
      if (p === discovery) {
        if (refused(req)) return new Response("Unauthorized", { status: 401 });
        return Response.json({
          issuer: options.claimedIssuer ?? `${origin}${path}`,
          jwks_uri: `${origin}${jwksPath}`,
          response_types_supported: ["id_token"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (p === jwksPath) {
        if (refused(req)) return new Response("Unauthorized", { status: 401 });
        fetches++;
        return Response.json({ keys: keys.map((k) => k.jwk) });
      }
      return new Response("Not Found", { status: 404 });
    },
  });
  origin = `${options.tls ? "https" : "http"}://127.0.0.1:${server.port}`;
  const url = `${origin}${path}`;

  const defaults = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: url, aud: "vault-mcp-server", sub: "agent", iat: now, exp: now + 600, ...claims };
  };
  const signWith = (key: Key, claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(defaults(claims)).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);

  return {
    url,
    jwksUrl: `${origin}${jwksPath}`,
    firstKid,
    jwksFetches: () => fetches,
    authorizations: () => seen,
    async sign(claims = {}, opts = {}) {
      let key = opts.alg ? keys.find((k) => k.alg === opts.alg) : keys.at(-1);
      if (!key) {
        // A key of that algorithm is published alongside the others first.
        key = await makeKey(opts.alg as Alg);
        keys = [...keys, key];
      }
      return signWith(opts.kid ? { ...key, kid: opts.kid } : key, claims, opts.header);
    },
    unsigned: (claims = {}) => new UnsecuredJWT(defaults(claims)).encode(),
    async hmacWithPublicKey(claims = {}) {
      const rsa = keys.find((k) => k.alg === "RS256")!;
      const secret = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
      return new SignJWT(defaults(claims)).setProtectedHeader({ alg: "HS256", kid: rsa.kid }).sign(secret);
    },
    async rotate({ alg = "RS256", retire = false } = {}) {
      const key = await makeKey(alg);
      keys = retire ? [key] : [...keys, key];
      return key.kid;
    },
    async unpublishedKey() {
      const key = await makeKey("RS256");
      return {
        kid: key.kid,
        sign: (claims = {}, header = {}) => signWith(key, claims, header),
        publish: ({ retire = false } = {}) => {
          keys = retire ? [key] : [...keys, key];
        },
      };
    },
    stop: () => server.stop(true),
  };
}
