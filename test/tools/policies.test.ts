// Policy tools end to end: the SDK client over HTTP against the real dev Vault, each answer checked against Vault itself.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, testServer, text, unique, vaultApi } from "../support/mcp.ts";

let client: Client;
const RULES = 'path "secret/data/policies-test/*" {\n  capabilities = ["read"]\n}\n';

beforeAll(async () => {
  client = await connectClient();
});

describe("list_policies and read_policy", () => {
  it("lists what Vault lists, root and default among them", async () => {
    const name = unique("pol-list");
    await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: RULES });
    const { structuredContent } = await ok(client, "list_policies");
    const vault = (await vaultApi("LIST", "sys/policies/acl")).json.data.keys;
    expect([...structuredContent?.policies].sort()).toEqual([...vault].sort());
    expect(structuredContent?.policies).toEqual(expect.arrayContaining(["root", "default", name]));
  });

  it("reads a policy's HCL as Vault holds it", async () => {
    const name = unique("pol-read");
    await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: RULES });
    const r = await ok(client, "read_policy", { name });
    expect(r.structuredContent).toMatchObject({ name, policy: RULES });
    expect(text(r)).toContain('path "secret/data/policies-test/*"');
  });

  it("says a policy that does not exist does not, and where to look", async () => {
    const r = await call(client, "read_policy", { name: unique("pol-none") });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("No ACL policy named");
    expect(text(r)).toContain("list_policies");
  });

  it("refuses a name that climbs or has a slash, before asking Vault", async () => {
    for (const name of ["../root", "a/b", "sys/policies"]) {
      const r = await call(client, "read_policy", { name });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/invalid name|relative|single name/i);
    }
  });
});

describe("write_policy", () => {
  it("creates a policy, then replaces it, and Vault holds each version", async () => {
    const name = unique("pol-write");
    const made = await ok(client, "write_policy", { name, policy: RULES });
    expect(made.structuredContent).toMatchObject({ name, created: true });
    expect((await vaultApi("GET", `sys/policies/acl/${name}`)).json.data.policy).toBe(RULES);
    const next = RULES.replace('["read"]', '["read", "list"]');
    const replaced = await ok(client, "write_policy", { name, policy: next });
    expect(replaced.structuredContent).toMatchObject({ name, created: false });
    expect(text(replaced)).toContain("Replaced");
    expect((await vaultApi("GET", `sys/policies/acl/${name}`)).json.data.policy).toBe(next);
  });

  it("answers with Vault's lower-case name", async () => {
    const name = unique("Pol-Upper");
    const r = await ok(client, "write_policy", { name, policy: RULES });
    expect(r.structuredContent?.name).toBe(name.toLowerCase());
    expect((await vaultApi("GET", `sys/policies/acl/${name.toLowerCase()}`)).status).toBe(200);
  });

  it("shows Vault's reason for invalid HCL, and writes nothing", async () => {
    const name = unique("pol-bad");
    const r = await call(client, "write_policy", { name, policy: 'path "x" { capabilities = ["bogus"] }' });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('invalid capability "bogus"');
    expect(text(r)).toContain("Nothing was changed");
    expect((await vaultApi("GET", `sys/policies/acl/${name}`)).status).toBe(404);
  });

  it("refuses root in any letter case, and root is unchanged", async () => {
    for (const name of ["root", "ROOT"]) {
      const r = await call(client, "write_policy", { name, policy: RULES });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("built-in");
    }
  });
});

describe("delete_policy", () => {
  it("deletes a policy, says it cannot be undone, and Vault no longer has it", async () => {
    const name = unique("pol-del");
    await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: RULES });
    const r = await ok(client, "delete_policy", { name });
    expect(r.structuredContent).toMatchObject({ name, deleted: true, policy: RULES });
    expect(text(r)).toContain("cannot be undone");
    expect((await vaultApi("GET", `sys/policies/acl/${name}`)).status).toBe(404);
  });

  it("refuses root and default, which stay", async () => {
    for (const name of ["root", "default", "Default"]) {
      const r = await call(client, "delete_policy", { name });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("Nothing was deleted");
    }
    expect((await vaultApi("GET", "sys/policies/acl/default")).status).toBe(200);
  });

  it("says a missing policy was not there rather than 'deleted'", async () => {
    const r = await call(client, "delete_policy", { name: unique("pol-gone") });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("nothing was deleted");
  });
});

describe("check_capabilities", () => {
  it("answers what a limited token may do on each path, in words and as data", async () => {
    const name = unique("pol-caps");
    await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: 'path "secret/data/caps/*" { capabilities = ["read", "list"] }' });
    const token = (await vaultApi("POST", "auth/token/create", { policies: [name], ttl: "10m" })).json.auth.client_token;
    const limited = await connectClient(testServer({ VAULT_TOKEN: token }));
    const r = await ok(limited, "check_capabilities", { paths: ["secret/data/caps/db", "sys/mounts", "/secret/data/caps/db/", " secret/data/caps/db "] });
    expect(r.structuredContent?.capabilities).toEqual([
      { path: "secret/data/caps/db", capabilities: ["list", "read"], allowed: true },
      { path: "sys/mounts", capabilities: ["deny"], allowed: false },
    ]);
    expect(text(r)).toContain("secret/data/caps/db: list, read");
    expect(text(r)).toContain("sys/mounts: nothing (denied)");
  });

  it("refuses a path with a '..' segment, naming its place in the list", async () => {
    const r = await call(client, "check_capabilities", { paths: ["secret/data/ok", "secret/../sys"] });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("paths.1");
  });
});

describe("the vault://policies resource", () => {
  it("read the policy through read_policy", async () => {
    const name = unique("pol-res");
    await vaultApi("PUT", `sys/policies/acl/${name}`, { policy: RULES });
    const res = await client.readResource({ uri: `vault://policies/${name}` });
    expect(res.contents[0]).toMatchObject({ mimeType: expect.any(String), text: RULES });
  });

  it("read policies even when the policy toolset is not served", async () => {
    const sysOnly = await connectClient(testServer({ MCP_TOOLSETS: "sys" }));
    const names = (await sysOnly.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain("read_policy");
    const res = await sysOnly.readResource({ uri: "vault://policies/default" });
    expect(JSON.stringify(res.contents[0])).toContain("auth/token/lookup-self");
  });
});

describe("a token limited to reading", () => {
  it("is refused write_policy and delete_policy with a permission error, and nothing is written", async () => {
    const ro = unique("pol-ro");
    await vaultApi("PUT", `sys/policies/acl/${ro}`, { policy: 'path "sys/policies/acl/*" { capabilities = ["read", "list"] }\npath "sys/policies/acl" { capabilities = ["list"] }' });
    const victim = unique("pol-victim");
    await vaultApi("PUT", `sys/policies/acl/${victim}`, { policy: RULES });
    const token = (await vaultApi("POST", "auth/token/create", { policies: [ro], ttl: "10m" })).json.auth.client_token;
    const limited = await connectClient(testServer({ VAULT_TOKEN: token }));
    expect((await ok(limited, "read_policy", { name: victim })).structuredContent?.policy).toBe(RULES);
    const fresh = unique("pol-new");
    const w = await call(limited, "write_policy", { name: fresh, policy: RULES });
    expect(w.isError).toBe(true);
    expect(text(w)).toContain(`Permission denied: this token may not write to sys/policies/acl/${fresh}`);
    const d = await call(limited, "delete_policy", { name: victim });
    expect(d.isError).toBe(true);
    expect(text(d)).toContain(`Permission denied: this token may not delete sys/policies/acl/${victim}`);
    expect((await vaultApi("GET", `sys/policies/acl/${fresh}`)).status).toBe(404);
    expect((await vaultApi("GET", `sys/policies/acl/${victim}`)).json.data.policy).toBe(RULES);
  });
});
