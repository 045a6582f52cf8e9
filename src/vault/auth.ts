// Picks the token source for the configured auth method; every one is a TokenKeeper, which renews and recovers.
import type { Logger } from "../log.ts";
import { appRoleLogin, fileToken, fixedToken, jwtLogin, vaultTokenApi } from "./auth-login.ts";
import { StaticToken, type TokenSource, type VaultClient } from "./client.ts";
import { SecretFile } from "./token-file.ts";
import { type Clock, type Credential, systemClock, TokenKeeper } from "./token-keeper.ts";
import type { LeaseTiming } from "./token-lease.ts";

/** How the server gets its Vault token (read into Config by config.ts). Secrets (tokens, secret_ids) are held here only when given inline. */
export type VaultAuth =
  | { readonly method: "token"; readonly token?: string; readonly tokenFile?: string }
  /** Kubernetes and JWT auth log in the same way: POST auth/<mount>/login {role, jwt}, the JWT read from a file. */
  | { readonly method: "kubernetes" | "jwt"; readonly mount: string; readonly role: string; readonly jwtFile: string }
  | { readonly method: "approle"; readonly mount: string; readonly roleId: string; readonly secretId?: string; readonly secretIdFile?: string };

export interface AuthDeps {
  /** A Vault client with the server's address, namespace and TLS that sends `tokens`' token. */
  client(tokens: TokenSource): VaultClient;
  log: Logger;
  /** For tests: shorter intervals, a fake clock. */
  timing?: Partial<LeaseTiming>;
  clock?: Clock;
}

/** The token source for `auth`. Files it names are read once now, so a missing one fails at start-up. */
export function tokenSourceFor(auth: VaultAuth, deps: AuthDeps): TokenKeeper {
  const clock = deps.clock ?? systemClock;
  const api = vaultTokenApi((token) => deps.client(new StaticToken(token)));
  const keep = (credential: Credential) => new TokenKeeper(credential, api, deps.log, deps.timing, clock);
  switch (auth.method) {
    case "token":
      // The file wins over VAULT_TOKEN, as it is the one an orchestrator keeps up to date.
      if (auth.tokenFile) return keep(fileToken(new SecretFile("VAULT_TOKEN_FILE", auth.tokenFile), clock));
      if (auth.token) return keep(fixedToken(auth.token, clock));
      throw new Error("no Vault token configured");
    case "kubernetes":
    case "jwt": {
      const setting = auth.method === "kubernetes" ? "VAULT_K8S_TOKEN_PATH" : "VAULT_JWT_TOKEN_PATH";
      const jwt = new SecretFile(setting, auth.jwtFile);
      return keep(jwtLogin({ method: auth.method, mount: auth.mount, role: auth.role, jwt }, api.login, clock));
    }
    case "approle": {
      const secretId = auth.secretIdFile ? new SecretFile("VAULT_APPROLE_SECRET_ID_FILE", auth.secretIdFile) : (auth.secretId ?? "");
      return keep(appRoleLogin({ mount: auth.mount, roleId: auth.roleId, secretId }, api.login, clock));
    }
  }
}
