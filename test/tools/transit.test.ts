// Transit tools end to end: a real SDK Client over HTTP and a real Vault dev server; ciphertexts and signatures checked by Vault itself.
import { beforeAll, describe, expect, it } from "bun:test";
import { createPublicKey, verify } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, refused, sc, testServer, text, unique, vaultApi } from "../support/mcp.ts";

let client: Client;
let mount: string;

beforeAll(async () => {
  client = await connectClient(testServer());
  mount = unique("transit");
  await ok(client, "enable_transit", { path: mount });
});

describe("enable_transit", () => {
  it("mounts a transit engine, and refuses a path already taken", async () => {
    expect((await vaultApi("GET", `sys/mounts/${mount}`)).json.data.type).toBe("transit");
    expect(await refused(client, "enable_transit", { path: mount })).toContain("already mounted");
  });
});

describe("transit keys", () => {
  it("creates, lists and reads a key, and refuses to create it twice", async () => {
    const name = unique("k");
    const created = sc(await ok(client, "create_transit_key", { mount, name }));
    expect(created).toMatchObject({ mount, name, type: "aes256-gcm96", latest_version: 1, created: true, deletion_allowed: false });
    expect(sc(await ok(client, "list_transit_keys", { mount })).keys).toContain(name);
    const read = sc(await ok(client, "read_transit_key", { mount, name }));
    expect(read.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    expect(JSON.stringify(read)).not.toMatch(/"key"\s*:/);
    expect(await refused(client, "create_transit_key", { mount, name, type: "ed25519" })).toContain("already exists");
    expect((await vaultApi("GET", `${mount}/keys/${name}`)).json.data.type).toBe("aes256-gcm96");
    // Vault refuses a derived hmac key with a 500; the key is not there, so it is a refusal, not an unknown state.
    const odd = unique("odd");
    const why = await refused(client, "create_transit_key", { mount, name: odd, type: "hmac", derived: true });
    expect(why).toContain("Nothing was created");
    expect((await vaultApi("GET", `${mount}/keys/${odd}`)).status).toBe(404);
  });

  it("says which tool to use for a key or mount that does not exist", async () => {
    expect(await refused(client, "read_transit_key", { mount, name: "nope" })).toContain("create_transit_key");
    expect(await refused(client, "list_transit_keys", { mount: "secret" })).toContain("not transit");
    expect(await refused(client, "encrypt_data", { mount, name: "nope", plaintext: "x" })).toContain("No transit key");
    // encrypt never creates the key by upsert.
    expect((await vaultApi("GET", `${mount}/keys/nope`)).status).toBe(404);
  });

  it("refuses to delete a key until deletion_allowed, explaining why, then deletes it", async () => {
    const name = unique("del");
    await ok(client, "create_transit_key", { mount, name });
    const why = await refused(client, "delete_transit_key", { mount, name });
    expect(why).toContain("deletion_allowed=false");
    expect(why).toContain("update_transit_key_config");
    expect((await vaultApi("GET", `${mount}/keys/${name}`)).status).toBe(200);
    expect(sc(await ok(client, "update_transit_key_config", { mount, name, deletion_allowed: true })).deletion_allowed).toBe(true);
    const deleted = await ok(client, "delete_transit_key", { mount, name });
    expect(text(deleted)).toContain("cannot be undone");
    expect((await vaultApi("GET", `${mount}/keys/${name}`)).status).toBe(404);
  });
});

describe("encrypt, decrypt, rotate, rewrap", () => {
  it("round-trips text, and binary data as base64, saying which", async () => {
    const name = unique("rt");
    await ok(client, "create_transit_key", { mount, name });
    const enc = sc(await ok(client, "encrypt_data", { mount, name, plaintext: "héllo wörld" }));
    expect(enc.ciphertext).toMatch(/^vault:v1:/);
    const dec = sc(await ok(client, "decrypt_data", { mount, name, ciphertext: enc.ciphertext }));
    expect(dec).toMatchObject({ plaintext: "héllo wörld", encoding: "utf8" });
    const binary = Buffer.from([0xff, 0x00, 0xfe]).toString("base64");
    const encBin = sc(await ok(client, "encrypt_data", { mount, name, plaintext: binary, plaintext_is_base64: true }));
    const decBin = await ok(client, "decrypt_data", { mount, name, ciphertext: encBin.ciphertext });
    expect(sc(decBin)).toMatchObject({ plaintext: binary, encoding: "base64" });
    expect(text(decBin)).toContain("base64");
  });

  it("rotates, and a rewrapped ciphertext names the new version and still decrypts", async () => {
    const name = unique("rot");
    await ok(client, "create_transit_key", { mount, name });
    const v1 = sc(await ok(client, "encrypt_data", { mount, name, plaintext: "rotate me" }));
    expect(sc(await ok(client, "rotate_transit_key", { mount, name }))).toMatchObject({ previous_version: 1, latest_version: 2 });
    expect((await vaultApi("GET", `${mount}/keys/${name}`)).json.data.latest_version).toBe(2);
    const rewrapped = sc(await ok(client, "rewrap_data", { mount, name, ciphertext: v1.ciphertext }));
    expect(rewrapped).toMatchObject({ key_version: 2, previous_version: 1 });
    expect(rewrapped.ciphertext).toMatch(/^vault:v2:/);
    expect(sc(await ok(client, "decrypt_data", { mount, name, ciphertext: rewrapped.ciphertext })).plaintext).toBe("rotate me");
    // With min_decryption_version 2, the old ciphertext no longer decrypts, and the error says why.
    await ok(client, "update_transit_key_config", { mount, name, min_decryption_version: 2 });
    expect(await refused(client, "decrypt_data", { mount, name, ciphertext: v1.ciphertext })).toContain("Vault refused to decrypt");
  });

  it("encrypts and decrypts a batch in order, with a derived key's contexts", async () => {
    const name = unique("batch");
    await ok(client, "create_transit_key", { mount, name, derived: true });
    const items = [{ plaintext: "one", context: "a" }, { plaintext: "two", context: "b" }];
    const enc = sc(await ok(client, "encrypt_data", { mount, name, items }));
    expect(enc.results).toHaveLength(2);
    const dec = sc(await ok(client, "decrypt_data", { mount, name, items: enc.results.map((r: { ciphertext: string }, i: number) => ({ ciphertext: r.ciphertext, context: items[i]!.context })) }));
    expect(dec.results.map((r: { plaintext: string }) => r.plaintext)).toEqual(["one", "two"]);
    // One wrong context fails that item only.
    const mixed = sc(await ok(client, "decrypt_data", { mount, name, items: [{ ciphertext: enc.results[0].ciphertext, context: "a" }, { ciphertext: enc.results[1].ciphertext, context: "zzz" }] }));
    expect(mixed.results[0].plaintext).toBe("one");
    expect(mixed.results[1].error).toBeString();
    expect(await refused(client, "encrypt_data", { mount, name, plaintext: "x" })).toContain("context");
    expect(await refused(client, "encrypt_data", { mount, name, plaintext: "x", items })).toContain("not both");
    expect((await call(client, "encrypt_data", { mount, name, items: Array.from({ length: 101 }, () => ({ plaintext: "x", context: "a" })) })).isError).toBe(true);
  });

  it("masks the decrypted plaintext and random bytes when the operator masks secret values", async () => {
    const masked = await connectClient(testServer({ MCP_SECRET_VALUES: "mask" }));
    try {
      const name = unique("mask");
      await ok(client, "create_transit_key", { mount, name });
      const enc = sc(await ok(client, "encrypt_data", { mount, name, plaintext: "top-secret-value" }));
      const dec = await ok(masked, "decrypt_data", { mount, name, ciphertext: enc.ciphertext });
      expect(JSON.stringify(dec)).not.toContain("top-secret-value");
      const rnd = await ok(client, "generate_random_bytes", { mount, bytes: 16, format: "hex" });
      expect(sc(rnd).random_bytes).toMatch(/^[0-9a-f]{32}$/);
      const hidden = await ok(masked, "generate_random_bytes", { mount });
      expect(JSON.stringify(hidden)).toContain("masked");
    } finally {
      await masked.close();
    }
  });
});

describe("signatures, HMACs and hashes", () => {
  it("signs with ed25519, verifies the signature (also with node:crypto and the public key), and refuses a tampered one", async () => {
    const name = unique("sig");
    await ok(client, "create_transit_key", { mount, name, type: "ed25519" });
    const signed = sc(await ok(client, "sign_data", { mount, name, input: "pay 10 EUR" }));
    expect(signed.signature).toMatch(/^vault:v1:/);
    expect(sc(await ok(client, "verify_signature", { mount, name, input: "pay 10 EUR", signature: signed.signature })).valid).toBe(true);
    const tamperedData = await ok(client, "verify_signature", { mount, name, input: "pay 99 EUR", signature: signed.signature });
    expect(sc(tamperedData).valid).toBe(false);
    expect(text(tamperedData)).toContain("does NOT verify");
    const raw = Buffer.from(signed.signature.split(":")[2], "base64");
    raw[0] = raw[0]! ^ 0xff;
    const tampered = await call(client, "verify_signature", { mount, name, input: "pay 10 EUR", signature: `vault:v1:${raw.toString("base64")}` });
    expect(tampered.isError ? text(tampered) : sc(tampered).valid).not.toBe(true);
    const pub = sc(await ok(client, "read_transit_key", { mount, name })).versions[0].public_key;
    const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(pub, "base64")]), format: "der", type: "spki" });
    expect(verify(null, Buffer.from("pay 10 EUR"), key, Buffer.from(signed.signature.split(":")[2], "base64"))).toBe(true);
  });

  it("signs and verifies with ecdsa-p256, and says an encryption key cannot sign", async () => {
    const name = unique("ec");
    await ok(client, "create_transit_key", { mount, name, type: "ecdsa-p256" });
    const signed = sc(await ok(client, "sign_data", { mount, name, input: "abc" }));
    expect(sc(await ok(client, "verify_signature", { mount, name, input: "abc", signature: signed.signature })).valid).toBe(true);
    expect(sc(await ok(client, "verify_signature", { mount, name, input: "abd", signature: signed.signature })).valid).toBe(false);
    const aes = unique("aes");
    await ok(client, "create_transit_key", { mount, name: aes });
    expect(await refused(client, "sign_data", { mount, name: aes, input: "abc" })).toContain("Vault refused to sign");
    // Vault answers 500 for a version the key does not have; nothing changed, so it is a refusal, not an unknown state.
    const tooNew = await refused(client, "sign_data", { mount, name, input: "abc", key_version: 9 });
    expect(tooNew).toContain("Vault refused to sign");
    expect(tooNew).not.toContain("may or may not");
    // A bad argument is refused before any request reaches Vault.
    expect(await refused(client, "sign_data", { mount, name: "no-such-key-at-all", input: "not base64!", input_is_base64: true })).toStartWith('Invalid argument "input"');
  });

  it("makes and verifies an HMAC, and hashes as Vault does", async () => {
    const name = unique("hmac");
    await ok(client, "create_transit_key", { mount, name, type: "hmac" });
    const mac = sc(await ok(client, "generate_hmac", { mount, name, input: "msg" }));
    expect(mac.hmac).toMatch(/^vault:v1:/);
    expect(sc(await ok(client, "verify_hmac", { mount, name, input: "msg", hmac: mac.hmac })).valid).toBe(true);
    expect(sc(await ok(client, "verify_hmac", { mount, name, input: "msh", hmac: mac.hmac })).valid).toBe(false);
    const sum = sc(await ok(client, "hash_data", { mount, input: "abc" })).sum;
    expect(sum).toBe(new Bun.CryptoHasher("sha256").update("abc").digest("hex"));
  });
});

describe("a read-only-policy token", () => {
  let ro: Client;
  let name: string;
  let ciphertext: string;
  beforeAll(async () => {
    name = unique("ro");
    await ok(client, "create_transit_key", { mount, name, type: "ed25519" });
    await vaultApi("POST", `${mount}/keys/${name}/config`, { deletion_allowed: true });
    await ok(client, "create_transit_key", { mount, name: `${name}-aes` });
    ciphertext = sc(await ok(client, "encrypt_data", { mount, name: `${name}-aes`, plaintext: "x" })).ciphertext;
    await vaultApi("PUT", "sys/policies/acl/transit-read-only-test", {
      policy: `path "${mount}/keys/*" { capabilities = ["read", "list"] }\npath "sys/mounts" { capabilities = ["read"] }\npath "sys/internal/ui/mounts/*" { capabilities = ["read"] }`,
    });
    const token = (await vaultApi("POST", "auth/token/create", { policies: ["transit-read-only-test"], ttl: "10m" })).json.auth.client_token;
    ro = await connectClient(testServer({ VAULT_TOKEN: token }));
  });

  it("reads and lists keys", async () => {
    expect(sc(await ok(ro, "list_transit_keys", { mount })).keys).toContain(name);
    expect(sc(await ok(ro, "read_transit_key", { mount, name })).type).toBe("ed25519");
  });

  it("gets a clear permission error from every transit write tool, and nothing is written", async () => {
    const aes = `${name}-aes`;
    const writes: [string, Record<string, unknown>][] = [
      ["enable_transit", { path: unique("ro-transit") }],
      ["create_transit_key", { mount, name: unique("ro-new") }],
      ["rotate_transit_key", { mount, name }],
      ["update_transit_key_config", { mount, name, min_encryption_version: 1 }],
      ["delete_transit_key", { mount, name }],
      ["encrypt_data", { mount, name: aes, plaintext: "x" }],
      ["decrypt_data", { mount, name: aes, ciphertext }],
      ["rewrap_data", { mount, name: aes, ciphertext }],
      ["generate_hmac", { mount, name: aes, input: "x" }],
      ["verify_hmac", { mount, name: aes, input: "x", hmac: "vault:v1:AAAA" }],
      ["sign_data", { mount, name, input: "x" }],
      ["verify_signature", { mount, name, input: "x", signature: "vault:v1:AAAA" }],
      ["hash_data", { mount, input: "x" }],
      ["generate_random_bytes", { mount }],
    ];
    for (const [tool, args] of writes) {
      const said = `${tool}: ${await refused(ro, tool, args)}`;
      expect(said).toMatch(new RegExp(`^${tool}: Permission denied: this token may not (write to|delete) \\S+ \\(it needs the "(create/update|delete)" capability`));
      expect(said).toContain("Nothing was changed.");
    }
    const key = (await vaultApi("GET", `${mount}/keys/${name}`)).json.data;
    expect([key.latest_version, key.min_encryption_version]).toEqual([1, 0]);
    expect((await vaultApi("LIST", `${mount}/keys`)).json.data.keys.filter((k: string) => k.startsWith("ro-new"))).toEqual([]);
  });
});
