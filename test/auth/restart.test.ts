// A Vault restart that loses the server's token (dev mode keeps nothing): the server logs in again without a restart of its own.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { call, connectClient, ok, text } from "../support/mcp.ts";
import { type DevVault, startDevVault } from "../support/vault.ts";
import { authServer, count, LIST_MOUNTS_POLICY, must } from "./support.ts";

let vault: DevVault;
// Fixed ids, so that the AppRole can be set up again, the same, after the restart (as a real Vault would keep it).
const roleId = randomUUID();
const secretId = randomUUID();

async function setUpAppRole(): Promise<void> {
  await must(vault, "POST", "sys/auth/approle", { type: "approle" });
  await must(vault, "PUT", "sys/policies/acl/list-mounts", { policy: LIST_MOUNTS_POLICY });
  await must(vault, "POST", "auth/approle/role/mcp", { token_policies: ["list-mounts"], token_ttl: "1h" });
  await must(vault, "POST", "auth/approle/role/mcp/role-id", { role_id: roleId });
  await must(vault, "POST", "auth/approle/role/mcp/custom-secret-id", { secret_id: secretId });
}

beforeAll(async () => {
  vault = await startDevVault({ rootToken: randomUUID() });
  await setUpAppRole();
}, 60_000);

afterAll(() => vault?.stop());

describe("after Vault restarts and no longer knows the token", () => {
  it("logs in again on its own, and the tool call succeeds", async () => {
    const server = authServer({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_ROLE_ID: roleId, VAULT_APPROLE_SECRET_ID: secretId }, { vault });
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    const before = server.lastToken();

    await vault.restart();
    await setUpAppRole();

    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
    expect(server.lastToken()).not.toBe(before);
    expect(count(server.requests, /approle\/login$/)).toBe(2);
  }, 60_000);
});
