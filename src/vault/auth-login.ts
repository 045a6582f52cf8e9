// Credentials the token keeper draws on: a handed-in token (fixed or from a file) or a login (Kubernetes, JWT, AppRole).
import type { VaultClient } from "./client.ts";
import { apiPath, safePath } from "./paths.ts";
import type { SecretFile } from "./token-file.ts";
import type { Clock, Credential, TokenApi } from "./token-keeper.ts";
import { leaseFromAuth, unknownLease } from "./token-lease.ts";

/** POST auth/<mount>/login, sent without a token; answers Vault's `auth` block. */
export type Login = (path: string, body: Record<string, string>) => Promise<{ client_token?: string; lease_duration?: number; renewable?: boolean }>;

/** Vault calls for the keeper and the logins; `clientWith(token)` is a client that sends exactly that token. */
export function vaultTokenApi(clientWith: (token: string) => VaultClient): TokenApi & { login: Login } {
  return {
    async login(path, body) {
      const res = await clientWith("").request("POST", path, { body, anonymous: true });
      if (!res?.auth?.client_token) throw new Error(`Vault answered POST ${path} without a client token`);
      return res.auth;
    },
    async renewSelf(token) {
      const res = await clientWith(token).write("auth/token/renew-self", {});
      if (!res.auth) throw new Error("Vault answered POST auth/token/renew-self without an auth block");
      return res.auth;
    },
    async lookupSelf(token) {
      const res = await clientWith(token).read<{ ttl?: number; renewable?: boolean }>("auth/token/lookup-self");
      return res?.data ?? {};
    },
  };
}

/** VAULT_TOKEN: always the same token; the keeper looks up its TTL and renews it if it can. */
export function fixedToken(token: string, clock: Clock): Credential {
  return { label: "VAULT_TOKEN", canLogin: false, obtain: async () => unknownLease(token, clock.now()) };
}

/** VAULT_TOKEN_FILE: whatever the file holds now; a changed file means a new token on the next request. */
export function fileToken(file: SecretFile, clock: Clock): Credential {
  return {
    label: file.setting,
    canLogin: false,
    changed: () => file.changed(),
    obtain: async () => unknownLease(file.read(), clock.now()),
  };
}

function loginPath(mount: string): string {
  return apiPath("auth", safePath(mount, "auth mount"), "login");
}

/**
 * Kubernetes or JWT auth: POST auth/<mount>/login {role, jwt}. The JWT file is read at every login, because a
 * projected service account token is rotated by the kubelet.
 */
export function jwtLogin(options: { method: string; mount: string; role: string; jwt: SecretFile }, login: Login, clock: Clock): Credential {
  const path = loginPath(options.mount);
  return {
    label: `${options.method} login at auth/${options.mount} as role ${options.role}`,
    canLogin: true,
    obtain: async () => leaseFromAuth(await login(path, { role: options.role, jwt: options.jwt.read() }), clock.now()),
  };
}

/** AppRole: POST auth/<mount>/login {role_id, secret_id}; a secret_id file is read at every login, so it may be rotated. */
export function appRoleLogin(
  options: { mount: string; roleId: string; secretId: string | SecretFile },
  login: Login,
  clock: Clock,
): Credential {
  const path = loginPath(options.mount);
  const secretId = options.secretId;
  return {
    label: `approle login at auth/${options.mount}`,
    canLogin: true,
    obtain: async () => {
      const secret_id = typeof secretId === "string" ? secretId : secretId.read();
      return leaseFromAuth(await login(path, { role_id: options.roleId, secret_id }), clock.now());
    },
  };
}
