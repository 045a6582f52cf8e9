// A token limited by a read-only policy: reads work, every write gets a clear permission error, and nothing is written.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, testServer, text, unique, vaultApi } from "./support/mcp.ts";

let client: Client;
let readOnlyToken: string;
const folder = unique("ro");

beforeAll(async () => {
  await vaultApi("PUT", "sys/policies/acl/read-only-test", {
    policy: 'path "secret/data/*" { capabilities = ["read", "list"] }\npath "secret/metadata/*" { capabilities = ["read", "list"] }',
  });
  const created = await vaultApi("POST", "auth/token/create", { policies: ["read-only-test"], ttl: "10m", no_default_policy: false });
  readOnlyToken = created.json.auth.client_token;
  await vaultApi("POST", `secret/data/${folder}/db`, { data: { password: "original" } });
  client = await connectClient(testServer({ VAULT_TOKEN: readOnlyToken }));
});

describe("a read-only token", () => {
  it("can read and list", async () => {
    expect((await ok(client, "read_secret", { path: `${folder}/db` })).structuredContent?.data).toEqual({ password: "original" });
    expect((await ok(client, "list_secrets", { path: folder })).structuredContent?.keys).toEqual(["db"]);
  });

  it("gets a permission error naming the capability when it writes, and the secret is unchanged", async () => {
    const r = await call(client, "write_secret", { path: `${folder}/db`, key: "password", value: "changed" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`Permission denied: this token may not patch secret/data/${folder}/db (it needs the "patch" capability`);
    expect(text(r)).toContain("Nothing was changed.");
    expect((await vaultApi("GET", `secret/data/${folder}/db`)).json.data.data).toEqual({ password: "original" });
  });

  it("cannot create a new secret, and none appears", async () => {
    const r = await call(client, "write_secret", { path: `${folder}/new`, key: "a", value: "b" });
    expect(text(r)).toContain("Permission denied");
    expect((await vaultApi("GET", `secret/data/${folder}/new`)).status).toBe(404);
  });

  it("cannot delete a secret or a key", async () => {
    expect(text(await call(client, "delete_secret", { path: `${folder}/db` }))).toContain(`may not write to secret/delete/${folder}/db (it needs the "create/update" capability`);
    expect(text(await call(client, "delete_secret", { path: `${folder}/db`, key: "password" }))).toContain("Permission denied");
    expect((await vaultApi("GET", `secret/data/${folder}/db`)).json.data.data).toEqual({ password: "original" });
  });

  it("cannot create or delete mounts", async () => {
    const path = unique("denied");
    expect(text(await call(client, "create_mount", { path, type: "kv-v2" }))).toContain(`may not write to sys/mounts/${path}`);
    expect((await vaultApi("GET", `sys/mounts/${path}`)).status).toBeGreaterThanOrEqual(400);
    expect(text(await call(client, "delete_mount", { path: "secret" }))).toContain("Permission denied");
  });

  it("never shows its token in an error", async () => {
    const r = await call(client, "list_mounts");
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r)).not.toContain(readOnlyToken);
  });
});

describe("a token with no rights under a mount", () => {
  it("is told about that mount, not about sys/mounts, which no KV tool needs", async () => {
    const created = await vaultApi("POST", "auth/token/create", { policies: ["default"], ttl: "10m" });
    const c = await connectClient(testServer({ VAULT_TOKEN: created.json.auth.client_token }));
    try {
      const r = await call(c, "write_secret", { path: unique("nothing"), key: "a", value: "b" });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("Permission denied: this token may touch nothing under secret/");
      expect(text(r)).toContain("Nothing was changed.");
      expect(text(r)).not.toContain("sys/mounts");
    } finally {
      await c.close();
    }
  });
});
