// MCP resources through the SDK client against the dev Vault: every read goes through callTool, and none carries a value.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { resolveResource } from "../../src/mcp/resources.ts";
import { connectClient, testServer, unique, vaultApi } from "../support/mcp.ts";

const SECRET = `resource-value-${crypto.randomUUID()}`;
let client: Client;
let kv: string;
let kv1: string;
let pki: string;
let policy: string;
let transit: string;

beforeAll(async () => {
  kv = unique("res-kv");
  kv1 = unique("res-kv1");
  pki = unique("res-pki");
  policy = unique("res-policy");
  transit = unique("res-transit");
  await vaultApi("POST", `sys/mounts/${kv}`, { type: "kv", options: { version: "2" } });
  await vaultApi("POST", `sys/mounts/${kv1}`, { type: "kv", options: { version: "1" } });
  await vaultApi("POST", `${kv}/data/app/db`, { data: { password: SECRET } });
  await vaultApi("POST", `${kv}/data/app/db`, { data: { password: SECRET, user: "app" } });
  await vaultApi("POST", `${kv1}/app/db`, { password: SECRET });
  await vaultApi("POST", `sys/mounts/${pki}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
  await vaultApi("POST", `sys/mounts/${transit}`, { type: "transit" });
  await vaultApi("POST", `${transit}/keys/signer`, { type: "ed25519" });
  await vaultApi("POST", `${pki}/root/generate/internal`, { common_name: "Resource Root CA", issuer_name: "root-1", ttl: "8760h" });
  await vaultApi("PUT", `sys/policies/acl/${policy}`, { policy: `path "${kv}/data/app/*" {\n  capabilities = ["read"]\n}\n` });
  client = await connectClient(testServer());
}, 60_000);

const read = async (uri: string) => (await client.readResource({ uri })).contents[0] as { uri: string; mimeType: string; text: string };

describe("resources/list and resources/templates/list", () => {
  it("lists vault://mounts and the five templates", async () => {
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(["vault://mounts"]);
    expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(
      ["vault://kv/{mount}/{+path}", "vault://pki/{mount}/ca", "vault://pki/{mount}/issuers/{issuer}", "vault://policies/{name}", "vault://transit/{mount}/keys/{name}"].sort(),
    );
  });

  it("declares resources and prompts, neither of which changes at run time", () => {
    expect(client.getServerCapabilities()).toMatchObject({ resources: { listChanged: false }, prompts: { listChanged: false } });
  });
});

describe("resources/read", () => {
  it("reads vault://mounts as list_mounts' structured answer", async () => {
    const c = await read("vault://mounts");
    expect(c.mimeType).toBe("application/json");
    const body = JSON.parse(c.text);
    expect(body.mounts.map((m: { path: string }) => m.path)).toEqual(expect.arrayContaining([kv, pki]));
    expect(body).not.toHaveProperty("summary");
  });

  it("reads a KV v2 secret's metadata and never its values", async () => {
    const c = await read(`vault://kv/${kv}/app/db`);
    const body = JSON.parse(c.text);
    expect(body).toMatchObject({ mount: kv, path: "app/db", kv_version: 2, exists: true, current_version: 2 });
    expect(body.versions.map((v: { version: number }) => v.version).sort()).toEqual([1, 2]);
    expect(c.text).not.toContain(SECRET);
  });

  it("says whether a KV v1 secret exists, from its folder, without reading it", async () => {
    expect(JSON.parse((await read(`vault://kv/${kv1}/app/db`)).text)).toMatchObject({ kv_version: 1, exists: true });
    expect(JSON.parse((await read(`vault://kv/${kv1}/app/none`)).text)).toMatchObject({ kv_version: 1, exists: false });
  });

  it("lists a folder for a path ending in / or an empty path", async () => {
    expect(JSON.parse((await read(`vault://kv/${kv}/app/`)).text).keys).toEqual(["db"]);
    expect(JSON.parse((await read(`vault://kv/${kv}/`)).text).keys).toEqual(["app/"]);
  });

  it("reads a policy's HCL", async () => {
    const c = await read(`vault://policies/${policy}`);
    expect(c.mimeType).toBe("text/x-hcl");
    expect(c.text).toContain(`path "${kv}/data/app/*"`);
  });

  it("reads the PKI mount's default CA and an issuer by name as PEM", async () => {
    const ca = await read(`vault://pki/${pki}/ca`);
    expect(ca.mimeType).toBe("application/x-pem-file");
    expect(ca.text).toStartWith("-----BEGIN CERTIFICATE-----");
    expect((await read(`vault://pki/${pki}/issuers/root-1`)).text).toBe(ca.text);
  });

  it("reads a transit key's public parts as JSON, whichever toolsets are served, never key material", async () => {
    const only = await connectClient(testServer({ MCP_TOOLSETS: "kv" }));
    try {
      const c = (await only.readResource({ uri: `vault://transit/${transit}/keys/signer` })).contents[0] as { mimeType: string; text: string };
      expect(c.mimeType).toBe("application/json");
      const body = JSON.parse(c.text);
      expect(body).toMatchObject({ mount: transit, name: "signer", type: "ed25519", latest_version: 1 });
      expect(body.versions[0].public_key).toBeString();
      expect(body).not.toHaveProperty("summary");
    } finally {
      await only.close();
    }
  });

  it("answers -32002 with the tool's own words for what does not exist", async () => {
    expect(client.readResource({ uri: `vault://pki/${pki}/issuers/nope` })).rejects.toThrow(/-32002.*no issuer "nope"/s);
    expect(client.readResource({ uri: "vault://policies/no-such-policy-x" })).rejects.toThrow(/-32002/);
    expect(client.readResource({ uri: `vault://transit/${transit}/keys/nope` })).rejects.toThrow(/-32002.*No transit key "nope"/s);
    expect(client.readResource({ uri: "https://example.com" })).rejects.toThrow(/-32002/);
  });

  it("refuses a path that climbs out of its mount, as the tools do", async () => {
    expect(client.readResource({ uri: `vault://kv/${kv}/..%2F..%2Fsys/mounts` })).rejects.toThrow(/-32002/);
    expect(client.readResource({ uri: "vault://policies/a%2Fb" })).rejects.toThrow(/-32002/);
  });

  it("reads with the server's masking in place: the KV resource has nothing to mask, the CA is public", async () => {
    const masked = await connectClient(testServer({ MCP_SECRET_VALUES: "mask" }));
    const c = (await masked.readResource({ uri: `vault://kv/${kv}/app/db` })).contents[0] as { text: string };
    expect(c.text).not.toContain(SECRET);
    expect(JSON.parse(c.text).current_version).toBe(2);
  });
});

describe("the guardrails of a tool call", () => {
  it("refuses a resource whose read a path rule or a tool rule forbids, and filters a listing by the same rules", async () => {
    const guarded = await connectClient(testServer({ MCP_DENIED_PATHS: `${kv}/app/*`, MCP_TOOLS_DENY: "list_mounts" }));
    expect(guarded.readResource({ uri: `vault://kv/${kv}/app/db` })).rejects.toThrow(/MCP error/);
    expect(guarded.readResource({ uri: "vault://mounts" })).rejects.toThrow(/MCP error/);
    // The folder listing is list_secrets', filtered by the same rule: a folder with nothing the caller may reach is hidden.
    expect(JSON.parse(((await guarded.readResource({ uri: `vault://kv/${kv}/` })).contents[0] as { text: string }).text).keys).toEqual([]);
    expect((await guarded.readResource({ uri: `vault://pki/${pki}/ca` })).contents).toHaveLength(1);
  });
});

describe("resolveResource", () => {
  it("maps each URI form to the tool that reads it", () => {
    expect(resolveResource("vault://mounts")).toMatchObject({ tool: "list_mounts" });
    expect(resolveResource("vault://kv/secret/a/b%20c")).toMatchObject({ tool: "read_secret_metadata", args: { mount: "secret", path: "a/b c" } });
    expect(resolveResource("vault://pki/pki/ca")).toMatchObject({ tool: "read_pki_issuer", args: { mount: "pki", issuer: "default" } });
    expect(resolveResource("vault://policies/default")).toMatchObject({ tool: "read_policy", args: { name: "default" } });
    expect(resolveResource("vault://kv/secret/%E0%A4%A")).toBe("it holds a malformed percent-encoding");
    expect(typeof resolveResource("vault://mounts/x")).toBe("string");
  });
});
