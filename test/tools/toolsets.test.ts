// Toolsets: the catalogue per toolset (the one table a person reviews), and MCP_TOOLSETS / MCP_TOOLS choosing what a server serves.
import { describe, expect, it } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { allTools } from "../../src/tools/index.ts";
import { DEFAULT_TOOLSETS, TOOLSETS, type Toolset } from "../../src/tools/toolsets.ts";
import { connectClient, testServer } from "../support/mcp.ts";

/** Every tool the server offers, by toolset. A tool added, moved or removed changes this table, and a reviewer sees it. */
const CATALOGUE: Record<Toolset, string[]> = {
  sys: ["create_mount", "list_mounts", "delete_mount", "read_cluster_health", "read_mount", "tune_mount", "list_audit_devices", "list_leases", "read_lease", "revoke_lease"],
  kv: [
    "read_secret",
    "write_secret",
    "list_secrets",
    "delete_secret",
    "read_secret_metadata",
    "write_secret_metadata",
    "patch_secret",
    "delete_secret_versions",
    "undelete_secret_versions",
    "destroy_secret_versions",
    "delete_secret_metadata",
    "rollback_secret",
    "generate_secret",
  ],
  pki: [
    "enable_pki",
    "create_pki_issuer",
    "list_pki_issuers",
    "read_pki_issuer",
    "create_pki_role",
    "list_pki_roles",
    "read_pki_role",
    "delete_pki_role",
    "issue_pki_certificate",
    "sign_pki_csr",
    "list_pki_certificates",
    "read_pki_certificate",
    "revoke_pki_certificate",
    "tidy_pki",
    "delete_pki_issuer",
    "set_default_pki_issuer",
  ],
  transit: [
    "enable_transit",
    "create_transit_key",
    "list_transit_keys",
    "read_transit_key",
    "rotate_transit_key",
    "update_transit_key_config",
    "delete_transit_key",
    "encrypt_data",
    "decrypt_data",
    "rewrap_data",
    "generate_hmac",
    "verify_hmac",
    "sign_data",
    "verify_signature",
    "hash_data",
    "generate_random_bytes",
  ],
  policy: ["list_policies", "read_policy", "write_policy", "delete_policy", "check_capabilities"],
  identity: ["lookup_self", "read_entity_self", "list_auth_methods", "read_auth_method"],
};

const base = { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t" };
const enabled = (env: Record<string, string>, argv: string[] = []) => loadConfig(argv, { ...base, ...env }).tools.enabled;
const sorted = (names: Iterable<string>) => [...names].sort();
const of = (...sets: Toolset[]) => sorted(sets.flatMap((s) => CATALOGUE[s]));

async function listed(env: Record<string, string>): Promise<string[]> {
  const client = await connectClient(testServer(env));
  try {
    return sorted((await client.listTools()).tools.map((t) => t.name));
  } finally {
    await client.close();
  }
}

describe("the catalogue", () => {
  it("has exactly the tools of the table in each toolset", () => {
    for (const set of TOOLSETS) expect(sorted(allTools.filter((t) => t.toolset === set).map((t) => t.name)), set).toEqual(sorted(CATALOGUE[set]));
  });

  it("labels every tool with a known toolset", () => {
    for (const tool of allTools) expect(TOOLSETS as readonly string[], tool.name).toContain(tool.toolset);
  });
});

describe("choosing the tools a server serves", () => {
  it("serves sys, kv and pki when neither MCP_TOOLSETS nor MCP_TOOLS is set", () => {
    expect(DEFAULT_TOOLSETS).toEqual(["sys", "kv", "pki"]);
    expect(sorted(enabled({}))).toEqual(of("sys", "kv", "pki"));
    expect(sorted(enabled({ MCP_TOOLSETS: "default" }))).toEqual(of("sys", "kv", "pki"));
  });

  it("serves the toolsets named, from the flag or the variable, and every tool for all", () => {
    expect(sorted(enabled({ MCP_TOOLSETS: "kv" }))).toEqual(of("kv"));
    expect(sorted(enabled({ MCP_TOOLSETS: " KV , pki " }))).toEqual(of("kv", "pki"));
    expect(sorted(enabled({}, ["--toolsets", "sys,transit"]))).toEqual(of("sys", "transit"));
    expect(sorted(enabled({ MCP_TOOLSETS: "default,policy" }))).toEqual(of("sys", "kv", "pki", "policy"));
    expect(sorted(enabled({ MCP_TOOLSETS: "all" }))).toEqual(sorted(allTools.map((t) => t.name)));
  });

  it("serves exactly the tools MCP_TOOLS names, whatever their toolsets", () => {
    expect(enabled({ MCP_TOOLS: "read_secret,list_mounts" })).toEqual(["list_mounts", "read_secret"]);
    expect(enabled({}, ["--tools=issue_pki_certificate"])).toEqual(["issue_pki_certificate"]);
  });

  it("refuses to start on an unknown toolset or tool, listing the valid names", () => {
    expect(() => enabled({ MCP_TOOLSETS: "kv,secrets" })).toThrow(ConfigError);
    expect(() => enabled({ MCP_TOOLSETS: "kv,secrets" })).toThrow('MCP_TOOLSETS: unknown toolset "secrets"; valid: sys, kv, pki, transit, policy, identity, all, default');
    expect(() => enabled({ MCP_TOOLS: "read_secret,read_secrets" })).toThrow(/^MCP_TOOLS: unknown tool "read_secrets"; valid: .*\bread_secret\b/);
    expect(() => enabled({ MCP_TOOLS: "read_secrets" })).toThrow(ConfigError);
  });

  it("refuses MCP_TOOLSETS and MCP_TOOLS together", () => {
    expect(() => enabled({ MCP_TOOLSETS: "kv", MCP_TOOLS: "read_secret" })).toThrow(/MCP_TOOLSETS and MCP_TOOLS are both set/);
    expect(() => enabled({ MCP_TOOLS: "read_secret" }, ["--toolsets", "kv"])).toThrow(ConfigError);
  });
});

describe("a server with some toolsets", () => {
  it("lists the default toolsets' tools and no other", async () => {
    expect(await listed({ MCP_TOOLSETS: "" })).toEqual(of("sys", "kv", "pki"));
  });

  it("neither lists nor runs a tool outside its toolsets", async () => {
    const server = testServer({ MCP_TOOLSETS: "kv" });
    const client = await connectClient(server);
    try {
      expect(sorted((await client.listTools()).tools.map((t) => t.name))).toEqual(of("kv"));
      await expect(client.callTool({ name: "list_mounts", arguments: {} })).rejects.toThrow(/Unknown tool "list_mounts"/);
      expect(server.runtime.registry.has("list_mounts")).toBe(false);
    } finally {
      await client.close();
    }
  });

  it("lists exactly the tools MCP_TOOLS names", async () => {
    expect(await listed({ MCP_TOOLS: "list_mounts,read_secret" })).toEqual(["list_mounts", "read_secret"]);
  });

  it("reads every resource whichever toolsets are served, and a denied tool still refuses its resource", async () => {
    const client = await connectClient(testServer({ MCP_TOOLSETS: "transit" }));
    try {
      const mounts = await client.readResource({ uri: "vault://mounts" });
      expect(JSON.stringify(mounts.contents[0])).toContain("key/value secret storage");
      const folder = await client.readResource({ uri: "vault://kv/secret/" });
      expect(folder.contents[0]?.mimeType).toBe("application/json");
    } finally {
      await client.close();
    }
    const denied = await connectClient(testServer({ MCP_TOOLSETS: "transit", MCP_TOOLS_DENY: "list_mounts" }));
    try {
      await expect(denied.readResource({ uri: "vault://mounts" })).rejects.toThrow(/list_mounts/);
    } finally {
      await denied.close();
    }
  });

  it("still reads resources that no tool serves (a policy) with the sys toolset alone", async () => {
    const client = await connectClient(testServer({ MCP_TOOLSETS: "sys" }));
    try {
      const read = await client.readResource({ uri: "vault://policies/default" });
      expect(JSON.stringify(read.contents[0])).toContain("auth/token/lookup-self");
    } finally {
      await client.close();
    }
  });
});
