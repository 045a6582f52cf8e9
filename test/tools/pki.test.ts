// PKI tools end to end: a real SDK Client over HTTP, a real Vault dev server, and certificates checked with node:crypto.
import { describe, expect, it } from "bun:test";
import { X509Certificate } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { silentLogger } from "../../src/log.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { connectClient, ok, refused, sc, type TestServer, text, unique, vaultApi } from "../support/mcp.ts";
import { csrPublicKey } from "../../src/tools/pki-common.ts";
import { testVault } from "../support/vault.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A fresh PKI mount with a root issuer named "root". */
async function pkiWithRoot(client: Client, commonName = "Test Root CA"): Promise<{ mount: string; root: Record<string, any> }> {
  const mount = unique("pki");
  await ok(client, "enable_pki", { path: mount });
  const root = sc(await ok(client, "create_pki_issuer", { mount, type: "root", common_name: commonName, issuer_name: "root" }));
  return { mount, root };
}

/** An in-process server whose Vault client sends its requests through `fetcher`. */
function serverWith(fetcher: typeof fetch): TestServer {
  const vault = testVault();
  const config = loadConfig([], { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, MCP_AUDIT_LOG: "off" });
  const runtime = buildRuntime(config, silentLogger, { fetch: fetcher });
  const app = createApp({
    handleMcp: runtime.handleMcp,
    readiness: runtime.readiness,
    guard: { bindHost: config.http.host, allowedOrigins: config.http.allowedOrigins },
  });
  const handle = (input: string | URL | Request, init?: RequestInit) => app.handle(input instanceof Request ? input : new Request(String(input), init));
  return { runtime, app, fetch: handle };
}

/** A server whose Vault client records every request it sends. */
function recordingServer(): { server: TestServer; requests: string[] } {
  const requests: string[] = [];
  const recording = ((input: string | URL | Request, init?: RequestInit) => {
    requests.push(`${init?.method ?? "GET"} ${input instanceof Request ? input.url : String(input)}`);
    return fetch(input, init);
  }) as typeof fetch;
  return { server: serverWith(recording), requests };
}

describe("the scenario from the issue", () => {
  it("takes a Vault with no PKI to a verified certificate for api.example.com", async () => {
    const client = await connectClient();
    const mount = unique("pki");

    const before = sc(await ok(client, "list_mounts"));
    expect(before.mounts.map((m: { path: string }) => m.path)).not.toContain(mount);

    expect(text(await ok(client, "enable_pki", { path: mount }))).toContain("create_pki_issuer");
    await ok(client, "create_pki_issuer", { mount, type: "root", common_name: "Example Root CA", issuer_name: "example-root" });
    await ok(client, "create_pki_role", { mount, role_name: "web-server", allowed_domains: ["example.com"], allow_subdomains: true });
    const issued = await ok(client, "issue_pki_certificate", { mount, role_name: "web-server", common_name: "api.example.com", ttl: "8760h" });
    const out = sc(issued);

    const cert = new X509Certificate(out.certificate);
    expect(cert.subject).toContain("CN=api.example.com");
    expect(cert.subjectAltName).toContain("DNS:api.example.com");
    const lifetime = cert.validToDate.getTime() - cert.validFromDate.getTime();
    expect(Math.abs(lifetime - 8760 * HOUR)).toBeLessThan(DAY);
    expect(out.not_before).toBe(cert.validFromDate.toISOString());
    expect(out.not_after).toBe(cert.validToDate.toISOString());

    const root = sc(await ok(client, "read_pki_issuer", { mount, issuer: "example-root" }));
    const rootCert = new X509Certificate(root.certificate);
    expect(cert.checkIssued(rootCert)).toBe(true);
    expect(cert.verify(rootCert.publicKey)).toBe(true);
    expect(new X509Certificate(out.issuing_ca).fingerprint256).toBe(rootCert.fingerprint256);

    const resources = issued.content.filter((c) => c.type === "resource").map((c) => c.resource!);
    expect(resources.map((r) => r.uri.split("/").pop())).toEqual(["certificate.pem", "private_key.pem", "ca_chain.pem"]);
    for (const r of resources) {
      expect(r.mimeType).toBe("application/x-pem-file");
      expect(r.uri.startsWith(`vault-pki://${mount}/${out.serial}/`)).toBe(true);
    }
    expect(resources[0]?.text).toBe(out.certificate);
    expect(resources[1]?.text).toBe(out.private_key);
    expect(resources[1]?.text).toContain("PRIVATE KEY");
    expect(new X509Certificate(resources[2]?.text ?? "").fingerprint256).toBe(rootCert.fingerprint256);

    // The serial is Vault's own: the certificate can be fetched by it.
    const stored = await vaultApi("GET", `${mount}/cert/${out.serial}`);
    expect(stored.status).toBe(200);
    expect(new X509Certificate(stored.json.data.certificate).fingerprint256).toBe(cert.fingerprint256);

    const after = sc(await ok(client, "list_mounts"));
    expect(after.mounts).toContainEqual(expect.objectContaining({ path: mount, type: "pki" }));
  });
});

describe("enable_pki", () => {
  it("mounts a PKI engine whose certificates may live up to ten years by default", async () => {
    const client = await connectClient();
    const path = unique("pki");
    const result = await ok(client, "enable_pki", { path, description: "team CA" });
    expect(sc(result)).toEqual({ path, type: "pki", max_ttl: "87600h", created: true });
    const mount = await vaultApi("GET", `sys/mounts/${path}`);
    expect(mount.json.data.type).toBe("pki");
    expect(mount.json.data.description).toBe("team CA");
    expect((await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data.max_lease_ttl).toBe(87600 * 3600);
  });

  it("sends max_ttl to Vault", async () => {
    const client = await connectClient();
    const path = unique("pki");
    await ok(client, "enable_pki", { path, max_ttl: "720h" });
    expect((await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data.max_lease_ttl).toBe(720 * 3600);
  });

  it("refuses a path where something is already mounted, changing nothing", async () => {
    const client = await connectClient();
    const path = unique("pki");
    await ok(client, "enable_pki", { path });
    expect(await refused(client, "enable_pki", { path, max_ttl: "1h" })).toContain(`already mounted at ${path}/`);
    expect((await vaultApi("GET", `sys/mounts/${path}/tune`)).json.data.max_lease_ttl).toBe(87600 * 3600);
  });

  it("refuses Vault's own API prefixes and traversal as path", async () => {
    const client = await connectClient();
    expect(await refused(client, "enable_pki", { path: "sys/evil" })).toContain('Invalid argument "path"');
    expect(await refused(client, "enable_pki", { path: "../x" })).toContain('Invalid argument "path"');
  });
});

describe("create_pki_issuer", () => {
  it("creates a self-signed root whose validity, serial and name come back from the certificate", async () => {
    const client = await connectClient();
    const mount = unique("pki");
    await ok(client, "enable_pki", { path: mount });
    const result = await ok(client, "create_pki_issuer", { mount, type: "root", common_name: "Root With EC", issuer_name: "r1", key_type: "ec", key_bits: 384, ttl: "24h" });
    const out = sc(result);
    expect(out).toMatchObject({ mount, type: "root", issuer_name: "r1", common_name: "Root With EC", is_default: true });
    expect(out.issuer_id).toMatch(/^[0-9a-f-]{36}$/);
    const cert = new X509Certificate(out.certificate);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe("ec");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(Math.abs(cert.validToDate.getTime() - cert.validFromDate.getTime() - DAY)).toBeLessThan(HOUR);
    expect(out.not_after).toBe(cert.validToDate.toISOString());
    expect(out.serial.replaceAll(":", "")).toBe(cert.serialNumber.toLowerCase().replace(/^(00)+/, ""));
    expect(text(result)).toContain("create_pki_role");
    // Vault holds it under that name.
    expect((await vaultApi("GET", `${mount}/issuer/r1`)).json.data.issuer_id).toBe(out.issuer_id);
  });

  it("defaults a root to a ten-year RSA 2048 certificate", async () => {
    const client = await connectClient();
    const { root } = await pkiWithRoot(client);
    const cert = new X509Certificate(root.certificate);
    expect(cert.publicKey.asymmetricKeyType).toBe("rsa");
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(Math.abs(cert.validToDate.getTime() - cert.validFromDate.getTime() - 87600 * HOUR)).toBeLessThan(DAY);
  });

  it("says which arguments each type needs and refuses the ones it does not take", async () => {
    const client = await connectClient();
    const mount = unique("pki");
    await ok(client, "enable_pki", { path: mount });
    expect(await refused(client, "create_pki_issuer", { mount, type: "root" })).toContain('Missing argument "common_name": type="root" requires "common_name"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "intermediate", common_name: "x" })).toContain('Missing argument "parent_mount"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "import" })).toContain('Missing argument "pem_bundle"');
    const wrong = await refused(client, "create_pki_issuer", { mount, type: "root", common_name: "x", pem_bundle: "-----BEGIN CERTIFICATE-----" });
    expect(wrong).toContain('Invalid argument "pem_bundle": it applies only to type "import"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "root", common_name: "x", parent_mount: "pki" })).toContain('"parent_mount": it applies only to type "intermediate"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "import", pem_bundle: "x", ttl: "1h" })).toContain('"ttl": it applies only to type "root" or "intermediate"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "leaf", common_name: "x" })).toContain('must be one of "root", "intermediate", "import"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "root", common_name: "x", key_type: "dsa" })).toContain('"key_type"');
    expect(await refused(client, "create_pki_issuer", { mount, type: "root", common_name: "x", issuer_name: "default" })).toContain('"default" is reserved');
    expect(await refused(client, "create_pki_issuer", { mount, type: "root", common_name: "x", issuer_name: "../root" })).toContain('Invalid argument "issuer_name"');
    // None of these made anything.
    expect((await vaultApi("LIST", `${mount}/issuers`)).status).toBe(404);
  });

  it("refuses a mount that is not a PKI engine, or that does not exist", async () => {
    const client = await connectClient();
    const kv = unique("kv");
    await ok(client, "create_mount", { path: kv, type: "kv-v2" });
    expect(await refused(client, "create_pki_issuer", { mount: kv, type: "root", common_name: "x" })).toContain(`${kv}/ is a kv secrets engine, not PKI`);
    const missing = unique("nothing");
    expect(await refused(client, "create_pki_issuer", { mount: missing, type: "root", common_name: "x" })).toContain(`enable_pki(path="${missing}")`);
    expect(await refused(client, "list_pki_roles", { mount: kv })).toContain("not PKI");
  });

  it("passes on Vault's refusal of a root, saying nothing was created", async () => {
    const client = await connectClient();
    const mount = unique("pki");
    await ok(client, "enable_pki", { path: mount });
    const message = await refused(client, "create_pki_issuer", { mount, type: "root", common_name: "x", key_type: "rsa", key_bits: 1000 });
    expect(message).toContain("Vault refused to create the root issuer");
    expect(message).toContain("Nothing was created");
  });
});

describe("intermediate issuers", () => {
  it("signs an intermediate with another mount's root, and certificates from it chain intermediate -> root", async () => {
    const client = await connectClient();
    const { mount: rootMount } = await pkiWithRoot(client, "Chain Root CA");
    const intMount = unique("pki-int");
    await ok(client, "enable_pki", { path: intMount });
    const created = await ok(client, "create_pki_issuer", {
      mount: intMount,
      type: "intermediate",
      common_name: "Chain Intermediate CA",
      parent_mount: rootMount,
      issuer_name: "int",
    });
    const out = sc(created);
    expect(out).toMatchObject({ mount: intMount, type: "intermediate", issuer_name: "int", parent_mount: rootMount, parent_issuer: "default", is_default: true });
    expect(text(created)).toContain('issuer_ref="int"');

    const root = new X509Certificate(sc(await ok(client, "read_pki_issuer", { mount: rootMount })).certificate);
    const intIssuer = sc(await ok(client, "read_pki_issuer", { mount: intMount, issuer: "int" }));
    const inter = new X509Certificate(intIssuer.certificate);
    expect(intIssuer.key_id).toBe(out.key_id);
    expect(inter.ca).toBe(true);
    expect(inter.subject).toContain("CN=Chain Intermediate CA");
    expect(inter.checkIssued(root)).toBe(true);
    expect(inter.verify(root.publicKey)).toBe(true);
    // Ten-year root, five-year intermediate by default.
    expect(Math.abs(inter.validToDate.getTime() - inter.validFromDate.getTime() - 43800 * HOUR)).toBeLessThan(DAY);
    expect(intIssuer.ca_chain.map((p: string) => new X509Certificate(p).fingerprint256)).toEqual([inter.fingerprint256, root.fingerprint256]);

    await ok(client, "create_pki_role", { mount: intMount, role_name: "svc", allowed_domains: ["example.com"], allow_subdomains: true, issuer_ref: "int" });
    const leafOut = sc(await ok(client, "issue_pki_certificate", { mount: intMount, role_name: "svc", common_name: "svc.example.com" }));
    const leaf = new X509Certificate(leafOut.certificate);
    expect(leaf.checkIssued(inter)).toBe(true);
    expect(leaf.verify(inter.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(false);
    expect(leafOut.ca_chain.map((p: string) => new X509Certificate(p).fingerprint256)).toEqual([inter.fingerprint256, root.fingerprint256]);
  });

  it("removes the key it generated when the parent will not sign, so nothing is left half-made", async () => {
    const client = await connectClient();
    const { mount: rootMount } = await pkiWithRoot(client);
    const intMount = unique("pki-int");
    await ok(client, "enable_pki", { path: intMount });
    const message = await refused(client, "create_pki_issuer", {
      mount: intMount,
      type: "intermediate",
      common_name: "Orphan CA",
      parent_mount: rootMount,
      parent_issuer: "no-such-issuer",
    });
    expect(message).toContain(`failed while having issuer "no-such-issuer" of ${rootMount}/ sign it`);
    expect(message).toContain("unable to find PKI issuer for reference: no-such-issuer");
    expect(message).toContain(`list_pki_issuers(mount="${rootMount}")`);
    expect(message).not.toContain("Retry later");
    expect(message).toContain("deleted the generated key");
    expect(message).not.toContain("Could NOT undo");
    expect((await vaultApi("LIST", `${intMount}/keys`)).status).toBe(404);
    expect((await vaultApi("LIST", `${intMount}/issuers`)).status).toBe(404);
  });

  it("undoes every earlier step when the last one fails: imported issuers, the key, and the parent's signature", async () => {
    // Vault is made to fail the naming PATCH, the step after the intermediate was signed and imported.
    const failNaming = ((input: string | URL | Request, init?: RequestInit) => {
      if (init?.method === "PATCH" && /\/issuer\//.test(String(input))) {
        return Promise.resolve(Response.json({ errors: ["injected failure"] }, { status: 500 }));
      }
      return fetch(input, init);
    }) as typeof fetch;
    const client = await connectClient(serverWith(failNaming));
    const { mount: rootMount } = await pkiWithRoot(client);
    const intMount = unique("pki-int");
    await ok(client, "enable_pki", { path: intMount });
    const message = await refused(client, "create_pki_issuer", { mount: intMount, type: "intermediate", common_name: "Doomed CA", parent_mount: rootMount, issuer_name: "doomed" });
    expect(message).toContain('failed while naming the issuer "doomed"');
    expect(message).toContain("injected failure");
    expect(message).toContain("deleted issuer");
    expect(message).toContain("deleted the generated key");
    expect(message).toContain("revoked the unused certificate");
    expect(message).not.toContain("Could NOT undo");
    expect((await vaultApi("LIST", `${intMount}/issuers`)).status).toBe(404);
    expect((await vaultApi("LIST", `${intMount}/keys`)).status).toBe(404);
    const serial = /revoked the unused certificate ([0-9a-f:]+)/.exec(message)?.[1];
    expect((await vaultApi("LIST", `${rootMount}/certs/revoked`)).json.data.keys).toContain(serial);
  });

  it("gives each key a name of its own, so a key whose answer was lost can be found among other callers' keys", async () => {
    const client = await connectClient();
    const { mount: rootMount, root } = await pkiWithRoot(client);
    const intMount = unique("pki-int");
    await ok(client, "enable_pki", { path: intMount });
    const a = sc(await ok(client, "create_pki_issuer", { mount: intMount, type: "intermediate", common_name: "A", parent_mount: rootMount, issuer_name: "a", key_type: "ec", ttl: "1h" }));
    const b = sc(await ok(client, "create_pki_issuer", { mount: intMount, type: "intermediate", common_name: "B", parent_mount: rootMount, key_type: "ec", ttl: "1h" }));
    expect(a.key_name).toMatch(/^a-key-[0-9a-f]{8}$/);
    expect(b.key_name).toMatch(/^intermediate-key-[0-9a-f]{8}$/);
    expect(root.key_name).toMatch(/^root-key-[0-9a-f]{8}$/);
    const keys = (await vaultApi("LIST", `${intMount}/keys`)).json.data.key_info;
    expect(keys[a.key_id].key_name).toBe(a.key_name);
    expect(keys[b.key_id].key_name).toBe(b.key_name);
  });

  it("recognises the certificate signed for a CSR by the CSR's public key", async () => {
    const { mount: rootMount } = await pkiWithRoot(await connectClient());
    const other = unique("pki");
    await vaultApi("POST", `sys/mounts/${other}`, { type: "pki" });
    for (const key_type of ["rsa", "ec", "ed25519"]) {
      const csr = (await vaultApi("POST", `${other}/issuers/generate/intermediate/internal`, { common_name: "CSR", key_type })).json.data.csr;
      const signed = (await vaultApi("POST", `${rootMount}/issuer/default/sign-intermediate`, { csr, ttl: "1h" })).json.data.certificate;
      expect(csrPublicKey(csr).equals(new X509Certificate(signed).publicKey.export({ type: "spki", format: "der" }))).toBe(true);
      const root = (await vaultApi("GET", `${rootMount}/issuer/default`)).json.data.certificate;
      expect(csrPublicKey(csr).equals(new X509Certificate(root).publicKey.export({ type: "spki", format: "der" }))).toBe(false);
    }
    expect(() => csrPublicKey("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----")).toThrow();
  });

  it("refuses an issuer_name already used in the mount before generating anything", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    const message = await refused(client, "create_pki_issuer", { mount, type: "intermediate", common_name: "x", parent_mount: mount, issuer_name: "root" });
    expect(message).toContain('An issuer named "root" already exists');
    expect((await vaultApi("LIST", `${mount}/keys`)).json.data.keys).toHaveLength(1);
  });

  it("refuses a parent_mount that is not PKI", async () => {
    const client = await connectClient();
    const mount = unique("pki");
    const kv = unique("kv");
    await ok(client, "enable_pki", { path: mount });
    await ok(client, "create_mount", { path: kv, type: "kv-v2" });
    expect(await refused(client, "create_pki_issuer", { mount, type: "intermediate", common_name: "x", parent_mount: kv })).toContain(
      "Pass a PKI mount as parent_mount",
    );
  });
});

describe("importing issuers", () => {
  it("imports a CA certificate made in another mount, as an issuer without a key", async () => {
    const client = await connectClient();
    const { root } = await pkiWithRoot(client, "Imported Root CA");
    const target = unique("pki");
    await ok(client, "enable_pki", { path: target });
    const result = await ok(client, "create_pki_issuer", { mount: target, type: "import", pem_bundle: root.certificate });
    const out = sc(result);
    expect(out.imported_issuers).toHaveLength(1);
    expect(out.imported_keys).toEqual([]);
    expect(text(result)).toContain("can only complete chains");
    const read = sc(await ok(client, "read_pki_issuer", { mount: target, issuer: out.imported_issuers[0] }));
    expect(read.key_id).toBe("");
    expect(read.common_name).toBe("Imported Root CA");
    expect(new X509Certificate(read.certificate).fingerprint256).toBe(new X509Certificate(root.certificate).fingerprint256);

    const again = await ok(client, "create_pki_issuer", { mount: target, type: "import", pem_bundle: root.certificate });
    expect(sc(again).imported_issuers).toEqual([]);
    expect(text(again)).toContain("Already present");
  });

  it("imports a CA with its private key, which can then issue certificates", async () => {
    const client = await connectClient();
    // A CA made at run time whose key leaves Vault: the bundle the test imports.
    const scratch = unique("pki-scratch");
    await vaultApi("POST", `sys/mounts/${scratch}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
    const made = await vaultApi("POST", `${scratch}/issuers/generate/root/exported`, { common_name: "Outside CA", ttl: "8760h", key_type: "ec" });
    expect(made.status).toBe(200);
    const caPem: string = made.json.data.certificate;
    const bundle = `${made.json.data.private_key}\n${caPem}\n`;

    const target = unique("pki");
    await ok(client, "enable_pki", { path: target });
    const out = sc(await ok(client, "create_pki_issuer", { mount: target, type: "import", pem_bundle: bundle }));
    expect(out.imported_issuers).toHaveLength(1);
    expect(out.imported_keys).toHaveLength(1);

    await ok(client, "create_pki_role", { mount: target, role_name: "r", allowed_domains: ["example.net"], allow_subdomains: true, issuer_ref: out.imported_issuers[0] });
    const leaf = new X509Certificate(sc(await ok(client, "issue_pki_certificate", { mount: target, role_name: "r", common_name: "a.example.net" })).certificate);
    const ca = new X509Certificate(caPem);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
  });

  it("refuses a pem_bundle that holds no PEM", async () => {
    const client = await connectClient();
    const target = unique("pki");
    await ok(client, "enable_pki", { path: target });
    expect(await refused(client, "create_pki_issuer", { mount: target, type: "import", pem_bundle: "/etc/ssl/ca.pem" })).toContain("holds no PEM block");
    expect(await refused(client, "create_pki_issuer", { mount: target, type: "import", pem_bundle: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----" })).toContain(
      "Vault refused to import the bundle",
    );
  });
});

describe("list_pki_issuers and read_pki_issuer", () => {
  it("lists every issuer with its name and marks the default", async () => {
    const client = await connectClient();
    const { mount, root } = await pkiWithRoot(client);
    const second = sc(await ok(client, "create_pki_issuer", { mount, type: "root", common_name: "Second Root", issuer_name: "second" }));
    expect(second.is_default).toBe(false);
    const listed = sc(await ok(client, "list_pki_issuers", { mount }));
    expect(listed.default_issuer).toBe(root.issuer_id);
    expect(listed.issuers).toHaveLength(2);
    expect(listed.issuers).toContainEqual(expect.objectContaining({ issuer_id: root.issuer_id, issuer_name: "root", is_default: true }));
    expect(listed.issuers).toContainEqual(expect.objectContaining({ issuer_id: second.issuer_id, issuer_name: "second", is_default: false }));
  });

  it("says how to create an issuer when a mount has none", async () => {
    const client = await connectClient();
    const mount = unique("pki");
    await ok(client, "enable_pki", { path: mount });
    const listed = await ok(client, "list_pki_issuers", { mount });
    expect(sc(listed)).toEqual({ mount, issuers: [] });
    expect(text(listed)).toContain("create_pki_issuer");
    expect(await refused(client, "read_pki_issuer", { mount })).toContain(`${mount}/ has no issuer "default"`);
  });

  it("reads an issuer by name, by ID and as the default", async () => {
    const client = await connectClient();
    const { mount, root } = await pkiWithRoot(client, "Readable Root");
    for (const issuer of ["root", root.issuer_id, "default"]) {
      const out = sc(await ok(client, "read_pki_issuer", { mount, issuer }));
      expect(out).toMatchObject({ mount, issuer_id: root.issuer_id, issuer_name: "root", key_id: root.key_id, is_default: true, common_name: "Readable Root", serial: root.serial });
      expect(out.not_before).toBe(root.not_before);
      expect(out.not_after).toBe(root.not_after);
      expect(out.ca_chain).toHaveLength(1);
    }
  });

  it("refuses an unknown issuer and a reference that climbs out of the mount", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    expect(await refused(client, "read_pki_issuer", { mount, issuer: "nope" })).toContain(`list_pki_issuers(mount="${mount}")`);
    expect(await refused(client, "read_pki_issuer", { mount, issuer: "../roles" })).toContain('Invalid argument "issuer"');
  });
});

describe("PKI roles", () => {
  it("sends every argument of create_pki_role to Vault", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    const args = {
      mount,
      role_name: "everything",
      allowed_domains: ["example.org", "example.net"],
      allow_subdomains: true,
      allow_bare_domains: true,
      allow_glob_domains: true,
      allow_any_name: true,
      allow_ip_sans: false,
      max_ttl: "720h",
      ttl: "24h",
      key_type: "ec",
      issuer_ref: "root",
    };
    const created = sc(await ok(client, "create_pki_role", args));
    expect(created).toMatchObject({ ...args, created: true });
    const role = (await vaultApi("GET", `${mount}/roles/everything`)).json.data;
    expect(role).toMatchObject({
      allowed_domains: ["example.org", "example.net"],
      allow_subdomains: true,
      allow_bare_domains: true,
      allow_glob_domains: true,
      allow_any_name: true,
      allow_ip_sans: false,
      max_ttl: 720 * 3600,
      ttl: 24 * 3600,
      key_type: "ec",
      key_bits: 256,
      issuer_ref: "root",
    });
  });

  it("applies its documented defaults in code, and replaces an existing role", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    const first = await ok(client, "create_pki_role", { mount, role_name: "plain" });
    expect(sc(first).created).toBe(true);
    expect(text(first)).toContain('only "localhost"');
    const role = (await vaultApi("GET", `${mount}/roles/plain`)).json.data;
    expect(role).toMatchObject({
      allowed_domains: [],
      allow_subdomains: false,
      allow_bare_domains: false,
      allow_glob_domains: false,
      allow_any_name: false,
      allow_ip_sans: true,
      max_ttl: 8760 * 3600,
      ttl: 0,
      key_type: "rsa",
      key_bits: 2048,
      issuer_ref: "default",
    });
    const second = await ok(client, "create_pki_role", { mount, role_name: "plain", allowed_domains: ["example.com"], allow_bare_domains: true });
    expect(sc(second).created).toBe(false);
    expect(text(second)).toContain("Replaced the settings");
    expect((await vaultApi("GET", `${mount}/roles/plain`)).json.data.allowed_domains).toEqual(["example.com"]);
  });

  it("lists, reads and deletes roles", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    expect(sc(await ok(client, "list_pki_roles", { mount })).roles).toEqual([]);
    await ok(client, "create_pki_role", { mount, role_name: "a", allowed_domains: ["example.com"], allow_subdomains: true, ttl: "1h" });
    await ok(client, "create_pki_role", { mount, role_name: "b", allow_any_name: true });
    expect(sc(await ok(client, "list_pki_roles", { mount })).roles).toEqual(["a", "b"]);

    const read = await ok(client, "read_pki_role", { mount, role_name: "a" });
    expect(sc(read)).toMatchObject({ mount, role_name: "a", allowed_domains: ["example.com"], allow_subdomains: true, max_ttl: "8760h", ttl: "1h", key_type: "rsa" });
    expect(text(read)).toContain("names under example.com (their subdomains)");

    const deleted = await ok(client, "delete_pki_role", { mount, role_name: "a" });
    expect(sc(deleted)).toEqual({ mount, role_name: "a", deleted: true });
    expect((await vaultApi("GET", `${mount}/roles/a`)).status).toBe(404);
    expect(sc(await ok(client, "list_pki_roles", { mount })).roles).toEqual(["b"]);
  });

  it("says a role does not exist instead of pretending to read or delete it", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    expect(await refused(client, "read_pki_role", { mount, role_name: "ghost" })).toContain(`No role "ghost" exists in ${mount}/`);
    expect(await refused(client, "delete_pki_role", { mount, role_name: "ghost" })).toContain(`list_pki_roles(mount="${mount}")`);
  });

  it("refuses a role_name that climbs out of the roles path before sending any request", async () => {
    const { server, requests } = recordingServer();
    const client = await connectClient(server);
    const mount = unique("pki");
    for (const tool of ["create_pki_role", "read_pki_role", "delete_pki_role", "issue_pki_certificate"]) {
      for (const role_name of ["../x", "../../sys/mounts", "a/b", "x%2F..", "x\u0000"]) {
        const extra = tool === "issue_pki_certificate" ? { common_name: "a.example.com" } : {};
        const message = await refused(client, tool, { mount, role_name, ...extra });
        expect(message).toContain('Invalid argument "role_name"');
      }
    }
    expect(requests).toEqual([]);
  });

  it("passes on Vault's refusal of role settings", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    const message = await refused(client, "create_pki_role", { mount, role_name: "bad", ttl: "48h", max_ttl: "24h" });
    expect(message).toContain('Vault refused the settings of role "bad"');
    expect((await vaultApi("GET", `${mount}/roles/bad`)).status).toBe(404);
  });
});

describe("issue_pki_certificate", () => {
  async function mountWithRole(client: Client, role: Record<string, unknown>) {
    const { mount, root } = await pkiWithRoot(client);
    await ok(client, "create_pki_role", { mount, role_name: "web", allowed_domains: ["example.com"], allow_subdomains: true, ...role });
    return { mount, root };
  }

  it("puts alt_names and ip_sans, given as lists or comma-separated, into the certificate", async () => {
    const client = await connectClient();
    const { mount } = await mountWithRole(client, {});
    const listed = sc(await ok(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "a.example.com", alt_names: ["b.example.com", "c.example.com"], ip_sans: ["10.0.0.5"] }));
    const cert = new X509Certificate(listed.certificate);
    for (const san of ["DNS:a.example.com", "DNS:b.example.com", "DNS:c.example.com", "IP Address:10.0.0.5"]) {
      expect(cert.subjectAltName).toContain(san);
      expect(listed.subject_alt_names).toContain(san);
    }
    expect(listed.private_key_type).toBe("rsa");
    const comma = sc(await ok(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "d.example.com", alt_names: "e.example.com, f.example.com", ip_sans: "10.0.0.6,10.0.0.7" }));
    expect(comma.subject_alt_names).toEqual(expect.arrayContaining(["DNS:e.example.com", "DNS:f.example.com", "IP Address:10.0.0.6", "IP Address:10.0.0.7"]));
  });

  it("uses the role's ttl when none is given, and tells when Vault caps it at max_ttl", async () => {
    const client = await connectClient();
    const { mount } = await mountWithRole(client, { ttl: "2h", max_ttl: "3h" });
    const short = new X509Certificate(sc(await ok(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "a.example.com" })).certificate);
    expect(Math.abs(short.validToDate.getTime() - short.validFromDate.getTime() - 2 * HOUR)).toBeLessThan(5 * 60_000);
    const capped = await ok(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "a.example.com", ttl: "100h" });
    const cert = new X509Certificate(sc(capped).certificate);
    expect(Math.abs(cert.validToDate.getTime() - cert.validFromDate.getTime() - 3 * HOUR)).toBeLessThan(5 * 60_000);
    expect(text(capped)).toContain("Vault noted:");
  });

  it("explains which role setting would allow a name the role refuses", async () => {
    const client = await connectClient();
    const { mount } = await mountWithRole(client, {});
    const other = await refused(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "api.example.org" });
    expect(other).toContain("common name api.example.org not allowed by this role");
    expect(other).toContain("allowed_domains");
    expect(other).toContain(`read_pki_role(mount="${mount}", role_name="web")`);
    const bare = await refused(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "example.com" });
    expect(bare).toContain("allow_bare_domains");
    const san = await refused(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "a.example.com", alt_names: ["evil.test"] });
    expect(san).toContain("evil.test");
  });

  it("explains a refused IP SAN", async () => {
    const client = await connectClient();
    const { mount } = await mountWithRole(client, { allow_ip_sans: false });
    expect(await refused(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "a.example.com", ip_sans: ["10.1.1.1"] })).toContain("allow_ip_sans=true");
  });

  it("says the role does not exist", async () => {
    const client = await connectClient();
    const { mount } = await pkiWithRoot(client);
    expect(await refused(client, "issue_pki_certificate", { mount, role_name: "missing", common_name: "a.example.com" })).toContain(`No role "missing" exists in ${mount}/`);
  });

  it("says what to do when the mount has no issuer yet", async () => {
    const client = await connectClient();
    const mount = unique("pki");
    await ok(client, "enable_pki", { path: mount });
    await ok(client, "create_pki_role", { mount, role_name: "web", allow_any_name: true });
    const message = await refused(client, "issue_pki_certificate", { mount, role_name: "web", common_name: "a.example.com" });
    expect(message).toContain("no default issuer");
    expect(message).toContain(`list_pki_issuers(mount="${mount}")`);
  });
});
