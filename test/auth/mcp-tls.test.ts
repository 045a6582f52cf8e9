// HTTPS on the MCP listener itself (MCP_TLS_CERT_FILE/MCP_TLS_KEY_FILE): the real server process, called over TLS.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Subprocess } from "bun";
import { ok, text } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";
import { tempDir, testPki } from "./support.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
const dir = tempDir();
const pki = testPki(dir);
const cert = pki.issue("mcp-server", { san: "IP:127.0.0.1,DNS:localhost", usage: "serverAuth" });
const ca = readFileSync(pki.caFile, "utf8");
const children: Subprocess[] = [];

afterAll(async () => {
  for (const child of children) child.kill();
  await Promise.all(children.map((c) => c.exited));
});

/** Runs `bun run src/main.ts` with `env`; resolves with its URL once it logs that it serves, or with its exit and stderr. */
async function runServer(env: Record<string, string>): Promise<{ url?: string; code?: number; stderr: string }> {
  const child = Bun.spawn([process.execPath, "run", join(repoRoot, "src", "main.ts")], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", VAULT_ADDR: testVault().addr, VAULT_TOKEN: testVault().token, MCP_PORT: "0", ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  children.push(child);
  let stderr = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    stderr += decoder.decode(chunk, { stream: true });
    const line = stderr.split("\n").find((l) => l.includes("serving MCP over HTTP"));
    if (line) return { url: JSON.parse(line).url as string, stderr };
  }
  return { code: await child.exited, stderr };
}

let url: string;

beforeAll(async () => {
  const started = await runServer({ MCP_TLS_CERT_FILE: cert.certFile, MCP_TLS_KEY_FILE: cert.keyFile });
  if (!started.url) throw new Error(`server did not start: ${started.stderr}`);
  url = started.url;
}, 30_000);

describe("MCP over HTTPS", () => {
  it("serves /healthz over TLS with the configured certificate", async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const res = await fetch(new URL("/healthz", url), { tls: { ca } } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("is refused by a client that does not trust the certificate, and does not speak plain HTTP", async () => {
    await expect(fetch(new URL("/healthz", url))).rejects.toThrow();
    const plain = url.replace("https:", "http:");
    const answer = await fetch(new URL("/healthz", plain)).then((r) => r.status, () => "refused");
    expect(answer).not.toBe(200);
  });

  it("serves MCP tool calls to an SDK client over TLS", async () => {
    const client = new Client({ name: "mcp-tls-test", version: "1.0.0" });
    const tlsFetch = ((input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, tls: { ca } } as RequestInit)) as typeof fetch;
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: tlsFetch }));
    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
    await client.close();
  });

  it("refuses to start with only one of certificate and key, naming both settings", async () => {
    const r = await runServer({ MCP_TLS_CERT_FILE: cert.certFile });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("MCP_TLS_CERT_FILE and MCP_TLS_KEY_FILE go together");
  });

  it("refuses to start when a file cannot be read, naming the setting", async () => {
    const r = await runServer({ MCP_TLS_CERT_FILE: join(dir, "absent.pem"), MCP_TLS_KEY_FILE: cert.keyFile });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("MCP_TLS_CERT_FILE: cannot read");
  });
});
