// TLS to Vault against a dev Vault with extra HTTPS listeners, made with a CA generated at run time.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { call, connectClient, ok, text } from "../support/mcp.ts";
import { type DevVault, startDevVault } from "../support/vault.ts";
import { authServer, freePort, LIST_MOUNTS_POLICY, must, type TestPki, tempDir, testPki } from "./support.ts";

const dir = tempDir();
let pki: TestPki;
let vault: DevVault;
let client: { certFile: string; keyFile: string };
/** https://127.0.0.1:<port> of each listener. */
const at: Record<"tls" | "mtls" | "named", string> = { tls: "", mtls: "", named: "" };

beforeAll(async () => {
  pki = testPki(dir);
  const ip = pki.issue("vault-ip", { san: "IP:127.0.0.1", usage: "serverAuth" });
  // Names only a DNS name, so reaching it at 127.0.0.1 needs VAULT_TLS_SERVER_NAME.
  const named = pki.issue("vault-named", { san: "DNS:vault.internal.test", usage: "serverAuth" });
  client = pki.issue("mcp-client", { usage: "clientAuth" });
  const ports = { tls: await freePort(), mtls: await freePort(), named: await freePort() };
  const listener = (port: number, cert: { certFile: string; keyFile: string }, extra = "") =>
    `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_cert_file = "${cert.certFile}"\n  tls_key_file = "${cert.keyFile}"\n${extra}}\n`;
  const config = join(dir, "listeners.hcl");
  writeFileSync(
    config,
    listener(ports.tls, ip) +
      listener(ports.mtls, ip, `  tls_client_ca_file = "${pki.caFile}"\n  tls_require_and_verify_client_cert = true\n`) +
      listener(ports.named, named),
  );
  // Dev mode keeps its plain listener (used for setup and health) and adds the ones from -config.
  vault = await startDevVault({ extraArgs: [`-config=${config}`] });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) at[k] = `https://127.0.0.1:${ports[k]}`;
}, 60_000);

afterAll(() => vault?.stop());

/** A server for `addr` with the dev Vault's root token and the given TLS settings. */
function serverFor(addr: string, tls: Record<string, string>) {
  return authServer({ VAULT_ADDR: addr, VAULT_TOKEN: vault.token, ...tls }, { vault });
}

async function listMounts(addr: string, tls: Record<string, string>) {
  return call(await connectClient(serverFor(addr, tls)), "list_mounts");
}

describe("TLS to Vault", () => {
  it("works with VAULT_CACERT naming the CA that signed Vault's certificate", async () => {
    const r = await listMounts(at.tls, { VAULT_CACERT: pki.caFile });
    expect(r.isError).toBeFalsy();
    expect(text(r)).toContain("secret/");
  });

  it("fails without it, and the tool result says it is the certificate and what to set", async () => {
    const r = await listMounts(at.tls, {});
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("TLS certificate is not signed by a trusted CA");
    expect(text(r)).toContain("set VAULT_CACERT");
  });

  it("fails when the certificate does not name the host, and says VAULT_TLS_SERVER_NAME can fix it", async () => {
    const r = await listMounts(at.named, { VAULT_CACERT: pki.caFile });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("does not name the host");
    expect(text(r)).toContain("VAULT_TLS_SERVER_NAME");
  });

  it("checks the certificate against VAULT_TLS_SERVER_NAME instead of the address's host", async () => {
    const r = await listMounts(at.named, { VAULT_CACERT: pki.caFile, VAULT_TLS_SERVER_NAME: "vault.internal.test" });
    expect(r.isError).toBeFalsy();
    const wrong = await listMounts(at.named, { VAULT_CACERT: pki.caFile, VAULT_TLS_SERVER_NAME: "other.internal.test" });
    expect(wrong.isError).toBe(true);
  });

  it("skips verification only with VAULT_SKIP_VERIFY, and warns about it", async () => {
    const server = serverFor(at.tls, { VAULT_SKIP_VERIFY: "true" });
    expect(text(await ok(await connectClient(server), "list_mounts"))).toContain("secret/");
    expect(server.logs.join("")).toContain("VAULT_SKIP_VERIFY is set");
  });
});

describe("mutual TLS to Vault", () => {
  it("fails without a client certificate", async () => {
    const r = await listMounts(at.mtls, { VAULT_CACERT: pki.caFile });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`Vault at ${at.mtls} could not be reached`);
    expect(text(r)).toContain("TLS handshake with Vault failed");
    expect(text(r)).toContain("set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY");
  });

  it("works with VAULT_CLIENT_CERT and VAULT_CLIENT_KEY", async () => {
    const r = await listMounts(at.mtls, { VAULT_CACERT: pki.caFile, VAULT_CLIENT_CERT: client.certFile, VAULT_CLIENT_KEY: client.keyFile });
    expect(r.isError).toBeFalsy();
    expect(text(r)).toContain("secret/");
  });

  it("also logs in over mutual TLS (the login goes through the same connection settings)", async () => {
    await must(vault, "POST", "sys/auth/approle", { type: "approle" });
    await must(vault, "PUT", "sys/policies/acl/list-mounts", { policy: LIST_MOUNTS_POLICY });
    await must(vault, "POST", "auth/approle/role/mcp", { token_policies: ["list-mounts"] });
    const roleId = (await must(vault, "GET", "auth/approle/role/mcp/role-id")).data.role_id;
    const secretId = (await must(vault, "POST", "auth/approle/role/mcp/secret-id", {})).data.secret_id;
    const server = authServer(
      {
        VAULT_ADDR: at.mtls,
        VAULT_AUTH_METHOD: "approle",
        VAULT_APPROLE_ROLE_ID: roleId,
        VAULT_APPROLE_SECRET_ID: secretId,
        VAULT_CACERT: pki.caFile,
        VAULT_CLIENT_CERT: client.certFile,
        VAULT_CLIENT_KEY: client.keyFile,
      },
      { vault },
    );
    expect(text(await ok(await connectClient(server), "list_mounts"))).toContain("secret/");
    expect(server.requests[0]).toBe("POST auth/approle/login");
  });
});
