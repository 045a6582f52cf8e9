// Operations tools end to end: the SDK client over HTTP against the real dev Vault, each answer checked against Vault itself.
import { beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, testServer, text, tokenLease, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

let client: Client;
beforeAll(async () => {
  client = await connectClient();
});

describe("read_cluster_health", () => {
  it("answers initialized, sealed, standby, version, HA and replication in one answer, as sys/health says", async () => {
    const r = await ok(client, "read_cluster_health");
    const health = (await (await fetch(`${testVault().addr}/v1/sys/health`)).json()) as Record<string, unknown>;
    expect(r.structuredContent).toMatchObject({
      initialized: true,
      sealed: false,
      standby: false,
      version: health.version,
      replication_performance_mode: health.replication_performance_mode,
      replication_dr_mode: health.replication_dr_mode,
      ha_enabled: false,
    });
    expect(text(r)).toContain(`Vault ${health.version}`);
    expect(text(r)).toContain("unsealed and active");
  });

  it("answers for a server whose token Vault refuses, since it needs none", async () => {
    const own = await connectClient(testServer({ VAULT_TOKEN: `hvs.${crypto.randomUUID()}` }));
    expect((await ok(own, "read_cluster_health")).structuredContent?.sealed).toBe(false);
  });
});

describe("read_mount and tune_mount", () => {
  it("reads a mount's type, options and TTLs as sys/mounts holds them", async () => {
    const path = unique("rm");
    await vaultApi("POST", `sys/mounts/${path}`, { type: "kv", options: { version: "2" }, description: "read by a test", config: { max_lease_ttl: "2h" } });
    const r = await ok(client, "read_mount", { path });
    expect(r.structuredContent).toMatchObject({ path, type: "kv", description: "read by a test", options: { version: "2" }, max_lease_ttl: 7200 });
  });

  it("says a path inside a mount is not one", async () => {
    const r = await call(client, "read_mount", { path: "secret/inner" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("No secrets engine is mounted at secret/inner/");
  });

  it("tunes only what it is given, and Vault holds the new settings", async () => {
    const path = unique("tm");
    await vaultApi("POST", `sys/mounts/${path}`, { type: "kv", options: { version: "2" }, description: "before" });
    const r = await ok(client, "tune_mount", { path, max_lease_ttl: "3h", default_lease_ttl: "1h", description: "after" });
    expect(r.structuredContent).toMatchObject({ path, changed: ["default_lease_ttl", "max_lease_ttl", "description"], mount: { default_lease_ttl: 3600, max_lease_ttl: 10800, description: "after" } });
    const tune = (await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data;
    expect(tune).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 10800, description: "after", options: { version: "2" } });
  });

  it("refuses a path inside a mount, which Vault would take for the mount around it, and that mount is unchanged", async () => {
    const path = unique("tm");
    await vaultApi("POST", `sys/mounts/${path}`, { type: "kv", options: { version: "2" } });
    const before = (await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data;
    const r = await call(client, "tune_mount", { path: `${path}/deeper`, max_lease_ttl: "1h" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("No secrets engine is mounted at");
    expect((await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data.max_lease_ttl).toBe(before.max_lease_ttl);
  });

  it("refuses to change a KV version, to tune nothing, and Vault's own sys/", async () => {
    expect(text(await call(client, "tune_mount", { path: "secret", options: { version: "1" } }))).toContain("does not change a KV version");
    expect(text(await call(client, "tune_mount", { path: "secret" }))).toContain("Nothing to change");
    expect(text(await call(client, "tune_mount", { path: "sys", description: "x" }))).toContain("Vault's own sys/ API");
  });

  it("shows Vault's reason for a bad TTL, and changes nothing", async () => {
    const path = unique("tm");
    await vaultApi("POST", `sys/mounts/${path}`, { type: "kv" });
    const before = (await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data;
    const r = await call(client, "tune_mount", { path, default_lease_ttl: "forever", description: "changed" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("Vault refused to tune");
    expect((await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data).toEqual(before);
  });
});

describe("list_audit_devices", () => {
  it("lists what sys/audit lists, with each device's options", async () => {
    const path = unique("aud");
    await vaultApi("PUT", `sys/audit/${path}`, { type: "file", options: { file_path: "discard" } });
    try {
      const r = await ok(client, "list_audit_devices");
      const vault = Object.keys((await vaultApi("GET", "sys/audit")).json.data).map((p) => p.replace(/\/$/, ""));
      expect(r.structuredContent?.audit_devices.map((d: { path: string }) => d.path).sort()).toEqual(vault.sort());
      expect(r.structuredContent?.audit_devices).toContainEqual(expect.objectContaining({ path, type: "file", options: expect.objectContaining({ file_path: "discard" }) }));
    } finally {
      await vaultApi("DELETE", `sys/audit/${path}`);
    }
  });
});

describe("list_leases, read_lease and revoke_lease", () => {
  it("lists a token's lease under auth/token/create and reads it as sys/leases/lookup does", async () => {
    const { leaseId } = await tokenLease();
    const listed = await ok(client, "list_leases", { prefix: "auth/token/create" });
    expect(listed.structuredContent?.keys).toContain(leaseId.split("/").pop());
    expect((await ok(client, "list_leases", { prefix: "" })).structuredContent?.keys).toContain("auth/");
    const r = await ok(client, "read_lease", { lease_id: leaseId });
    const vault = (await vaultApi("PUT", "sys/leases/lookup", { lease_id: leaseId })).json.data;
    expect(r.structuredContent).toMatchObject({ lease_id: leaseId, renewable: true, expire_time: vault.expire_time });
    expect(r.structuredContent?.ttl).toBeGreaterThan(1000);
  });

  it("revokes a lease, says it cannot be undone, and the token it leased no longer works", async () => {
    const { token, leaseId } = await tokenLease();
    const r = await ok(client, "revoke_lease", { lease_id: leaseId });
    expect(r.structuredContent).toEqual(expect.objectContaining({ lease_id: leaseId, revoked: true }));
    expect(text(r)).toContain("cannot be undone");
    expect((await vaultApi("PUT", "sys/leases/lookup", { lease_id: leaseId })).status).toBe(400);
    expect((await vaultApi("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
  });

  it("says an unknown lease is not there rather than 'revoked'", async () => {
    const r = await call(client, "revoke_lease", { lease_id: "auth/token/create/h0000000000000000" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("nothing was revoked");
    expect(text(await call(client, "read_lease", { lease_id: "auth/token/create/h0000000000000000" }))).toContain("has no lease");
  });

  it("refuses what is not a lease id before asking Vault", async () => {
    for (const lease_id of ["just-one-part", "a/../b", "a/b?x=1", "a//b"]) {
      const r = await call(client, "read_lease", { lease_id });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("is not a Vault lease id");
    }
    expect(text(await call(client, "list_leases", { prefix: "../../sys" }))).toContain("relative segments are not allowed");
  });
});

describe("a token limited to the read-only policy", () => {
  it("gets a permission error on every write tool of the policy and sys toolsets, and nothing is changed", async () => {
    const name = unique("ro-policy");
    await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: readFileSync(join(import.meta.dir, "..", "..", "manifests", "vault", "read-only-policy.hcl"), "utf8") });
    const token = (await vaultApi("POST", "auth/token/create", { policies: [name], ttl: "10m" })).json.auth.client_token;
    const ro = await connectClient(testServer({ VAULT_TOKEN: token }));
    const mount = unique("ro-tune");
    await vaultApi("POST", `sys/mounts/${mount}`, { type: "kv", description: "unchanged" });
    const victim = unique("ro-victim");
    await vaultApi("PUT", `sys/policies/acl/${victim}`, { policy: 'path "x/*" { capabilities = ["read"] }' });
    const { leaseId } = await tokenLease();

    const tuned = await call(ro, "tune_mount", { path: mount, description: "changed" });
    expect(text(tuned)).toContain(`Permission denied: this token may not write to sys/mounts/${mount}/tune`);
    const revoked = await call(ro, "revoke_lease", { lease_id: leaseId });
    expect(text(revoked)).toContain("Permission denied");
    const written = await call(ro, "write_policy", { name: victim, policy: 'path "*" { capabilities = ["sudo"] }' });
    expect(text(written)).toContain("Permission denied");
    const deleted = await call(ro, "delete_policy", { name: victim });
    expect(text(deleted)).toContain("Permission denied");
    for (const r of [tuned, revoked, written, deleted]) expect(r.isError).toBe(true);

    expect((await vaultApi("GET", `sys/mounts/${mount}/tune`)).json.data.description).toBe("unchanged");
    expect((await vaultApi("PUT", "sys/leases/lookup", { lease_id: leaseId })).status).toBe(200);
    expect((await vaultApi("GET", `sys/policies/acl/${victim}`)).json.data.policy).toBe('path "x/*" { capabilities = ["read"] }');
    // Its reads still work where the read-only policy grants them.
    expect((await ok(ro, "read_mount", { path: mount })).structuredContent?.description).toBe("unchanged");
  });
});
