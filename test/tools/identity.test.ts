// Identity tools end to end: the SDK client over HTTP against the real dev Vault, each answer checked against Vault itself.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, testServer, text, unique, vaultApi } from "../support/mcp.ts";

let client: Client;
beforeAll(async () => {
  client = await connectClient();
});

/** A token of an entity: a userpass login, so Vault makes the entity and its alias. */
async function entityToken(): Promise<{ token: string; entityId: string; mount: string; user: string }> {
  const mount = unique("up");
  const user = unique("user");
  await vaultApi("POST", `sys/auth/${mount}`, { type: "userpass" });
  await vaultApi("POST", `auth/${mount}/users/${user}`, { password: "pw-for-tests", token_policies: ["default"], token_ttl: "10m" });
  const login = await vaultApi("POST", `auth/${mount}/login/${user}`, { password: "pw-for-tests" });
  return { token: login.json.auth.client_token, entityId: login.json.auth.entity_id, mount, user };
}

describe("lookup_self", () => {
  it("shows a child token's name, policies, TTL and renewal, and never the token or its accessor", async () => {
    const created = await vaultApi("POST", "auth/token/create", { policies: ["default"], ttl: "15m", display_name: "lookup-test" });
    const token = created.json.auth.client_token;
    const accessor = created.json.auth.accessor;
    const own = await connectClient(testServer({ VAULT_TOKEN: token }));
    const r = await ok(own, "lookup_self");
    expect(r.structuredContent).toMatchObject({ display_name: "token-lookup-test", policies: ["default"], renewable: true, entity_id: "", type: "service" });
    expect(r.structuredContent?.ttl).toBeGreaterThan(800);
    expect(r.structuredContent?.ttl).toBeLessThanOrEqual(900);
    expect(text(r)).toContain("renewable");
    expect(JSON.stringify(r)).not.toContain(token);
    expect(JSON.stringify(r)).not.toContain(accessor);
  });

  it("says the root token never expires", async () => {
    const r = await ok(client, "lookup_self");
    expect(r.structuredContent).toMatchObject({ policies: ["root"], ttl: 0 });
    expect(text(r)).toContain("never expires");
  });
});

describe("read_entity_self", () => {
  it("reads the entity behind a userpass login, with its alias, as Vault holds it", async () => {
    const { token, entityId, mount, user } = await entityToken();
    const own = await connectClient(testServer({ VAULT_TOKEN: token }));
    // The login's default policy does not reach identity/; grant exactly that read for this test.
    const pol = unique("ent-read");
    await vaultApi("PUT", `sys/policies/acl/${pol}`, { policy: `path "identity/entity/id/${entityId}" { capabilities = ["read"] }` });
    await vaultApi("POST", `identity/entity/id/${entityId}`, { policies: [pol] });
    const r = await ok(own, "read_entity_self");
    const vault = (await vaultApi("GET", `identity/entity/id/${entityId}`)).json.data;
    expect(r.structuredContent).toMatchObject({ has_entity: true, id: entityId, name: vault.name, policies: [pol] });
    expect(r.structuredContent?.aliases).toEqual([{ name: user, mount_type: "userpass", mount_path: `auth/${mount}/` }]);
    expect(text(r)).toContain(entityId);
  });

  it("says so when the token has no entity", async () => {
    const r = await ok(client, "read_entity_self");
    expect(r.structuredContent).toMatchObject({ has_entity: false });
    expect(text(r)).toContain("no identity entity");
  });
});

describe("list_auth_methods and read_auth_method", () => {
  it("lists what sys/auth lists", async () => {
    const mount = unique("ap");
    await vaultApi("POST", `sys/auth/${mount}`, { type: "approle", description: "listed by a test" });
    const r = await ok(client, "list_auth_methods");
    const vault = Object.keys((await vaultApi("GET", "sys/auth")).json.data).map((p) => p.replace(/\/$/, ""));
    expect(r.structuredContent?.auth_methods.map((m: { path: string }) => m.path).sort()).toEqual(vault.sort());
    expect(r.structuredContent?.auth_methods).toContainEqual(expect.objectContaining({ path: mount, type: "approle", description: "listed by a test" }));
    expect(text(r)).toContain(`auth/${mount}/ (approle)`);
  });

  it("reads one method by its path, with or without auth/", async () => {
    const mount = unique("ap");
    await vaultApi("POST", `sys/auth/${mount}`, { type: "approle", config: { default_lease_ttl: "1h" } });
    for (const path of [mount, `auth/${mount}`, `${mount}/`]) {
      const r = await ok(client, "read_auth_method", { path });
      expect(r.structuredContent).toMatchObject({ path: mount, type: "approle", default_lease_ttl: 3600 });
    }
    expect((await ok(client, "read_auth_method", { path: "token" })).structuredContent).toMatchObject({ path: "token", type: "token" });
  });

  it("says no method is at a path with none, and names list_auth_methods", async () => {
    const r = await call(client, "read_auth_method", { path: unique("none") });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("No auth method is enabled");
    expect(text(r)).toContain("list_auth_methods");
  });

  it("refuses a path that climbs out of sys/auth", async () => {
    const r = await call(client, "read_auth_method", { path: "../mounts" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("relative segments are not allowed");
  });
});
