// KV v2 lifecycle tools end to end through the SDK Client over HTTP, against the real dev Vault; each change read back with vaultApi.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, testServer, text, unique, vaultApi } from "../support/mcp.ts";

let client: Client;
let v2: string;
let v1: string;

const meta = async (mount: string, path: string) => (await vaultApi("GET", `${mount}/metadata/${path}`)).json?.data;
const dataOf = async (mount: string, path: string, version?: number) =>
  (await vaultApi("GET", `${mount}/data/${path}${version !== undefined ? `?version=${version}` : ""}`)).json?.data?.data;

/** A secret with `n` versions, { n: i } in version i. */
async function versions(path: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) expect((await vaultApi("POST", `${v2}/data/${path}`, { data: { n: i, password: `pw-${i}` } })).status).toBe(200);
}

beforeAll(async () => {
  client = await connectClient();
  v2 = unique("kvl2");
  v1 = unique("kvl1");
  await vaultApi("POST", `sys/mounts/${v2}`, { type: "kv", options: { version: "2" } });
  await vaultApi("POST", `sys/mounts/${v1}`, { type: "kv", options: { version: "1" } });
  await vaultApi("POST", `${v1}/app/db`, { password: "v1-secret" });
});

describe("read_secret_metadata", () => {
  it("reads every setting and each version's state, and never a value", async () => {
    await versions("meta/app", 3);
    await vaultApi("POST", `${v2}/metadata/meta/app`, { max_versions: 7, custom_metadata: { owner: "team-a" } });
    await vaultApi("POST", `${v2}/delete/meta/app`, { versions: [2] });
    await vaultApi("POST", `${v2}/destroy/meta/app`, { versions: [1] });
    const r = await ok(client, "read_secret_metadata", { mount: v2, path: "meta/app" });
    const s = r.structuredContent!;
    expect(s).toMatchObject({ mount: v2, path: "meta/app", kv_version: 2, exists: true, current_version: 3, oldest_version: 0, max_versions: 7, cas_required: false, delete_version_after: "0s" });
    expect(s.custom_metadata).toEqual({ owner: "team-a" });
    expect(typeof s.created_time).toBe("string");
    expect(typeof s.updated_time).toBe("string");
    expect(s.versions.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([[1, "destroyed"], [2, "deleted"], [3, "live"]]);
    expect(text(r)).toContain("version 3");
    expect(text(r)).toContain("owner=team-a");
    expect(JSON.stringify(r)).not.toContain("pw-");
  });

  it("says a secret that was never written does not exist", async () => {
    expect((await ok(client, "read_secret_metadata", { mount: v2, path: "meta/none" })).structuredContent).toMatchObject({ exists: false, kv_version: 2 });
  });

  it("on KV v1 says only whether the secret exists", async () => {
    expect((await ok(client, "read_secret_metadata", { mount: v1, path: "app/db" })).structuredContent).toMatchObject({ kv_version: 1, exists: true });
    expect(JSON.stringify(await call(client, "read_secret_metadata", { mount: v1, path: "app/db" }))).not.toContain("v1-secret");
  });

  it("read_secret returns the custom metadata too", async () => {
    const r = await ok(client, "read_secret", { mount: v2, path: "meta/app" });
    expect(r.structuredContent?.custom_metadata).toEqual({ owner: "team-a" });
  });
});

describe("write_secret_metadata", () => {
  it("sets each setting, keeps those not given, and answers what Vault now holds", async () => {
    await versions("wm/app", 1);
    const r = await ok(client, "write_secret_metadata", { mount: v2, path: "wm/app", max_versions: 4, cas_required: true, delete_version_after: "720h", custom_metadata: { owner: "a", env: "prod" } });
    expect(r.structuredContent).toMatchObject({ changed: ["max_versions", "cas_required", "delete_version_after", "custom_metadata"], max_versions: 4, cas_required: true, custom_metadata: { owner: "a", env: "prod" } });
    expect(await meta(v2, "wm/app")).toMatchObject({ max_versions: 4, cas_required: true, delete_version_after: "720h0m0s", custom_metadata: { owner: "a", env: "prod" } });
    await ok(client, "write_secret_metadata", { mount: v2, path: "wm/app", cas_required: false });
    expect(await meta(v2, "wm/app")).toMatchObject({ max_versions: 4, cas_required: false, custom_metadata: { owner: "a", env: "prod" } });
    await ok(client, "write_secret_metadata", { mount: v2, path: "wm/app", custom_metadata: {} });
    expect((await meta(v2, "wm/app")).custom_metadata ?? {}).toEqual({});
  });

  it("refuses a call that changes nothing, naming the arguments", async () => {
    const r = await call(client, "write_secret_metadata", { mount: v2, path: "wm/app" });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^Invalid arguments for write_secret_metadata: nothing to change\. Give max_versions/);
  });

  it("refuses KV v1, saying nothing was changed", async () => {
    const r = await call(client, "write_secret_metadata", { mount: v1, path: "app/db", max_versions: 2 });
    expect(text(r)).toContain("needs a KV v2 mount");
    expect(text(r)).toContain("Nothing was changed");
  });
});

describe("patch_secret", () => {
  it("applies a JSON merge patch exactly: nested objects merge, null removes, arrays replace", async () => {
    await vaultApi("POST", `${v2}/data/patch/app`, { data: { db: { host: "h", port: 5432, opts: { ssl: true, old: 1 } }, tags: ["a", "b"], gone: "x", keep: "k" } });
    const r = await ok(client, "patch_secret", { mount: v2, path: "patch/app", data: { db: { port: 5433, opts: { old: null } }, tags: ["c"], gone: null } });
    expect(r.structuredContent).toMatchObject({ version: 2, keys_set: ["db", "tags"], keys_removed: ["gone"] });
    expect(await dataOf(v2, "patch/app")).toEqual({ db: { host: "h", port: 5433, opts: { ssl: true } }, tags: ["c"], keep: "k" });
    expect(JSON.stringify(r)).not.toContain("5433");
  });

  it("refuses a null inside an object inside an array, which Vault would drop, and writes nothing", async () => {
    const r = await call(client, "patch_secret", { mount: v2, path: "patch/app", data: { list: [1, { a: null, b: 2 }] } });
    expect(text(r)).toMatch(/^Invalid argument "data": list\[1\]\.a is a null inside an object inside an array/);
    expect((await meta(v2, "patch/app")).current_version).toBe(2);
  });

  it("with cas writes only against that version, and says nothing was written on a mismatch", async () => {
    const r = await call(client, "patch_secret", { mount: v2, path: "patch/app", data: { keep: "changed" }, cas: 1 });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("Check-and-set failed: cas=1");
    expect((await dataOf(v2, "patch/app")).keep).toBe("k");
    await ok(client, "patch_secret", { mount: v2, path: "patch/app", data: { keep: "changed" }, cas: 2 });
    expect((await dataOf(v2, "patch/app")).keep).toBe("changed");
  });

  it("on a secret that requires check-and-set, says so instead of retrying: patch_secret and write_secret alike", async () => {
    await vaultApi("POST", `${v2}/data/patch/cas`, { data: { a: 1 } });
    await ok(client, "write_secret_metadata", { mount: v2, path: "patch/cas", cas_required: true });
    for (const [tool, args] of [["patch_secret", { data: { a: 2 } }], ["write_secret", { key: "a", value: "2" }]] as const) {
      const r = await call(client, tool, { mount: v2, path: "patch/cas", ...args });
      expect(text(r)).toContain("this secret requires check-and-set");
      expect(text(r)).toContain("Nothing was changed");
    }
    await ok(client, "patch_secret", { mount: v2, path: "patch/cas", data: { a: 2 }, cas: 1 });
    expect(await dataOf(v2, "patch/cas")).toEqual({ a: 2 });
  });

  it("refuses a secret that does not exist, naming write_secret", async () => {
    const r = await call(client, "patch_secret", { mount: v2, path: "patch/none", data: { a: 1 } });
    expect(text(r)).toMatch(/No live secret at .*patch\/none to patch.*write_secret creates it/);
    expect((await vaultApi("GET", `${v2}/data/patch/none`)).status).toBe(404);
  });

  it("on KV v1 gives a clear error naming write_secret, and writes nothing", async () => {
    const r = await call(client, "patch_secret", { mount: v1, path: "app/db", data: { password: "new" } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("patch_secret needs KV v2");
    expect(text(r)).toContain("write_secret(");
    expect((await vaultApi("GET", `${v1}/app/db`)).json.data).toEqual({ password: "v1-secret" });
  });
});

describe("delete, undelete and destroy versions", () => {
  it("delete_secret_versions soft-deletes exactly those versions, as the metadata shows", async () => {
    await versions("life/app", 3);
    const r = await ok(client, "delete_secret_versions", { mount: v2, path: "life/app", versions: [1, 2] });
    expect(r.structuredContent?.versions).toEqual([1, 2]);
    expect(text(r)).toContain("undelete_secret_versions(");
    const m = await meta(v2, "life/app");
    expect(m.versions["1"].deletion_time).not.toBe("");
    expect(m.versions["2"].deletion_time).not.toBe("");
    expect(m.versions["3"].deletion_time).toBe("");
    expect(await dataOf(v2, "life/app", 3)).toMatchObject({ n: 3 });
  });

  it("undelete_secret_versions makes them readable again, as the metadata shows", async () => {
    const r = await ok(client, "undelete_secret_versions", { mount: v2, path: "life/app", versions: [2] });
    expect(r.structuredContent?.states).toEqual([expect.objectContaining({ version: 2, state: "live" })]);
    const m = await meta(v2, "life/app");
    expect(m.versions["2"].deletion_time).toBe("");
    expect(m.versions["1"].deletion_time).not.toBe("");
    expect(await dataOf(v2, "life/app", 2)).toMatchObject({ n: 2 });
  });

  it("destroy_secret_versions destroys for good and says it cannot be undone", async () => {
    const r = await ok(client, "destroy_secret_versions", { mount: v2, path: "life/app", versions: [1] });
    expect(text(r)).toContain("cannot be recovered");
    expect((await meta(v2, "life/app")).versions["1"].destroyed).toBe(true);
    const again = await call(client, "undelete_secret_versions", { mount: v2, path: "life/app", versions: [1] });
    expect(text(again)).toContain("was destroyed and cannot be recovered");
    expect((await meta(v2, "life/app")).versions["1"].destroyed).toBe(true);
  });

  it("describes destroy and delete_secret_metadata as destructive and permanent", async () => {
    const tools = (await client.listTools()).tools;
    for (const name of ["destroy_secret_versions", "delete_secret_metadata"]) {
      const t = tools.find((x) => x.name === name)!;
      expect(t.annotations?.destructiveHint).toBe(true);
      expect(t.description).toContain("cannot be undone");
    }
    expect(tools.find((x) => x.name === "undelete_secret_versions")?.annotations?.destructiveHint).toBe(false);
    expect(tools.find((x) => x.name === "read_secret_metadata")?.annotations?.readOnlyHint).toBe(true);
  });

  it("refuses versions the secret does not keep, changing nothing", async () => {
    const r = await call(client, "delete_secret_versions", { mount: v2, path: "life/app", versions: [3, 9] });
    expect(text(r)).toContain("keeps no version 9");
    expect(text(r)).toContain("Nothing was changed");
    expect((await meta(v2, "life/app")).versions["3"].deletion_time).toBe("");
  });

  it("refuses a secret that does not exist, and KV v1", async () => {
    expect(text(await call(client, "destroy_secret_versions", { mount: v2, path: "life/none", versions: [1] }))).toContain("No secret exists at");
    expect(text(await call(client, "delete_secret_versions", { mount: v1, path: "app/db", versions: [1] }))).toContain("needs a KV v2 mount");
  });
});

describe("rollback_secret", () => {
  it("writes an earlier version's data as a new version, keeping the others, and returns no value", async () => {
    await versions("rb/app", 3);
    const r = await ok(client, "rollback_secret", { mount: v2, path: "rb/app", version: 1 });
    expect(r.structuredContent).toMatchObject({ version: 4, rolled_back_to: 1, previous_version: 3 });
    expect(r.structuredContent?.keys_restored.sort()).toEqual(["n", "password"]);
    expect(JSON.stringify(r)).not.toContain("pw-1");
    expect(await dataOf(v2, "rb/app")).toEqual({ n: 1, password: "pw-1" });
    expect(await dataOf(v2, "rb/app", 3)).toEqual({ n: 3, password: "pw-3" });
  });

  it("works when the secret requires check-and-set", async () => {
    await vaultApi("POST", `${v2}/metadata/rb/app`, { cas_required: true });
    await ok(client, "rollback_secret", { mount: v2, path: "rb/app", version: 2 });
    expect(await dataOf(v2, "rb/app")).toEqual({ n: 2, password: "pw-2" });
    expect((await meta(v2, "rb/app")).current_version).toBe(5);
  });

  it("refuses a deleted version (naming undelete), a destroyed one, a missing one and the current one, writing nothing", async () => {
    await vaultApi("POST", `${v2}/delete/rb/app`, { versions: [1] });
    await vaultApi("POST", `${v2}/destroy/rb/app`, { versions: [2] });
    expect(text(await call(client, "rollback_secret", { mount: v2, path: "rb/app", version: 1 }))).toContain("undelete_secret_versions(");
    expect(text(await call(client, "rollback_secret", { mount: v2, path: "rb/app", version: 2 }))).toContain("was destroyed");
    expect(text(await call(client, "rollback_secret", { mount: v2, path: "rb/app", version: 99 }))).toContain("keeps no version 99");
    expect(text(await call(client, "rollback_secret", { mount: v2, path: "rb/app", version: 5 }))).toContain("already the current version");
    expect((await meta(v2, "rb/app")).current_version).toBe(5);
  });
});

describe("delete_secret_metadata", () => {
  it("deletes every version and the metadata, as Vault then shows", async () => {
    await versions("dm/app", 2);
    const r = await ok(client, "delete_secret_metadata", { mount: v2, path: "dm/app" });
    expect(r.structuredContent).toMatchObject({ versions_deleted: 2, current_version: 2 });
    expect(text(r)).toContain("cannot be undone");
    expect((await vaultApi("GET", `${v2}/metadata/dm/app`)).status).toBe(404);
    expect((await vaultApi("GET", `${v2}/data/dm/app?version=1`)).status).toBe(404);
  });

  it("says so when there is nothing to delete", async () => {
    expect(text(await call(client, "delete_secret_metadata", { mount: v2, path: "dm/app" }))).toContain("nothing was deleted");
  });
});

describe("a token limited to a read-only policy", () => {
  let ro: Client;
  const path = "ro/app";

  beforeAll(async () => {
    await vaultApi("PUT", `sys/policies/acl/${v2}-ro`, {
      policy: `path "${v2}/data/*" { capabilities = ["read"] }\npath "${v2}/metadata/*" { capabilities = ["read", "list"] }\npath "sys/internal/ui/mounts/*" { capabilities = ["read"] }`,
    });
    const made = await vaultApi("POST", "auth/token/create", { policies: [`${v2}-ro`], ttl: "10m" });
    ro = await connectClient(testServer({ VAULT_TOKEN: made.json.auth.client_token }));
    await versions(path, 2);
    await vaultApi("POST", `${v2}/delete/${path}`, { versions: [1] });
  });

  it("reads the metadata", async () => {
    expect((await ok(ro, "read_secret_metadata", { mount: v2, path })).structuredContent?.current_version).toBe(2);
  });

  const writes: [string, Record<string, unknown>, RegExp][] = [
    ["write_secret_metadata", { max_versions: 1 }, /may not write to .*\/metadata\/ro\/app/],
    ["patch_secret", { data: { n: 9 } }, /may not patch .*\/data\/ro\/app/],
    ["delete_secret_versions", { versions: [2] }, /may not write to .*\/delete\/ro\/app/],
    ["undelete_secret_versions", { versions: [1] }, /may not write to .*\/undelete\/ro\/app/],
    ["destroy_secret_versions", { versions: [2] }, /may not write to .*\/destroy\/ro\/app/],
    ["delete_secret_metadata", {}, /may not delete .*\/metadata\/ro\/app/],
  ];
  for (const [tool, extra, said] of writes) {
    it(`${tool} gets a clear permission error and nothing is written`, async () => {
      const before = await meta(v2, path);
      const r = await call(ro, tool, { mount: v2, path, ...extra });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^Permission denied: this token/);
      expect(text(r)).toMatch(said);
      expect(text(r)).toContain("Nothing was changed.");
      expect(await meta(v2, path)).toEqual(before);
    });
  }

  it("rollback_secret of a live older version is refused by Vault, and nothing is written", async () => {
    await vaultApi("POST", `${v2}/undelete/${path}`, { versions: [1] });
    const before = await meta(v2, path);
    const r = await call(ro, "rollback_secret", { mount: v2, path, version: 1 });
    expect(text(r)).toMatch(/Permission denied: this token may not write to .*\/data\/ro\/app/);
    expect(await meta(v2, path)).toEqual(before);
  });
});

describe("the vault://kv resource", () => {
  it("is read by the public read_secret_metadata tool, with the same metadata and no values", async () => {
    const c = (await client.readResource({ uri: `vault://kv/${v2}/life/app` })).contents[0] as { text: string };
    const body = JSON.parse(c.text);
    const tool = (await ok(client, "read_secret_metadata", { mount: v2, path: "life/app" })).structuredContent!;
    expect(body.versions).toEqual(tool.versions);
    expect(body.current_version).toBe(3);
    expect(c.text).not.toContain("pw-");
  });

  it("is read even when the kv toolset is not served", async () => {
    const sysOnly = await connectClient(testServer({ MCP_TOOLSETS: "sys" }));
    const c = (await sysOnly.readResource({ uri: `vault://kv/${v2}/life/app` })).contents[0] as { text: string };
    expect(JSON.parse(c.text)).toMatchObject({ exists: true, current_version: 3 });
    await sysOnly.close();
  });
});
