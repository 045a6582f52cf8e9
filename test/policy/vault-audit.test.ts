// The policy refuses before any Vault request, as Vault's own audit log sees it: a dev Vault of this file's own with a
// file audit device, a token for the server alone, and every refused call checked against what Vault logged meanwhile.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { api, AuditTail } from "../fuzz/harness.ts";
import { call, connectClient, text, testServer } from "../support/mcp.ts";
import { type DevVault, startDevVault } from "../support/vault.ts";

let vault: DevVault;
let audit: AuditTail;
let token: string;

beforeAll(async () => {
  vault = await startDevVault({ fromEnv: false });
  const dir = await mkdtemp(join(tmpdir(), "vault-mcp-policy-audit-"));
  const file = join(dir, "audit.log");
  expect((await api(vault, "PUT", "sys/audit/policy", { type: "file", options: { file_path: file, hmac_accessor: "false" } })).status).toBe(204);
  const created = await api(vault, "POST", "auth/token/create", { policies: ["root"], display_name: "policy-server" });
  token = created.json.auth.client_token;
  audit = new AuditTail(file, created.json.auth.accessor);
  expect((await api(vault, "POST", "secret/data/locked/db", { data: { password: "kept" } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  audit?.close();
  await vault?.stop();
});

async function client(env: Record<string, string>): Promise<Client> {
  return connectClient(testServer({ VAULT_ADDR: vault.addr, VAULT_TOKEN: token, ...env }));
}

/** The requests the server's token made to Vault since the last look, its own token checks aside. */
function sent(): string[] {
  return audit
    .take()
    .filter((r) => !r.path.startsWith("auth/token/"))
    .map((r) => `${r.operation} ${r.path}`);
}

describe("refusals Vault never hears of", () => {
  it("MCP_READ_ONLY refuses every tool that changes Vault before a single request", async () => {
    const c = await client({ MCP_READ_ONLY: "true" });
    // Warm the mount cache first, so a lookup cannot pass for the refused call's request.
    await call(c, "read_secret", { path: "locked/db" });
    sent();
    const writes: [string, Record<string, unknown>][] = [
      ["write_secret", { path: "locked/db", key: "password", value: "changed" }],
      ["delete_secret", { path: "locked/db" }],
      ["generate_secret", { path: "locked/db", key: "new" }],
      ["create_mount", { path: "ro-new", type: "kv-v2" }],
      ["delete_mount", { path: "secret" }],
      ["enable_pki", {}],
    ];
    for (const [tool, args] of writes) {
      const r = await call(c, tool, args);
      expect([tool, r.isError]).toEqual([tool, true]);
      await Bun.sleep(20);
      expect([tool, sent()]).toEqual([tool, []]);
    }
    await c.close();
    expect((await api(vault, "GET", "secret/data/locked/db")).json.data.data).toEqual({ password: "kept" });
  });

  it("a denied path refuses a read and a write of it before a request, naming the rule, and leaves other paths alone", async () => {
    const c = await client({ MCP_DENIED_PATHS: "secret/locked/*" });
    await call(c, "list_secrets", {});
    sent();
    for (const [tool, args] of [
      ["read_secret", { path: "locked/db" }],
      ["write_secret", { path: "locked/db", key: "password", value: "changed" }],
    ] as const) {
      const r = await call(c, tool, args);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("secret/locked/*");
      await Bun.sleep(20);
      expect([tool, sent()]).toEqual([tool, []]);
    }
    const open = await call(c, "write_secret", { path: "open/db", key: "a", value: "b" });
    expect(open.isError).toBeUndefined();
    await Bun.sleep(20);
    expect(sent().some((r) => r.endsWith("secret/data/open/db"))).toBe(true);
    await c.close();
  });
});
