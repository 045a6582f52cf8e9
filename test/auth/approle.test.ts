// AppRole against the real dev Vault: secret_id inline or from a file, renewal up to the max TTL, then a new login.
import { beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { call, connectClient, ok, text, unique, vaultApi } from "../support/mcp.ts";
import { authServer, count, LIST_MOUNTS_POLICY, tempDir } from "./support.ts";

const mount = unique("approle");
const dir = tempDir();
let roleId: string;

async function newSecretId(role = "mcp"): Promise<string> {
  return (await vaultApi("POST", `auth/${mount}/role/${role}/secret-id`, {})).json.data.secret_id;
}

beforeAll(async () => {
  await vaultApi("PUT", "sys/policies/acl/auth-test-list-mounts", { policy: LIST_MOUNTS_POLICY });
  expect((await vaultApi("POST", `sys/auth/${mount}`, { type: "approle" })).status).toBe(204);
  await vaultApi("POST", `auth/${mount}/role/mcp`, { token_policies: ["auth-test-list-mounts"], token_ttl: "1h" });
  roleId = (await vaultApi("GET", `auth/${mount}/role/mcp/role-id`)).json.data.role_id;
  // Tokens that live 3s and can be renewed for at most 5s: renewal, then a new login, within seconds.
  await vaultApi("POST", `auth/${mount}/role/short`, { token_policies: ["auth-test-list-mounts"], token_ttl: "3s", token_max_ttl: "5s" });
});

const env = (extra: Record<string, string>) => ({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_MOUNT: mount, VAULT_APPROLE_ROLE_ID: roleId, ...extra });

describe("VAULT_AUTH_METHOD=approle", () => {
  it("logs in with role_id and secret_id", async () => {
    const server = authServer(env({ VAULT_APPROLE_SECRET_ID: await newSecretId() }));
    const client = await connectClient(server);
    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
    expect(server.requests[0]).toBe(`POST auth/${mount}/login`);
    const self = await vaultApi("GET", "auth/token/lookup-self", undefined, server.lastToken());
    expect(self.json.data.path).toBe(`auth/${mount}/login`);
  });

  it("reads the secret_id from a file, again at every login", async () => {
    const file = join(dir, "secret-id");
    writeFileSync(file, `${await newSecretId()}\n`);
    const server = authServer(env({ VAULT_APPROLE_SECRET_ID_FILE: file }));
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    const first = server.lastToken() as string;

    // An operator rotates the secret_id: the old one is destroyed, the new one written to the file.
    const accessor = (await vaultApi("LIST", `auth/${mount}/role/mcp/secret-id`)).json.data.keys;
    for (const secret_id_accessor of accessor) await vaultApi("POST", `auth/${mount}/role/mcp/secret-id-accessor/destroy`, { secret_id_accessor });
    writeFileSync(file, await newSecretId());
    await vaultApi("POST", "auth/token/revoke", { token: first });

    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
    expect(server.lastToken()).not.toBe(first);
  });

  it("logs in again after its token is revoked, without failing the call that found out", async () => {
    const server = authServer(env({ VAULT_APPROLE_SECRET_ID: await newSecretId() }));
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    const first = server.lastToken() as string;
    await vaultApi("POST", "auth/token/revoke", { token: first });
    await ok(client, "list_mounts");
    expect(server.lastToken()).not.toBe(first);
  });

  it("renews its token before it expires, and logs in again when the max TTL is near", async () => {
    const roleIdShort = (await vaultApi("GET", `auth/${mount}/role/short/role-id`)).json.data.role_id;
    const server = authServer(env({ VAULT_APPROLE_ROLE_ID: roleIdShort, VAULT_APPROLE_SECRET_ID: await newSecretId("short") }));
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    const first = server.lastToken() as string;

    // Login at 0s (3s TTL); renew at 2s (3s more) and 4s (1s more: capped by the 5s max TTL); log in again at about 4.7s.
    await Bun.sleep(6000);
    expect(count(server.requests, /renew-self/)).toBeGreaterThanOrEqual(1);
    expect(count(server.requests, /\/login$/)).toBeGreaterThanOrEqual(2);
    await ok(client, "list_mounts");
    expect(server.lastToken()).not.toBe(first);
    // The first token has died of old age meanwhile; the server never sent it after that.
    expect((await vaultApi("GET", "auth/token/lookup-self", undefined, first)).status).toBe(403);
  }, 15_000);
});
