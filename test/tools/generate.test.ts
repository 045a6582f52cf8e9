// generate_secret against the dev Vault: the value is in Vault, of the asked length and charset, and in no answer or log line.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { CHARSETS, generateValue, SYMBOLS } from "../../src/tools/generate.ts";
import { call, connectClient, ok, type TestServer, testServer, text, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";
import { withoutGuidance } from "../../src/tools/guidance.ts";

const PATTERNS: Record<keyof typeof CHARSETS, RegExp> = {
  alphanumeric: /^[A-Za-z0-9]+$/,
  "alphanumeric-symbols": new RegExp(`^[A-Za-z0-9${SYMBOLS.replace(/[-\\^\]]/g, "\\$&")}]+$`),
  hex: /^[0-9a-f]+$/,
  base64url: /^[A-Za-z0-9_-]+$/,
};

/** A server whose every log line, at debug level, is kept; reached through its MCP handler as a client would. */
function loggingServer(env: Record<string, string> = {}): { server: TestServer; lines: string[] } {
  const lines: string[] = [];
  const vault = testVault();
  const runtime = buildRuntime(loadConfig([], { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, LOG_LEVEL: "debug", ...env }), createLogger("debug", (l) => lines.push(l)));
  const fetchMcp = (input: string | URL | Request, init?: RequestInit) => runtime.handleMcp(input instanceof Request ? input : new Request(String(input), init), "127.0.0.1");
  return { server: { runtime, fetch: fetchMcp } as unknown as TestServer, lines };
}

let kv2: string;
let kv1: string;
let client: Client;

beforeAll(async () => {
  kv2 = unique("gen-kv2");
  kv1 = unique("gen-kv1");
  await vaultApi("POST", `sys/mounts/${kv2}`, { type: "kv", options: { version: "2" } });
  await vaultApi("POST", `sys/mounts/${kv1}`, { type: "kv", options: { version: "1" } });
  client = await connectClient(testServer());
});

const stored = async (path: string) => (await vaultApi("GET", `${kv2}/data/${path}`)).json.data;

describe("generate_secret", () => {
  for (const charset of Object.keys(CHARSETS) as (keyof typeof CHARSETS)[]) {
    it(`stores a value of the asked length in ${charset}, and says how to read it without showing it`, async () => {
      const path = unique("gen");
      const r = await ok(client, "generate_secret", { mount: kv2, path, key: "password", length: 48, charset });
      const value = (await stored(path)).data.password as string;
      expect(value).toHaveLength(48);
      expect(value).toMatch(PATTERNS[charset]);
      expect(JSON.stringify(r)).not.toContain(value);
      expect(withoutGuidance(r.structuredContent)).toEqual({
        mount: kv2,
        path,
        key: "password",
        length: 48,
        charset,
        created: true,
        version: 1,
        read_command: `vault kv get -mount=${kv2} -field=password ${path}`,
      });
      expect(text(r)).toContain(`a person with Vault access reads it with: vault kv get -mount=${kv2} -field=password ${path}`);
    });
  }

  it("defaults to 32 alphanumeric characters, holding a lower-case letter, an upper-case letter and a digit", async () => {
    const path = unique("gen");
    await ok(client, "generate_secret", { mount: kv2, path, key: "k" });
    const value = (await stored(path)).data.k as string;
    expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(value).toMatch(/[a-z]/);
    expect(value).toMatch(/[A-Z]/);
    expect(value).toMatch(/[0-9]/);
  });

  it("puts every class of its charset into even the shortest value, and draws a new value each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const v = generateValue(8, "alphanumeric-symbols");
      for (const c of CHARSETS["alphanumeric-symbols"].classes) expect([...v].some((ch) => c.includes(ch))).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(200);
  });

  it("merges into the secret as write_secret does: other keys are kept, and the old value stays in the older version", async () => {
    const path = unique("gen");
    await vaultApi("POST", `${kv2}/data/${path}`, { data: { username: "app", password: "old-password-value" } });
    const r = await ok(client, "generate_secret", { mount: kv2, path, key: "password" });
    expect(r.structuredContent).toMatchObject({ created: false, version: 2 });
    const now = await stored(path);
    expect(now.data.username).toBe("app");
    expect(now.data.password).not.toBe("old-password-value");
    expect((await vaultApi("GET", `${kv2}/data/${path}?version=1`)).json.data.data.password).toBe("old-password-value");
  });

  it("refuses KV v1 unless the operator allows local merges, and then keeps the other keys", async () => {
    await vaultApi("POST", `${kv1}/app`, { username: "app" });
    const refused = await call(client, "generate_secret", { mount: kv1, path: "app", key: "password" });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain("Nothing was written");
    const local = await connectClient(testServer({ MCP_KV1_MERGE: "local" }));
    await ok(local, "generate_secret", { mount: kv1, path: "app", key: "password", length: 16, charset: "hex" });
    const now = (await vaultApi("GET", `${kv1}/app`)).json.data;
    expect(now.username).toBe("app");
    expect(now.password).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses a length out of range and an unknown charset before generating anything", async () => {
    for (const args of [{ length: 7 }, { length: 1025 }, { charset: "emoji" }]) {
      const r = await call(client, "generate_secret", { mount: kv2, path: "never", key: "k", ...args });
      expect(r.isError).toBe(true);
    }
    expect((await vaultApi("GET", `${kv2}/data/never`)).status).toBe(404);
  });

  for (const mode of ["reveal", "mask", "wrap"]) {
    it(`keeps the value out of every answer and every log line with MCP_SECRET_VALUES=${mode}`, async () => {
      const { server, lines } = loggingServer({ MCP_SECRET_VALUES: mode });
      const c = await connectClient(server);
      const path = unique("gen");
      const answers = [
        await ok(c, "generate_secret", { mount: kv2, path, key: "password", length: 64 }),
        await ok(c, "generate_secret", { mount: kv2, path, key: "other", length: 64 }),
        await call(c, "generate_secret", { mount: kv1, path, key: "password" }),
      ];
      const value = (await stored(path)).data.password as string;
      const other = (await stored(path)).data.other as string;
      for (const secret of [value, other]) {
        expect(JSON.stringify(answers)).not.toContain(secret);
        expect(lines.join("\n")).not.toContain(secret);
      }
    });
  }
});
