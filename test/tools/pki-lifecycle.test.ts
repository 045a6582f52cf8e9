// PKI lifecycle end to end through a real SDK Client over HTTP and a real Vault dev server: a CSR made here is signed,
// read, listed and revoked (the revocation checked in the CRL with openssl), tidy, and changing issuers.
import { beforeAll, describe, expect, it } from "bun:test";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { connectClient, ok, refused, sc, testServer, text, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

const repoRoot = join(import.meta.dir, "..", "..");

function openssl(args: string[], input?: string): string {
  const r = Bun.spawnSync(["openssl", ...args], { stdin: input !== undefined ? Buffer.from(input) : undefined, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** A CSR for `cn` (and `sans`) over a key made now with node:crypto; the key stays here, as it would with its owner. */
function makeCsr(cn: string, sans: string[] = []): { csr: string; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const dir = mkdtempSync(join(tmpdir(), "csr-"));
  try {
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const ext = sans.length > 0 ? ["-addext", `subjectAltName=${sans.map((s) => `DNS:${s}`).join(",")}`] : [];
    const csr = openssl(["req", "-new", "-key", keyFile, "-subj", `/CN=${cn}`, ...ext]);
    return { csr, spki: publicKey.export({ type: "spki", format: "der" }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CRL a mount publishes (unauthenticated, as clients fetch it), as openssl prints it. */
async function crlText(mount: string): Promise<string> {
  const res = await fetch(`${testVault().addr}/v1/${mount}/crl/pem`);
  expect(res.status).toBe(200);
  return openssl(["crl", "-noout", "-text"], await res.text());
}

const opensslSerial = (serial: string) => serial.replace(/:/g, "").toUpperCase();

let client: Client;
let mount: string;

beforeAll(async () => {
  client = await connectClient();
  mount = unique("pki-life");
  await ok(client, "enable_pki", { path: mount });
  await ok(client, "create_pki_issuer", { mount, type: "root", common_name: "Lifecycle Root", issuer_name: "root" });
  await ok(client, "create_pki_role", { mount, role_name: "web", allowed_domains: ["example.com"], allow_subdomains: true, max_ttl: "72h", key_type: "ec" });
});

describe("sign_pki_csr, then read, list and revoke", () => {
  it("signs a CSR made here, and the revocation is in the CRL", async () => {
    const { csr, spki } = makeCsr("api.example.com", ["api.example.com", "www.example.com"]);
    const signed = await ok(client, "sign_pki_csr", { mount, role_name: "web", csr, ttl: "24h" });
    const s = sc(signed);
    expect(text(signed)).toContain("private key stayed with the CSR's owner");
    expect(JSON.stringify(signed)).not.toContain("PRIVATE KEY");
    const cert = new X509Certificate(s.certificate);
    expect(cert.publicKey.export({ type: "spki", format: "der" }).equals(spki)).toBe(true);
    expect(cert.subject).toContain("CN=api.example.com");
    expect(s.subject_alt_names.sort()).toEqual(["DNS:api.example.com", "DNS:www.example.com"]);
    expect(Math.abs(Date.parse(s.not_after) - Date.parse(s.not_before) - 24 * 3600_000)).toBeLessThan(120_000);
    expect(s.ca_chain.length).toBeGreaterThan(0);

    const listed = sc(await ok(client, "list_pki_certificates", { mount }));
    expect(listed.serials).toContain(s.serial);

    const read = sc(await ok(client, "read_pki_certificate", { mount, serial: s.serial.replace(/:/g, "-").toUpperCase() }));
    expect(read).toMatchObject({ serial: s.serial, common_name: "api.example.com", revoked: false, expired: false, not_after: s.not_after });
    expect(read.subject_alt_names.sort()).toEqual(["DNS:api.example.com", "DNS:www.example.com"]);
    expect(await crlText(mount)).not.toContain(opensslSerial(s.serial));

    const revoked = await ok(client, "revoke_pki_certificate", { mount, serial: s.serial });
    const r = sc(revoked);
    const vaultSays = (await vaultApi("GET", `${mount}/cert/${s.serial}`)).json.data;
    expect(r).toEqual({ mount, serial: s.serial, revoked: true, revocation_time: new Date(vaultSays.revocation_time * 1000).toISOString() });
    expect(text(revoked)).toContain("cannot be undone");
    expect(await crlText(mount)).toContain(`Serial Number: ${opensslSerial(s.serial)}`);

    expect(sc(await ok(client, "read_pki_certificate", { mount, serial: s.serial }))).toMatchObject({ revoked: true, revocation_time: r.revocation_time });
    // Revoking again changes nothing and answers the first revocation time.
    expect(sc(await ok(client, "revoke_pki_certificate", { mount, serial: s.serial })).revocation_time).toBe(r.revocation_time);
  });

  it("takes alt_names as a list or as one comma-separated string, and common_name, when the role does not take the CSR's", async () => {
    await vaultApi("POST", `${mount}/roles/exact`, { allowed_domains: ["example.com"], allow_subdomains: true, use_csr_sans: false, use_csr_common_name: false, max_ttl: "1h", key_type: "ec" });
    const { csr } = makeCsr("ignored.example.com");
    for (const alt_names of [["a.example.com", "b.example.com"], "a.example.com, b.example.com"]) {
      const s = sc(await ok(client, "sign_pki_csr", { mount, role_name: "exact", csr, common_name: "named.example.com", alt_names }));
      expect(s.common_name).toBe("named.example.com");
      expect(s.subject_alt_names.sort()).toEqual(["DNS:a.example.com", "DNS:b.example.com", "DNS:named.example.com"]);
    }
  });

  it("says so when the role took the CSR's names over the ones asked for", async () => {
    const { csr } = makeCsr("csr.example.com");
    const signed = await ok(client, "sign_pki_csr", { mount, role_name: "web", csr, common_name: "other.example.com", alt_names: ["x.example.com"] });
    expect(sc(signed).common_name).toBe("csr.example.com");
    expect(text(signed)).toContain("not the common_name asked for");
    expect(text(signed)).toContain("Not in the certificate: x.example.com");
  });

  it("refuses a name the role does not allow, a key type it does not take, and a csr that is none, signing nothing", async () => {
    const before = (await vaultApi("LIST", `${mount}/certs`)).json.data.keys.length;
    await ok(client, "create_pki_role", { mount, role_name: "rsa-only", allowed_domains: ["example.com"], allow_subdomains: true });
    expect(await refused(client, "sign_pki_csr", { mount, role_name: "rsa-only", csr: makeCsr("a.example.com").csr })).toMatch(/requires keys of type rsa[\s\S]*key_type="ec"/);
    expect(await refused(client, "sign_pki_csr", { mount, role_name: "web", csr: makeCsr("evil.test").csr })).toMatch(/not allowed by this role[\s\S]*Nothing was signed/);
    expect(await refused(client, "sign_pki_csr", { mount, role_name: "web", csr: "csr.pem" })).toStartWith('Invalid argument "csr"');
    expect(await refused(client, "sign_pki_csr", { mount, role_name: "nope", csr: makeCsr("a.example.com").csr })).toContain("list_pki_roles");
    expect((await vaultApi("LIST", `${mount}/certs`)).json.data.keys.length).toBe(before);
  });

  it("answers an unknown serial, or one that is no serial, with what to do", async () => {
    expect(await refused(client, "read_pki_certificate", { mount, serial: "01:02:03" })).toContain(`list_pki_certificates(mount="${mount}")`);
    // "ca" is hex, and Vault answers cert/ca with the CA's certificate: that is not certificate ca.
    expect(await refused(client, "read_pki_certificate", { mount, serial: "ca" })).toContain("holds no certificate with serial ca");
    expect(await refused(client, "read_pki_certificate", { mount, serial: "../roles/web" })).toStartWith('Invalid argument "serial"');
    expect(await refused(client, "revoke_pki_certificate", { mount, serial: "01:02:03" })).toContain("list_pki_certificates");
  });
});

describe("tidy_pki", () => {
  it("starts Vault's tidy in the background and says how to see its state", async () => {
    const t = await ok(client, "tidy_pki", { mount, safety_buffer: "1h" });
    expect(sc(t)).toMatchObject({ mount, started: true });
    expect(text(t)).toContain("in the background");
    expect(text(t)).toContain(`${mount}/tidy-status`);
    expect((await vaultApi("GET", `${mount}/tidy-status`)).json.data.state).not.toBe("Inactive");
    expect(await refused(client, "tidy_pki", { mount, tidy_cert_store: false, tidy_revoked_certs: false })).toContain("nothing to tidy");
  });
});

describe("an expired certificate", () => {
  it("is not revoked (Vault says no revocation time), and tidy_pki removes it once past the safety buffer", async () => {
    const s = sc(await ok(client, "sign_pki_csr", { mount, role_name: "web", csr: makeCsr("short.example.com").csr, ttl: "2s" }));
    await Bun.sleep(Math.max(0, Date.parse(s.not_after) - Date.now()) + 1500);
    expect(sc(await ok(client, "read_pki_certificate", { mount, serial: s.serial }))).toMatchObject({ expired: true, revoked: false });
    const r = await ok(client, "revoke_pki_certificate", { mount, serial: s.serial });
    expect(sc(r)).toEqual({ mount, serial: s.serial, revoked: false });
    expect(text(r)).toContain("did not revoke");
    expect((await vaultApi("GET", `${mount}/cert/${s.serial}`)).json.data.revocation_time).toBe(0);

    await ok(client, "tidy_pki", { mount, safety_buffer: "1s" });
    for (let i = 0; i < 50 && (await vaultApi("GET", `${mount}/tidy-status`)).json.data.state === "Running"; i++) await Bun.sleep(100);
    expect((await vaultApi("LIST", `${mount}/certs`)).json.data.keys.map((k: string) => k.replace(/-/g, ":"))).not.toContain(s.serial);
    expect(await refused(client, "read_pki_certificate", { mount, serial: s.serial })).toContain("holds no certificate");
  });
});

describe("set_default_pki_issuer and delete_pki_issuer", () => {
  it("moves the default, refuses to delete the default issuer, and deletes one that is not", async () => {
    const m = unique("pki-iss");
    await ok(client, "enable_pki", { path: m });
    const first = sc(await ok(client, "create_pki_issuer", { mount: m, type: "root", common_name: "First", issuer_name: "first" })).issuer_id;
    const second = sc(await ok(client, "create_pki_issuer", { mount: m, type: "root", common_name: "Second", issuer_name: "second" })).issuer_id;
    const defaultNow = async () => (await vaultApi("GET", `${m}/config/issuers`)).json.data.default;
    expect(await defaultNow()).toBe(first);

    expect(sc(await ok(client, "set_default_pki_issuer", { mount: m, issuer: "second" }))).toEqual({
      mount: m,
      default_issuer: second,
      issuer_name: "second",
      previous_default: first,
      changed: true,
    });
    expect(await defaultNow()).toBe(second);
    expect(sc(await ok(client, "set_default_pki_issuer", { mount: m, issuer: second })).changed).toBe(false);
    expect(await refused(client, "set_default_pki_issuer", { mount: m, issuer: "third" })).toContain("list_pki_issuers");

    expect(await refused(client, "delete_pki_issuer", { mount: m, issuer: "second" })).toMatch(/is the default issuer[\s\S]*Nothing was deleted[\s\S]*set_default_pki_issuer/);
    expect(await refused(client, "delete_pki_issuer", { mount: m, issuer: "default" })).toContain("Nothing was deleted");
    expect((await vaultApi("GET", `${m}/issuer/${second}`)).status).toBe(200);

    const deleted = await ok(client, "delete_pki_issuer", { mount: m, issuer: "first" });
    expect(sc(deleted)).toMatchObject({ issuer_id: first, issuer_name: "first", was_default: false, deleted: true });
    expect(text(deleted)).toContain("cannot be undone");
    expect((await vaultApi("GET", `${m}/issuer/${first}`)).status).not.toBe(200);
    expect(await refused(client, "delete_pki_issuer", { mount: m, issuer: "first" })).toContain('has no issuer "first"');

    const forced = await ok(client, "delete_pki_issuer", { mount: m, issuer: "second", even_if_default: true });
    expect(sc(forced).was_default).toBe(true);
    expect(text(forced)).toContain("the mount has none now");
    expect((await vaultApi("LIST", `${m}/issuers`)).status).toBe(404);
  });
});

describe("a token limited to the read-only policy", () => {
  it("reads certificates, and every new write tool gets a clear permission error with nothing written", async () => {
    const { csr } = makeCsr("keep.example.com");
    const serial = sc(await ok(client, "sign_pki_csr", { mount, role_name: "web", csr })).serial;
    const second = sc(await ok(client, "create_pki_issuer", { mount, type: "root", common_name: "Spare", issuer_name: unique("spare") })).issuer_id;
    // The repository's read-only policy, for this test's mount in place of pki/.
    const hcl = readFileSync(join(repoRoot, "manifests", "vault", "read-only-policy.hcl"), "utf8").replaceAll('"pki/', `"${mount}/`);
    const policy = unique("ro-pki");
    expect((await vaultApi("PUT", `sys/policies/acl/${policy}`, { policy: hcl })).status).toBe(204);
    const token = (await vaultApi("POST", "auth/token/create", { policies: [policy], no_default_policy: true, ttl: "10m" })).json.auth.client_token;
    const ro = await connectClient(testServer({ VAULT_TOKEN: token }));

    const state = async () => ({
      certs: (await vaultApi("LIST", `${mount}/certs`)).json.data.keys.sort(),
      issuers: (await vaultApi("LIST", `${mount}/issuers`)).json.data.keys.sort(),
      default: (await vaultApi("GET", `${mount}/config/issuers`)).json.data.default,
      revoked: (await vaultApi("GET", `${mount}/cert/${serial}`)).json.data.revocation_time,
      tidy: (await vaultApi("GET", `${mount}/tidy-status`)).json.data.time_started,
    });
    const before = await state();

    expect(sc(await ok(ro, "list_pki_certificates", { mount })).serials).toContain(serial);
    expect(sc(await ok(ro, "read_pki_certificate", { mount, serial })).revoked).toBe(false);

    const writes: [string, Record<string, unknown>, RegExp][] = [
      ["sign_pki_csr", { mount, role_name: "web", csr: makeCsr("new.example.com").csr }, new RegExp(`may not write to ${mount}/sign/web`)],
      ["revoke_pki_certificate", { mount, serial }, new RegExp(`may not write to ${mount}/revoke`)],
      ["tidy_pki", { mount }, new RegExp(`may not write to ${mount}/tidy`)],
      ["delete_pki_issuer", { mount, issuer: second }, new RegExp(`may not delete ${mount}/issuer/${second}`)],
      ["set_default_pki_issuer", { mount, issuer: second }, new RegExp(`may not write to ${mount}/config/issuers`)],
    ];
    for (const [tool, args, says] of writes) {
      const answer = await refused(ro, tool, args);
      expect([tool, answer]).toEqual([tool, expect.stringMatching(/Permission denied/)]);
      expect([tool, answer]).toEqual([tool, expect.stringMatching(says)]);
      expect(answer).not.toContain(token);
    }
    expect(await state()).toEqual(before);
    await ro.close();
  });
});
