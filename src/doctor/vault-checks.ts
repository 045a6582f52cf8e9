// Doctor checks that ask Vault: sys/health, the token (login, lookup-self) and, per tool, the capabilities its policies grant.
import type { VaultAuth } from "../config.ts";
import { silentLogger } from "../log.ts";
import { tokenSourceFor } from "../vault/auth.ts";
import { StaticToken, type TokenSource, type VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import { DEFAULT_MOUNTS, judge, type Layout, lacking, type Need, policyFor, probePaths, serverNeeds, TOOL_NEEDS } from "./needs.ts";
import type { CheckResult } from "./report.ts";

const DAY_S = 86_400;

/** Whatever `err` says, as a line; VaultError already words unreachable, sealed and timed-out Vaults. */
function words(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Health {
  initialized?: boolean;
  sealed?: boolean;
  standby?: boolean;
  performance_standby?: boolean;
  version?: string;
  cluster_name?: string;
}

/** sys/health, asked to answer 200 whatever the state, so that one answer says initialised, sealed, standby and version. */
export async function checkHealth(vault: VaultClient): Promise<CheckResult> {
  const name = "vault health";
  const codes = { standbyok: "true", perfstandbyok: "true", standbycode: 200, performancestandbycode: 200, drsecondarycode: 200, sealedcode: 200, uninitcode: 200 };
  let h: Health;
  try {
    h = ((await vault.request("GET", "sys/health", { anonymous: true, query: codes })) ?? {}) as Health;
  } catch (err) {
    const unreadable = err instanceof VaultError && err.failure === "unreadable";
    return {
      name,
      status: "fail",
      summary: words(err),
      fix: unreadable
        ? `VAULT_ADDR (${vault.addr}) may point at a proxy or another service rather than Vault: check that ${vault.addr}/v1/sys/health answers Vault's JSON`
        : "check Vault's own logs; the checks above show whether it can be reached",
    };
  }
  const data = { initialized: h.initialized, sealed: h.sealed, standby: h.standby, performance_standby: h.performance_standby, version: h.version, cluster_name: h.cluster_name };
  const version = h.version ? `Vault ${h.version}` : "Vault (version not given)";
  if (h.initialized === false) {
    return { name, status: "fail", summary: `${version} at ${vault.addr} is not initialised`, fix: "initialise it (vault operator init), then unseal it", data };
  }
  if (h.sealed) {
    return { name, status: "fail", summary: `${version} at ${vault.addr} is sealed`, fix: "unseal it (vault operator unseal), or check why its auto-unseal did not", data };
  }
  const role = h.performance_standby ? "performance standby" : h.standby ? "standby (forwards requests to the active node)" : "active";
  const cluster = h.cluster_name ? `, cluster ${h.cluster_name}` : "";
  return { name, status: "ok", summary: `initialised, unsealed, ${role}; ${version}${cluster}`, data };
}

/** Which token, in words that name where it comes from and never what it is. */
export function describeAuth(auth: VaultAuth): string {
  switch (auth.method) {
    case "token":
      return auth.tokenFile ? `the token in VAULT_TOKEN_FILE (${auth.tokenFile})` : "the token in VAULT_TOKEN";
    case "kubernetes":
    case "jwt":
      return `${auth.method} login at auth/${auth.mount} as role ${auth.role}`;
    case "approle":
      return `approle login at auth/${auth.mount}`;
  }
}

function loginFix(auth: VaultAuth): string {
  switch (auth.method) {
    case "token":
      return auth.tokenFile ? `make ${auth.tokenFile} readable by this user and hold a token` : "set VAULT_TOKEN";
    case "kubernetes":
    case "jwt":
      return (
        `check that role ${auth.role} exists at auth/${auth.mount} and is bound to this pod's service account, namespace and audience ` +
        `(manifests/vault/setup.sh kubernetes-auth), and that ${auth.jwtFile} holds its token`
      );
    case "approle":
      return `check VAULT_APPROLE_ROLE_ID and the secret id (VAULT_APPROLE_SECRET_ID or _FILE) against auth/${auth.mount}; a secret id may have expired or run out of uses`;
  }
}

function refusedFix(auth: VaultAuth): string {
  if (auth.method === "token") {
    const where = auth.tokenFile ? `write a valid token to ${auth.tokenFile} (the server re-reads it when it changes)` : "set VAULT_TOKEN to a valid token";
    return `${where}; manifests/vault/setup.sh token makes one with mcp-server-policy`;
  }
  return `the login succeeded but Vault refused its token: check the token policies of the role at auth/${auth.mount}`;
}

/** "3d 4h", "45m", for a TTL in seconds. */
export function ttlWords(seconds: number): string {
  const d = Math.floor(seconds / DAY_S);
  const h = Math.floor((seconds % DAY_S) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return m > 0 ? `${m}m` : `${seconds}s`;
}

interface Lookup {
  policies?: string[];
  ttl?: number;
  renewable?: boolean;
  display_name?: string;
  type?: string;
  issue_time?: string;
  explicit_max_ttl?: number;
  expire_time?: string | null;
}

export interface TokenFinding {
  result: CheckResult;
  /** The working token, for the capabilities check; never printed. */
  token?: string;
  renewable?: boolean;
  /** Secrets to remove from the output should any appear. */
  secrets: string[];
}

/** The configured token or login gives a token, and lookup-self accepts it; warns about root tokens and near expiry. */
export async function checkToken(auth: VaultAuth, clientFor: (tokens: TokenSource) => VaultClient, now = Date.now()): Promise<TokenFinding> {
  const name = "token";
  const label = describeAuth(auth);
  const secrets = auth.method === "token" && auth.token ? [auth.token] : auth.method === "approle" && auth.secretId ? [auth.secretId] : [];
  let token: string;
  try {
    const source = tokenSourceFor(auth, { client: clientFor, log: silentLogger });
    try {
      token = await source.token();
    } finally {
      source.close();
    }
  } catch (err) {
    const login = auth.method !== "token";
    return {
      result: { name, status: "fail", summary: `${login ? `${label} failed` : `cannot read ${label}`}: ${words(err)}`, fix: loginFix(auth) },
      secrets,
    };
  }
  secrets.push(token);
  let info: Lookup;
  try {
    info = ((await clientFor(new StaticToken(token)).read<Lookup>("auth/token/lookup-self"))?.data ?? {}) as Lookup;
  } catch (err) {
    if (err instanceof VaultError && err.isForbidden) {
      return {
        result: {
          name,
          status: "fail",
          summary: `Vault refused ${label} (403 on auth/token/lookup-self: ${err.errors.join("; ") || "permission denied"}): it is invalid, expired or revoked`,
          fix: refusedFix(auth),
        },
        secrets,
      };
    }
    return { result: { name, status: "fail", summary: `looking up ${label} failed: ${words(err)}`, fix: "check Vault's logs; the checks above show whether it is reachable" }, secrets };
  }
  const policies = info.policies ?? [];
  const ttl = info.ttl ?? 0;
  const renewable = info.renewable === true;
  const life = ttl === 0 ? "never expires" : `TTL ${ttlWords(ttl)}`;
  const summary = `${label}: policies ${policies.join(", ") || "(none)"}; ${life}, ${renewable ? "renewable" : "not renewable"}`;
  const data = { auth: auth.method, policies, ttl_s: ttl, renewable, display_name: info.display_name, type: info.type, expire_time: info.expire_time ?? null };
  const found = (status: CheckResult["status"], fix?: string, more = ""): TokenFinding => ({
    result: { name, status, summary: `${summary}${more}`, ...(fix ? { fix } : {}), data },
    token,
    renewable,
    secrets,
  });
  if (policies.includes("root")) {
    return found("warn", "give the server a token limited to what the tools need: manifests/vault/setup.sh token (mcp-server-policy)", " (a root token: the agent may do anything in Vault)");
  }
  // A login method logs in again before its token runs out; a handed-in token has no such way out.
  if (auth.method === "token" && ttl > 0) {
    if (!renewable && ttl < DAY_S) {
      return found("warn", `give the server a new token before it expires${info.expire_time ? ` (${info.expire_time})` : ""}; a renewable one is renewed automatically`, ": expires within a day");
    }
    const maxEnd = info.explicit_max_ttl && info.issue_time ? Date.parse(info.issue_time) + info.explicit_max_ttl * 1000 : undefined;
    if (renewable && maxEnd !== undefined && maxEnd - now < DAY_S * 1000) {
      return found("warn", `give the server a new token before ${new Date(maxEnd).toISOString()}`, ": reaches its explicit max TTL within a day, after which renewal cannot extend it");
    }
  }
  return found("ok");
}

interface MountAnswer {
  type?: string;
  path?: string;
  options?: { version?: string } | null;
}

/** A mount's engine as the tools find it: sys/internal/ui/mounts/<m> first ("ui"), then sys/mounts ("sys"). */
async function findMount(vault: VaultClient, mount: string, sysMounts: () => Promise<Record<string, MountAnswer> | undefined>) {
  try {
    const res = await vault.read<MountAnswer>(`sys/internal/ui/mounts/${mount}`);
    const path = res?.data?.path?.replace(/\/+$/, "");
    if (res?.data?.type && path === mount) return { via: "ui" as const, type: res.data.type, version: res.data.options?.version };
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
  }
  const entry = (await sysMounts())?.[`${mount}/`];
  return { via: "sys" as const, type: entry?.type, version: entry?.options?.version, listed: entry !== undefined };
}

export interface Tool {
  name: string;
  readOnly: boolean;
}

/** For each tool, the capabilities its endpoints need, from sys/capabilities-self; the policy lines that would grant what is missing. */
export async function checkCapabilities(vault: VaultClient, tools: readonly Tool[], renewable: boolean): Promise<CheckResult> {
  const name = "capabilities";
  let sys: Promise<Record<string, MountAnswer> | undefined> | undefined;
  const sysMounts = () => (sys ??= vault.read<Record<string, MountAnswer>>("sys/mounts").then((r) => r?.data, () => undefined));
  const notes: string[] = [];
  const detected = new Set<string>();
  const kv = await findMount(vault, DEFAULT_MOUNTS.kv, sysMounts);
  const pki = await findMount(vault, DEFAULT_MOUNTS.pki, sysMounts);
  if (kv.via === "ui") detected.add(DEFAULT_MOUNTS.kv);
  if (pki.via === "ui") detected.add(DEFAULT_MOUNTS.pki);
  let kvVersion: 1 | 2 = 2;
  if (kv.type === "kv" || kv.type === "generic") kvVersion = kv.version === "2" ? 2 : 1;
  else if (kv.type) notes.push(`${DEFAULT_MOUNTS.kv}/ is a ${kv.type} mount, not KV: the KV tools need mount= set to a KV mount`);
  else notes.push(`${DEFAULT_MOUNTS.kv}/ is not mounted${kv.via === "sys" && !(await sysMounts()) ? " or not visible to this token" : ""} (checked as KV v2)`);
  if (pki.type && pki.type !== "pki") notes.push(`${DEFAULT_MOUNTS.pki}/ is a ${pki.type} mount, not PKI`);
  else if (!pki.type) notes.push(`${DEFAULT_MOUNTS.pki}/ is not mounted yet (enable_pki mounts it)`);
  const layout: Layout = { kvMount: DEFAULT_MOUNTS.kv, kvVersion, pkiMount: DEFAULT_MOUNTS.pki };
  const own = serverNeeds(renewable);
  const names = tools.map((t) => t.name);

  let granted: Record<string, string[]>;
  try {
    const res = await vault.write<Record<string, string[]>>("sys/capabilities-self", { paths: probePaths(names, layout, own) });
    granted = res.data ?? {};
  } catch (err) {
    return {
      name,
      status: "warn",
      summary: `could not ask Vault what the token may do (${words(err)}), so no tool was checked`,
      fix: "sys/capabilities-self is granted by Vault's default policy: attach it to the token, or check each tool by hand",
    };
  }
  const verdicts = judge(names, layout, granted, detected);
  const refused = verdicts.filter((v) => v.missing.length > 0);
  const unknown = verdicts.filter((v) => v.unknown).map((v) => v.tool);
  const ownMissing = lacking(own, granted);
  const where = `${layout.kvMount}/ (KV v${layout.kvVersion}) and ${layout.pkiMount}/`;
  const data = {
    kv_mount: layout.kvMount,
    kv_version: layout.kvVersion,
    pki_mount: layout.pkiMount,
    tools: verdicts.map((v) => ({ tool: v.tool, ok: v.missing.length === 0 && !v.unknown, ...(v.unknown ? { unknown: true } : {}), missing: v.missing.map(slim) })),
    server_missing: ownMissing.map(slim),
    notes,
  };
  const missingAll = [...refused.flatMap((v) => v.missing), ...ownMissing];
  const details = [
    ...notes.map((n) => `note: ${n}`),
    ...refused.map((v) => `${v.tool.padEnd(22)} lacks ${grouped(v.missing)}`),
    ...ownMissing.map((n) => `${"(the server itself)".padEnd(22)} lacks ${n.capability} on ${n.policyPath} to ${n.why}`),
    ...unknown.map((t) => `${t.padEnd(22)} not in the doctor's table (src/doctor/needs.ts): not checked`),
  ];
  if (missingAll.length > 0) {
    const every = [...names.flatMap((t) => TOOL_NEEDS[t]?.(layout) ?? []), ...own];
    details.push(
      "policy lines that grant what is missing (with what the token has there now: Vault applies only the most specific path):",
      ...policyFor(missingAll, granted, every)
        .split("\n")
        .map((l) => `  ${l}`),
    );
  }
  if (missingAll.length === 0) {
    return { name, status: unknown.length > 0 ? "warn" : "ok", summary: `all ${tools.length} tools have what they need at ${where}`, ...(unknown.length > 0 ? { fix: "add the unchecked tools to src/doctor/needs.ts" } : {}), details, data };
  }
  const writeOnly = refused.every((v) => !tools.find((t) => t.name === v.tool)?.readOnly);
  const list = refused.map((v) => v.tool).join(", ");
  const everything = refused.length === tools.length;
  return {
    name,
    status: everything ? "fail" : "warn",
    summary:
      refused.length > 0
        ? `${refused.length} of ${tools.length} tools will be refused by Vault${writeOnly ? ", all of them tools that change Vault" : ""}: ${list}`
        : `every tool has what it needs at ${where}, but the server itself lacks some`,
    fix: everything
      ? "the token's policies allow no tool: add the policy lines below to its policy (vault policy write), e.g. use manifests/vault/mcp-server-policy.hcl"
      : "if these tools should work, add the policy lines below to the token's policy (vault policy write); a read-only policy refuses them on purpose",
    details,
    data,
  };
}

function slim(n: Need) {
  return { path: n.path, capability: n.capability, policy_path: n.policyPath, why: n.why };
}

/** "patch, create, update on secret/data/*; read on secret/metadata/*" */
function grouped(missing: readonly Need[]): string {
  const byPath = new Map<string, string[]>();
  for (const n of missing) byPath.set(n.policyPath, [...new Set([...(byPath.get(n.policyPath) ?? []), n.capability])]);
  return [...byPath].map(([path, caps]) => `${caps.join(", ")} on ${path}`).join("; ");
}
