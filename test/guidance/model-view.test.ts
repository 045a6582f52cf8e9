// What kagent's model sees: on success kagent's Go agent hands it only {"output": structuredContent}, and its Ollama
// adapter keeps only type, description and enum of each parameter. Every tool is checked under both losses.
import { beforeAll, describe, expect, it } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { allTools } from "../../src/tools/index.ts";
import { suggestedCalls, summaryOf } from "../../src/tools/guidance.ts";
import { ToolRegistry } from "../../src/tools/registry.ts";
import { connectClient, ok, testServer, text, tokenLease, type ToolResult, unique } from "../support/mcp.ts";

const registry = new ToolRegistry(allTools);

/** A CSR for `cn` over an RSA key made here (the default key type of a PKI role), as its owner would send it. */
function makeCsr(cn: string): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), "guide-csr-"));
  try {
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const r = Bun.spawnSync(["openssl", "req", "-new", "-key", keyFile, "-subj", `/CN=${cn}`], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl req failed: ${r.stderr.toString()}`);
    return r.stdout.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const names = new Set(registry.names());

/** A schema as a lossy adapter passes it on: type, description, enum, items, properties, required; nothing else. */
export function reduce(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null) return schema;
  const s = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ["type", "description", "enum", "required"]) if (k in s) out[k] = s[k];
  if (s.items) out.items = reduce(s.items);
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties as object).map(([k, v]) => [k, reduce(v)]));
  return out;
}

/** Where `full` says more than "any value" (a type, or a closed set) and the reduction lost it. */
function losses(full: Record<string, unknown>, reduced: Record<string, unknown>, at: string): string[] {
  const lost: string[] = [];
  const constrains = full.type !== undefined || full.anyOf !== undefined || full.oneOf !== undefined || full.enum !== undefined || full.const !== undefined;
  if (constrains && reduced.type === undefined) lost.push(`${at}: type`);
  const closed = full.enum ?? (Array.isArray(full.anyOf) && (full.anyOf as Record<string, unknown>[]).every((b) => "const" in b) ? full.anyOf : undefined);
  if (closed !== undefined && reduced.enum === undefined) lost.push(`${at}: allowed values`);
  if (full.items) lost.push(...losses(full.items as Record<string, unknown>, (reduced.items ?? {}) as Record<string, unknown>, `${at}[]`));
  for (const [k, v] of Object.entries((full.properties ?? {}) as Record<string, Record<string, unknown>>)) {
    lost.push(...losses(v, ((reduced.properties ?? {}) as Record<string, Record<string, unknown>>)[k] ?? {}, `${at}.${k}`));
  }
  return lost;
}

describe("the schemas a lossy adapter keeps", () => {
  for (const tool of registry.list()) {
    it(`${tool.name}: every parameter keeps its type and its allowed values`, () => {
      const input = tool.inputSchema;
      expect(losses(input, reduce(input) as Record<string, unknown>, tool.name)).toEqual([]);
    });

    it(`${tool.name}: no argument with a default is required, and the schema is plain (no $ref, no patternProperties)`, () => {
      const props = tool.inputSchema.properties as Record<string, Record<string, unknown>>;
      const required = (tool.inputSchema.required ?? []) as string[];
      for (const name of required) expect(props[name]!.default, `${tool.name}.${name}`).toBeUndefined();
      for (const schema of [tool.inputSchema, tool.outputSchema]) {
        const json = JSON.stringify(schema);
        expect(json).not.toContain('"$ref"');
        expect(json).not.toContain('"patternProperties"');
      }
    });
  }

  it("advertises the closed sets as enums", () => {
    const prop = (tool: string, name: string) => (registry.list().find((t) => t.name === tool)!.inputSchema.properties as Record<string, any>)[name];
    expect(prop("create_pki_issuer", "type")).toMatchObject({ type: "string", enum: ["root", "intermediate", "import"] });
    expect(prop("create_pki_issuer", "key_type")).toMatchObject({ type: "string", enum: ["rsa", "ec", "ed25519"] });
    expect(prop("create_pki_role", "key_type")).toMatchObject({ type: "string", enum: ["rsa", "ec", "ed25519"], default: "rsa" });
    expect(prop("generate_secret", "charset").enum).toContain("hex");
    expect(prop("issue_pki_certificate", "alt_names")).toMatchObject({ type: "array", items: { type: "string" } });
    expect(prop("issue_pki_certificate", "ip_sans")).toMatchObject({ type: "array", items: { type: "string" } });
    expect(prop("write_secret", "value").type).toEqual(["string", "number", "boolean", "array", "object"]);
  });

  it("no longer lists a defaulted mount as required", () => {
    for (const tool of registry.list()) expect((tool.inputSchema.required ?? []) as string[], tool.name).not.toContain("mount");
  });
});

describe("guidance parsed from a text answer", () => {
  const isTool = (n: string) => names.has(n);

  it("takes the first non-empty line as the summary, shortened when it is long", () => {
    expect(summaryOf("\nDone.\nMore.")).toBe("Done.");
    expect(summaryOf("x".repeat(500)).length).toBeLessThanOrEqual(240);
  });

  it("finds calls of served tools, with nested brackets and quoted parentheses, once each", () => {
    const t = 'Use read_secret(mount="a", path="b(c)") or create_pki_role(mount="pki", role_name="w", allowed_domains=["x.com"]). read_secret(mount="a", path="b(c)")';
    expect(suggestedCalls(t, isTool)).toEqual(['read_secret(mount="a", path="b(c)")', 'create_pki_role(mount="pki", role_name="w", allowed_domains=["x.com"])']);
  });

  it("ignores names that are not tools, prose in parentheses and unclosed calls", () => {
    expect(suggestedCalls('vault_write(x="1") list_mounts (to see them) read_secret(mount="a"', isTool)).toEqual([]);
    expect(suggestedCalls("see list_mounts() first", isTool)).toEqual(["list_mounts()"]);
  });
});

describe("the structured result kagent's model sees, for every tool", () => {
  let client: Client;
  const seen = new Map<string, ToolResult>();
  const kv = unique("guide-kv");
  const pki = unique("guide-pki");
  const transit = unique("guide-transit");

  beforeAll(async () => {
    client = await connectClient(testServer());
    const run = async (name: string, args: Record<string, unknown>) => seen.set(name, await ok(client, name, args));
    await run("create_mount", { path: kv, type: "kv-v2" });
    await run("list_mounts", {});
    await run("write_secret", { mount: kv, path: "app/db", key: "password", value: "s3cret-guidance" });
    await run("read_secret", { mount: kv, path: "app/db" });
    await run("list_secrets", { mount: kv });
    await run("generate_secret", { mount: kv, path: "app/gen", key: "token" });
    await run("delete_secret", { mount: kv, path: "app/gen" });
    await run("patch_secret", { mount: kv, path: "app/db", data: { user: "app" } });
    await run("read_secret_metadata", { mount: kv, path: "app/db" });
    await run("write_secret_metadata", { mount: kv, path: "app/db", max_versions: 5, custom_metadata: { owner: "guidance" } });
    await run("delete_secret_versions", { mount: kv, path: "app/db", versions: [1] });
    await run("undelete_secret_versions", { mount: kv, path: "app/db", versions: [1] });
    await run("rollback_secret", { mount: kv, path: "app/db", version: 1 });
    await run("destroy_secret_versions", { mount: kv, path: "app/db", versions: [2] });
    await run("delete_secret_metadata", { mount: kv, path: "app/gen" });
    await run("enable_pki", { path: pki });
    await run("create_pki_issuer", { mount: pki, type: "root", common_name: "Guide Root CA", issuer_name: "root" });
    await run("list_pki_issuers", { mount: pki });
    await run("read_pki_issuer", { mount: pki });
    await run("create_pki_role", { mount: pki, role_name: "web", allowed_domains: ["example.com"], allow_subdomains: true });
    await run("list_pki_roles", { mount: pki });
    await run("read_pki_role", { mount: pki, role_name: "web" });
    await run("issue_pki_certificate", { mount: pki, role_name: "web", common_name: "api.example.com", alt_names: "www.example.com, app.example.com" });
    await run("sign_pki_csr", { mount: pki, role_name: "web", csr: makeCsr("csr.example.com") });
    const serial = String(seen.get("sign_pki_csr")!.structuredContent!.serial);
    await run("list_pki_certificates", { mount: pki });
    await run("read_pki_certificate", { mount: pki, serial });
    await run("revoke_pki_certificate", { mount: pki, serial });
    await run("tidy_pki", { mount: pki, safety_buffer: "1h" });
    await run("create_pki_issuer", { mount: pki, type: "root", common_name: "Guide Spare CA", issuer_name: "spare" });
    await run("set_default_pki_issuer", { mount: pki, issuer: "spare" });
    await run("delete_pki_issuer", { mount: pki, issuer: "root" });
    await run("delete_pki_role", { mount: pki, role_name: "web" });
    await run("enable_transit", { path: transit });
    await run("create_transit_key", { mount: transit, name: "aes" });
    await run("list_transit_keys", { mount: transit });
    await run("read_transit_key", { mount: transit, name: "aes" });
    await run("encrypt_data", { mount: transit, name: "aes", plaintext: "guidance" });
    const ciphertext = String(seen.get("encrypt_data")!.structuredContent!.ciphertext);
    await run("rotate_transit_key", { mount: transit, name: "aes" });
    await run("rewrap_data", { mount: transit, name: "aes", ciphertext });
    await run("decrypt_data", { mount: transit, name: "aes", ciphertext: String(seen.get("rewrap_data")!.structuredContent!.ciphertext) });
    await run("update_transit_key_config", { mount: transit, name: "aes", deletion_allowed: true });
    await run("delete_transit_key", { mount: transit, name: "aes" });
    await run("create_transit_key", { mount: transit, name: "sig", type: "ed25519" });
    await run("sign_data", { mount: transit, name: "sig", input: "pay 10 EUR" });
    await run("verify_signature", { mount: transit, name: "sig", input: "pay 10 EUR", signature: String(seen.get("sign_data")!.structuredContent!.signature) });
    await run("create_transit_key", { mount: transit, name: "mac", type: "hmac" });
    await run("generate_hmac", { mount: transit, name: "mac", input: "msg" });
    await run("verify_hmac", { mount: transit, name: "mac", input: "msg", hmac: String(seen.get("generate_hmac")!.structuredContent!.hmac) });
    await run("hash_data", { mount: transit, input: "abc" });
    await run("generate_random_bytes", { mount: transit, bytes: 16 });
    await run("list_policies", {});
    await run("write_policy", { name: `${kv}-policy`, policy: `path "${kv}/data/*" { capabilities = ["read"] }` });
    await run("read_policy", { name: `${kv}-policy` });
    await run("check_capabilities", { paths: [`${kv}/data/app/db`, "sys/mounts"] });
    await run("delete_policy", { name: `${kv}-policy` });
    await run("lookup_self", {});
    await run("read_entity_self", {});
    await run("list_auth_methods", {});
    await run("read_auth_method", { path: "token" });
    await run("read_cluster_health", {});
    await run("read_mount", { path: kv });
    await run("tune_mount", { path: kv, max_lease_ttl: "48h" });
    await run("list_audit_devices", {});
    await run("list_leases", { prefix: "auth/token/create" });
    const { leaseId } = await tokenLease();
    await run("read_lease", { lease_id: leaseId });
    await run("revoke_lease", { lease_id: leaseId });
    await run("delete_mount", { path: transit });
    await run("delete_mount", { path: pki });
    await run("delete_mount", { path: kv });
  }, 60_000);

  it("has called every registered tool", () => {
    expect([...seen.keys()].sort()).toEqual([...names].sort());
  });

  for (const tool of allTools) {
    it(`${tool.name}: structuredContent carries the text's first line as summary and its suggested calls as next`, () => {
      const r = seen.get(tool.name)!;
      const sc = r.structuredContent as Record<string, unknown>;
      expect(sc.summary).toBe(summaryOf(text(r)));
      expect(String(sc.summary).length).toBeGreaterThan(0);
      const expected = suggestedCalls(text(r), (n) => names.has(n));
      if (expected.length > 0) expect(sc.next).toEqual(expected);
      else expect(sc).not.toHaveProperty("next");
      for (const call of (sc.next ?? []) as string[]) expect(names.has(call.slice(0, call.indexOf("(")))).toBe(true);
      expect(text(r)).toContain(String(sc.summary).replace(/\.\.\.$/, ""));
    });
  }

  it("advertises summary (required) and next in every output schema", () => {
    for (const tool of registry.list()) {
      expect(tool.outputSchema.required as string[]).toContain("summary");
      expect((tool.outputSchema.properties as Record<string, any>).summary.type).toBe("string");
      expect((tool.outputSchema.properties as Record<string, any>).next).toMatchObject({ type: "array", items: { type: "string" } });
    }
  });

  it("tells the next step of a write where only structuredContent reaches the model", () => {
    const sc = seen.get("write_secret")!.structuredContent as Record<string, unknown>;
    expect(sc.next).toEqual([`read_secret(mount="${kv}", path="app/db")`]);
  });

  it("accepts alt_names as a comma-separated string although only the list is advertised", () => {
    const sc = seen.get("issue_pki_certificate")!.structuredContent as Record<string, any>;
    expect(sc.subject_alt_names).toEqual(expect.arrayContaining(["DNS:www.example.com", "DNS:app.example.com"]));
  });
});
