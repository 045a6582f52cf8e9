// MCP prompts through the SDK client against the dev Vault, and the least-privilege HCL as a pure function.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { leastPrivilegeHcl } from "../../src/mcp/prompts.ts";
import { connectClient, testServer, unique, vaultApi } from "../support/mcp.ts";

let client: Client;
const textOf = (r: { messages: { content: { type: string; text?: string } }[] }) => r.messages.map((m) => m.content.text ?? "").join("\n");

beforeAll(async () => {
  client = await connectClient(testServer());
});

describe("prompts/list", () => {
  it("lists the workflows with their arguments", async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(["create_app_mount", "diagnose_access", "issue_certificate", "least_privilege_policy", "retrieve_secret", "store_secret"]);
    const lp = prompts.find((p) => p.name === "least_privilege_policy")!;
    expect(lp.arguments).toEqual([expect.objectContaining({ name: "paths", required: true }), expect.objectContaining({ name: "capabilities" })]);
  });
});

describe("prompts/get", () => {
  it("store_secret names write_secret with the given place and prefers generate_secret for new passwords", async () => {
    const t = textOf(await client.getPrompt({ name: "store_secret", arguments: { path: "myapp/db", key: "password" } }));
    expect(t).toContain('write_secret(mount="secret", path="myapp/db", key="password", value="<the value>")');
    expect(t).toContain("generate_secret(");
  });

  it("retrieve_secret names read_secret", async () => {
    const t = textOf(await client.getPrompt({ name: "retrieve_secret", arguments: { path: "a/b", mount: "kv", key: "k" } }));
    expect(t).toContain('read_secret(mount="kv", path="a/b", key="k")');
  });

  it("issue_certificate walks mounts, PKI, a root, a role, then the certificate", async () => {
    const t = textOf(await client.getPrompt({ name: "issue_certificate", arguments: { common_name: "api.example.com" } }));
    const order = ["list_mounts()", 'enable_pki(path="pki")', "create_pki_issuer(", 'create_pki_role(mount="pki", role_name="web-server", allowed_domains=["example.com"]', "issue_pki_certificate("];
    const at = order.map((s) => t.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("create_app_mount creates a KV v2 mount named for the app", async () => {
    expect(textOf(await client.getPrompt({ name: "create_app_mount", arguments: { app: "billing" } }))).toContain('create_mount(path="billing", type="kv-v2"');
  });

  it("least_privilege_policy embeds the HCL", async () => {
    const t = textOf(await client.getPrompt({ name: "least_privilege_policy", arguments: { paths: "secret/data/app/*, secret/metadata/app/*", capabilities: "read,list" } }));
    expect(t).toContain('path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}');
    expect(t).toContain('path "secret/metadata/app/*"');
  });

  it("refuses a missing argument, an unknown one, an unknown prompt and a bad capability with -32602", async () => {
    expect(client.getPrompt({ name: "store_secret", arguments: { path: "a" } })).rejects.toThrow(/-32602.*Missing required argument "key"/s);
    expect(client.getPrompt({ name: "store_secret", arguments: { path: "a", key: "b", nope: "c" } })).rejects.toThrow(/Unknown argument "nope"/);
    expect(client.getPrompt({ name: "nope" })).rejects.toThrow(/Unknown prompt "nope"/);
    expect(client.getPrompt({ name: "least_privilege_policy", arguments: { paths: "a/*", capabilities: "write" } })).rejects.toThrow(/unknown capability "write"/);
  });

  it("diagnose_access tells a limited token's capabilities, policies, mount and policy text, read with that token", async () => {
    const kv = unique("diag-kv");
    const policy = unique("diag-policy");
    await vaultApi("POST", `sys/mounts/${kv}`, { type: "kv", options: { version: "2" } });
    await vaultApi("PUT", `sys/policies/acl/${policy}`, {
      policy: `path "${kv}/data/app/*" {\n  capabilities = ["read"]\n}\npath "sys/policies/acl/*" {\n  capabilities = ["read"]\n}\npath "sys/mounts" {\n  capabilities = ["read"]\n}\n`,
    });
    const token = (await vaultApi("POST", "auth/token/create", { policies: [policy], ttl: "10m" })).json.auth.client_token;
    const limited = await connectClient(testServer({ VAULT_TOKEN: token }));
    const t = textOf(await limited.getPrompt({ name: "diagnose_access", arguments: { path: `${kv}/data/app/db` } }));
    expect(t).toContain(`on ${kv}/data/app/db (sys/capabilities-self): read.`);
    expect(t).toContain(policy);
    expect(t).toContain(`falls in the mount ${kv}/ (kv-v2)`);
    expect(t).toContain(`path "${kv}/data/app/*"`);
    const denied = textOf(await limited.getPrompt({ name: "diagnose_access", arguments: { path: `${kv}/data/other` } }));
    expect(denied).toContain("deny");
  });
});

describe("leastPrivilegeHcl", () => {
  it("grants read by default, one block a path", () => {
    expect(leastPrivilegeHcl(["secret/data/a"], [])).toBe('path "secret/data/a" {\n  capabilities = ["read"]\n}\n');
  });

  it("keeps globs, drops a leading slash and repeated capabilities", () => {
    expect(leastPrivilegeHcl(["/secret/+/a/*"], ["read", "READ", "list"])).toBe('path "secret/+/a/*" {\n  capabilities = ["read", "list"]\n}\n');
  });

  it("refuses what would break out of the HCL string or block", () => {
    for (const bad of ['a" { capabilities = ["sudo"] } path "b', "a\nb", "a}", "a b", "a\\b", "a#b"]) expect(() => leastPrivilegeHcl([bad], ["read"])).toThrow(/must be a Vault API path/);
  });

  it("refuses unknown capabilities, deny mixed with others, and no paths", () => {
    expect(() => leastPrivilegeHcl(["a"], ["write"])).toThrow(/unknown capability "write"/);
    expect(() => leastPrivilegeHcl(["a"], ["deny", "read"])).toThrow(/give it alone/);
    expect(() => leastPrivilegeHcl([], ["read"])).toThrow(/at least one path/);
  });
});
