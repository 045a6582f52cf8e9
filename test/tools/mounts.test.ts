// Mount tools end to end against the real dev Vault.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { silentLogger } from "../../src/log.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { call, connectClient, ok, text, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";
import { withoutGuidance } from "../../src/tools/guidance.ts";

let client: Client;
beforeAll(async () => {
  client = await connectClient();
});

describe("create_mount", () => {
  for (const [type, expected] of [
    ["kv-v2", { type: "kv", version: "2" }],
    ["kv2", { type: "kv", version: "2" }],
    ["kv-v1", { type: "kv", version: "1" }],
    ["kv", { type: "kv", version: "1" }],
    ["transit", { type: "transit" }],
  ] as const) {
    it(`mounts type "${type}" as Vault's ${expected.type}${"version" in expected ? ` v${expected.version}` : ""}`, async () => {
      const path = unique("m");
      await ok(client, "create_mount", { path, type, description: "made by a test" });
      const { json } = await vaultApi("GET", `sys/mounts/${path}`);
      expect(json.data.type).toBe(expected.type);
      expect(json.data.description).toBe("made by a test");
      if ("version" in expected) expect(json.data.options.version).toBe(expected.version);
    });
  }

  it("passes lease TTLs through as mount config", async () => {
    const path = unique("ttl");
    await ok(client, "create_mount", { path, type: "pki", max_lease_ttl: "87600h", default_lease_ttl: "1h" });
    const { json } = await vaultApi("GET", `sys/mounts/${path}`);
    expect(json.data.config.max_lease_ttl).toBe(87600 * 3600);
    expect(json.data.config.default_lease_ttl).toBe(3600);
  });

  it("refuses to replace an existing mount, and leaves it as it was", async () => {
    const path = unique("dup");
    await ok(client, "create_mount", { path, type: "kv-v2" });
    await vaultApi("POST", `${path}/data/keep`, { data: { a: "1" } });
    const r = await call(client, "create_mount", { path, type: "kv-v1" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`A secrets engine is already mounted at ${path}/`);
    expect((await vaultApi("GET", `${path}/data/keep`)).json.data.data).toEqual({ a: "1" });
  });

  it("refuses an engine type that is not a name, and one Vault does not know", async () => {
    expect(text(await call(client, "create_mount", { path: unique("x"), type: "kv; rm -rf" }))).toContain('Invalid argument "type"');
    expect(text(await call(client, "create_mount", { path: unique("x"), type: "nosuchengine" }))).toContain("Vault refused to mount nosuchengine");
  });

  it("refuses a version option that contradicts the type", async () => {
    expect(text(await call(client, "create_mount", { path: unique("x"), type: "kv-v2", options: { version: "1" } }))).toContain("contradicts");
  });

  for (const path of ["sys", "auth/approle", "cubbyhole", "../sys", "identity"]) {
    it(`refuses to mount over ${path}`, async () => {
      const r = await call(client, "create_mount", { path, type: "kv-v2" });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('Invalid argument "path"');
    });
  }
});

describe("list_mounts", () => {
  it("lists the dev server's mounts with types, KV versions marked", async () => {
    const r = await ok(client, "list_mounts");
    const mounts = r.structuredContent?.mounts as { path: string; type: string; kv_version?: number }[];
    expect(mounts.find((m) => m.path === "secret")).toMatchObject({ type: "kv", kv_version: 2 });
    expect(mounts.find((m) => m.path === "sys")?.type).toBe("system");
    expect(text(r)).toContain("- secret/ (kv-v2)");
  });
});

describe("delete_mount", () => {
  it("removes a mount and its data", async () => {
    const path = unique("gone");
    await ok(client, "create_mount", { path, type: "kv-v2" });
    const r = await ok(client, "delete_mount", { path });
    expect(withoutGuidance(r.structuredContent)).toEqual({ path, type: "kv-v2", deleted: true });
    expect((await vaultApi("GET", `sys/mounts/${path}`)).status).toBeGreaterThanOrEqual(400);
  });

  it("says so when nothing is mounted there", async () => {
    const r = await call(client, "delete_mount", { path: unique("never") });
    expect(text(r)).toContain("so nothing was deleted");
  });

  it("forgets the KV version it cached, so a new engine at the same path is used correctly", async () => {
    const path = unique("reuse");
    await ok(client, "create_mount", { path, type: "kv-v2" });
    await ok(client, "write_secret", { mount: path, path: "a", key: "k", value: "v" });
    await ok(client, "delete_mount", { path });
    await ok(client, "create_mount", { path, type: "kv-v1" });
    const w = await ok(client, "write_secret", { mount: path, path: "a", key: "k", value: "v", replace: true });
    expect(w.structuredContent?.version).toBeUndefined();
    expect((await vaultApi("GET", `${path}/a`)).json.data).toEqual({ k: "v" });
  });

  it("refuses a path inside a mount, names the enclosing mount, and deletes nothing", async () => {
    const mount = unique("fx-kv2");
    await ok(client, "create_mount", { path: mount, type: "kv-v2" });
    await vaultApi("POST", `${mount}/data/keep`, { data: { a: "1" } });
    const r = await call(client, "delete_mount", { path: `${mount}/not/a/mount` });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      `${mount}/not/a/mount/ is not a mount: it lies inside the kv-v2 secrets engine mounted at ${mount}/, so nothing was deleted. ` +
        `Only a whole mount can be deleted: delete_mount(path="${mount}") would delete ${mount}/ and everything stored in it; ` +
        `to remove one secret use delete_secret(mount="${mount}", path="not/a/mount").`,
    );
    expect((await vaultApi("GET", `sys/mounts/${mount}`)).json.data.type).toBe("kv");
    expect((await vaultApi("GET", `${mount}/data/keep`)).json.data.data).toEqual({ a: "1" });
  });

  it("deletes a mount whose path has several segments", async () => {
    const path = `${unique("team")}/kv`;
    await ok(client, "create_mount", { path, type: "kv-v1" });
    expect(withoutGuidance((await ok(client, "delete_mount", { path })).structuredContent)).toEqual({ path, type: "kv-v1", deleted: true });
    expect((await vaultApi("GET", `sys/mounts/${path}`)).status).toBeGreaterThanOrEqual(400);
  });

  it("says 'Deleted' only when the mount is gone: a DELETE that Vault answered but did not carry out is reported", async () => {
    const path = unique("stays");
    await ok(client, "create_mount", { path, type: "kv-v2" });
    const vault = testVault();
    const config = loadConfig([], { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token });
    // A proxy or a Vault that answers 204 and removes nothing.
    const swallowing = (async (input: string | URL | Request, init?: RequestInit) =>
      init?.method === "DELETE" ? new Response(null, { status: 204 }) : fetch(input, init)) as typeof fetch;
    const runtime = buildRuntime(config, silentLogger, { fetch: swallowing });
    const app = createApp({ handleMcp: runtime.handleMcp, readiness: runtime.readiness, guard: { bindHost: "127.0.0.1", allowedOrigins: [] } });
    const hooked = await connectClient({ runtime, app, fetch: (i, init) => app.handle(i instanceof Request ? i : new Request(i.toString(), init)) });
    const r = await call(hooked, "delete_mount", { path });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      `Vault answered the request to delete ${path}/, but the kv-v2 secrets engine is still mounted there, so it was not deleted. ` +
        "Check with list_mounts; if it persists, check Vault's logs.",
    );
    expect((await vaultApi("GET", `sys/mounts/${path}`)).json.data.type).toBe("kv");
  });

  it("refuses to remove Vault's built-in mounts", async () => {
    for (const path of ["sys", "cubbyhole", "identity"]) {
      expect((await call(client, "delete_mount", { path })).isError).toBe(true);
    }
  });
});
