// fast-check arbitraries for the tool fuzz: hostile strings, plausible values per argument, and whole argument objects built from each tool's input schema.
import fc from "fast-check";
import type { TSchema } from "@sinclair/typebox";
import type { ToolDefinition } from "../../src/tools/registry.ts";

/** The objects the fuzz Vault is seeded with, so that generated calls also reach things that exist. */
export interface Fixtures {
  kv2: string;
  kv1: string;
  pki: string;
  pkiInt: string;
  /** Mount paths create_mount, enable_pki and delete_mount may play with. */
  scratch: readonly string[];
  secrets: readonly string[];
  role: string;
  rootName: string;
  rootId: string;
  rootPem: string;
  /** The transit mount ("transit", the tools' default) and its keys: an aes256-gcm96, an ed25519 and a derived key. */
  transit: string;
  transitKeys: readonly string[];
  /** Made at seed time with the first two keys, from the plaintext "hello". */
  transitSamples: { ciphertext: string; signature: string; hmac: string };
}

/** Pieces that have broken path handling somewhere: traversal, encodings, separators, controls, odd unicode, reserved names. */
export const HOSTILE_ATOMS: readonly string[] = [
  "..", ".", "../", "../..", "../../sys/policies/acl/x", "./", "/", "//", "///", "..x", "a..b", "...",
  "%2e%2e", "%2E%2E", "%2e", "%2F", "%2f", "%5C", "%00", "%25", "%zz", "%", "%%2F",
  "\\", "..\\", "\\..\\sys",
  "\u0000", "\n", "\r\n", "\t", "\u001b[31m", "\u007f", "\u0085", "\u009b",
  "?", "#", "?list=true", "#frag", "&", "=", ";", " ", "*", "+", "~", "'", '"', "<script>", "${x}", "{{x}}",
  "\uD800", "\uDFFF", "\uDBFF\uDFFF", "x\uD83D", "\uDE00x",
  "é", "e\u0301", "🔑", "\u202e", "\u200b", "\uFEFF", "\u00a0", "\u3000", "ｓｙｓ", "İ", "\u2215", "\u2024\u2024",
  "\uFFFE", "\uFDD0", "\u{10FFFF}", "\u{E0001}", "\u{F0000}",
  "sys", "auth", "identity", "cubbyhole", "token", "SYS", "Sys", "sys/", "/sys", "auth/token/create", "sys/mounts", "identity/entity",
  "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype", "__defineGetter__", "isPrototypeOf",
  "data", "metadata", "delete", "destroy", "undelete", "config", "issue", "sign", "roles", "issuers", "default", "root", "revoke",
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const oddUnit = fc.oneof(fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }), loneSurrogate, fc.constantFrom(...HOSTILE_ATOMS));

/** A string built to break path, name or key handling. */
export function hostileString(plausible: readonly string[] = []): fc.Arbitrary<string> {
  const fragment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_ATOMS) },
    { weight: plausible.length > 0 ? 3 : 0, arbitrary: plausible.length > 0 ? fc.constantFrom(...plausible) : fc.constant("") },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 6 }) },
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_ATOMS) },
    { weight: 5, arbitrary: fc.tuple(fc.array(fragment, { minLength: 1, maxLength: 5 }), fc.constantFrom("/", "", "/", "-")).map(([parts, sep]) => parts.join(sep)) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: oddUnit, minLength: 1, maxLength: 6 }) },
    // Lengths at and around the limits in paths.ts (255 per segment, 1024 per path), and far beyond them.
    { weight: 1, arbitrary: fc.constantFrom(255, 256, 1024, 1025, 20_000).map((n) => "a".repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom(300, 1100).map((n) => Array.from({ length: n / 2 }, () => "a").join("/")) },
  );
}

/** A plausible value with something hostile put in front, behind or in the middle. */
function mangled(plausible: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...plausible), fc.constantFrom(...HOSTILE_ATOMS), fc.constantFrom("prefix", "suffix", "segment-before", "segment-after", "middle"))
    .map(([value, atom, where]) => {
      switch (where) {
        case "prefix":
          return atom + value;
        case "suffix":
          return value + atom;
        case "segment-before":
          return `${atom}/${value}`;
        case "segment-after":
          return `${value}/${atom}`;
        default: {
          const at = Math.floor(value.length / 2);
          return value.slice(0, at) + atom + value.slice(at);
        }
      }
    });
}

/** A value of the wrong JSON type, or a JSON value in general. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, "", [], {}, [""], { "": "" }),
  fc.jsonValue({ maxDepth: 2 }),
);

/**
 * A string argument: mostly a known value, else one mangled or hostile; sometimes not a string at all.
 * Mostly known, so that about a third of all calls get every argument right and reach Vault's real objects.
 */
function stringArg(plausible: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...plausible) },
    { weight: 3, arbitrary: mangled(plausible) },
    { weight: 3, arbitrary: hostileString(plausible) },
    { weight: 1, arbitrary: wrongType },
  );
}

const KEYS = ["password", "password", "username", "username", "port", "api-key", "a.b", "toString", "__proto__", "constructor", "hasOwnProperty", "valueOf"];
const TTLS = ["1h", "24h", "720h", "8760h", "87600h", "90m", "3600", "0", "0s", "-1h", "1y", "abc", "99999999999h", "1h30m"];

const secretValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 2, arbitrary: hostileString(["s3cr3t"]) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()) },
);

function keyArg(): fc.Arbitrary<string> {
  return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KEYS) }, { weight: 2, arbitrary: hostileString(KEYS) });
}

const TRANSIT_TOOLS = new Set([
  "enable_transit", "create_transit_key", "list_transit_keys", "read_transit_key", "rotate_transit_key", "update_transit_key_config", "delete_transit_key",
  "encrypt_data", "decrypt_data", "rewrap_data", "generate_hmac", "verify_hmac", "sign_data", "verify_signature", "hash_data", "generate_random_bytes",
]);

/** The policy, identity and operations tools, whose arguments name Vault's own objects (policies, auth methods, leases). */
const VAULT_API_TOOLS = new Set(["read_policy", "write_policy", "delete_policy", "check_capabilities", "read_auth_method", "read_mount", "tune_mount", "list_leases", "read_lease", "revoke_lease"]);

/**
 * Plausible values of their arguments: a scratch policy the fuzz may write and delete (never default, whose replacement
 * would outlive the call), the fixtures' KV mounts to read and tune (not PKI, whose TTLs the PKI tools depend on), and
 * lease prefixes that exist in every Vault.
 */
function vaultApiArgument(tool: string, name: string, fx: Fixtures): fc.Arbitrary<unknown> | undefined {
  switch (name) {
    case "name":
      return stringArg(tool === "write_policy" ? ["fz-policy", "fz-policy", "Fz-Policy", "root", "fz/policy"] : ["fz-policy", "fz-policy", "default", "root", "ROOT", "fz-missing-policy"]);
    case "policy":
      return stringArg(['path "secret/data/fz/*" {\n  capabilities = ["read"]\n}\n', 'path "secret/data/fz/*" { capabilities = ["read", "list"] }', 'path "x" { capabilities = ["bogus"] }', "not hcl {", " "]);
    case "paths":
      return fc.oneof(
        { weight: 5, arbitrary: fc.array(stringArg(["secret/data/fz", "sys/mounts", `${fx.kv2}/data/app/db`, "auth/token/create", "sys/policies/acl/fz-policy"]), { minLength: 1, maxLength: 3 }) },
        { weight: 1, arbitrary: wrongType },
      );
    case "path":
      if (tool === "read_auth_method") return stringArg(["token", "token", "auth/token", "token/", "fz-missing", "auth/"]);
      return stringArg([fx.kv2, fx.kv2, fx.kv1, ...fx.scratch, "secret", "cubbyhole", `${fx.kv2}/app`, "fz-missing"]);
    case "prefix":
      return stringArg(["", "auth", "auth/token", "auth/token/create", "auth/token/create/", "fz-missing"]);
    case "lease_id":
      return stringArg(["auth/token/create/h0000", "auth/token/create/", "fz/missing/lease", "auth/token/create/h0000/../x"]);
    case "max_lease_ttl":
    case "default_lease_ttl":
      return stringArg(["768h", "8760h", "system", "1h", "forever", "-1h"]);
    default:
      return undefined;
  }
}

/** Plausible values of a transit tool's arguments: the seeded keys, and ciphertexts, signatures and HMACs they made. */
function transitArgument(name: string, fx: Fixtures): fc.Arbitrary<unknown> | undefined {
  const s = fx.transitSamples;
  const data = stringArg(["hello", "hello", "", "ünïcødé", "aGVsbG8=", "not base64!"]);
  switch (name) {
    case "mount":
      return stringArg([fx.transit, fx.transit, fx.transit, fx.kv2, "fz-missing", `${fx.transit}/keys`, `/${fx.transit}/`]);
    case "path":
      return stringArg([...fx.scratch, fx.transit, fx.kv2, "fz-missing"]);
    case "name":
      return stringArg([...fx.transitKeys, ...fx.transitKeys, "fz-new-key", "toString", "a/b"]);
    case "type":
      return stringArg(["aes256-gcm96", "ed25519", "ecdsa-p256", "hmac", "chacha20-poly1305", "des"]);
    case "plaintext":
    case "input":
      return data;
    case "context":
      return stringArg(["ctx", "ctx", "other"]);
    case "ciphertext":
      return stringArg([s.ciphertext, s.ciphertext, "vault:v1:AAAA", "vault:v99:abc", "not-a-ciphertext"]);
    case "signature":
      return stringArg([s.signature, s.signature, "vault:v1:AAAA", "vault:v1:"]);
    case "hmac":
      return stringArg([s.hmac, s.hmac, "vault:v1:AAAA"]);
    case "items":
      return fc.array(fc.oneof(fc.record({ plaintext: data }), fc.record({ ciphertext: stringArg([s.ciphertext, "vault:v1:AAAA"]) }), fc.record({ plaintext: data, context: stringArg(["ctx"]) })), { minLength: 0, maxLength: 3 });
    case "key_version":
    case "min_decryption_version":
    case "min_encryption_version":
      return fc.integer({ min: -1, max: 4 });
    case "bytes":
      return fc.constantFrom(-1, 0, 1, 32, 1024, 1025, 2 ** 31);
    case "auto_rotate_period":
      return stringArg(["720h", "0", "1m", "forever"]);
    default:
      return undefined;
  }
}

/** Plausible values of one argument of one tool; `undefined` leaves the argument to the generic schema walk. */
function argumentFor(tool: string, name: string, fx: Fixtures): fc.Arbitrary<unknown> | undefined {
  const transit = TRANSIT_TOOLS.has(tool) ? transitArgument(name, fx) : undefined;
  if (transit) return transit;
  const own = VAULT_API_TOOLS.has(tool) ? vaultApiArgument(tool, name, fx) : undefined;
  if (own) return own;
  // The fixtures are listed more than once, so that most calls reach a real object and get past "not found".
  const kvMounts = [fx.kv2, fx.kv2, fx.kv2, fx.kv1, "secret", "secret", fx.pki, "fz-missing", `${fx.kv2}/app`, `/${fx.kv2}/`, `${fx.kv2}/`, "cubbyhole"];
  const pkiMounts = [fx.pki, fx.pki, fx.pki, fx.pkiInt, fx.kv2, "fz-missing", `${fx.pki}/roles`, `/${fx.pki}`, `${fx.pki}/`];
  const mountPaths = [...fx.scratch, `${fx.scratch[0]}/nested`, fx.kv2, fx.kv1, fx.pkiInt, `${fx.kv2}/not/a/mount`, "fz-missing"];
  const issuers = ["default", fx.rootName, fx.rootId, "fz-missing-issuer", fx.rootId.toUpperCase()];
  const isKv = ["read_secret", "write_secret", "list_secrets", "delete_secret"].includes(tool);
  switch (name) {
    case "mount":
      return stringArg(isKv ? kvMounts : pkiMounts);
    case "parent_mount":
      return stringArg([fx.pki, fx.pki, fx.pkiInt, fx.kv2, "fz-missing"]);
    case "path":
      if (tool === "create_mount" || tool === "delete_mount" || tool === "enable_pki") return stringArg(mountPaths);
      return stringArg([...fx.secrets, ...fx.secrets, ...fx.secrets, "app", "app/new", "fz/one/two", "folder/", "a b", "ünïcødé", "toString", "__proto__", ""]);
    case "key":
      return fc.oneof({ weight: 6, arbitrary: keyArg() }, { weight: 1, arbitrary: wrongType });
    case "value":
      return fc.oneof({ weight: 6, arbitrary: secretValue }, { weight: 1, arbitrary: wrongType });
    case "data":
      return fc.oneof(
        { weight: 6, arbitrary: fc.dictionary(keyArg(), secretValue, { minKeys: 0, maxKeys: 4 }) },
        { weight: 1, arbitrary: wrongType },
      );
    case "version":
    case "cas":
      return fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -1, max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 53, 1.5, "1") });
    case "role_name":
      return stringArg([fx.role, fx.role, "fz-other-role", "toString", "web-server"]);
    case "issuer":
    case "issuer_ref":
    case "parent_issuer":
      return stringArg(issuers);
    case "issuer_name":
      return stringArg(["fz-issuer-a", "fz-issuer-b", fx.rootName, "default", "bad name", "-x-"]);
    case "common_name":
      return stringArg(["example.com", "www.example.com", "fz.example.com", "a.b.example.com", "localhost", "*.example.com", "evil.org", "Fuzz Root CA"]);
    case "allowed_domains":
      return fc.oneof(
        { weight: 5, arbitrary: fc.array(stringArg(["example.com", "*.example.com", "example.org", "localhost"]), { maxLength: 3 }) },
        { weight: 1, arbitrary: wrongType },
      );
    case "alt_names":
    case "ip_sans": {
      const items = name === "ip_sans" ? ["10.0.0.5", "::1", "127.0.0.1", "not-an-ip", "10.0.0.5,10.0.0.6"] : ["www.example.com", "api.example.com", "evil.org", "a.example.com,b.example.com"];
      return fc.oneof(
        { weight: 3, arbitrary: fc.array(stringArg(items), { maxLength: 3 }) },
        { weight: 2, arbitrary: stringArg(items) },
        { weight: 1, arbitrary: wrongType },
      );
    }
    case "ttl":
    case "max_ttl":
    case "default_lease_ttl":
    case "max_lease_ttl":
      return stringArg(TTLS);
    case "key_type":
      // ec first: every RSA key Vault generates costs it a few hundred milliseconds of a shared core.
      return stringArg(["ec", "ec", "ed25519", "rsa", "dsa", "RSA"]);
    case "key_bits":
      return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0, 224, 256, 384, 521, 1024, 2048, -1, 7) }, { weight: 1, arbitrary: wrongType });
    case "pem_bundle":
      return stringArg([fx.rootPem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a pem", `${fx.rootPem}\ngarbage`, "/etc/ssl/cert.pem"]);
    case "type":
      if (tool === "create_pki_issuer") return stringArg(["root", "intermediate", "import", "Root", "ca"]);
      return stringArg(["kv-v2", "kv2", "kv-v1", "kv1", "kv", "pki", "transit", "KV-V2", " kv ", "generic", "cubbyhole", "system", "token", "../kv"]);
    case "options":
      return fc.oneof(
        { weight: 4, arbitrary: fc.dictionary(fc.constantFrom("version", "max_versions", "__proto__", "toString"), fc.constantFrom("1", "2", "3", "", "x")) },
        { weight: 1, arbitrary: wrongType },
      );
    case "description":
      return stringArg(["fuzz", "", "a description"]);
    case "delete_version_after":
      // No short durations: a version deleted by age mid-run would make other tools' checks race the clock.
      return stringArg(["720h", "0s", "87600h", "soon", "-1h"]);
    default:
      return undefined;
  }
}

/** A generic value for a schema fragment, for arguments the plausible table does not know. */
function fromSchema(schema: TSchema): fc.Arbitrary<unknown> {
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as TSchema[]).map(fromSchema));
  if (s.const !== undefined) return fc.oneof({ weight: 4, arbitrary: fc.constant(s.const) }, { weight: 1, arbitrary: hostileString([String(s.const)]) });
  switch (s.type) {
    case "string":
      return fc.oneof({ weight: 2, arbitrary: fc.string({ maxLength: 10 }) }, { weight: 1, arbitrary: hostileString() });
    case "integer":
      return fc.integer({ min: -2, max: 10 });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(fromSchema((s.items as TSchema) ?? {}), { maxLength: 3 });
    default:
      return wrongType;
  }
}

const OMIT = Symbol("omit");

/** Nested past the registry's depth limit, wide past its list of unknown names: each has crashed a JSON-RPC server before. */
function nested(depth: number): unknown {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}
const ODD_OBJECTS: readonly unknown[] = [
  { mount: nested(70), path: "app/db" },
  { data: nested(200) },
  nested(2000),
  Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`unknown_${i}`, i])),
];

/**
 * Argument sets that make sense together, per tool ("name=value" fixes a value): without them, calls whose arguments
 * must agree (key with value, type="root" with common_name) almost never reach Vault. Values still come from the
 * same plausible-or-hostile arbitraries, so one hostile value meets an otherwise valid call.
 */
const SHAPES: Record<string, string[][]> = {
  write_secret: [["mount", "path", "key", "value"], ["mount", "path", "data"], ["mount", "path", "key", "value", "cas"], ["path", "data"]],
  read_secret: [["mount", "path"], ["mount", "path", "key"], ["mount", "path", "version"]],
  delete_secret: [["mount", "path"], ["mount", "path", "key"]],
  list_secrets: [["mount", "path"], ["mount"]],
  create_mount: [["path", "type"], ["path", "type", "options"], ["path", "type", "description", "default_lease_ttl", "max_lease_ttl"]],
  enable_pki: [["path"], ["path", "max_ttl", "description"]],
  create_pki_issuer: [
    ["mount", "type=root", "common_name", "key_type"],
    ["mount", "type=root", "common_name", "key_type", "issuer_name", "ttl"],
    ["mount", "type=intermediate", "common_name", "parent_mount", "key_type"],
    ["mount", "type=intermediate", "common_name", "parent_mount", "parent_issuer", "issuer_name", "key_type", "ttl"],
    ["mount", "type=import", "pem_bundle"],
  ],
  create_pki_role: [["mount", "role_name", "allowed_domains", "allow_subdomains", "key_type"], ["mount", "role_name", "allowed_domains", "allow_bare_domains", "allow_ip_sans", "max_ttl", "ttl", "key_type", "issuer_ref"]],
  issue_pki_certificate: [["mount", "role_name", "common_name"], ["mount", "role_name", "common_name", "alt_names", "ip_sans", "ttl"]],
  read_pki_role: [["mount", "role_name"]],
  delete_pki_role: [["mount", "role_name"]],
  read_pki_issuer: [["mount", "issuer"]],
  patch_secret: [["mount", "path", "data"], ["path", "data", "cas"]],
  delete_secret_versions: [["path", "versions"]],
  undelete_secret_versions: [["path", "versions"]],
  destroy_secret_versions: [["path", "versions"]],
  rollback_secret: [["path", "version"]],
  write_secret_metadata: [["path", "max_versions"], ["path", "custom_metadata", "delete_version_after"]],
};

/** One call's arguments for `def`: a coherent set, or each argument present or not, plus now and then an unknown one or no object at all. */
export function argumentsFor(def: ToolDefinition, fx: Fixtures): fc.Arbitrary<unknown> {
  const properties = def.input.properties as Record<string, TSchema>;
  const required = new Set((def.input.required as string[] | undefined) ?? []);
  const values: Record<string, fc.Arbitrary<unknown>> = {};
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, schema] of Object.entries(properties)) {
    const value = argumentFor(def.name, name, fx) ?? fromSchema(schema);
    values[name] = value;
    // A required argument with a schema default is left out often: the default is what most models will rely on.
    const hasDefault = (schema as { default?: unknown }).default !== undefined;
    const omit = required.has(name) && !hasDefault ? 1 : 8;
    fields[name] = fc.oneof({ weight: omit, arbitrary: fc.constant(OMIT) }, { weight: 8, arbitrary: value });
  }
  const named = fc.record(fields).map((record) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) if (v !== OMIT) out[k] = v;
    return out;
  });
  const shapes = (SHAPES[def.name] ?? []).map((shape) =>
    fc.record(
      Object.fromEntries(
        shape.map((entry) => {
          const [name, fixed] = entry.split("=") as [string, string | undefined];
          return [name, fixed !== undefined ? fc.constant(fixed) : (values[name] as fc.Arbitrary<unknown>)];
        }),
      ),
    ),
  );
  const unknown = fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.dictionary(hostileString(["extra", "mount_path", "__proto__"]), wrongType, { minKeys: 1, maxKeys: 2 }) },
  );
  const withExtras = fc.tuple(named, unknown).map(([args, extra]) => (extra ? { ...args, ...JSON.parse(JSON.stringify(extra)) } : args));
  return fc.oneof(
    { weight: 10, arbitrary: withExtras },
    { weight: shapes.length > 0 ? 10 : 0, arbitrary: shapes.length > 0 ? fc.oneof(...shapes) : fc.constant({}) },
    { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.constant([]), fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(...ODD_OBJECTS)) },
  );
}

export interface Case {
  tool: string;
  args: unknown;
}

/** A call to any tool, with arguments for it; fast-check shrinks within the tool it picked. */
export function anyCall(defs: readonly ToolDefinition[], fx: Fixtures): fc.Arbitrary<Case> {
  return fc.oneof(...defs.map((def) => argumentsFor(def, fx).map((args): Case => ({ tool: def.name, args }))));
}
