// The fuzz's world: its own dev Vault with a file audit device, seeded fixtures, and an in-process server on a token of its own.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { buildRuntime, type Runtime } from "../../src/runtime.ts";
import { type DevVault, startDevVault, vaultFetch } from "../support/vault.ts";
import type { Fixtures } from "./arbitraries.ts";
import type { SeenRequest } from "./scope.ts";

/** Each segment percent-encoded, as the server encodes them, for the harness's own direct requests. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** Direct Vault API access with the root token: to seed, and to check what a tool claims against what Vault holds. */
export async function api(vault: DevVault, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const list = method === "LIST";
  const res = await vaultFetch(vault, `${path}${list ? "?list=true" : ""}`, {
    method: list ? "GET" : method,
    headers: body !== undefined ? { "content-type": "application/json" } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const raw = await res.text();
  let json: any = null;
  try {
    json = raw ? JSON.parse(raw) : null;
  } catch {
    json = { unparsed: raw };
  }
  return { status: res.status, json };
}

async function must(vault: DevVault, method: string, path: string, body?: unknown): Promise<any> {
  const res = await api(vault, method, path, body);
  if (res.status >= 300) throw new Error(`fuzz setup: ${method} ${path} answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** Reads the audit entries Vault appended since the last take(), keeping only requests made with one token. */
export class AuditTail {
  private offset = 0;
  private partial = "";
  private readonly fd: number;

  constructor(
    file: string,
    private readonly accessor: string,
  ) {
    this.fd = openSync(file, "r");
  }

  take(): SeenRequest[] {
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const read = readSync(this.fd, buffer, 0, buffer.length, this.offset);
    this.offset += read;
    const lines = (this.partial + buffer.subarray(0, read).toString("utf8")).split("\n");
    // Vault writes each entry with one write; a read can still land between two of them.
    this.partial = lines.pop() ?? "";
    const seen: SeenRequest[] = [];
    for (const line of lines) {
      if (!line.trim()) continue;
      const entry = JSON.parse(line);
      if (entry.type !== "request" || entry.auth?.accessor !== this.accessor) continue;
      seen.push({ operation: String(entry.request?.operation), path: String(entry.request?.path) });
    }
    return seen;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface FuzzWorld {
  vault: DevVault;
  runtime: Runtime;
  fixtures: Fixtures;
  audit: AuditTail;
  /** Requests the server's fetch sent since the last takeSent(), with paths exactly as put in the URL (decoded per segment). */
  takeSent(): SeenRequest[];
  /** The server's own Vault token, which no answer may contain. */
  token: string;
  /** Puts back every fixture a destructive call may have removed or changed. */
  reseed(): Promise<void>;
  /** Unmounts what a successful create_mount or enable_pki made outside the scratch paths, so mounts do not pile up over a long run. */
  forgetCreated(tool: string, args: unknown): Promise<void>;
  stop(): Promise<void>;
}

const SECRET_DATA = { password: "s3cr3t", username: "app", port: 5432 };

function fixtureNames(): Omit<Fixtures, "rootId" | "rootPem" | "transitSamples"> {
  return {
    kv2: "fz-kv2",
    kv1: "fz-kv1",
    pki: "pki",
    pkiInt: "fz-pki-int",
    scratch: ["fz-scratch-a", "fz-scratch-b"],
    secrets: ["app/db", "app/list/one", "app/list/two"],
    role: "fz-role",
    rootName: "fz-root",
    transit: "transit",
    transitKeys: ["fz-aes", "fz-sign", "fz-derived"],
  };
}

async function seed(vault: DevVault, names: ReturnType<typeof fixtureNames>, fresh: boolean): Promise<{ rootId: string; rootPem: string } | undefined> {
  const mounts = (await must(vault, "GET", "sys/mounts")).data as Record<string, unknown>;
  const wanted: [string, unknown][] = [
    [names.kv2, { type: "kv", options: { version: "2" } }],
    [names.kv1, { type: "kv", options: { version: "1" } }],
    ["secret", { type: "kv", options: { version: "2" } }],
    [names.pki, { type: "pki", config: { max_lease_ttl: "87600h" } }],
    [names.pkiInt, { type: "pki", config: { max_lease_ttl: "87600h" } }],
    [names.transit, { type: "transit" }],
  ];
  let root: { rootId: string; rootPem: string } | undefined;
  for (const [path, body] of wanted) {
    if (!mounts[`${path}/`]) await must(vault, "POST", `sys/mounts/${path}`, body);
  }
  const issuers = await api(vault, "LIST", `${names.pki}/issuers`);
  if (fresh || !(issuers.json?.data?.keys?.length > 0)) {
    // ec: an RSA root would cost Vault a second of a shared core each time the fixture is put back.
    const made = await must(vault, "POST", `${names.pki}/root/generate/internal`, {
      common_name: "Fuzz Root CA",
      issuer_name: names.rootName,
      key_type: "ec",
      ttl: "87600h",
    });
    root = { rootId: made.data.issuer_id, rootPem: made.data.certificate };
  }
  await must(vault, "POST", `${names.pki}/roles/${names.role}`, {
    allowed_domains: ["example.com"],
    allow_subdomains: true,
    allow_bare_domains: true,
    key_type: "ec",
    max_ttl: "24h",
  });
  // The transit keys, made again if a call deleted one, with the settings a call may have changed put back.
  const [aes, sign, derived] = names.transitKeys as [string, string, string];
  for (const [key, body] of [[aes, { type: "aes256-gcm96" }], [sign, { type: "ed25519" }], [derived, { type: "aes256-gcm96", derived: true }]] as const) {
    if ((await api(vault, "GET", `${names.transit}/keys/${key}`)).status === 404) await must(vault, "POST", `${names.transit}/keys/${key}`, body);
    await must(vault, "POST", `${names.transit}/keys/${key}/config`, { min_decryption_version: 1, min_encryption_version: 0, deletion_allowed: false });
  }
  for (const path of names.secrets) {
    for (const mount of [names.kv2, "secret"]) {
      // write_secret_metadata may have set cas_required (or max_versions) on a fixture: put its settings back first.
      await must(vault, "POST", `${mount}/metadata/${path}`, { cas_required: false, max_versions: 0, delete_version_after: "0s" });
      await must(vault, "POST", `${mount}/data/${path}`, { data: SECRET_DATA });
    }
    await must(vault, "POST", `${names.kv1}/${path}`, SECRET_DATA);
  }
  return root;
}

/** Starts the fuzz's own Vault (never the shared one: the audit device would see every other test's requests), seeds it, builds the server. */
export async function startWorld(): Promise<FuzzWorld> {
  const vault = await startDevVault({ fromEnv: false });
  try {
    const dir = await mkdtemp(join(tmpdir(), "vault-mcp-fuzz-"));
    const auditFile = join(dir, "audit.log");
    // hmac_accessor=false leaves accessors readable, so entries can be told apart by token; paths are never HMACed.
    await must(vault, "PUT", "sys/audit/fuzz", { type: "file", options: { file_path: auditFile, hmac_accessor: "false" } });
    // Its own token, with the root policy so that no refusal by policy hides a request the server should not have made.
    const created = await must(vault, "POST", "auth/token/create", { policies: ["root"], display_name: "fuzz-server" });
    const token: string = created.auth.client_token;
    const accessor: string = created.auth.accessor;

    const names = fixtureNames();
    const root = await seed(vault, names, true);
    if (!root) throw new Error("fuzz setup: no root issuer was made");
    const [aes, sign] = names.transitKeys as [string, string];
    const hello = Buffer.from("hello").toString("base64");
    const transitSamples = {
      ciphertext: (await must(vault, "POST", `${names.transit}/encrypt/${aes}`, { plaintext: hello })).data.ciphertext,
      signature: (await must(vault, "POST", `${names.transit}/sign/${sign}`, { input: hello })).data.signature,
      hmac: (await must(vault, "POST", `${names.transit}/hmac/${aes}`, { input: hello })).data.hmac,
    };
    const fixtures: Fixtures = { ...names, ...root, transitSamples };

    const base = `${vault.addr}/v1/`;
    let sent: SeenRequest[] = [];
    const recording = ((input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
      const seen = sentRequest(url, base, method);
      sent.push(seen);
      return fetch(input, init).then((res) => {
        seen.status = res.status;
        return res;
      });
    }) as typeof fetch;
    const config = loadConfig([], { VAULT_ADDR: vault.addr, VAULT_TOKEN: token, MCP_AUDIT_LOG: "off", MCP_TOOLSETS: "all" });
    const runtime = buildRuntime(config, silentLogger, { fetch: recording });
    const audit = new AuditTail(auditFile, accessor);
    return {
      vault,
      runtime,
      fixtures,
      audit,
      takeSent() {
        const out = sent;
        sent = [];
        return out;
      },
      token,
      async forgetCreated(tool, args) {
        if (tool !== "create_mount" && tool !== "enable_pki" && tool !== "enable_transit") return;
        const a = (args ?? {}) as Record<string, unknown>;
        const path = String(Object.hasOwn(a, "path") ? a.path : tool === "enable_transit" ? names.transit : "pki").replace(/^\//, "").replace(/\/$/, "");
        if (!names.scratch.includes(path) && path !== names.pki && path !== names.transit) await api(vault, "DELETE", `sys/mounts/${encodePath(path)}`);
      },
      async reseed() {
        const again = await seed(vault, names, false);
        if (again) Object.assign(fixtures, again);
      },
      async stop() {
        audit.close();
        await runtime.close();
        await vault.stop();
      },
    };
  } catch (err) {
    await vault.stop();
    throw err;
  }
}

const VERB: Record<string, string> = { GET: "read", POST: "update", PUT: "update", PATCH: "patch", DELETE: "delete" };

/** A URL the server sent, as a request to compare with the scope: taken from the string, before any URL parser folds ".." away. */
function sentRequest(url: string, base: string, method: string): SeenRequest {
  if (!url.startsWith(base)) return { operation: VERB[method] ?? method, path: `<not under ${base}>${url}` };
  const [rawPath = "", query = ""] = url.slice(base.length).split("?", 2);
  const list = new URLSearchParams(query).get("list") === "true";
  let path: string;
  try {
    path = rawPath.split("/").map(decodeURIComponent).join("/");
  } catch {
    path = `<undecodable>${rawPath}`;
  }
  return { operation: list ? "list" : (VERB[method] ?? method), path };
}

/** Sends one tools/call through the server's HTTP handler, as a client over the network would. */
export async function callTool(runtime: Runtime, id: number, tool: string, args: unknown): Promise<{ status: number; body: any }> {
  const params = args === undefined ? { name: tool } : { name: tool, arguments: args };
  const req = new Request("http://127.0.0.1:8084/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params }),
  });
  const res = await runtime.handleMcp(req);
  const raw = await res.text();
  let body: any;
  try {
    body = JSON.parse(raw);
  } catch {
    body = { unparsed: raw };
  }
  return { status: res.status, body };
}
