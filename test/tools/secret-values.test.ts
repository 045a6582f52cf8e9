// MCP_SECRET_VALUES end to end against the dev Vault: every tool in every mode, grepped for every value it could leak.
import { beforeAll, describe, expect, it } from "bun:test";
import { createHmac, createPrivateKey, createSecretKey, X509Certificate } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { allTools } from "../../src/tools/index.ts";
import { fingerprint } from "../../src/tools/secret-values.ts";
import { call, connectClient, ok, testServer, text, tokenLease, type ToolResult, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

const MODES = ["reveal", "mask", "wrap"] as const;
type Mode = (typeof MODES)[number];
const MASK_KEY = "an-operator-key-of-at-least-32-characters";

interface World {
  kv2: string;
  kv1: string;
  pki: string;
  stored: Record<string, unknown>;
  v1Value: string;
  /** A CA's private key, exported once, that create_pki_issuer imports. */
  bundle: string;
  bundleKey: string;
  /** A transit mount with an aes key "data", an ed25519 key "sig" and an hmac key "mac", and what they made of transitPlain. */
  transit: string;
  transitPlain: string;
  ciphertext: string;
  hmac: string;
  signature: string;
  /** A PKI mount whose issuers the scenarios add, make default and delete; a CSR (its key kept in Vault) and a certificate of pki. */
  pkiIssuers: string;
  csr: string;
  serial: string;
  /** The private key of that certificate, which only Vault's answer to this test held. */
  serialKey: string;
}

let world: World;
const clients = new Map<Mode, Client>();

function modeClient(mode: Mode, env: Record<string, string> = {}): Promise<Client> {
  return connectClient(testServer({ MCP_SECRET_VALUES: mode, MCP_MASK_KEY: MASK_KEY, ...env }));
}

async function policyToken(name: string, hcl: string): Promise<string> {
  expect((await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: hcl })).status).toBe(204);
  const made = await vaultApi("POST", "auth/token/create", { policies: [name], no_default_policy: true, ttl: "1h" });
  return made.json.auth.client_token;
}

beforeAll(async () => {
  const kv2 = unique("sv-kv2");
  const kv1 = unique("sv-kv1");
  const pki = unique("sv-pki");
  await vaultApi("POST", `sys/mounts/${kv2}`, { type: "kv", options: { version: "2" } });
  await vaultApi("POST", `sys/mounts/${kv1}`, { type: "kv", options: { version: "1" } });
  await vaultApi("POST", `sys/mounts/${pki}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
  await vaultApi("POST", `${pki}/root/generate/internal`, { common_name: "Secret Values Root", ttl: "8760h" });
  await vaultApi("POST", `${pki}/roles/web`, { allowed_domains: "example.com", allow_subdomains: true, max_ttl: "72h", key_type: "ec", key_bits: 256 });
  const stored = { password: `pw-${crypto.randomUUID()}`, api_key: `ak-${crypto.randomUUID()}`, nested: { token: `tk-${crypto.randomUUID()}` }, port: 48213 };
  await vaultApi("POST", `${kv2}/data/app/db`, { data: stored });
  const v1Value = `v1-${crypto.randomUUID()}`;
  await vaultApi("POST", `${kv1}/app/db`, { password: v1Value });
  const scratch = unique("sv-scratch");
  await vaultApi("POST", `sys/mounts/${scratch}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
  const made = await vaultApi("POST", `${scratch}/issuers/generate/root/exported`, { common_name: "Imported CA", ttl: "8760h", key_type: "ec" });
  const csr = (await vaultApi("POST", `${scratch}/intermediate/generate/internal`, { common_name: "csr.example.com", key_type: "ec" })).json.data.csr as string;
  const cert = (await vaultApi("POST", `${pki}/issue/web`, { common_name: "read.example.com", ttl: "1h" })).json.data;
  const pkiIssuers = unique("sv-pki-iss");
  await vaultApi("POST", `sys/mounts/${pkiIssuers}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
  await vaultApi("POST", `${pkiIssuers}/issuers/generate/root/internal`, { common_name: "Default Root", issuer_name: "first", ttl: "8760h", key_type: "ec" });
  const transit = unique("sv-transit");
  await vaultApi("POST", `sys/mounts/${transit}`, { type: "transit" });
  await vaultApi("POST", `${transit}/keys/data`, {});
  await vaultApi("POST", `${transit}/keys/sig`, { type: "ed25519" });
  await vaultApi("POST", `${transit}/keys/mac`, { type: "hmac", key_size: 32 });
  const transitPlain = `tp-${crypto.randomUUID()}`;
  const b64 = Buffer.from(transitPlain).toString("base64");
  const ciphertext = (await vaultApi("POST", `${transit}/encrypt/data`, { plaintext: b64 })).json.data.ciphertext as string;
  const hmac = (await vaultApi("POST", `${transit}/hmac/mac`, { input: b64 })).json.data.hmac as string;
  const signature = (await vaultApi("POST", `${transit}/sign/sig`, { input: b64 })).json.data.signature as string;
  world = {
    kv2,
    kv1,
    pki,
    stored,
    v1Value,
    bundle: `${made.json.data.private_key}\n${made.json.data.certificate}\n`,
    bundleKey: made.json.data.private_key,
    transit,
    transitPlain,
    ciphertext,
    hmac,
    signature,
    pkiIssuers,
    csr,
    serial: cert.serial_number,
    serialKey: cert.private_key,
  };
  for (const mode of MODES) clients.set(mode, await modeClient(mode));
});

/** What a scenario leaves to check: every answer, and every secret value it made or met (read back from Vault). */
interface Run {
  answers: ToolResult[];
  secrets: string[];
  client: Client;
  mode: Mode;
}

async function record(run: Run, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const r = await call(run.client, name, args);
  run.answers.push(r);
  return r;
}

const MASKED_MARKER = "[masked: 40 chars, fingerprint vmfp:0123456789abcdef]";

/** One scenario per tool: the calls that could show a secret value, failures among them. */
const SCENARIOS: Record<string, (run: Run, w: World) => Promise<void>> = {
  create_mount: async (run, w) => {
    await record(run, "create_mount", { path: unique("sv-new"), type: "kv-v2" });
    await record(run, "create_mount", { path: w.kv2, type: "kv-v2" });
  },
  list_mounts: async (run) => {
    await record(run, "list_mounts", {});
  },
  delete_mount: async (run) => {
    const path = unique("sv-gone");
    await vaultApi("POST", `sys/mounts/${path}`, { type: "kv", options: { version: "2" } });
    await vaultApi("POST", `${path}/data/x`, { data: { doomed: "doomed-value-of-a-deleted-mount" } });
    await record(run, "delete_mount", { path });
  },
  read_secret: async (run, w) => {
    await record(run, "read_secret", { mount: w.kv2, path: "app/db" });
    await record(run, "read_secret", { mount: w.kv2, path: "app/db", key: "password" });
    await record(run, "read_secret", { mount: w.kv2, path: "app/db", key: "missing" });
    await record(run, "read_secret", { mount: w.kv1, path: "app/db" });
    await record(run, "read_secret", { mount: w.kv1, path: "app/db", version: 1 });
  },
  write_secret: async (run, w) => {
    const value = `new-${crypto.randomUUID()}`;
    run.secrets.push(value);
    const path = `app/write-${run.mode}`;
    await record(run, "write_secret", { mount: w.kv2, path, key: "password", value });
    await record(run, "write_secret", { mount: w.kv2, path, data: { deep: { inner: value } }, replace: true });
    await record(run, "write_secret", { mount: w.kv2, path, key: "password", value, data: { password: value } });
    await record(run, "write_secret", { mount: w.kv2, path, data: { other: value }, cas: 999 });
    await record(run, "write_secret", { mount: w.kv1, path: "app/db", data: { password: value } });
    await record(run, "write_secret", { mount: w.kv2, path, key: "password", value: MASKED_MARKER });
    await record(run, "write_secret", { mount: "sys", path, key: "password", value });
  },
  list_secrets: async (run, w) => {
    await record(run, "list_secrets", { mount: w.kv2, path: "app" });
    await record(run, "list_secrets", { mount: w.kv1 });
  },
  delete_secret: async (run, w) => {
    const path = `app/delete-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await record(run, "delete_secret", { mount: w.kv2, path, key: "password" });
    await record(run, "delete_secret", { mount: w.kv2, path, key: "password" });
    await record(run, "delete_secret", { mount: w.kv2, path });
  },
  generate_secret: async (run, w) => {
    const path = `app/generated-${run.mode}`;
    await record(run, "generate_secret", { mount: w.kv2, path, key: "password", length: 40, charset: "alphanumeric-symbols" });
    run.secrets.push((await vaultApi("GET", `${w.kv2}/data/${path}`)).json.data.data.password);
    await record(run, "generate_secret", { mount: w.kv1, path: "app/db", key: "password" });
  },
  enable_pki: async (run) => {
    await record(run, "enable_pki", { path: unique("sv-pki-new") });
  },
  create_pki_issuer: async (run, w) => {
    const mount = unique("sv-pki-import");
    await vaultApi("POST", `sys/mounts/${mount}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
    await record(run, "create_pki_issuer", { mount, type: "import", pem_bundle: w.bundle });
    await record(run, "create_pki_issuer", { mount, type: "import", pem_bundle: w.bundle });
    await record(run, "create_pki_issuer", { mount, type: "root", common_name: "Another Root", ttl: "24h" });
    await record(run, "create_pki_issuer", { mount, type: "import", pem_bundle: w.bundle, common_name: "wrong" });
  },
  list_pki_issuers: async (run, w) => {
    await record(run, "list_pki_issuers", { mount: w.pki });
  },
  read_pki_issuer: async (run, w) => {
    await record(run, "read_pki_issuer", { mount: w.pki });
  },
  create_pki_role: async (run, w) => {
    await record(run, "create_pki_role", { mount: w.pki, role_name: `r-${run.mode}`, allowed_domains: ["example.org"] });
  },
  list_pki_roles: async (run, w) => {
    await record(run, "list_pki_roles", { mount: w.pki });
  },
  read_pki_role: async (run, w) => {
    await record(run, "read_pki_role", { mount: w.pki, role_name: "web" });
  },
  delete_pki_role: async (run, w) => {
    await vaultApi("POST", `${w.pki}/roles/gone-${run.mode}`, { allowed_domains: "example.org" });
    await record(run, "delete_pki_role", { mount: w.pki, role_name: `gone-${run.mode}` });
  },
  issue_pki_certificate: async (run, w) => {
    const plain = await record(run, "issue_pki_certificate", { mount: w.pki, role_name: "web", common_name: "plain.example.com", ttl: "1h" });
    if (run.mode === "reveal") run.secrets.push(plain.structuredContent?.private_key);
    if (run.mode === "wrap") {
      const opened = await vaultApi("POST", "sys/wrapping/unwrap", undefined, plain.structuredContent?.secret_values.wrapping_token);
      run.secrets.push(opened.json.data.private_key);
    }
    const path = `certs/${run.mode}`;
    await record(run, "issue_pki_certificate", { mount: w.pki, role_name: "web", common_name: "stored.example.com", ttl: "1h", store_at: { mount: w.kv2, path } });
    run.secrets.push((await vaultApi("GET", `${w.kv2}/data/${path}`)).json.data.data.private_key);
    await record(run, "issue_pki_certificate", { mount: w.pki, role_name: "web", common_name: "v1.example.com", store_at: { mount: w.kv1, path } });
    await record(run, "issue_pki_certificate", { mount: w.pki, role_name: "web", common_name: "nokv.example.com", store_at: { mount: w.pki, path } });
  },
  // The policy, identity and operations tools hold no secret values; their answers are grepped like every other.
  list_policies: async (run) => {
    await record(run, "list_policies", {});
  },
  read_policy: async (run) => {
    await record(run, "read_policy", { name: "default" });
  },
  write_policy: async (run) => {
    await record(run, "write_policy", { name: `sv-${run.mode}`, policy: 'path "secret/data/sv/*" { capabilities = ["read"] }' });
  },
  delete_policy: async (run) => {
    await vaultApi("PUT", `sys/policies/acl/sv-gone-${run.mode}`, { policy: 'path "x/*" { capabilities = ["read"] }' });
    await record(run, "delete_policy", { name: `sv-gone-${run.mode}` });
  },
  check_capabilities: async (run, w) => {
    await record(run, "check_capabilities", { paths: [`${w.kv2}/data/app/db`] });
  },
  lookup_self: async (run) => {
    await record(run, "lookup_self", {});
  },
  read_entity_self: async (run) => {
    await record(run, "read_entity_self", {});
  },
  list_auth_methods: async (run) => {
    await record(run, "list_auth_methods", {});
  },
  read_auth_method: async (run) => {
    await record(run, "read_auth_method", { path: "token" });
  },
  read_cluster_health: async (run) => {
    await record(run, "read_cluster_health", {});
  },
  read_mount: async (run, w) => {
    await record(run, "read_mount", { path: w.kv2 });
  },
  tune_mount: async (run, w) => {
    await record(run, "tune_mount", { path: w.kv1, description: `tuned with ${run.mode}` });
  },
  list_audit_devices: async (run) => {
    await record(run, "list_audit_devices", {});
  },
  list_leases: async (run) => {
    await record(run, "list_leases", { prefix: "auth/token/create" });
  },
  read_lease: async (run) => {
    await record(run, "read_lease", { lease_id: (await tokenLease()).leaseId });
  },
  revoke_lease: async (run) => {
    const { token, leaseId } = await tokenLease();
    run.secrets.push(token);
    await record(run, "revoke_lease", { lease_id: leaseId });
  },
  // KV v2 lifecycle: metadata and version states name no value; patch_secret's values and a rolled-back version's stay unshown.
  read_secret_metadata: async (run, w) => {
    await record(run, "read_secret_metadata", { mount: w.kv2, path: "app/db" });
    await record(run, "read_secret_metadata", { mount: w.kv1, path: "app/db" });
  },
  write_secret_metadata: async (run, w) => {
    await record(run, "write_secret_metadata", { mount: w.kv2, path: "app/db", max_versions: 20, custom_metadata: { owner: `team-${run.mode}` } });
    await record(run, "write_secret_metadata", { mount: w.kv1, path: "app/db", max_versions: 2 });
  },
  patch_secret: async (run, w) => {
    const value = `patched-${crypto.randomUUID()}`;
    run.secrets.push(value);
    const path = `app/patch-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await record(run, "patch_secret", { mount: w.kv2, path, data: { password: value, nested: { token: value }, gone: null } });
    await record(run, "patch_secret", { mount: w.kv2, path, data: { password: value }, cas: 1 });
    await record(run, "patch_secret", { mount: w.kv1, path: "app/db", data: { password: value } });
  },
  delete_secret_versions: async (run, w) => {
    const path = `app/versions-del-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await record(run, "delete_secret_versions", { mount: w.kv2, path, versions: [1] });
    await record(run, "delete_secret_versions", { mount: w.kv2, path, versions: [1, 9] });
  },
  undelete_secret_versions: async (run, w) => {
    const path = `app/versions-undel-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await vaultApi("POST", `${w.kv2}/delete/${path}`, { versions: [1] });
    await record(run, "undelete_secret_versions", { mount: w.kv2, path, versions: [1] });
  },
  destroy_secret_versions: async (run, w) => {
    const path = `app/versions-destroy-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await record(run, "destroy_secret_versions", { mount: w.kv2, path, versions: [1] });
    await record(run, "undelete_secret_versions", { mount: w.kv2, path, versions: [1] });
  },
  delete_secret_metadata: async (run, w) => {
    const path = `app/metadata-gone-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await record(run, "delete_secret_metadata", { mount: w.kv2, path });
    await record(run, "delete_secret_metadata", { mount: w.kv2, path });
  },
  rollback_secret: async (run, w) => {
    const path = `app/rollback-${run.mode}`;
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: w.stored });
    await vaultApi("POST", `${w.kv2}/data/${path}`, { data: { replaced: "yes" } });
    await record(run, "rollback_secret", { mount: w.kv2, path, version: 1 });
    await record(run, "rollback_secret", { mount: w.kv2, path, version: 99 });
  },
  // PKI lifecycle: certificates and issuers are public; the key of a certificate this test was handed must not show.
  sign_pki_csr: async (run, w) => {
    await record(run, "sign_pki_csr", { mount: w.pki, role_name: "web", csr: w.csr, ttl: "1h" });
    await record(run, "sign_pki_csr", { mount: w.pki, role_name: "web", csr: w.csr, common_name: "evil.test" });
  },
  list_pki_certificates: async (run, w) => {
    await record(run, "list_pki_certificates", { mount: w.pki });
  },
  read_pki_certificate: async (run, w) => {
    await record(run, "read_pki_certificate", { mount: w.pki, serial: w.serial });
    await record(run, "read_pki_certificate", { mount: w.pki, serial: "01:02:03" });
  },
  revoke_pki_certificate: async (run, w) => {
    const made = (await vaultApi("POST", `${w.pki}/issue/web`, { common_name: `revoke-${run.mode}.example.com`, ttl: "1h" })).json.data;
    run.secrets.push(made.private_key);
    await record(run, "revoke_pki_certificate", { mount: w.pki, serial: made.serial_number });
  },
  tidy_pki: async (run, w) => {
    await record(run, "tidy_pki", { mount: w.pki, safety_buffer: "72h" });
  },
  delete_pki_issuer: async (run, w) => {
    await vaultApi("POST", `${w.pkiIssuers}/issuers/generate/root/internal`, { common_name: `Doomed ${run.mode}`, issuer_name: `doomed-${run.mode}`, ttl: "24h", key_type: "ec" });
    await record(run, "delete_pki_issuer", { mount: w.pkiIssuers, issuer: `doomed-${run.mode}` });
    await record(run, "delete_pki_issuer", { mount: w.pkiIssuers, issuer: "default" });
  },
  set_default_pki_issuer: async (run, w) => {
    await vaultApi("POST", `${w.pkiIssuers}/issuers/generate/root/internal`, { common_name: `Default ${run.mode}`, issuer_name: `default-${run.mode}`, ttl: "24h", key_type: "ec" });
    await record(run, "set_default_pki_issuer", { mount: w.pkiIssuers, issuer: `default-${run.mode}` });
    await record(run, "set_default_pki_issuer", { mount: w.pkiIssuers, issuer: "first" });
  },
  // Transit: the plaintext decrypt_data hands back and generate_random_bytes' bytes are secret values; inputs are never echoed.
  enable_transit: async (run, w) => {
    await record(run, "enable_transit", { path: unique("sv-transit-new") });
    await record(run, "enable_transit", { path: w.transit });
  },
  create_transit_key: async (run, w) => {
    await record(run, "create_transit_key", { mount: w.transit, name: `k-${run.mode}` });
    await record(run, "create_transit_key", { mount: w.transit, name: "data" });
  },
  list_transit_keys: async (run, w) => {
    await record(run, "list_transit_keys", { mount: w.transit });
  },
  read_transit_key: async (run, w) => {
    await record(run, "read_transit_key", { mount: w.transit, name: "data" });
    await record(run, "read_transit_key", { mount: w.transit, name: "sig" });
  },
  rotate_transit_key: async (run, w) => {
    await vaultApi("POST", `${w.transit}/keys/rot-${run.mode}`, {});
    await record(run, "rotate_transit_key", { mount: w.transit, name: `rot-${run.mode}` });
  },
  update_transit_key_config: async (run, w) => {
    await vaultApi("POST", `${w.transit}/keys/cfg-${run.mode}`, {});
    await record(run, "update_transit_key_config", { mount: w.transit, name: `cfg-${run.mode}`, deletion_allowed: true });
  },
  delete_transit_key: async (run, w) => {
    await vaultApi("POST", `${w.transit}/keys/gone-${run.mode}`, {});
    await record(run, "delete_transit_key", { mount: w.transit, name: `gone-${run.mode}` });
    await vaultApi("POST", `${w.transit}/keys/gone-${run.mode}/config`, { deletion_allowed: true });
    await record(run, "delete_transit_key", { mount: w.transit, name: `gone-${run.mode}` });
  },
  encrypt_data: async (run, w) => {
    await record(run, "encrypt_data", { mount: w.transit, name: "data", plaintext: w.transitPlain });
    await record(run, "encrypt_data", { mount: w.transit, name: "data", items: [{ plaintext: w.transitPlain }, { plaintext: w.transitPlain }] });
    await record(run, "encrypt_data", { mount: w.transit, name: "nope", plaintext: w.transitPlain });
  },
  decrypt_data: async (run, w) => {
    await record(run, "decrypt_data", { mount: w.transit, name: "data", ciphertext: w.ciphertext });
    await record(run, "decrypt_data", { mount: w.transit, name: "data", items: [{ ciphertext: w.ciphertext }, { ciphertext: "vault:v1:AAAA" }] });
  },
  rewrap_data: async (run, w) => {
    await record(run, "rewrap_data", { mount: w.transit, name: "data", ciphertext: w.ciphertext });
  },
  generate_hmac: async (run, w) => {
    await record(run, "generate_hmac", { mount: w.transit, name: "mac", input: w.transitPlain });
  },
  verify_hmac: async (run, w) => {
    await record(run, "verify_hmac", { mount: w.transit, name: "mac", input: w.transitPlain, hmac: w.hmac });
    await record(run, "verify_hmac", { mount: w.transit, name: "mac", input: `${w.transitPlain}-x`, hmac: w.hmac });
  },
  sign_data: async (run, w) => {
    await record(run, "sign_data", { mount: w.transit, name: "sig", input: w.transitPlain });
    await record(run, "sign_data", { mount: w.transit, name: "data", input: w.transitPlain });
  },
  verify_signature: async (run, w) => {
    await record(run, "verify_signature", { mount: w.transit, name: "sig", input: w.transitPlain, signature: w.signature });
    await record(run, "verify_signature", { mount: w.transit, name: "sig", input: `${w.transitPlain}-x`, signature: w.signature });
  },
  hash_data: async (run, w) => {
    await record(run, "hash_data", { mount: w.transit, input: w.transitPlain });
  },
  generate_random_bytes: async (run, w) => {
    const r = await record(run, "generate_random_bytes", { mount: w.transit, bytes: 32, format: "hex" });
    if (run.mode === "reveal") run.secrets.push(r.structuredContent?.random_bytes);
    if (run.mode === "wrap") {
      const opened = await vaultApi("POST", "sys/wrapping/unwrap", undefined, r.structuredContent?.secret_values?.wrapping_token);
      run.secrets.push(opened.json?.data?.random_bytes);
    }
  },
};

/** Whether `secret` is in `json` (an answer as JSON text), as it is or JSON-escaped (a PEM's newlines). */
function appears(json: string, secret: string): boolean {
  return json.includes(secret) || json.includes(JSON.stringify(secret).slice(1, -1));
}

/** The stored values worth grepping for: strings, as they would appear in an answer. */
function storedSecrets(w: World): string[] {
  return [w.stored.password, w.stored.api_key, (w.stored.nested as { token: string }).token, w.v1Value, w.bundleKey, "doomed-value-of-a-deleted-mount", w.transitPlain, w.serialKey] as string[];
}

describe("every tool in every mode", () => {
  it("has a scenario for every registered tool, so a new tool cannot skip this test", () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(allTools.map((t) => t.name).sort());
  });

  const runs = new Map<Mode, Run>();
  for (const mode of MODES) {
    it(`runs every scenario with MCP_SECRET_VALUES=${mode}`, async () => {
      const run: Run = { answers: [], secrets: [], client: clients.get(mode)!, mode };
      for (const scenario of Object.values(SCENARIOS)) await scenario(run, world);
      runs.set(mode, run);
      expect(run.answers.length).toBeGreaterThan(35);
    }, 120_000);
  }

  it("reveals the values with reveal, as before (so the grep below would see a leak)", () => {
    const all = JSON.stringify(runs.get("reveal")?.answers);
    const issuedKey = runs.get("reveal")?.secrets[2] as string;
    expect(issuedKey).toContain("PRIVATE KEY");
    for (const s of [...storedSecrets(world).slice(0, 4), issuedKey, world.transitPlain]) expect(appears(all, s)).toBe(true);
  });

  for (const mode of ["mask", "wrap"] as const) {
    it(`with ${mode}, no stored value, generated value or private key is in any answer: text, structuredContent, resources or error`, () => {
      const run = runs.get(mode)!;
      const secrets = [...storedSecrets(world), ...run.secrets];
      expect(secrets.every((s) => typeof s === "string" && s.length > 20)).toBe(true);
      for (const answer of run.answers) {
        const json = JSON.stringify(answer);
        for (const s of secrets) expect(appears(json, s), `${s.slice(0, 30)}... in ${text(answer).slice(0, 200)}`).toBe(false);
      }
    });
  }
});

describe("wrap", () => {
  it("hands back a token whose one unwrap yields exactly the secret's data, and a second unwrap fails", async () => {
    const r = await ok(clients.get("wrap")!, "read_secret", { mount: world.kv2, path: "app/db" });
    const envelope = r.structuredContent?.secret_values;
    expect(envelope).toMatchObject({ mode: "wrap", fields: ["api_key", "nested", "password", "port"], ttl_seconds: 300, delivered: true });
    expect(r.structuredContent?.data.password).toBe('[wrapped: "password" in the wrapping token]');
    expect(text(r)).toContain(`vault unwrap ${envelope.wrapping_token}`);
    expect(text(r)).toContain("someone else has opened it");
    const first = await vaultApi("POST", "sys/wrapping/unwrap", undefined, envelope.wrapping_token);
    expect(first.status).toBe(200);
    expect(first.json.data).toEqual(world.stored);
    const second = await vaultApi("POST", "sys/wrapping/unwrap", undefined, envelope.wrapping_token);
    expect(second.status).toBe(400);
  });

  it("wraps one key alone when one is read, for MCP_WRAP_TTL", async () => {
    const client = await modeClient("wrap", { MCP_WRAP_TTL: "90s" });
    const r = await ok(client, "read_secret", { mount: world.kv2, path: "app/db", key: "password" });
    const token = r.structuredContent?.secret_values.wrapping_token;
    expect(r.structuredContent?.secret_values.ttl_seconds).toBe(90);
    expect((await vaultApi("POST", "sys/wrapping/lookup", { token })).json.data.creation_ttl).toBe(90);
    expect((await vaultApi("POST", "sys/wrapping/unwrap", undefined, token)).json.data).toEqual({ password: world.stored.password });
  });

  it("wraps a new certificate's private key, which matches the certificate; the certificate and chain stay visible", async () => {
    const r = await ok(clients.get("wrap")!, "issue_pki_certificate", { mount: world.pki, role_name: "web", common_name: "w.example.com", ttl: "1h" });
    const s = r.structuredContent!;
    expect(s.certificate).toContain("BEGIN CERTIFICATE");
    expect(s.ca_chain.length).toBeGreaterThan(0);
    expect(r.content.filter((c) => c.type === "resource").map((c) => c.resource?.uri.split("/").pop())).toEqual(["certificate.pem", "ca_chain.pem"]);
    const opened = await vaultApi("POST", "sys/wrapping/unwrap", undefined, s.secret_values.wrapping_token);
    expect(Object.keys(opened.json.data)).toEqual(["private_key"]);
    expect(new X509Certificate(s.certificate).checkPrivateKey(createPrivateKey(opened.json.data.private_key))).toBe(true);
  });

  it("says truthfully that the values reached no one when the token may not wrap, and masks them", async () => {
    const token = await policyToken(
      unique("no-wrap"),
      `path "sys/internal/ui/mounts/*" { capabilities = ["read"] }\npath "${world.kv2}/data/*" { capabilities = ["read"] }\npath "${world.pki}/issue/*" { capabilities = ["update"] }`,
    );
    const client = await modeClient("wrap", { VAULT_TOKEN: token });
    const read = await call(client, "read_secret", { mount: world.kv2, path: "app/db" });
    expect(read.isError).toBe(true);
    expect(text(read)).toStartWith("Wrapping the secret values of this answer (api_key, nested, password, port) failed: this server's token may not use sys/wrapping/wrap");
    expect(text(read)).toContain("reached no one");
    expect(read.structuredContent?.data.password).toStartWith("[masked: ");
    expect(read.structuredContent?.secret_values).toMatchObject({ mode: "wrap", delivered: false });
    const issued = await call(client, "issue_pki_certificate", { mount: world.pki, role_name: "web", common_name: "lost.example.com", ttl: "1h" });
    expect(issued.isError).toBe(true);
    expect(text(issued)).toContain(`revoke it with vault write ${world.pki}/revoke serial_number=${issued.structuredContent?.serial}`);
    for (const r of [read, issued]) expect(JSON.stringify(r)).not.toContain(world.stored.password as string);
    expect(JSON.stringify(issued)).not.toContain("PRIVATE KEY");
  });
});

describe("mask", () => {
  it("shows keys, metadata, each value's length and fingerprint, says the operator masks them and how a person reads them", async () => {
    const r = await ok(clients.get("mask")!, "read_secret", { mount: world.kv2, path: "app/db" });
    const data = r.structuredContent?.data;
    expect(Object.keys(data)).toEqual(["api_key", "nested", "password", "port"]);
    expect(data.password).toMatch(/^\[masked: 39 chars, fingerprint vmfp:[0-9a-f]{16}\]$/);
    expect(data.port).toMatch(/^\[masked: number, 5 chars of JSON, fingerprint vmfp:[0-9a-f]{16}\]$/);
    expect(r.structuredContent?.version).toBe(1);
    expect(text(r)).toContain("masked by the operator's setting (MCP_SECRET_VALUES=mask)");
    expect(text(r)).toContain(`vault kv get -mount=${world.kv2} -version=1 app/db`);
    expect(r.structuredContent?.secret_values).toEqual({ mode: "mask", fields: ["api_key", "nested", "password", "port"], read_command: `vault kv get -mount=${world.kv2} -version=1 app/db` });
  });

  it("gives equal values equal fingerprints, across servers sharing MCP_MASK_KEY, and other ones under another key", async () => {
    const path = unique("same");
    await vaultApi("POST", `${world.kv2}/data/${path}`, { data: { a: "same-value-here", b: "same-value-here", c: "other-value-here" } });
    const fp = (r: ToolResult, k: string) => /vmfp:[0-9a-f]{16}/.exec(r.structuredContent?.data[k])?.[0];
    const one = await ok(clients.get("mask")!, "read_secret", { mount: world.kv2, path });
    const two = await ok(await modeClient("mask"), "read_secret", { mount: world.kv2, path });
    const other = await ok(await modeClient("mask", { MCP_MASK_KEY: "another-operator-key-of-32-characters!" }), "read_secret", { mount: world.kv2, path });
    expect(fp(one, "a")).toBe(fp(one, "b")!);
    expect(fp(one, "a")).not.toBe(fp(one, "c")!);
    expect(fp(two, "a")).toBe(fp(one, "a")!);
    expect(fp(other, "a")).not.toBe(fp(one, "a")!);
  });

  it("makes a fingerprint the first 64 bits of HMAC-SHA256 over the value's JSON under the key, as documented, so someone holding MCP_MASK_KEY can check one", () => {
    const key = createSecretKey(Buffer.from("an-operator-key-of-32-characters-or-more", "utf8"));
    for (const value of ["hunter2-hunter2", "ünïcødé 🙂 value", 5432, { nested: ["a", 1] }, null]) {
      const expected = createHmac("sha256", key).update(JSON.stringify(value)).digest("hex").slice(0, 16);
      expect(fingerprint(key, value)).toBe(`vmfp:${expected}`);
    }
  });

  it("refuses to issue a certificate whose key could reach no one, before anything is issued", async () => {
    const before = (await vaultApi("LIST", `${world.pki}/certs`)).json.data.keys.length;
    const r = await call(clients.get("mask")!, "issue_pki_certificate", { mount: world.pki, role_name: "web", common_name: "m.example.com" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("no certificate was issued. Pass store_at=");
    expect((await vaultApi("LIST", `${world.pki}/certs`)).json.data.keys.length).toBe(before);
  });
});

describe("the write-back guard", () => {
  it("refuses a masked read written back, and the secret keeps its version and values", async () => {
    const path = unique("guard");
    await vaultApi("POST", `${world.kv2}/data/${path}`, { data: { password: "the-real-password-1" } });
    const masked = await ok(clients.get("mask")!, "read_secret", { mount: world.kv2, path });
    const r = await call(clients.get("mask")!, "write_secret", { mount: world.kv2, path, data: masked.structuredContent?.data });
    expect(r.isError).toBe(true);
    expect(text(r)).toStartWith('Invalid argument "data.password": it holds a masked value marker');
    expect(text(r)).toContain("nothing was sent to Vault");
    const fp = /vmfp:([0-9a-f]{16})/.exec(masked.structuredContent?.data.password)?.[1];
    expect(text(await call(clients.get("mask")!, "write_secret", { mount: world.kv2, path, key: "password", value: fp }))).toContain("fingerprint of a masked value");
    const now = (await vaultApi("GET", `${world.kv2}/data/${path}`)).json.data;
    expect(now.metadata.version).toBe(1);
    expect(now.data).toEqual({ password: "the-real-password-1" });
  });

  it("refuses a wrap marker in every mode, reveal included", async () => {
    for (const mode of MODES) {
      const r = await call(clients.get(mode)!, "write_secret", { mount: world.kv2, path: unique("guard"), key: "password", value: '[wrapped: "password" in the wrapping token]' });
      expect(text(r)).toContain("wrapped value marker");
    }
  });
});

describe("issue_pki_certificate with store_at", () => {
  it("writes certificate, key and chain into the KV secret, keeps its other keys, and answers only public parts", async () => {
    const path = unique("certs/app");
    await vaultApi("POST", `${world.kv2}/data/${path}`, { data: { owner: "team-a" } });
    for (const mode of MODES) {
      const r = await ok(clients.get(mode)!, "issue_pki_certificate", { mount: world.pki, role_name: "web", common_name: "s.example.com", ttl: "1h", store_at: { mount: world.kv2, path } });
      const s = r.structuredContent!;
      expect(s.private_key).toBeUndefined();
      expect(s.ca_chain).toBeUndefined();
      expect(s.secret_values).toBeUndefined();
      expect(s.stored_at).toMatchObject({ mount: world.kv2, path, keys: ["certificate", "private_key", "private_key_type", "issuing_ca", "ca_chain", "serial_number", "expiration"] });
      expect(r.content.filter((c) => c.type === "resource").map((c) => c.resource?.uri.split("/").pop())).toEqual(["certificate.pem"]);
      const kept = (await vaultApi("GET", `${world.kv2}/data/${path}`)).json.data;
      expect(kept.metadata.version).toBe(s.stored_at.version);
      expect(kept.data.owner).toBe("team-a");
      expect(kept.data.certificate).toBe(s.certificate);
      expect(kept.data.serial_number).toBe(s.serial);
      expect(new X509Certificate(kept.data.certificate).checkPrivateKey(createPrivateKey(kept.data.private_key))).toBe(true);
      expect(JSON.stringify(r)).not.toContain("PRIVATE KEY");
      expect(text(r)).toContain(`vault kv get -mount=${world.kv2} -field=private_key ${path}`);
    }
  });

  it("refuses a KV v1 secret (without MCP_KV1_MERGE=local) and a mount that is not KV before issuing anything", async () => {
    const before = (await vaultApi("LIST", `${world.pki}/certs`)).json.data.keys.length;
    const v1 = await call(clients.get("reveal")!, "issue_pki_certificate", { mount: world.pki, role_name: "web", common_name: "x.example.com", store_at: { mount: world.kv1, path: "c" } });
    expect(text(v1)).toContain("No certificate was issued.");
    const pki = await call(clients.get("reveal")!, "issue_pki_certificate", { mount: world.pki, role_name: "web", common_name: "x.example.com", store_at: { mount: world.pki, path: "c" } });
    expect(text(pki)).toContain("is a pki secrets engine, not KV");
    expect((await vaultApi("LIST", `${world.pki}/certs`)).json.data.keys.length).toBe(before);
  });

  it("when storing fails after issuing, hands the key over as the mode allows and says where it is not", async () => {
    const token = await policyToken(
      unique("no-kv-write"),
      `path "sys/internal/ui/mounts/*" { capabilities = ["read"] }\npath "${world.pki}/issue/*" { capabilities = ["update"] }\n` +
        `path "sys/wrapping/wrap" { capabilities = ["update"] }\npath "${world.kv2}/data/*" { capabilities = ["read"] }\npath "${world.kv2}/metadata/*" { capabilities = ["read"] }\n` +
        `path "auth/token/lookup-self" { capabilities = ["read"] }`,
    );
    const args = { mount: world.pki, role_name: "web", common_name: "f.example.com", ttl: "1h", store_at: { mount: world.kv2, path: unique("denied") } };
    for (const mode of MODES) {
      const r = await call(await modeClient(mode, { VAULT_TOKEN: token }), "issue_pki_certificate", args);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(`Storing it in ${world.kv2}/${args.store_at.path} failed: Permission denied`);
      const s = r.structuredContent!;
      if (mode === "reveal") expect(s.private_key).toContain("PRIVATE KEY");
      if (mode === "mask") expect(text(r)).toContain(`revoke it with vault write ${world.pki}/revoke serial_number=${s.serial}`);
      if (mode === "wrap") {
        const opened = await vaultApi("POST", "sys/wrapping/unwrap", undefined, s.secret_values.wrapping_token);
        expect(new X509Certificate(s.certificate).checkPrivateKey(createPrivateKey(opened.json.data.private_key))).toBe(true);
      }
      if (mode !== "reveal") expect(JSON.stringify(r)).not.toContain("PRIVATE KEY");
    }
  });
});

describe("configuration", () => {
  const base = { VAULT_ADDR: testVault().addr, VAULT_TOKEN: "t" };

  it("defaults to reveal with a 5m wrap TTL, and takes the mode from --secret-values as from MCP_SECRET_VALUES", () => {
    expect(loadConfig([], base).tools.secretValues).toEqual({ mode: "reveal", wrapTtlSeconds: 300, maskKey: undefined, maskKeyFile: undefined });
    expect(loadConfig(["--secret-values", "wrap", "--wrap-ttl=2m"], base).tools.secretValues).toMatchObject({ mode: "wrap", wrapTtlSeconds: 120 });
    expect(loadConfig([], { ...base, MCP_SECRET_VALUES: "MASK" }).tools.secretValues.mode).toBe("mask");
  });

  it("refuses an unknown mode, a TTL out of range, a short key and two keys, never quoting a key", () => {
    expect(() => loadConfig([], { ...base, MCP_SECRET_VALUES: "hide" })).toThrow(ConfigError);
    expect(() => loadConfig([], { ...base, MCP_WRAP_TTL: "48h" })).toThrow(/MCP_WRAP_TTL/);
    expect(() => loadConfig([], { ...base, MCP_WRAP_TTL: "500ms" })).toThrow(/MCP_WRAP_TTL/);
    let message = "";
    try {
      loadConfig([], { ...base, MCP_MASK_KEY: "short-secret-key" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("at least 32 characters (it has 16)");
    expect(message).not.toContain("short-secret-key");
    expect(() => loadConfig([], { ...base, MCP_MASK_KEY: MASK_KEY, MCP_MASK_KEY_FILE: "/tmp/x" })).toThrow(/both set/);
  });

  it("reads the mask key from MCP_MASK_KEY_FILE, giving the fingerprints the inline key gives", async () => {
    const file = `${process.env.TMPDIR ?? "/tmp"}/mask-key-${crypto.randomUUID()}`;
    await Bun.write(file, `${MASK_KEY}\n`);
    const path = unique("keyfile");
    await vaultApi("POST", `${world.kv2}/data/${path}`, { data: { a: "fingerprint-me-please" } });
    const inline = await ok(clients.get("mask")!, "read_secret", { mount: world.kv2, path });
    const fromFile = await ok(await connectClient(testServer({ MCP_SECRET_VALUES: "mask", MCP_MASK_KEY_FILE: file })), "read_secret", { mount: world.kv2, path });
    expect(fromFile.structuredContent?.data.a).toBe(inline.structuredContent?.data.a);
  });
});
