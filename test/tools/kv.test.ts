// KV tools end to end through the SDK Client over HTTP, against the real dev Vault, on v1 and v2 mounts.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, testServer, text, unique, vaultApi, type TestServer } from "../support/mcp.ts";
import { withoutGuidance } from "../../src/tools/guidance.ts";

/** A server whose operator chose MCP_KV1_MERGE=local: KV v1 merges allowed, serialised in this process only. */
function localMergeServer(): TestServer {
  return testServer({ MCP_KV1_MERGE: "local" });
}

// Names every plain object inherits: a lookup with `in` or `obj[key]` finds them in any secret.
const PROTOTYPE_NAMES = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];

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
    expect(withoutGuidance(r.structuredContent)).toEqual({ mount: v2, path: "myapp/database", keys_written: ["password"], created: true, version: 1 });
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

describe("write_secret replaces each value it is given whole, whatever the value holds (found by the fuzz)", () => {
  it("does not deep-merge an object value into the one stored, nor drop its nulls", async () => {
    await ok(client, "write_secret", { mount: v2, path: "nested/obj", key: "k", value: { a: "1" } });
    const r = await ok(client, "write_secret", { mount: v2, path: "nested/obj", key: "k", value: { b: null, c: "2" } });
    const held = (await vaultApi("GET", `${v2}/data/nested/obj`)).json.data;
    expect(held.data).toEqual({ k: { b: null, c: "2" } });
    expect(r.structuredContent?.version).toBe(held.metadata.version);
  });

  it("keeps nulls inside a list value, and the other keys of the secret", async () => {
    await ok(client, "write_secret", { mount: v2, path: "nested/list", data: { keep: "me", k: "old" } });
    await ok(client, "write_secret", { mount: v2, path: "nested/list", key: "k", value: ["x", { a: null }] });
    expect((await vaultApi("GET", `${v2}/data/nested/list`)).json.data.data).toEqual({ keep: "me", k: ["x", { a: null }] });
  });

  it("loses no key when writers of object values and of plain values race on one secret", async () => {
    const path = unique("nested-race");
    await ok(client, "write_secret", { mount: v2, path, key: "seed", value: "0" });
    const writes = Array.from({ length: 12 }, (_, i) => ok(client, "write_secret", { mount: v2, path, key: `k${i}`, value: i % 2 ? { n: i, z: null } : `v${i}` }));
    await Promise.all(writes);
    const held = (await vaultApi("GET", `${v2}/data/${path}`)).json.data.data;
    for (let i = 0; i < 12; i++) expect(held[`k${i}`]).toEqual(i % 2 ? { n: i, z: null } : `v${i}`);
    expect(held.seed).toBe("0");
  });
});

describe("list_secrets", () => {
  it("lists secrets and folders under a path", async () => {
    await ok(client, "write_secret", { mount: v2, path: "tree/a", key: "x", value: "1" });
    await ok(client, "write_secret", { mount: v2, path: "tree/sub/b", key: "x", value: "1" });
    const r = await ok(client, "list_secrets", { mount: v2, path: "tree" });
    expect(withoutGuidance(r.structuredContent)).toEqual({ mount: v2, path: "tree", keys: ["a", "sub/"] });
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

describe("KV v1 with MCP_KV1_MERGE=local (one replica: merges serialised in this process)", () => {
  let local: Client;
  beforeAll(async () => {
    local = await connectClient(localMergeServer());
  });

  it("writes, merges, reads, lists and deletes without versions", async () => {
    const w = await ok(local, "write_secret", { mount: v1, path: "app/cfg", key: "a", value: "1" });
    expect(text(w)).not.toContain("Version:");
    expect(withoutGuidance(w.structuredContent)).toEqual({ mount: v1, path: "app/cfg", keys_written: ["a"], created: true });
    await ok(local, "write_secret", { mount: v1, path: "app/cfg", key: "b", value: "2" });
    const r = await ok(local, "read_secret", { mount: v1, path: "app/cfg" });
    expect(withoutGuidance(r.structuredContent)).toEqual({ mount: v1, path: "app/cfg", data: { a: "1", b: "2" }, kv_version: 1 });
    expect((await ok(local, "list_secrets", { mount: v1, path: "app" })).structuredContent?.keys).toEqual(["cfg"]);
    await ok(local, "delete_secret", { mount: v1, path: "app/cfg", key: "a" });
    expect((await ok(local, "read_secret", { mount: v1, path: "app/cfg" })).structuredContent?.data).toEqual({ b: "2" });
    const d = await ok(local, "delete_secret", { mount: v1, path: "app/cfg" });
    expect(d.structuredContent?.recoverable).toBe(false);
    expect((await call(local, "read_secret", { mount: v1, path: "app/cfg" })).isError).toBe(true);
  });

  it("loses no key under concurrent writes from this replica", async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => ok(local, "write_secret", { mount: v1, path: "race", key: `k${i}`, value: "v" })));
    expect(Object.keys((await ok(local, "read_secret", { mount: v1, path: "race" })).structuredContent?.data)).toHaveLength(8);
  });

  for (const name of PROTOTYPE_NAMES) {
    it(`delete_secret(key="${name}") on KV v1 refuses a secret without it and writes nothing`, async () => {
      await vaultApi("POST", `${v1}/proto/local-${name}`, { a: "1" });
      const r = await call(local, "delete_secret", { mount: v1, path: `proto/local-${name}`, key: name });
      expect(text(r)).toContain(`has no key "${name}"`);
      expect((await vaultApi("GET", `${v1}/proto/local-${name}`)).json.data).toEqual({ a: "1" });
    });
  }

  it("refuses version and cas, which v1 does not have", async () => {
    expect(text(await call(local, "read_secret", { mount: v1, path: "race", version: 1 }))).toContain("KV v1 mount, which keeps no versions");
    expect(text(await call(local, "write_secret", { mount: v1, path: "race", key: "a", value: "b", cas: 0 }))).toContain("has no check-and-set");
  });
});

describe("KV v1 by default (any number of replicas: no merge without check-and-set)", () => {
  const v1Data = async (path: string) => (await vaultApi("GET", `${v1}/${path}`)).json?.data ?? null;

  it("refuses to merge keys into a KV v1 secret, says why and names KV v2, and writes nothing", async () => {
    await vaultApi("POST", `${v1}/refuse/merge`, { a: "1" });
    const r = await call(client, "write_secret", { mount: v1, path: "refuse/merge", key: "b", value: "2" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`KV v1 has no check-and-set, so merging keys into ${v1}/refuse/merge cannot be made safe with more than one server replica`);
    expect(text(r)).toContain("Nothing was written.");
    expect(text(r)).toContain("replace=true");
    expect(text(r)).toContain('type="kv-v2"');
    expect(await v1Data("refuse/merge")).toEqual({ a: "1" });
  });

  it("refuses to create a KV v1 secret by merging too, since two creators race the same way", async () => {
    const r = await call(client, "write_secret", { mount: v1, path: "refuse/new", data: { a: "1" } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("no check-and-set");
    expect(await v1Data("refuse/new")).toBeNull();
  });

  it("with replace=true writes exactly the given keys as the whole secret, and names the keys it removed", async () => {
    await vaultApi("POST", `${v1}/replace/cfg`, { a: "1", b: "2" });
    const r = await ok(client, "write_secret", { mount: v1, path: "replace/cfg", data: { b: "3", c: "4" }, replace: true });
    expect(text(r)).toBe(
      `Replaced the whole secret at ${v1}/replace/cfg; it now holds exactly: b, c\nKeys removed (held just before the write): a\nYou can retrieve it with: read_secret(mount="${v1}", path="replace/cfg")`,
    );
    expect(withoutGuidance(r.structuredContent)).toEqual({ mount: v1, path: "replace/cfg", keys_written: ["b", "c"], created: false, replaced: true, keys_removed: ["a"] });
    expect(await v1Data("replace/cfg")).toEqual({ b: "3", c: "4" });
  });

  it("with replace=true creates a KV v1 secret", async () => {
    const r = await ok(client, "write_secret", { mount: v1, path: "replace/new", key: "a", value: "1", replace: true });
    expect(r.structuredContent).toMatchObject({ created: true, replaced: true, keys_removed: [] });
    expect(await v1Data("replace/new")).toEqual({ a: "1" });
  });

  it("refuses to remove one key from a KV v1 secret, names the safe ways, and changes nothing", async () => {
    await vaultApi("POST", `${v1}/refuse/keydel`, { a: "1", b: "2" });
    const r = await call(client, "delete_secret", { mount: v1, path: "refuse/keydel", key: "a" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`KV v1 has no check-and-set, so removing one key from ${v1}/refuse/keydel cannot be made safe with more than one server replica`);
    expect(text(r)).toContain("Nothing was changed.");
    expect(text(r)).toContain("replace=true");
    expect(text(r)).toContain('type="kv-v2"');
    expect(await v1Data("refuse/keydel")).toEqual({ a: "1", b: "2" });
  });

  it("deletes a whole KV v1 secret, which is one request and safe", async () => {
    await vaultApi("POST", `${v1}/refuse/whole`, { a: "1" });
    const d = await ok(client, "delete_secret", { mount: v1, path: "refuse/whole" });
    expect(text(d)).toBe(`Deleted ${v1}/refuse/whole permanently (KV v1 keeps no versions).`);
    expect(await v1Data("refuse/whole")).toBeNull();
  });

  it("reads KV v1 secrets and their keys as before", async () => {
    await vaultApi("POST", `${v1}/refuse/read`, { a: "1" });
    expect((await ok(client, "read_secret", { mount: v1, path: "refuse/read", key: "a" })).structuredContent?.data).toEqual({ a: "1" });
  });
});

describe("write_secret with replace=true on KV v2", () => {
  it("writes exactly the given keys as a new version, names the keys it removed, and keeps the old version", async () => {
    await ok(client, "write_secret", { mount: v2, path: "replace/v2", data: { a: "1", b: "2" } });
    const r = await ok(client, "write_secret", { mount: v2, path: "replace/v2", data: { b: "3" }, replace: true });
    expect(withoutGuidance(r.structuredContent)).toEqual({ mount: v2, path: "replace/v2", keys_written: ["b"], created: false, version: 2, replaced: true, keys_removed: ["a"] });
    expect(text(r)).toContain(`Replaced the whole secret at ${v2}/replace/v2 with version 2; it now holds exactly: b\nKeys removed (still in version 1): a`);
    expect((await vaultApi("GET", `${v2}/data/replace/v2`)).json.data.data).toEqual({ b: "3" });
    expect((await vaultApi("GET", `${v2}/data/replace/v2?version=1`)).json.data.data).toEqual({ a: "1", b: "2" });
  });

  it("honours cas with replace", async () => {
    const bad = await call(client, "write_secret", { mount: v2, path: "replace/v2", key: "z", value: "1", replace: true, cas: 1 });
    expect(text(bad)).toContain("Check-and-set failed: cas=1");
    expect((await vaultApi("GET", `${v2}/data/replace/v2`)).json.data.data).toEqual({ b: "3" });
    const good = await ok(client, "write_secret", { mount: v2, path: "replace/v2", key: "z", value: "1", replace: true, cas: 2 });
    expect(good.structuredContent).toMatchObject({ version: 3, keys_removed: ["b"] });
  });

  it("creates a secret with replace, after its latest version was deleted too", async () => {
    const r = await ok(client, "write_secret", { mount: v2, path: "replace/fresh", key: "a", value: "1", replace: true });
    expect(r.structuredContent).toMatchObject({ created: true, version: 1, keys_removed: [] });
    await ok(client, "delete_secret", { mount: v2, path: "replace/fresh" });
    const again = await ok(client, "write_secret", { mount: v2, path: "replace/fresh", key: "b", value: "2", replace: true });
    expect(again.structuredContent).toMatchObject({ version: 2, keys_removed: [] });
    expect((await vaultApi("GET", `${v2}/data/replace/fresh`)).json.data.data).toEqual({ b: "2" });
  });
});

describe("key names that Object.prototype also has", () => {
  /** `{ [name]: value }` parsed from JSON, so even "__proto__" is a real own key (a literal would set the prototype). */
  const dataOf = (name: string, value: string) => JSON.parse(JSON.stringify({ [name]: value, other: "o" })) as Record<string, string>;

  for (const name of PROTOTYPE_NAMES) {
    it(`read_secret(key="${name}") says a secret without it has no such key (KV v2 and v1)`, async () => {
      await vaultApi("POST", `${v2}/data/proto/read`, { data: { a: "1" } });
      await vaultApi("POST", `${v1}/proto/read`, { a: "1" });
      for (const mount of [v2, v1]) {
        const r = await call(client, "read_secret", { mount, path: "proto/read", key: name });
        expect(r.isError).toBe(true);
        expect(text(r)).toContain(`has no key "${name}". Its keys are: a.`);
      }
    });

    it(`delete_secret(key="${name}") refuses a secret without it and writes no new version`, async () => {
      await vaultApi("POST", `${v2}/data/proto/del-${name}`, { data: { a: "1" } });
      const r = await call(client, "delete_secret", { mount: v2, path: `proto/del-${name}`, key: name });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(`has no key "${name}"`);
      expect((await vaultApi("GET", `${v2}/metadata/proto/del-${name}`)).json.data.current_version).toBe(1);
    });

    it(`write_secret stores "${name}" as a real key, as key and in data, and read_secret and delete_secret find it`, async () => {
      const path = `proto/write-${name}`;
      const w = await ok(client, "write_secret", { mount: v2, path, key: name, value: "k" });
      expect(w.structuredContent?.keys_written).toEqual([name]);
      expect(Object.hasOwn((await vaultApi("GET", `${v2}/data/${path}`)).json.data.data, name)).toBe(true);
      const w2 = await ok(client, "write_secret", { mount: v2, path: `${path}-data`, data: dataOf(name, "d") });
      expect(w2.structuredContent?.keys_written).toEqual([name, "other"]);
      const stored = (await vaultApi("GET", `${v2}/data/${path}-data`)).json.data.data;
      expect(Object.hasOwn(stored, name) && stored[name]).toBe("d");
      const r = await ok(client, "read_secret", { mount: v2, path: `${path}-data`, key: name });
      expect(Object.hasOwn(r.structuredContent?.data, name) && r.structuredContent?.data[name]).toBe("d");
      await ok(client, "delete_secret", { mount: v2, path: `${path}-data`, key: name });
      expect(Object.keys((await vaultApi("GET", `${v2}/data/${path}-data`)).json.data.data)).toEqual(["other"]);
    });

    it(`write_secret(replace=true) stores "${name}" as a real key on KV v1`, async () => {
      const path = `proto/v1-${name}`;
      await ok(client, "write_secret", { mount: v1, path, data: dataOf(name, "d"), replace: true });
      const stored = (await vaultApi("GET", `${v1}/${path}`)).json.data;
      expect(Object.keys(stored).sort()).toEqual([name, "other"].sort());
      expect((await ok(client, "read_secret", { mount: v1, path, key: name })).structuredContent?.data[name]).toBe("d");
    });
  }

  it('stores data {"__proto__": ...} as a real key through the SDK path too (a client that accepts only SSE)', async () => {
    const path = unique("proto-sse");
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_secret","arguments":{"mount":"${v2}","path":"${path}","data":{"__proto__":"x","a":"1"}}}}`;
    const res = await testServer().fetch("http://127.0.0.1:8084/mcp", { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream" }, body });
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    expect(await res.text()).toContain('"keys_written":["__proto__","a"]');
    expect(Object.keys((await vaultApi("GET", `${v2}/data/${path}`)).json.data.data)).toEqual(["__proto__", "a"]);
  });

  it("write_secret refuses a key given both as key and in data only when data really holds it", async () => {
    const r = await call(client, "write_secret", { mount: v2, path: "proto/both", key: "toString", value: "1", data: { a: "2" } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent?.keys_written).toEqual(["a", "toString"]);
    const both = await call(client, "write_secret", { mount: v2, path: "proto/both", key: "__proto__", value: "1", data: dataOf("__proto__", "2") });
    expect(text(both)).toContain('key "__proto__" is given both as key and in data');
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
