// Which Vault identity a tool call uses (MCP_VAULT_IDENTITY): the server's own token, the caller's X-Vault-Token, or a
// Vault token the caller's JWT was exchanged for; each identity gets its own client view and its own mount cache.
import { createHash } from "node:crypto";
import type { Caller } from "../caller.ts";
import type { Logger } from "../log.ts";
import { vaultTokenApi } from "./auth-login.ts";
import { StaticToken, type TokenSource, type VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";
import { MountInfoCache } from "./mount-info.ts";
import { apiPath, safePath } from "./paths.ts";
import { type Clock, type Credential, systemClock, TokenKeeper } from "./token-keeper.ts";
import { leaseFromAuth, type LeaseTiming } from "./token-lease.ts";

export type IdentityMode = "server" | "request" | "jwt";

/** MCP_VAULT_IDENTITY and, for jwt, where and as which role the caller's JWT is exchanged. Never from a request. */
export type IdentitySettings =
  | { readonly mode: "server" }
  | { readonly mode: "request" }
  | {
      readonly mode: "jwt";
      /** The jwt auth mount, below auth/ (MCP_VAULT_JWT_MOUNT). */
      readonly mount: string;
      /** MCP_VAULT_JWT_ROLE: the role to log in as; else the claim MCP_VAULT_JWT_ROLE_CLAIM names; else Vault's default_role. */
      readonly role?: string;
      readonly roleClaim?: string;
    };

/** A call that cannot be given a Vault identity: nothing was sent to Vault on its behalf. */
export class IdentityRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityRefused";
  }
}

/** The Vault side of one identity: a client that sends its token, and the mount answers that token was given. */
export interface VaultIdentity {
  readonly vault: VaultClient;
  readonly mounts: MountInfoCache;
}

export interface IdentityDeps {
  /** The server's client: its address, namespace, TLS and connections are every identity's; its token is not. */
  vault: VaultClient;
  log: Logger;
  /** Most identities held at once (least recently used dropped first). */
  maxEntries?: number;
  timing?: Partial<LeaseTiming>;
  clock?: Clock;
}

/** Per-caller identities for request and jwt modes; server mode needs none (the context's own client is used). */
export interface VaultIdentities {
  readonly mode: "request" | "jwt";
  /** The identity `caller`'s calls use; throws IdentityRefused when it has none. jwt: logs in on first use (cached). */
  resolve(caller: Caller | undefined): Promise<VaultIdentity>;
  /** How many identities are cached (tests, metrics). */
  size(): number;
  /** Stops every identity's renewals. */
  close(): void;
}

const MAX_ENTRIES = 4096;

/** SHA-256 of a secret, as a cache key: the secret itself is never kept as a key. */
function keyOf(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

interface Entry extends VaultIdentity {
  keeper?: TokenKeeper;
  timer?: ReturnType<typeof setTimeout>;
}

/** A bounded map, least recently used first; every mount cache in it forgets a mount that any of them forgets. */
class IdentityCache {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly max: number) {}

  get(key: string): Entry | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.drop(oldest);
    }
  }

  drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.keeper?.close();
    if (entry.timer) clearTimeout(entry.timer);
  }

  /** A mount created, removed or retuned by one identity is asked again by all. */
  forgetEverywhere = (mount: string): void => {
    for (const e of this.entries.values()) e.mounts.forgetHere(mount);
  };

  size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.drop(key);
  }
}

export function createIdentities(settings: IdentitySettings, deps: IdentityDeps): VaultIdentities | undefined {
  if (settings.mode === "server") return undefined;
  const cache = new IdentityCache(deps.maxEntries ?? MAX_ENTRIES);
  const identity = (tokens: TokenSource): Entry => {
    const vault = deps.vault.withTokens(tokens);
    return { vault, mounts: new MountInfoCache(vault, undefined, cache.forgetEverywhere) };
  };
  const common = { size: () => cache.size(), close: () => cache.clear() };

  if (settings.mode === "request") {
    return {
      mode: "request",
      ...common,
      async resolve(caller) {
        const token = caller?.vaultToken?.();
        if (!token) {
          throw new IdentityRefused(
            "Unauthorized: this server runs with MCP_VAULT_IDENTITY=request, so every tool call uses the caller's own Vault token and this request sent none. " +
              "Send the header X-Vault-Token: <your Vault token> with each request (never in the URL); the server's own token is not used in its place.",
          );
        }
        const key = keyOf(token);
        let entry = cache.get(key);
        if (!entry) {
          entry = identity(new StaticToken(token));
          cache.set(key, entry);
        }
        return entry;
      },
    };
  }

  const clock = deps.clock ?? systemClock;
  const api = vaultTokenApi((token) => deps.vault.withTokens(new StaticToken(token)));
  const loginPath = apiPath("auth", safePath(settings.mount, "MCP_VAULT_JWT_MOUNT"), "login");
  return {
    mode: "jwt",
    ...common,
    async resolve(caller) {
      const jwt = caller?.auth === "oauth" ? caller.credential?.() : undefined;
      if (!caller || !jwt) {
        throw new IdentityRefused(
          "Unauthorized: this server runs with MCP_VAULT_IDENTITY=jwt, so every tool call uses a Vault token exchanged for the caller's own JWT, and this request carried none. " +
            "Send Authorization: Bearer <access token>.",
        );
      }
      const role = settings.role ?? roleFromClaim(caller, settings.roleClaim);
      const key = keyOf(jwt);
      let entry = cache.get(key);
      if (!entry) {
        const body: Record<string, string> = { jwt, ...(role ? { role } : {}) };
        const credential: Credential = {
          label: `jwt login at auth/${settings.mount} for caller ${caller.name}${role ? ` as role ${role}` : ""}`,
          canLogin: true,
          obtain: async () => leaseFromAuth(await api.login(loginPath, body), clock.now()),
        };
        const keeper = new TokenKeeper(credential, api, deps.log, deps.timing, clock);
        entry = { ...identity(keeper), keeper };
        // Cached until the JWT expires (or the lease, which the keeper renews or replaces by logging in again with it).
        if (caller.expiresAt !== undefined) {
          const ms = caller.expiresAt * 1000 - Date.now();
          const timer = setTimeout(() => cache.drop(key), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
          timer.unref?.();
          entry.timer = timer;
        }
        cache.set(key, entry);
      }
      try {
        // Logs in on first use (concurrent first calls share one login); a refusal is the caller's to hear, in words.
        await entry.keeper!.token();
      } catch (err) {
        cache.drop(key);
        const why = err instanceof VaultError ? (err.errors.join("; ") || `status ${err.status}`) : err instanceof Error ? err.message : String(err);
        throw new IdentityRefused(
          `Unauthorized: Vault refused to exchange this caller's JWT for a Vault token at POST ${loginPath}${role ? ` (role "${role}")` : ""}: ${why}. ` +
            "Nothing else was sent to Vault. A Vault administrator must let this token's issuer, audience and claims log in to that role.",
        );
      }
      return entry;
    },
  };
}

function roleFromClaim(caller: Caller, claim: string | undefined): string | undefined {
  if (!claim) return undefined;
  const value = caller.claims?.[claim];
  if (typeof value === "string" && value !== "") return value;
  throw new IdentityRefused(
    `Unauthorized: MCP_VAULT_JWT_ROLE_CLAIM names the claim "${claim}" as the Vault role to log in as, and this caller's JWT has no such string claim.`,
  );
}
