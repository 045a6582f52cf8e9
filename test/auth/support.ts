// Helpers for the auth tests: a server whose Vault traffic is recorded, JWT signing, certificates made at run time.
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log.ts";
import { buildRuntime } from "../../src/runtime.ts";
import type { LeaseTiming } from "../../src/vault/token-lease.ts";
import type { TestServer } from "../support/mcp.ts";
import { type DevVault, testVault, vaultFetch } from "../support/vault.ts";

export interface AuthServer extends TestServer {
  /** Every Vault request the server sent, as "METHOD path" (path below /v1/, no query). */
  requests: string[];
  /** The token on the server's latest request that carried one (read by the test only, never printed). */
  lastToken(): string | undefined;
  /** Log lines the server wrote. */
  logs: string[];
}

/**
 * An in-process server configured from env-like settings, pointed at `vault` (the run's dev Vault by default).
 * Unlike testServer() it adds no VAULT_TOKEN, so login methods can be configured.
 */
export function authServer(env: Record<string, string>, options: { vault?: DevVault; timing?: Partial<LeaseTiming> } = {}): AuthServer {
  const vault = options.vault ?? testVault();
  const config = loadConfig([], { VAULT_ADDR: vault.addr, MCP_AUDIT_LOG: "off", ...env });
  const requests: string[] = [];
  const logs: string[] = [];
  let last: string | undefined;
  const recording = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push(`${init?.method ?? "GET"} ${url.pathname.replace(/^\/v1\//, "")}`);
    const token = new Headers(init?.headers).get("x-vault-token");
    if (token) last = token;
    return fetch(input, init);
  }) as typeof fetch;
  const log = createLogger("debug", (line) => logs.push(line));
  const runtime = buildRuntime(config, log, { fetch: recording, leaseTiming: options.timing });
  const app = createApp({
    handleMcp: runtime.handleMcp,
    readiness: runtime.readiness,
    guard: runtime.guard,
    auth: runtime.auth,
  });
  const handle = (input: string | URL | Request, init?: RequestInit) =>
    app.handle(input instanceof Request ? input : new Request(String(input), init));
  return { runtime, app, fetch: handle, requests, lastToken: () => last, logs };
}

/** How many recorded requests match `pattern`. */
export function count(requests: readonly string[], pattern: RegExp): number {
  return requests.filter((r) => pattern.test(r)).length;
}

/** A fresh temp directory, removed after the test file. */
export function tempDir(prefix = "vault-mcp-auth-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A Vault API call with a given token (the root token by default) on any dev Vault. */
export async function api(vault: DevVault, method: string, path: string, body?: unknown, token = vault.token): Promise<{ status: number; json: any }> {
  const res = await vaultFetch(vault, path, {
    method,
    headers: { "x-vault-token": token, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const raw = await res.text();
  return { status: res.status, json: raw ? JSON.parse(raw) : null };
}

/** Like api(), but fails the test when Vault refuses. */
export async function must(vault: DevVault, method: string, path: string, body?: unknown): Promise<any> {
  const res = await api(vault, method, path, body);
  if (res.status >= 400) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** A policy that lets list_mounts work, and nothing else beyond Vault's default policy. */
export const LIST_MOUNTS_POLICY = 'path "sys/mounts" { capabilities = ["read"] }';

/** An ES256 key pair and a signer of JWTs with it, as a Kubernetes API server or an identity provider would issue. */
export function jwtIssuer() {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const b64 = (v: string | Buffer) => Buffer.from(v).toString("base64url");
  return {
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    sign(claims: Record<string, unknown>): string {
      const now = Math.floor(Date.now() / 1000);
      const body = { iat: now, nbf: now - 5, exp: now + 600, ...claims };
      const input = `${b64(JSON.stringify({ alg: "ES256", typ: "JWT" }))}.${b64(JSON.stringify(body))}`;
      // JWS wants r||s, not DER.
      const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
      return `${input}.${b64(signature)}`;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

export interface TestPki {
  dir: string;
  caFile: string;
  /** Issues a certificate and key signed by the CA; answers their file paths. */
  issue(name: string, options: { san?: string; usage: "serverAuth" | "clientAuth" }): { certFile: string; keyFile: string };
}

/** A throwaway CA made with the openssl CLI, with P-256 keys (fast to make). */
export function testPki(dir: string): TestPki {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=vault-mcp-server test CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    dir,
  );
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    issue(name, { san, usage }) {
      openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
      writeFileSync(join(dir, `${name}.ext`), `${san ? `subjectAltName=${san}\n` : ""}extendedKeyUsage=${usage}\n`);
      openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`,
        "-days", "1", "-extfile", `${name}.ext`], dir);
      return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
    },
  };
}
