// MCP_AUDIT_LOG: one JSON line per tools/call that names who did what to what and how it ended, and never a value:
// every registered tool is run with values of our own, and the audit output is searched for each of them.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuditEntry, auditLine, createAuditLog } from "../../src/audit.ts";
import { silentLogger } from "../../src/log.ts";
import { allTools } from "../../src/tools/index.ts";
import { call, connectClient, MCP_URL, testServer, text, tokenLease, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

describe("every tool, audited", () => {
  it("writes one line per call naming caller, tool, mount, path, argument names and outcome, and no value, token or key", async () => {
    const lines: string[] = [];
    const server = testServer({ MCP_AUDIT_LOG: "stderr" }, { auditWrite: (l) => void lines.push(l) });
    const client = await connectClient(server);
    const kv = unique("audit-kv");
    const pki = unique("audit-pki");
    const secret = `s3cret-${crypto.randomUUID()}`;
    const keyed = `keyed-${crypto.randomUUID()}`;
    const lease = await tokenLease();
    // Fixtures made directly in Vault for the tools that act on what others made: a CSR, a certificate, a second issuer,
    // transit keys and what they made of a plaintext of our own.
    const pkiLife = unique("audit-pki-life");
    await vaultApi("POST", `sys/mounts/${pkiLife}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
    await vaultApi("POST", `${pkiLife}/issuers/generate/root/internal`, { common_name: "Audit Root", issuer_name: "first", ttl: "8760h", key_type: "ec" });
    await vaultApi("POST", `${pkiLife}/issuers/generate/root/internal`, { common_name: "Audit Spare", issuer_name: "spare", ttl: "8760h", key_type: "ec" });
    await vaultApi("POST", `${pkiLife}/issuers/generate/root/internal`, { common_name: "Audit Doomed", issuer_name: "doomed", ttl: "8760h", key_type: "ec" });
    await vaultApi("POST", `${pkiLife}/roles/web`, { allowed_domains: "example.com", allow_subdomains: true, max_ttl: "72h", key_type: "ec" });
    const csr = (await vaultApi("POST", `${pkiLife}/intermediate/generate/internal`, { common_name: "csr.example.com", key_type: "ec" })).json.data.csr as string;
    const cert = (await vaultApi("POST", `${pkiLife}/issue/web`, { common_name: "audited.example.com", ttl: "1h" })).json.data;
    const transit = unique("audit-transit");
    const fixed = unique("audit-transit-fixed");
    await vaultApi("POST", `sys/mounts/${fixed}`, { type: "transit" });
    await vaultApi("POST", `${fixed}/keys/data`, {});
    await vaultApi("POST", `${fixed}/keys/sig`, { type: "ed25519" });
    await vaultApi("POST", `${fixed}/keys/mac`, { type: "hmac", key_size: 32 });
    const plain = `plain-${crypto.randomUUID()}`;
    const b64 = Buffer.from(plain).toString("base64");
    const ciphertext = (await vaultApi("POST", `${fixed}/encrypt/data`, { plaintext: b64 })).json.data.ciphertext as string;
    const hmac = (await vaultApi("POST", `${fixed}/hmac/mac`, { input: b64 })).json.data.hmac as string;
    const signature = (await vaultApi("POST", `${fixed}/sign/sig`, { input: b64 })).json.data.signature as string;
    const patched = `patched-${crypto.randomUUID()}`;
    const calls: [string, Record<string, unknown>][] = [
      ["create_mount", { path: kv, type: "kv-v2" }],
      ["list_mounts", {}],
      ["write_secret", { mount: kv, path: "app/db", data: { password: secret, user: "app" } }],
      ["write_secret", { mount: kv, path: "app/db", key: "api_key", value: keyed }],
      ["read_secret", { mount: kv, path: "app/db" }],
      ["list_secrets", { mount: kv, path: "app" }],
      ["generate_secret", { mount: kv, path: "app/gen", key: "token" }],
      ["delete_secret", { mount: kv, path: "app/db", key: "api_key" }],
      ["read_secret_metadata", { mount: kv, path: "app/db" }],
      ["write_secret_metadata", { mount: kv, path: "app/db", max_versions: 5, custom_metadata: { owner: "audit" } }],
      ["patch_secret", { mount: kv, path: "app/db", data: { password: patched, user: null } }],
      ["rollback_secret", { mount: kv, path: "app/db", version: 1 }],
      ["delete_secret_versions", { mount: kv, path: "app/db", versions: [1] }],
      ["undelete_secret_versions", { mount: kv, path: "app/db", versions: [1] }],
      ["write_secret", { mount: kv, path: "app/old", key: "password", value: secret }],
      ["destroy_secret_versions", { mount: kv, path: "app/old", versions: [1] }],
      ["delete_secret_metadata", { mount: kv, path: "app/old" }],
      ["enable_pki", { path: pki }],
      ["create_pki_issuer", { mount: pki, type: "root", common_name: "audit.example.com", key_type: "ec" }],
      ["list_pki_issuers", { mount: pki }],
      ["read_pki_issuer", { mount: pki }],
      ["create_pki_role", { mount: pki, role_name: "web", allowed_domains: ["example.com"], allow_subdomains: true, key_type: "ec" }],
      ["list_pki_roles", { mount: pki }],
      ["read_pki_role", { mount: pki, role_name: "web" }],
      ["issue_pki_certificate", { mount: pki, role_name: "web", common_name: "a.example.com" }],
      ["delete_pki_role", { mount: pki, role_name: "web" }],
      ["sign_pki_csr", { mount: pkiLife, role_name: "web", csr, ttl: "1h" }],
      ["list_pki_certificates", { mount: pkiLife }],
      ["read_pki_certificate", { mount: pkiLife, serial: cert.serial_number }],
      ["revoke_pki_certificate", { mount: pkiLife, serial: cert.serial_number }],
      ["tidy_pki", { mount: pkiLife, safety_buffer: "72h" }],
      ["set_default_pki_issuer", { mount: pkiLife, issuer: "spare" }],
      ["delete_pki_issuer", { mount: pkiLife, issuer: "doomed" }],
      ["enable_transit", { path: transit }],
      ["create_transit_key", { mount: transit, name: "audited" }],
      ["list_transit_keys", { mount: transit }],
      ["read_transit_key", { mount: transit, name: "audited" }],
      ["rotate_transit_key", { mount: transit, name: "audited" }],
      ["update_transit_key_config", { mount: transit, name: "audited", deletion_allowed: true }],
      ["delete_transit_key", { mount: transit, name: "audited" }],
      ["encrypt_data", { mount: fixed, name: "data", plaintext: plain }],
      ["decrypt_data", { mount: fixed, name: "data", ciphertext }],
      ["rewrap_data", { mount: fixed, name: "data", ciphertext }],
      ["generate_hmac", { mount: fixed, name: "mac", input: plain }],
      ["verify_hmac", { mount: fixed, name: "mac", input: plain, hmac }],
      ["sign_data", { mount: fixed, name: "sig", input: plain }],
      ["verify_signature", { mount: fixed, name: "sig", input: plain, signature }],
      ["hash_data", { mount: fixed, input: plain }],
      ["generate_random_bytes", { mount: fixed, bytes: 32, format: "hex" }],
      ["list_policies", {}],
      ["write_policy", { name: `${kv}-policy`, policy: `path "${kv}/data/*" { capabilities = ["read"] }` }],
      ["read_policy", { name: `${kv}-policy` }],
      ["check_capabilities", { paths: [`${kv}/data/app/db`] }],
      ["delete_policy", { name: `${kv}-policy` }],
      ["lookup_self", {}],
      ["read_entity_self", {}],
      ["list_auth_methods", {}],
      ["read_auth_method", { path: "token" }],
      ["read_cluster_health", {}],
      ["read_mount", { path: kv }],
      ["tune_mount", { path: kv, description: "audited" }],
      ["list_audit_devices", {}],
      ["list_leases", { prefix: "auth/token/create" }],
      ["read_lease", { lease_id: lease.leaseId }],
      ["revoke_lease", { lease_id: lease.leaseId }],
      ["delete_mount", { path: pki }],
    ];
    // The table is checked against the wiring list, so a new tool that is not audited here fails.
    expect(new Set(calls.map(([n]) => n))).toEqual(new Set(allTools.map((t) => t.name)));

    const values: string[] = [secret, keyed, testVault().token, lease.token, plain, b64, patched, cert.private_key];
    for (const [name, args] of calls) {
      const before = lines.length;
      const r = await call(client, name, args);
      expect(r.isError, `${name}: ${text(r)}`).toBeFalsy();
      expect(lines.length).toBe(before + 1);
      const line = JSON.parse(lines.at(-1)!);
      expect(line).toMatchObject({ audit: "tools/call", tool: name, caller: "anonymous", auth: "none", identity: "server", outcome: "ok", args: Object.keys(args) });
      expect(typeof line.id).toBe("number");
      expect(line.duration_ms).toBeGreaterThanOrEqual(0);
      // Vault's 204s (mount changes, deletes) carry no body and so no request_id; every answer with one is named.
      if (["read_secret", "list_mounts", "list_secrets", "issue_pki_certificate", "create_pki_issuer"].includes(name)) expect(line.vault_request_ids.length).toBeGreaterThan(0);
      if (name === "issue_pki_certificate") {
        values.push(r.structuredContent!.private_key, ...String(r.structuredContent!.private_key).split("\n").filter((l) => l.length > 40));
      }
      if (name === "decrypt_data") expect(r.structuredContent!.plaintext).toBe(plain);
      if (name === "generate_random_bytes") values.push(r.structuredContent!.random_bytes);
    }
    const generated = (await vaultApi("GET", `${kv}/data/app/gen`)).json.data.data.token as string;
    values.push(generated);
    expect((await call(client, "delete_mount", { path: kv })).isError).toBeFalsy();
    for (const mount of [pkiLife, transit, fixed]) await vaultApi("DELETE", `sys/mounts/${mount}`);
    await client.close();

    const audit = lines.join("");
    for (const v of values) expect(audit).not.toContain(v);
    expect(audit).not.toContain("PRIVATE KEY");
    // Mount and path are named as the tools normalise them; a mount tool's path is its mount; defaults are filled in.
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.find((l) => l.tool === "read_secret")).toMatchObject({ mount: kv, path: "app/db" });
    expect(parsed.find((l) => l.tool === "create_mount")).toMatchObject({ mount: kv });
    expect(parsed.find((l) => l.tool === "list_mounts").mount).toBeUndefined();
  });

  it("records a failed call by its class, an unknown tool as invalid, and a value-bearing argument only by name", async () => {
    const lines: string[] = [];
    const server = testServer({ MCP_AUDIT_LOG: "stderr" }, { auditWrite: (l) => void lines.push(l) });
    const client = await connectClient(server);
    const hidden = `never-${crypto.randomUUID()}`;
    await call(client, "write_secret", { mount: "no-such-mount-here", path: "a", key: "k", value: hidden });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ tool: "write_secret", outcome: "tool_error", mount: "no-such-mount-here", args: ["mount", "path", "key", "value"] });
    await call(client, "read_secret", { path: "../../sys/x" });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ tool: "read_secret", mount: "secret", outcome: "tool_error" });
    expect(JSON.parse(lines.at(-1)!).path).toBeUndefined();
    await expect(call(client, "no_such_tool", {})).rejects.toThrow();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ tool: "no_such_tool", outcome: "invalid" });
    await client.close();
    expect(lines.join("")).not.toContain(hidden);
  });

  it("records a call a policy rule refused as refused by that rule, and a rate-limited call as rate_limited", async () => {
    const lines: string[] = [];
    const server = testServer({ MCP_AUDIT_LOG: "stderr", MCP_READ_ONLY: "true", MCP_RATE_LIMIT: "1/s,burst=2" }, { auditWrite: (l) => void lines.push(l) });
    const body = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "write_secret", arguments: { path: "a", key: "k", value: "v" } } });
    const post = (id: number) => server.fetch(new Request(MCP_URL, { method: "POST", body: body(id), headers: { "content-type": "application/json", accept: "application/json" } }));
    expect((await post(1)).status).toBe(200);
    const refused = JSON.parse(lines.at(-1)!);
    expect(refused).toMatchObject({ tool: "write_secret", outcome: "refused", id: 1 });
    expect(typeof refused.rule).toBe("string");
    await post(2);
    const limited = await post(3);
    expect(limited.status).toBe(429);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ tool: "write_secret", outcome: "rate_limited", id: 3 });
  });

  it("records a bearer caller by its name and how it authenticated, never by its token", async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), "vault-mcp-audit-"));
    const tokensFile = join(dir, "tokens");
    await Bun.write(tokensFile, "kagent:audit-token-0123456789abcdef\n");
    const server = testServer({ MCP_AUTH: "bearer", MCP_AUTH_TOKENS_FILE: tokensFile, MCP_AUDIT_LOG: "stderr" }, { auditWrite: (l) => void lines.push(l) });
    const res = await server.fetch(
      new Request(MCP_URL, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer audit-token-0123456789abcdef" },
        body: JSON.stringify({ jsonrpc: "2.0", id: "req-1", method: "tools/call", params: { name: "list_mounts", arguments: {} } }),
      }),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ id: "req-1", caller: "kagent", auth: "bearer", tool: "list_mounts", outcome: "ok" });
    expect(lines.join("")).not.toContain("audit-token-0123456789abcdef");
  });
});

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  method: "tools/call",
  id: 1,
  caller: { name: "kagent", auth: "bearer", address: "10.0.0.5" },
  identity: "server",
  target: "read_secret",
  mount: "secret",
  path: "app/db",
  args: ["mount", "path"],
  outcome: "ok",
  durationMs: 1.23456,
  vaultRequestIds: ["3f1c"],
  ...over,
});

describe("the audit line", () => {
  it("is one JSON object with an audit field and no level or msg, so readers of the operational log skip it", () => {
    const line = auditLine(entry(), new Date("2030-01-02T03:04:05Z"));
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({
      time: "2030-01-02T03:04:05.000Z",
      audit: "tools/call",
      id: 1,
      caller: "kagent",
      auth: "bearer",
      address: "10.0.0.5",
      identity: "server",
      tool: "read_secret",
      mount: "secret",
      path: "app/db",
      args: ["mount", "path"],
      outcome: "ok",
      duration_ms: 1.235,
      vault_request_ids: ["3f1c"],
    });
  });

  it("names a refusal's rule, and stdio as the caller off HTTP", () => {
    const line = JSON.parse(auditLine(entry({ caller: undefined, outcome: "refused", rule: "scope:vault:write" })));
    expect(line).toMatchObject({ caller: "stdio", auth: "stdio", outcome: "refused", rule: "scope:vault:write" });
  });

  it("is written nowhere when off", () => {
    const written: string[] = [];
    const log = createAuditLog({ to: "off" }, silentLogger, (l) => void written.push(l));
    log.record(entry());
    expect(log.enabled).toBe(false);
    expect(written).toEqual([]);
  });
});

describe("MCP_AUDIT_LOG=<file>", () => {
  it("appends, and after logrotate moves the file, reopen() writes on in a new one at the same path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vault-mcp-audit-"));
    const file = join(dir, "audit.log");
    await Bun.write(file, '{"earlier":true}\n');
    const log = createAuditLog({ to: "file", file }, silentLogger);
    for (let i = 0; i < 3; i++) log.record(entry({ id: i }));
    await log.flush();
    renameSync(file, `${file}.1`);
    log.record(entry({ id: 3 }));
    log.reopen();
    log.record(entry({ id: 4 }));
    log.record(entry({ id: 5 }));
    await log.flush();
    const rotated = readFileSync(`${file}.1`, "utf8").trim().split("\n");
    const fresh = readFileSync(file, "utf8").trim().split("\n");
    expect(rotated[0]).toBe('{"earlier":true}');
    const ids = (lines: string[]) => lines.filter((l) => l.includes('"audit"')).map((l) => JSON.parse(l).id);
    // The line recorded before reopen() may land in either file; none is lost or doubled.
    expect([...ids(rotated), ...ids(fresh)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ids(rotated).slice(0, 3)).toEqual([0, 1, 2]);
    expect(ids(fresh)).toContain(5);
  });

  it("refuses at start-up a file it cannot open", () => {
    expect(() => createAuditLog({ to: "file", file: "/nonexistent-dir/audit.log" }, silentLogger)).toThrow();
  });
});
