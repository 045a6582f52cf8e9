// The fault matrix: one fault per call between the server and the real dev Vault, and the tool's answer held against
// what Vault really holds afterwards. A success must be true, "nothing changed" must be true, anything uncertain says so.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type FaultMode, type FaultProxy, type FaultRule, startFaultProxy } from "./support/fault-proxy.ts";
import { call, connectClient, type TestServer, testServer, text, type ToolResult, unique, vaultApi } from "./support/mcp.ts";
import { testVault } from "./support/vault.ts";

const MODES: FaultMode[] = ["reset-before", "drop-after", "truncate-head", "truncate-body", "garbage-body", "html-502", "stall", "delay"];

type AnswerClass = "success" | "unchanged" | "uncertain" | "error";

/** What the answer claims, in the words the tools use for each. */
function classify(result: ToolResult): AnswerClass {
  if (!result.isError) return "success";
  const words = text(result);
  if (/may or may not/i.test(words)) return "uncertain";
  if (/nothing was changed|never sent|changed nothing/i.test(words)) return "unchanged";
  return "error";
}

/** One class of call: how to set it up, which request to break, how to run it, and whether the answer was true. */
interface CallCase {
  name: string;
  /** Makes the state the call starts from; returns what the other steps need. */
  setup(): Promise<Record<string, string>>;
  fault(s: Record<string, string>): Omit<FaultRule, "mode">;
  run(client: Client, s: Record<string, string>): Promise<ToolResult>;
  /** Why the answer is misleading given what Vault holds now, or undefined when it is true. */
  judge(answer: AnswerClass, result: ToolResult, s: Record<string, string>): Promise<string | undefined>;
}

const KV = unique("fx-kv2");
const PKI = unique("fx-pki");

async function secretData(path: string): Promise<Record<string, unknown> | undefined> {
  const res = await vaultApi("GET", `${KV}/data/${path}`);
  return res.status === 200 ? (res.json?.data?.data ?? undefined) : undefined;
}

async function putSecret(path: string, data: Record<string, unknown>): Promise<void> {
  const res = await vaultApi("POST", `${KV}/data/${path}`, { data });
  if (res.status !== 200) throw new Error(`setup write failed: ${res.status}`);
}

async function certCount(): Promise<number> {
  const res = await vaultApi("LIST", `${PKI}/certs`);
  return res.json?.data?.keys?.length ?? 0;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const CASES: CallCase[] = [
  {
    name: "read",
    async setup() {
      const path = unique("read");
      await putSecret(path, { user: "app", password: "s3cret" });
      return { path };
    },
    fault: (s) => ({ method: "GET", path: new RegExp(`^${escape(KV)}/data/${s.path}$`) }),
    run: (c, s) => call(c, "read_secret", { mount: KV, path: s.path }),
    async judge(answer, result, s) {
      if (answer === "success") {
        return JSON.stringify(result.structuredContent?.data) === JSON.stringify(await secretData(s.path!)) ? undefined : "success with data Vault does not hold";
      }
      if (/no secret exists|has no key/i.test(text(result))) return "says the secret is missing while Vault holds it";
      return undefined;
    },
  },
  {
    name: "write",
    async setup() {
      const path = unique("write");
      await putSecret(path, { user: "app" });
      return { path };
    },
    fault: (s) => ({ method: ["PATCH", "POST", "PUT"], path: new RegExp(`^${escape(KV)}/data/${s.path}$`) }),
    run: (c, s) => call(c, "write_secret", { mount: KV, path: s.path, key: "password", value: "new-value" }),
    async judge(answer, result, s) {
      const now = await secretData(s.path!);
      const written = now?.password === "new-value" && now?.user === "app";
      if (answer === "success") {
        if (!written) return "says stored, but Vault does not hold the value";
        const v = (await vaultApi("GET", `${KV}/metadata/${s.path}`)).json?.data?.current_version;
        return result.structuredContent?.version === v ? undefined : `reports version ${result.structuredContent?.version}, Vault's is ${v}`;
      }
      if (answer === "uncertain") return undefined;
      return written ? `answers "${answer}" while Vault did apply the write` : undefined;
    },
  },
  {
    name: "key delete",
    async setup() {
      const path = unique("keydel");
      await putSecret(path, { user: "app", password: "old" });
      return { path };
    },
    fault: (s) => ({ method: ["PATCH", "POST", "PUT"], path: new RegExp(`^${escape(KV)}/data/${s.path}$`) }),
    run: (c, s) => call(c, "delete_secret", { mount: KV, path: s.path, key: "password" }),
    async judge(answer, _result, s) {
      const now = await secretData(s.path!);
      const removed = now !== undefined && !("password" in now) && now.user === "app";
      if (answer === "success") return removed ? undefined : "says removed, but Vault still holds the key";
      if (answer === "uncertain") return undefined;
      return removed ? `answers "${answer}" while Vault did remove the key` : undefined;
    },
  },
  {
    name: "whole delete",
    async setup() {
      const path = unique("del");
      await putSecret(path, { user: "app" });
      return { path };
    },
    fault: (s) => ({ method: ["DELETE", "POST"], path: new RegExp(`^${escape(KV)}/(data|delete)/${s.path}$`) }),
    run: (c, s) => call(c, "delete_secret", { mount: KV, path: s.path }),
    async judge(answer, result, s) {
      const deleted = (await secretData(s.path!)) === undefined;
      if (answer === "success") {
        if (!deleted) return "says deleted, but the secret is still live";
        const meta = (await vaultApi("GET", `${KV}/metadata/${s.path}`)).json?.data;
        const v = result.structuredContent?.version;
        return meta?.versions?.[String(v)]?.deletion_time ? undefined : `reports version ${v} deleted, but Vault has not deleted it`;
      }
      if (answer === "uncertain") return undefined;
      return deleted ? `answers "${answer}" while Vault did delete it` : undefined;
    },
  },
  {
    name: "list",
    async setup() {
      const folder = unique("list");
      await putSecret(`${folder}/a`, { k: "1" });
      await putSecret(`${folder}/b`, { k: "2" });
      return { folder };
    },
    fault: (s) => ({ method: "LIST", path: new RegExp(`^${escape(KV)}/metadata/${s.folder}/?$`) }),
    run: (c, s) => call(c, "list_secrets", { mount: KV, path: s.folder }),
    async judge(answer, result) {
      if (answer === "success") return JSON.stringify(result.structuredContent?.keys) === '["a","b"]' ? undefined : `lists ${JSON.stringify(result.structuredContent?.keys)}`;
      if (/no secrets under/i.test(text(result))) return "says the folder is empty";
      return undefined;
    },
  },
  {
    name: "cold mount lookup",
    async setup() {
      const path = unique("cold");
      await putSecret(path, { user: "app" });
      return { path };
    },
    fault: () => ({ method: "GET", path: new RegExp(`^sys/internal/ui/mounts/${escape(KV)}$`) }),
    run: (c, s) => call(c, "read_secret", { mount: KV, path: s.path }),
    async judge(answer, result) {
      if (answer === "success") return result.structuredContent?.data?.user === "app" ? undefined : "success with wrong data";
      if (/no secrets engine is mounted/i.test(text(result))) return "says the mount does not exist";
      return undefined;
    },
  },
  {
    name: "issue certificate",
    async setup() {
      return { before: String(await certCount()) };
    },
    fault: () => ({ method: ["POST", "PUT"], path: new RegExp(`^${escape(PKI)}/issue/web$`) }),
    run: (c) => call(c, "issue_pki_certificate", { mount: PKI, role_name: "web", common_name: "a.example.com", ttl: "1h" }),
    async judge(answer, result, s) {
      const issued = (await certCount()) > Number(s.before);
      if (answer === "success") {
        const serial = result.structuredContent?.serial_number ?? result.structuredContent?.serial;
        if (!issued) return "says issued, but Vault stored no new certificate";
        const stored = await vaultApi("GET", `${PKI}/cert/${serial}`);
        return stored.status === 200 ? undefined : `reports serial ${serial}, which Vault does not hold`;
      }
      if (answer === "uncertain") return undefined;
      return issued ? `answers "${answer}" while Vault did issue a certificate (its private key is lost)` : undefined;
    },
  },
];

let proxy: FaultProxy;
let server: TestServer;
let client: Client;
const table = new Map<string, Map<FaultMode, string>>();

beforeAll(async () => {
  const vault = testVault();
  proxy = await startFaultProxy(vault.addr);
  expect((await vaultApi("POST", `sys/mounts/${KV}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
  expect((await vaultApi("POST", `sys/mounts/${PKI}`, { type: "pki", config: { max_lease_ttl: "87600h" } })).status).toBe(204);
  expect((await vaultApi("POST", `${PKI}/root/generate/internal`, { common_name: "Fault Root", ttl: "8760h", key_type: "ec", key_bits: 256 })).status).toBe(200);
  expect((await vaultApi("POST", `${PKI}/roles/web`, { allowed_domains: ["example.com"], allow_subdomains: true, key_type: "ec", key_bits: 256, max_ttl: "72h" })).status).toBeLessThan(300);
  // One second is enough for the dev Vault on loopback, and keeps the stalls short.
  server = testServer({ VAULT_ADDR: proxy.addr, VAULT_CLIENT_TIMEOUT: "1s" });
  client = await connectClient(server);
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  const rows = [...table.entries()].map(([name, cells]) => `| ${name} | ${MODES.map((m) => cells.get(m) ?? "").join(" | ")} |`);
  // The matrix is the closing note's evidence: print it whole.
  console.log(["", `| call | ${MODES.join(" | ")} |`, `| --- | ${MODES.map(() => "---").join(" | ")} |`, ...rows].join("\n"));
});

describe("one fault between the server and Vault never yields a confident wrong answer", () => {
  for (const c of CASES) {
    for (const mode of MODES) {
      it(`${c.name}, ${mode}: the answer agrees with what Vault holds`, async () => {
        const state = await c.setup();
        // The cold lookup needs a server that has not yet seen the mount; the rest share one with a warm cache.
        const cold = c.name === "cold mount lookup" ? await connectClient(testServer({ VAULT_ADDR: proxy.addr, VAULT_CLIENT_TIMEOUT: "1s" })) : undefined;
        proxy.inject({ ...c.fault(state), mode, delayMs: 200 });
        let result: ToolResult;
        try {
          result = await c.run(cold ?? client, state);
        } finally {
          proxy.clear();
          await cold?.close();
        }
        const answer = classify(result);
        const wrong = await c.judge(answer, result, state);
        const cells = table.get(c.name) ?? new Map<FaultMode, string>();
        table.set(c.name, cells);
        cells.set(mode, wrong ? `WRONG: ${answer}` : answer);
        if (wrong) throw new Error(`${c.name} under ${mode}: ${wrong}.\nAnswer: ${text(result)}`);
        // Any error names what happened; none is an internal error.
        expect(text(result)).not.toMatch(/internal error|this is a bug/i);
        // A delay is no fault: the call must simply work.
        if (mode === "delay") expect(answer).toBe("success");
      });
    }
  }
});
