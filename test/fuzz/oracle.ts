// Judges one tool answer: an error must be one a model can act on, and a success must be true of what Vault holds afterwards.
import { Value } from "@sinclair/typebox/value";
import { CHARSETS } from "../../src/tools/generate.ts";
import type { ToolDefinition } from "../../src/tools/registry.ts";
import type { DevVault } from "../support/vault.ts";
import { api, encodePath } from "./harness.ts";
import { DEFAULT_MOUNT } from "./scope.ts";

/** Argument errors: the call itself was wrong, so nothing beyond the mount lookups may have been sent. */
const ARGUMENT_ERROR = [/^Invalid arguments? /, /^Unknown arguments? /, /^Missing argument /];
/**
 * Error texts that must never reach a model from a healthy local Vault and a root-policy token: a bug, a failure of
 * Vault or of the connection, an answer that leaves Vault's state unknown, a half-done change. Every other error text
 * (an argument, something missing, Vault's own refusal, a conflict, a refusal by design) is one a model can act on.
 */
const NEVER: readonly RegExp[] = [
  /Internal error/i,
  /This is a bug/i,
  /could not be reached/,
  /did not answer/,
  /broke after/,
  /cut off or unreadable/,
  /may or may not have been applied/,
  /already changed Vault/,
  /is sealed/,
  /does not accept the server's own token/,
  /could not get a Vault token/,
  /Could NOT undo/,
  /kept changing/,
  /rate-limiting/,
  /^Permission denied/,
  /Vault failed with 5\d\d/,
  /Maximum call stack/i,
];

export function isArgumentError(text: string): boolean {
  return ARGUMENT_ERROR.some((re) => re.test(text));
}

/** Why an isError text is not an error a model can act on, or undefined when it is. */
export function badErrorText(text: string): string | undefined {
  const never = NEVER.find((re) => re.test(text));
  if (never) return `an error text a model must never see here (${never})`;
  if (text.trim().length < 10) return "an error text too short to act on";
  // describeVaultError's last resort: Vault's refusal with neither Vault's reason nor the server's, so nothing to act on.
  if (/^Vault refused [A-Z]+ \S+ \(\d+\)\.$/.test(text.trim())) return "Vault's refusal relayed without any reason";
  // A reason slot left empty ("Vault refused to mount kv at x/: . Check ..."): Vault said nothing and the server added nothing.
  if (/: \.(\s|$)/.test(text)) return "a refusal whose reason is empty";
  return undefined;
}

const KV_TOOLS = new Set(["read_secret", "write_secret", "list_secrets", "delete_secret", "generate_secret"]);
const KV_LIFECYCLE_TOOLS = new Set([
  "read_secret_metadata",
  "write_secret_metadata",
  "patch_secret",
  "delete_secret_versions",
  "undelete_secret_versions",
  "destroy_secret_versions",
  "delete_secret_metadata",
  "rollback_secret",
]);

/** Why `now` is not what a JSON merge patch (RFC 7396) of `patch` leaves, or undefined: set leaves equal, null leaves gone. */
function unmerged(patch: Record<string, unknown>, now: Record<string, unknown> | undefined, at = ""): string | undefined {
  for (const [k, v] of Object.entries(patch)) {
    const here = now && Object.hasOwn(now, k) ? now[k] : undefined;
    if (v === null) {
      if (now && Object.hasOwn(now, k)) return `key ${JSON.stringify(at + k)} is still there after a null removed it`;
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      if (!here || typeof here !== "object" || Array.isArray(here)) return `key ${JSON.stringify(at + k)} is not an object after merging one`;
      const why = unmerged(v as Record<string, unknown>, here as Record<string, unknown>, `${at}${k}.`);
      if (why) return why;
    } else if (canonical(here) !== canonical(v)) return `key ${JSON.stringify(at + k)} reads back as ${canonical(here)}, not ${canonical(v)}`;
  }
  return undefined;
}

/** A mount or path argument as the server reads it: one leading and one trailing slash tolerated. */
function normal(raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  let s = raw;
  if (s.startsWith("/")) s = s.slice(1);
  if (s.endsWith("/")) s = s.slice(0, -1);
  return s;
}

/** JSON with object keys sorted, so equal data compares equal whatever order Vault answers in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return canonical([...a].sort()) === canonical([...b].sort());
}

async function kvVersion(vault: DevVault, mount: string): Promise<number | undefined> {
  const res = await api(vault, "GET", `sys/mounts/${encodePath(mount)}`);
  return res.status === 200 ? (res.json?.data?.options?.version === "2" ? 2 : 1) : undefined;
}

/** The secret's live data as Vault holds it now, or null. */
async function kvData(vault: DevVault, mount: string, path: string, version: number): Promise<{ data: Record<string, unknown>; version?: number } | null> {
  if (version === 2) {
    const res = await api(vault, "GET", `${encodePath(mount)}/data/${encodePath(path)}`);
    return res.json?.data?.data ? { data: res.json.data.data, version: res.json.data.metadata?.version } : null;
  }
  const res = await api(vault, "GET", `${encodePath(mount)}/${encodePath(path)}`);
  return res.status === 200 && res.json?.data ? { data: res.json.data } : null;
}

/**
 * Why a successful answer is not true of Vault, or undefined when it is. `sent` is the argument object as the server
 * parsed it from JSON; `s` the structured content.
 */
export async function falseSuccess(vault: DevVault, def: ToolDefinition, sent: Record<string, unknown>, s: Record<string, any> | undefined): Promise<string | undefined> {
  if (!s) return "a success without structured content";
  // Checked through another name: Value.Check narrows its argument to the schema's static type, which knows no fields here.
  const asSent: unknown = s;
  if (!Value.Check(def.output, asSent)) return `structured content that does not match the output schema: ${[...Value.Errors(def.output, s)].slice(0, 2).map((e) => `${e.path} ${e.message}`).join("; ")}`;
  const tool = def.name;
  const mountArg = normal(Object.hasOwn(sent, "mount") ? sent.mount : (DEFAULT_MOUNT[tool] ?? "pki"));
  if ("mount" in def.input.properties && s.mount !== mountArg) return `answered for mount ${JSON.stringify(s.mount)} when asked for ${JSON.stringify(mountArg)}`;
  const mount = encodePath(String(s.mount ?? ""));
  if (KV_TOOLS.has(tool) || KV_LIFECYCLE_TOOLS.has(tool)) {
    const pathArg = normal(Object.hasOwn(sent, "path") ? sent.path : "");
    if (s.path !== pathArg) return `answered for path ${JSON.stringify(s.path)} when asked for ${JSON.stringify(pathArg)}`;
  }
  switch (tool) {
    case "write_secret": {
      // fromEntries, not assignment: a key named "__proto__" must stay a key.
      const changes: Record<string, unknown> = Object.fromEntries([
        ...Object.entries((sent.data as Record<string, unknown>) ?? {}),
        ...(sent.key !== undefined ? [[sent.key as string, sent.value]] : []),
      ]);
      if (!sameSet(s.keys_written, Object.keys(changes))) return `keys_written ${canonical(s.keys_written)} but the call wrote ${canonical(Object.keys(changes))}`;
      const version = await kvVersion(vault, s.mount);
      const now = version && (await kvData(vault, s.mount, s.path, version));
      if (!now) return "Vault holds no secret there afterwards";
      for (const [k, v] of Object.entries(changes)) {
        if (!Object.hasOwn(now.data, k)) return `key ${JSON.stringify(k)} is not in the secret afterwards`;
        if (canonical(now.data[k]) !== canonical(v)) return `key ${JSON.stringify(k)} reads back as ${canonical(now.data[k])}, not the ${canonical(v)} written`;
      }
      if (version === 2 && s.version !== now.version) return `answered version ${s.version}, but Vault's latest is ${now.version}`;
      return undefined;
    }
    case "read_secret": {
      const version = await kvVersion(vault, s.mount);
      if (!version) return "no such KV mount";
      const path = `${mount}/${version === 2 ? "data/" : ""}${encodePath(s.path)}${sent.version !== undefined ? `?version=${sent.version}` : ""}`;
      const res = await api(vault, "GET", path);
      const data = version === 2 ? res.json?.data?.data : res.json?.data;
      if (!data) return "Vault holds no such secret";
      const expected = sent.key !== undefined ? (Object.hasOwn(data, sent.key as string) ? { [sent.key as string]: data[sent.key as string] } : undefined) : data;
      if (!expected) return `answered key ${JSON.stringify(sent.key)}, which the secret does not hold`;
      if (canonical(s.data) !== canonical(expected)) return `data ${canonical(s.data)} differs from Vault's ${canonical(expected)}`;
      return undefined;
    }
    case "delete_secret": {
      const version = await kvVersion(vault, s.mount);
      if (!version) return "no such KV mount";
      if (s.deleted_key !== undefined) {
        const now = await kvData(vault, s.mount, s.path, version);
        if (now && Object.hasOwn(now.data, s.deleted_key)) return `key ${JSON.stringify(s.deleted_key)} is still in the secret`;
        return undefined;
      }
      if (version === 1) return (await kvData(vault, s.mount, s.path, 1)) ? "the KV v1 secret is still there" : undefined;
      const meta = await api(vault, "GET", `${mount}/metadata/${encodePath(s.path)}`);
      const state = meta.json?.data?.versions?.[String(s.version)];
      if (!state?.deletion_time) return `version ${s.version} is not deleted (${canonical(state)})`;
      return undefined;
    }
    case "list_secrets": {
      const version = await kvVersion(vault, s.mount);
      if (!version) return "no such KV mount";
      const folder = [mount, version === 2 ? "metadata" : "", encodePath(s.path)].filter((p) => p !== "").join("/");
      const res = await api(vault, "LIST", `${folder}/`);
      const keys: string[] = res.json?.data?.keys ?? [];
      return sameSet(s.keys, keys) ? undefined : `keys ${canonical(s.keys)} differ from Vault's ${canonical(keys)}`;
    }
    case "read_secret_metadata": {
      if (s.kv_version === 1) {
        const exists = (await kvData(vault, s.mount, s.path, 1)) !== null;
        return exists === s.exists ? undefined : `exists=${s.exists}, but Vault ${exists ? "holds" : "holds no"} such secret`;
      }
      const meta = (await api(vault, "GET", `${mount}/metadata/${encodePath(s.path)}`)).json?.data;
      if (!meta) return s.exists ? "exists=true, but Vault has no metadata there" : undefined;
      if (!s.exists) return "exists=false, but Vault has metadata there";
      if (s.current_version !== meta.current_version) return `current_version ${s.current_version} differs from Vault's ${meta.current_version}`;
      const versions = s.versions.map((v: { version: number }) => String(v.version));
      return sameSet(versions, Object.keys(meta.versions ?? {})) ? undefined : `versions ${canonical(versions)} differ from Vault's ${canonical(Object.keys(meta.versions ?? {}))}`;
    }
    case "write_secret_metadata": {
      const meta = (await api(vault, "GET", `${mount}/metadata/${encodePath(s.path)}`)).json?.data;
      if (!meta) return "Vault has no metadata there afterwards";
      for (const k of ["max_versions", "cas_required", "custom_metadata"] as const) {
        const vaults = k === "custom_metadata" ? (meta[k] ?? {}) : meta[k];
        if (canonical(s[k]) !== canonical(vaults)) return `${k} ${canonical(s[k])} differs from Vault's ${canonical(vaults)}`;
        if (sent[k] !== undefined && canonical(sent[k]) !== canonical(vaults)) return `${k} was sent as ${canonical(sent[k])}, but Vault holds ${canonical(vaults)}`;
      }
      return undefined;
    }
    case "patch_secret": {
      const res = await api(vault, "GET", `${mount}/data/${encodePath(s.path)}?version=${s.version}`);
      if (!res.json?.data?.data) return `Vault holds no version ${s.version}`;
      return unmerged(sent.data as Record<string, unknown>, res.json.data.data);
    }
    case "delete_secret_versions":
    case "undelete_secret_versions":
    case "destroy_secret_versions": {
      const meta = (await api(vault, "GET", `${mount}/metadata/${encodePath(s.path)}`)).json?.data;
      for (const v of s.versions as number[]) {
        const state = meta?.versions?.[String(v)];
        if (!state) return `Vault keeps no version ${v}`;
        if (tool === "destroy_secret_versions" && !state.destroyed) return `version ${v} is not destroyed`;
        if (tool === "delete_secret_versions" && !state.destroyed && !state.deletion_time) return `version ${v} is not deleted`;
        if (tool === "undelete_secret_versions" && (state.destroyed || state.deletion_time)) return `version ${v} is not live (${canonical(state)})`;
      }
      return undefined;
    }
    case "delete_secret_metadata": {
      const res = await api(vault, "GET", `${mount}/metadata/${encodePath(s.path)}`);
      return res.status === 404 ? undefined : `the metadata still answers ${res.status}`;
    }
    case "rollback_secret": {
      const now = await api(vault, "GET", `${mount}/data/${encodePath(s.path)}?version=${s.version}`);
      const then = await api(vault, "GET", `${mount}/data/${encodePath(s.path)}?version=${s.rolled_back_to}`);
      if (!now.json?.data?.data) return `Vault holds no version ${s.version}`;
      if (then.json?.data?.data && canonical(now.json.data.data) !== canonical(then.json.data.data)) return `version ${s.version} does not hold version ${s.rolled_back_to}'s data`;
      return sameSet(s.keys_restored, Object.keys(now.json.data.data)) ? undefined : "keys_restored differ from the keys of the new version";
    }
    case "create_mount":
    case "enable_pki": {
      if (s.path !== normal(Object.hasOwn(sent, "path") ? sent.path : "pki")) return `answered for path ${JSON.stringify(s.path)}`;
      const res = await api(vault, "GET", "sys/mounts");
      const entry = res.json?.data?.[`${s.path}/`];
      if (!entry) return `no mount at ${s.path}/ afterwards`;
      const label = entry.type === "kv" ? `kv-v${entry.options?.version === "2" ? 2 : 1}` : entry.type;
      return label === s.type ? undefined : `Vault's mount is ${label}, the answer said ${s.type}`;
    }
    case "delete_mount": {
      const res = await api(vault, "GET", "sys/mounts");
      return res.json?.data?.[`${s.path}/`] ? `the mount ${s.path}/ is still there` : Object.hasOwn(res.json?.data ?? {}, `${normal(sent.path)}/`) ? "the mount asked for is still there" : undefined;
    }
    case "list_mounts": {
      const res = await api(vault, "GET", "sys/mounts");
      const paths = Object.keys(res.json?.data ?? {}).map((p) => p.replace(/\/$/, ""));
      return sameSet(s.mounts.map((m: { path: string }) => m.path), paths) ? undefined : "the mounts listed differ from Vault's";
    }
    case "create_pki_role":
    case "read_pki_role": {
      const res = await api(vault, "GET", `${mount}/roles/${encodePath(s.role_name)}`);
      const role = res.json?.data;
      if (!role) return `role ${s.role_name} does not exist in Vault`;
      if (!sameSet(s.allowed_domains, role.allowed_domains ?? [])) return `allowed_domains ${canonical(s.allowed_domains)} differ from Vault's ${canonical(role.allowed_domains)}`;
      if (s.key_type !== role.key_type) return `key_type ${s.key_type} differs from Vault's ${role.key_type}`;
      // Vault trims each domain and keeps one of each; the answer shows Vault's list, so that is what must match.
      const asked = Array.isArray(sent.allowed_domains) ? [...new Set((sent.allowed_domains as string[]).map((d) => d.trim()))] : undefined;
      if (tool === "create_pki_role" && asked && !sameSet(asked, [...new Set<string>(role.allowed_domains ?? [])])) {
        return `Vault's allowed_domains ${canonical(role.allowed_domains)} are not the ${canonical(sent.allowed_domains)} asked for`;
      }
      if (tool === "create_pki_role" && s.role_name !== normal(sent.role_name)) return `answered for role ${JSON.stringify(s.role_name)} when asked for ${JSON.stringify(sent.role_name)}`;
      return undefined;
    }
    case "delete_pki_role": {
      const res = await api(vault, "GET", `${mount}/roles/${encodePath(s.role_name)}`);
      return res.status === 404 ? undefined : `role ${s.role_name} still answers ${res.status}`;
    }
    case "list_pki_roles": {
      const res = await api(vault, "LIST", `${mount}/roles`);
      return sameSet(s.roles, res.json?.data?.keys ?? []) ? undefined : "the roles listed differ from Vault's";
    }
    case "list_pki_issuers": {
      const res = await api(vault, "LIST", `${mount}/issuers`);
      return sameSet(s.issuers.map((i: { issuer_id: string }) => i.issuer_id), res.json?.data?.keys ?? []) ? undefined : "the issuers listed differ from Vault's";
    }
    case "read_pki_issuer":
    case "create_pki_issuer": {
      const ids: string[] = s.issuer_id ? [s.issuer_id] : (s.imported_issuers ?? []);
      for (const id of ids) {
        const res = await api(vault, "GET", `${mount}/issuer/${encodePath(id)}`);
        if (!res.json?.data?.certificate) return `issuer ${id} does not exist in Vault`;
        if (s.certificate && res.json.data.certificate.trim() !== s.certificate.trim()) return `the certificate answered is not issuer ${id}'s`;
      }
      return undefined;
    }
    case "issue_pki_certificate": {
      const res = await api(vault, "GET", `${mount}/cert/${encodePath(s.serial)}`);
      const stored = res.json?.data?.certificate;
      if (!stored) return `Vault has no certificate ${s.serial}`;
      if (stored.trim() !== s.certificate.trim()) return `the certificate answered is not Vault's ${s.serial}`;
      return s.common_name === sent.common_name ? undefined : `a certificate for ${JSON.stringify(s.common_name)} when ${JSON.stringify(sent.common_name)} was asked for`;
    }
    case "sign_pki_csr":
    case "read_pki_certificate": {
      const res = await api(vault, "GET", `${mount}/cert/${encodePath(s.serial)}`);
      const stored = res.json?.data?.certificate;
      if (!stored) return `Vault has no certificate ${s.serial}`;
      if (stored.trim() !== s.certificate.trim()) return `the certificate answered is not Vault's ${s.serial}`;
      if (tool === "read_pki_certificate" && s.revoked !== Boolean(res.json.data.revocation_time)) return `revoked=${s.revoked}, but Vault's revocation_time is ${res.json.data.revocation_time}`;
      return undefined;
    }
    case "list_pki_certificates": {
      const res = await api(vault, "LIST", `${mount}/certs`);
      const serials = (res.json?.data?.keys ?? []).map((k: string) => k.toLowerCase().replace(/-/g, ":"));
      // Certificates issued by other calls meanwhile may be listed now: every serial answered must be Vault's.
      const missing = s.serials.filter((x: string) => !serials.includes(x));
      return missing.length === 0 ? undefined : `serials ${canonical(missing)} are not in Vault's list`;
    }
    case "revoke_pki_certificate": {
      const res = await api(vault, "GET", `${mount}/cert/${encodePath(s.serial)}`);
      const at = res.json?.data?.revocation_time;
      if (s.revoked !== Boolean(at)) return `revoked=${s.revoked}, but Vault's revocation_time is ${at}`;
      if (s.revoked && new Date(at * 1000).toISOString() !== new Date(s.revocation_time).toISOString()) return `revocation_time ${s.revocation_time} differs from Vault's ${at}`;
      return undefined;
    }
    case "tidy_pki": {
      const res = await api(vault, "GET", `${mount}/tidy-status`);
      const state = res.json?.data?.state;
      return state && state !== "Inactive" ? undefined : `tidy-status says ${JSON.stringify(state)} after a tidy was started`;
    }
    case "delete_pki_issuer": {
      const res = await api(vault, "GET", `${mount}/issuer/${encodePath(s.issuer_id)}`);
      return res.json?.data?.certificate ? `issuer ${s.issuer_id} still exists` : undefined;
    }
    case "set_default_pki_issuer": {
      const res = await api(vault, "GET", `${mount}/config/issuers`);
      return res.json?.data?.default === s.default_issuer ? undefined : `Vault's default issuer is ${res.json?.data?.default}, not ${s.default_issuer}`;
    }
    case "generate_secret": {
      const version = await kvVersion(vault, s.mount);
      const now = version && (await kvData(vault, s.mount, s.path, version));
      if (!now || !Object.hasOwn(now.data, s.key)) return `key ${JSON.stringify(s.key)} is not in the secret afterwards`;
      const value = now.data[s.key];
      if (typeof value !== "string" || value.length !== s.length) return `the stored value is not a string of ${s.length} characters`;
      const alphabet = CHARSETS[s.charset as keyof typeof CHARSETS]?.alphabet;
      if (!alphabet || [...value].some((c) => !alphabet.includes(c))) return `the stored value has characters outside the ${s.charset} charset`;
      if (version === 2 && s.version !== now.version) return `answered version ${s.version}, but Vault's latest is ${now.version}`;
      return undefined;
    }
    case "enable_transit": {
      if (s.path !== normal(Object.hasOwn(sent, "path") ? sent.path : DEFAULT_MOUNT[tool])) return `answered for path ${JSON.stringify(s.path)}`;
      const res = await api(vault, "GET", "sys/mounts");
      return res.json?.data?.[`${s.path}/`]?.type === "transit" ? undefined : `no transit mount at ${s.path}/ afterwards`;
    }
    case "create_transit_key":
    case "read_transit_key":
    case "update_transit_key_config":
    case "rotate_transit_key": {
      const key = (await api(vault, "GET", `${mount}/keys/${encodePath(s.name)}`)).json?.data;
      if (!key) return `key ${s.name} does not exist in Vault`;
      if (s.type !== undefined && s.type !== key.type) return `type ${s.type} differs from Vault's ${key.type}`;
      if (tool === "create_transit_key" && key.type !== (sent.type ?? "aes256-gcm96")) return `Vault's key is ${key.type}, not the ${String(sent.type)} asked for`;
      if (key.latest_version < s.latest_version) return `latest_version ${s.latest_version} is past Vault's ${key.latest_version}`;
      for (const k of ["min_decryption_version", "min_encryption_version", "deletion_allowed"]) {
        if (tool === "update_transit_key_config" && sent[k] !== undefined && key[k] !== sent[k]) return `${k} reads back as ${key[k]}, not ${String(sent[k])}`;
      }
      return undefined;
    }
    case "delete_transit_key": {
      const res = await api(vault, "GET", `${mount}/keys/${encodePath(s.name)}`);
      return res.status === 404 ? undefined : `key ${s.name} still answers ${res.status}`;
    }
    case "list_transit_keys": {
      const res = await api(vault, "LIST", `${mount}/keys`);
      return sameSet(s.keys, res.json?.data?.keys ?? []) ? undefined : "the keys listed differ from Vault's";
    }
    case "encrypt_data":
    case "decrypt_data":
    case "rewrap_data": {
      // Each answer is checked by Vault decrypting it (or the ciphertext sent) again: the plaintexts must agree.
      const b64 = (t: unknown) => Buffer.from(String(t ?? ""), "utf8").toString("base64");
      const ctx = (c: unknown) => (c === undefined ? {} : { context: b64(c) });
      const items: Record<string, unknown>[] = Array.isArray(sent.items) ? (sent.items as Record<string, unknown>[]) : [sent];
      const answers: Record<string, any>[] = s.results ?? [s];
      if (answers.length !== items.length) return `${answers.length} results for ${items.length} items`;
      for (const [i, item] of items.entries()) {
        const a = answers[i]!;
        if (a.error !== undefined) continue;
        const context = ctx(item.context ?? sent.context);
        const ciphertext = tool === "decrypt_data" ? item.ciphertext : a.ciphertext;
        const res = await api(vault, "POST", `${mount}/decrypt/${encodePath(s.name)}`, { ciphertext, ...context });
        const plain: string | undefined = res.json?.data?.plaintext;
        if (plain === undefined) return `Vault cannot decrypt ${String(ciphertext)} (${res.status})`;
        if (tool === "encrypt_data") {
          const want = sent.plaintext_is_base64 === true ? String(item.plaintext) : b64(item.plaintext);
          if (plain !== want) return `item ${i} decrypts to ${plain}, not the plaintext sent`;
        } else if (tool === "decrypt_data") {
          const got = a.encoding === "utf8" ? b64(a.plaintext) : a.plaintext;
          if (got !== plain) return `item ${i} answered a plaintext that is not Vault's`;
        } else {
          const before = await api(vault, "POST", `${mount}/decrypt/${encodePath(s.name)}`, { ciphertext: sent.ciphertext, ...context });
          if (before.json?.data?.plaintext !== plain) return "the rewrapped ciphertext decrypts to another plaintext";
          if (!String(a.ciphertext).startsWith(`vault:v${a.key_version}:`)) return `the ciphertext does not name version ${a.key_version}`;
        }
      }
      return undefined;
    }
    case "generate_hmac":
    case "sign_data":
    case "verify_hmac":
    case "verify_signature": {
      const input = sent.input_is_base64 === true ? sent.input : Buffer.from(String(sent.input), "utf8").toString("base64");
      const proof = tool === "generate_hmac" ? { hmac: s.hmac } : tool === "verify_hmac" ? { hmac: sent.hmac } : { signature: tool === "sign_data" ? s.signature : sent.signature };
      const extra = {
        ...(tool.endsWith("hmac") ? { algorithm: sent.algorithm ?? "sha2-256" } : { hash_algorithm: sent.hash_algorithm ?? "sha2-256" }),
        ...(sent.context !== undefined ? { context: Buffer.from(String(sent.context), "utf8").toString("base64") } : {}),
        ...(sent.signature_algorithm !== undefined ? { signature_algorithm: sent.signature_algorithm } : {}),
      };
      const res = await api(vault, "POST", `${mount}/verify/${encodePath(s.name)}`, { input, ...proof, ...extra });
      const valid = res.json?.data?.valid;
      if (typeof valid !== "boolean") return `Vault cannot verify it (${res.status})`;
      const expected = tool === "generate_hmac" || tool === "sign_data" ? true : s.valid;
      return valid === expected ? undefined : `Vault says valid=${valid}, the answer ${expected}`;
    }
    case "hash_data": {
      const input = sent.input_is_base64 === true ? sent.input : Buffer.from(String(sent.input), "utf8").toString("base64");
      const res = await api(vault, "POST", `${mount}/hash`, { input, algorithm: s.algorithm, format: s.format });
      return res.json?.data?.sum === s.sum ? undefined : `sum ${s.sum} differs from Vault's ${res.json?.data?.sum}`;
    }
    case "generate_random_bytes": {
      const n = s.format === "hex" ? s.random_bytes.length / 2 : Buffer.from(s.random_bytes, "base64").length;
      return n === s.bytes ? undefined : `${n} bytes answered when ${s.bytes} were asked for`;
    }
    case "list_policies": {
      const res = await api(vault, "LIST", "sys/policies/acl");
      return sameSet(s.policies, res.json?.data?.keys ?? []) ? undefined : "the policies listed differ from Vault's";
    }
    case "read_policy":
    case "write_policy": {
      const asked = typeof sent.name === "string" ? String(normal(sent.name)).toLowerCase() : undefined;
      if (s.name !== asked) return `answered for policy ${JSON.stringify(s.name)} when asked for ${JSON.stringify(sent.name)}`;
      const res = await api(vault, "GET", `sys/policies/acl/${encodePath(s.name)}`);
      const held = res.json?.data?.policy;
      if (typeof held !== "string") return `Vault has no policy ${s.name}`;
      if (held !== s.policy) return `the rules answered are not Vault's for ${s.name}`;
      return tool === "write_policy" && held.trim() !== String(sent.policy).trim() ? `Vault's ${s.name} does not hold the rules written` : undefined;
    }
    case "delete_policy": {
      const res = await api(vault, "GET", `sys/policies/acl/${encodePath(s.name)}`);
      return res.status === 404 ? undefined : `policy ${s.name} still answers ${res.status}`;
    }
    case "check_capabilities": {
      const paths = s.capabilities.map((c: { path: string }) => c.path);
      const res = await api(vault, "POST", "sys/capabilities-self", { paths });
      for (const c of s.capabilities) if (!sameSet(c.capabilities, res.json?.data?.[c.path] ?? [])) return `capabilities on ${c.path} ${canonical(c.capabilities)} differ from Vault's ${canonical(res.json?.data?.[c.path])}`;
      return undefined;
    }
    case "lookup_self": {
      // The fuzz server's token: made by the harness with the root policy and display name fuzz-server.
      if (s.display_name !== "token-fuzz-server" || !s.policies.includes("root")) return `a token "${s.display_name}" with ${canonical(s.policies)} is not the server's`;
      return "id" in s || "accessor" in s ? "the answer names the token or its accessor" : undefined;
    }
    case "read_entity_self": {
      if (!s.has_entity) return undefined;
      const res = await api(vault, "GET", `identity/entity/id/${encodePath(s.id)}`);
      return res.json?.data?.name === s.name ? undefined : `entity ${s.id} is not Vault's`;
    }
    case "list_auth_methods": {
      const res = await api(vault, "GET", "sys/auth");
      const paths = Object.keys(res.json?.data ?? {}).map((p) => p.replace(/\/$/, ""));
      return sameSet(s.auth_methods.map((m: { path: string }) => m.path), paths) ? undefined : "the auth methods listed differ from Vault's";
    }
    case "read_auth_method": {
      const res = await api(vault, "GET", "sys/auth");
      const entry = res.json?.data?.[`${s.path}/`];
      return entry?.type === s.type ? undefined : `Vault has no ${s.type} auth method at auth/${s.path}/`;
    }
    case "read_cluster_health": {
      const res = await api(vault, "GET", "sys/health");
      return res.json?.version === s.version && res.json?.sealed === s.sealed && res.json?.initialized === s.initialized ? undefined : "the health answered is not Vault's";
    }
    case "read_mount":
    case "tune_mount": {
      const m = tool === "tune_mount" ? s.mount : s;
      if (s.path !== normal(sent.path)) return `answered for mount ${JSON.stringify(s.path)} when asked for ${JSON.stringify(sent.path)}`;
      const res = await api(vault, "GET", "sys/mounts");
      const entry = res.json?.data?.[`${s.path}/`];
      if (!entry) return `no mount at ${s.path}/`;
      if (entry.type !== m.type || (entry.config?.max_lease_ttl ?? 0) !== m.max_lease_ttl) return `the mount answered is not Vault's ${s.path}/`;
      return tool === "tune_mount" && sent.description !== undefined && entry.description !== sent.description ? "the description written is not Vault's" : undefined;
    }
    case "list_audit_devices": {
      const res = await api(vault, "GET", "sys/audit");
      const paths = Object.keys(res.json?.data ?? {}).map((p) => p.replace(/\/$/, ""));
      return sameSet(s.audit_devices.map((d: { path: string }) => d.path), paths) ? undefined : "the audit devices listed differ from Vault's";
    }
    case "list_leases": {
      const res = await api(vault, "LIST", `sys/leases/lookup/${encodePath(s.prefix)}`);
      return sameSet(s.keys, res.json?.data?.keys ?? []) ? undefined : "the leases listed differ from Vault's";
    }
    case "read_lease": {
      const res = await api(vault, "PUT", "sys/leases/lookup", { lease_id: s.lease_id });
      return res.json?.data?.id === s.lease_id ? undefined : `Vault has no lease ${s.lease_id}`;
    }
    case "revoke_lease": {
      const res = await api(vault, "PUT", "sys/leases/lookup", { lease_id: s.lease_id });
      return res.status === 400 ? undefined : `lease ${s.lease_id} still answers ${res.status}`;
    }
    default:
      return `no check for ${tool}: add one to test/fuzz/oracle.ts`;
  }
}
