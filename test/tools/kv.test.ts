// KV tools end to end through the SDK Client over HTTP, against the real dev Vault, on v1 and v2 mounts.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, text, unique, vaultApi } from "../support/mcp.ts";

let client: Client;
let v2: string;
let v1: string;

beforeAll(async () => {
  client = await connectClient();
  v2 = unique("kv2");
  v1 = unique("kv1");
  await ok(client, "create_mount", { path: v2, type: "kv-v2" });
  await ok(client, "create_mount", { path: v1, type: "kv-v1" });
});

describe("write_secret and read_secret on KV v2", () => {
  it("stores a secret and answers in the voice an agent can act on", async () => {
    const r = await ok(client, "write_secret", { mount: v2, path: "myapp/database", key: "password", value: "s3cr3t" });
    expect(text(r)).toBe(
      `Secret stored successfully at ${v2}/myapp/database\nVersion: 1\nKeys written: password\nYou can retrieve it with: read_secret(mount="${v2}", path="myapp/database")`,
    );
    expect(r.structuredContent).toEqual({ mount: v2, path: "myapp/database", keys_written: ["password"], created: true, version: 1 });
  });

  it("never echoes the value it wrote", async () => {
    const r = await ok(client, "write_secret", { mount: v2, path: "echo/check", key: "token", value: "do-not-echo-me" });
    expect(JSON.stringify(r)).not.toContain("do-not-echo-me");
  });

  it("reads it back with version metadata", async () => {
    const r = await ok(client, "read_secret", { mount: v2, path: "myapp/database" });
    expect(r.structuredContent).toMatchObject({ mount: v2, path: "myapp/database", data: { password: "s3cr3t" }, version: 1, kv_version: 2 });
    expect(text(r)).toContain(`Secret at ${v2}/myapp/database (version 1, created `);
    expect(text(r)).toContain("password: s3cr3t");
  });

  it("merges new keys into the secret and keeps the others", async () => {
    const r = await ok(client, "write_secret", { mount: v2, path: "myapp/database", data: { username: "app", port: 5432 } });
    expect(r.structuredContent).toMatchObject({ version: 2, created: false, keys_written: ["username", "port"] });
    const read = await ok(client, "read_secret", { mount: v2, path: "myapp/database" });
    expect(read.structuredContent?.data).toEqual({ password: "s3cr3t", username: "app", port: 5432 });
  });

  it("reads one key, and an older version", async () => {
    const key = await ok(client, "read_secret", { mount: v2, path: "myapp/database", key: "username" });
    expect(key.structuredContent?.data).toEqual({ username: "app" });
    const old = await ok(client, "read_secret", { mount: v2, path: "myapp/database", version: 1 });
    expect(old.structuredContent?.data).toEqual({ password: "s3cr3t" });
  });

  it("names the keys that exist when asked for one that does not", async () => {
    const r = await call(client, "read_secret", { mount: v2, path: "myapp/database", key: "pasword" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('has no key "pasword". Its keys are: password, port, username.');
  });

  it("says how to find or create a secret that does not exist", async () => {
    const r = await call(client, "read_secret", { mount: v2, path: "myapp/nothing" });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      `No secret exists at ${v2}/myapp/nothing. Use list_secrets(mount="${v2}", path="myapp") to see what is there, or write_secret(mount="${v2}", path="myapp/nothing", ...) to create it.`,
    );
  });

  it("says when a version does not exist", async () => {
    const r = await call(client, "read_secret", { mount: v2, path: "myapp/database", version: 99 });
    expect(text(r)).toContain("has no version 99 (current version is 2)");
  });

  it("honours cas=0: creates only when absent, nothing written otherwise", async () => {
    await ok(client, "write_secret", { mount: v2, path: "cas/new", key: "a", value: "1", cas: 0 });
    const r = await call(client, "write_secret", { mount: v2, path: "cas/new", key: "a", value: "2", cas: 0 });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("Check-and-set failed: cas=0");
    expect((await ok(client, "read_secret", { mount: v2, path: "cas/new" })).structuredContent?.data).toEqual({ a: "1" });
  });

  it("honours cas=N against the current version", async () => {
    const bad = await call(client, "write_secret", { mount: v2, path: "cas/new", key: "b", value: "x", cas: 7 });
    expect(text(bad)).toContain("Read it with read_secret");
    const good = await ok(client, "write_secret", { mount: v2, path: "cas/new", key: "b", value: "x", cas: 1 });
    expect(good.structuredContent?.version).toBe(2);
  });

  it("loses no key when many writers write different keys to one secret at once", async () => {
    const path = "race/shared";
    const writers = Array.from({ length: 24 }, (_, i) => ok(client, "write_secret", { mount: v2, path, key: `k${i}`, value: `v${i}` }));
    await Promise.all(writers);
    const read = await ok(client, "read_secret", { mount: v2, path });
    expect(Object.keys(read.structuredContent?.data).sort()).toEqual(Array.from({ length: 24 }, (_, i) => `k${i}`).sort());
  });

  it("stores structured values as JSON", async () => {
    await ok(client, "write_secret", { mount: v2, path: "typed", data: { list: [1, 2], obj: { a: true }, flag: false } });
    const r = await ok(client, "read_secret", { mount: v2, path: "typed" });
    expect(r.structuredContent?.data).toEqual({ list: [1, 2], obj: { a: true }, flag: false });
  });
});

describe("list_secrets", () => {
  it("lists secrets and folders under a path", async () => {
    await ok(client, "write_secret", { mount: v2, path: "tree/a", key: "x", value: "1" });
    await ok(client, "write_secret", { mount: v2, path: "tree/sub/b", key: "x", value: "1" });
    const r = await ok(client, "list_secrets", { mount: v2, path: "tree" });
    expect(r.structuredContent).toEqual({ mount: v2, path: "tree", keys: ["a", "sub/"] });
    expect(text(r)).toContain("- sub/ (folder)");
  });

  it("lists the top level by default", async () => {
    const r = await ok(client, "list_secrets", { mount: v2 });
    expect(r.structuredContent?.keys).toContain("myapp/");
  });

  it("answers an empty folder with a hint, not an error", async () => {
    const r = await ok(client, "list_secrets", { mount: v2, path: "empty/here" });
    expect(r.structuredContent?.keys).toEqual([]);
    expect(text(r)).toContain("No secrets under");
  });
});

describe("delete_secret", () => {
  it("soft-deletes the latest KV v2 version, which stays recoverable", async () => {
    await ok(client, "write_secret", { mount: v2, path: "del/soft", key: "a", value: "1" });
    const r = await ok(client, "delete_secret", { mount: v2, path: "del/soft" });
    expect(r.structuredContent).toMatchObject({ version: 1, recoverable: true });
    const read = await call(client, "read_secret", { mount: v2, path: "del/soft" });
    expect(text(read)).toContain("Version 1 of");
    expect(text(read)).toContain("was deleted at");
    // Vault still holds the version: undelete brings it back.
    await vaultApi("POST", `${v2}/undelete/del/soft`, { versions: [1] });
    expect((await ok(client, "read_secret", { mount: v2, path: "del/soft" })).structuredContent?.data).toEqual({ a: "1" });
  });

  it("removes one key as a new version, keeping the others", async () => {
    await ok(client, "write_secret", { mount: v2, path: "del/key", data: { a: "1", b: "2" } });
    const r = await ok(client, "delete_secret", { mount: v2, path: "del/key", key: "a" });
    expect(r.structuredContent).toMatchObject({ deleted_key: "a", version: 2 });
    expect((await ok(client, "read_secret", { mount: v2, path: "del/key" })).structuredContent?.data).toEqual({ b: "2" });
    expect((await ok(client, "read_secret", { mount: v2, path: "del/key", version: 1 })).structuredContent?.data).toEqual({ a: "1", b: "2" });
  });

  it("refuses to delete what is not there, and says so", async () => {
    expect(text(await call(client, "delete_secret", { mount: v2, path: "del/ghost" }))).toContain("No secret exists at");
    expect(text(await call(client, "delete_secret", { mount: v2, path: "del/key", key: "zzz" }))).toContain('has no key "zzz"');
  });
});

describe("KV v1", () => {
  it("writes, merges, reads, lists and deletes without versions", async () => {
    const w = await ok(client, "write_secret", { mount: v1, path: "app/cfg", key: "a", value: "1" });
    expect(text(w)).not.toContain("Version:");
    expect(w.structuredContent).toEqual({ mount: v1, path: "app/cfg", keys_written: ["a"], created: true });
    await ok(client, "write_secret", { mount: v1, path: "app/cfg", key: "b", value: "2" });
    const r = await ok(client, "read_secret", { mount: v1, path: "app/cfg" });
    expect(r.structuredContent).toEqual({ mount: v1, path: "app/cfg", data: { a: "1", b: "2" }, kv_version: 1 });
    expect((await ok(client, "list_secrets", { mount: v1, path: "app" })).structuredContent?.keys).toEqual(["cfg"]);
    await ok(client, "delete_secret", { mount: v1, path: "app/cfg", key: "a" });
    expect((await ok(client, "read_secret", { mount: v1, path: "app/cfg" })).structuredContent?.data).toEqual({ b: "2" });
    const d = await ok(client, "delete_secret", { mount: v1, path: "app/cfg" });
    expect(d.structuredContent?.recoverable).toBe(false);
    expect((await call(client, "read_secret", { mount: v1, path: "app/cfg" })).isError).toBe(true);
  });

  it("loses no key under concurrent writes from this replica", async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => ok(client, "write_secret", { mount: v1, path: "race", key: `k${i}`, value: "v" })));
    expect(Object.keys((await ok(client, "read_secret", { mount: v1, path: "race" })).structuredContent?.data)).toHaveLength(8);
  });

  it("refuses version and cas, which v1 does not have", async () => {
    expect(text(await call(client, "read_secret", { mount: v1, path: "race", version: 1 }))).toContain("KV v1 mount, which keeps no versions");
    expect(text(await call(client, "write_secret", { mount: v1, path: "race", key: "a", value: "b", cas: 0 }))).toContain("has no check-and-set");
  });
});

describe("mount handling", () => {
  it("explains a mount that does not exist and how to create it", async () => {
    const r = await call(client, "read_secret", { mount: "no-such-mount", path: "x" });
    expect(text(r)).toBe(
      'No secrets engine is mounted at no-such-mount/. Use list_mounts to see the mounts that exist, or create_mount(path="no-such-mount", type="kv-v2") to create it.',
    );
  });

  it("explains a mount argument that includes part of the secret path", async () => {
    const r = await call(client, "read_secret", { mount: `${v2}/myapp`, path: "database" });
    expect(text(r)).toContain(`lies inside the mount "${v2}": pass mount="${v2}" and put the rest in path`);
  });

  it("refuses a KV call on a mount of another engine", async () => {
    const pki = unique("pki");
    await ok(client, "create_mount", { path: pki, type: "pki" });
    expect(text(await call(client, "read_secret", { mount: pki, path: "x" }))).toContain("is a pki secrets engine, not KV");
  });
});

describe("bad input", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["missing path", { mount: "secret" }, 'missing required argument "path"'],
    ["path of the wrong type", { path: 5 }, 'argument "path" must be a string, got number 5'],
    ["a traversal path", { path: "../../sys/policies/acl/x", key: "a", value: "b" }, 'Invalid argument "path"'],
    ["a traversal mount", { mount: "secret/../sys", path: "x", key: "a", value: "b" }, 'Invalid argument "mount"'],
    ["a mount naming sys/", { mount: "sys", path: "policies/acl/x", key: "a", value: "b" }, "is Vault's own sys/ API"],
    ["an encoded slash", { path: "a%2F..%2F..%2Fsys", key: "a", value: "b" }, "percent-encoded"],
    ["a NUL byte", { path: "a\u0000b", key: "a", value: "b" }, "control character"],
    ["a key without a value", { path: "x", key: "a" }, '"key" was given without "value"'],
    ["a value without a key", { path: "x", value: "a" }, '"value" was given without "key"'],
    ["nothing to write", { path: "x" }, "nothing to write"],
    ["a null value", { path: "x", key: "a", value: null }, 'argument "value"'],
    ["a negative cas", { path: "x", key: "a", value: "b", cas: -1 }, 'argument "cas" must be at least 0'],
    ["an unknown argument", { path: "x", key: "a", value: "b", overwrite: true }, 'Unknown argument "overwrite" for write_secret'],
  ];
  for (const [what, args, message] of cases) {
    it(`write_secret refuses ${what}, and writes nothing`, async () => {
      const before = (await vaultApi("LIST", "secret/metadata")).json?.data?.keys ?? [];
      const r = await call(client, "write_secret", args);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(message);
      expect((await vaultApi("LIST", "secret/metadata")).json?.data?.keys ?? []).toEqual(before);
    });
  }

  it("no traversal ever reaches Vault's sys/ API", async () => {
    await call(client, "write_secret", { path: "../../sys/policies/acl/pwned", key: "policy", value: 'path "*" { capabilities = ["sudo"] }' });
    expect((await vaultApi("GET", "sys/policies/acl/pwned")).status).toBe(404);
  });
});
