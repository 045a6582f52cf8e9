// What each tool needs from Vault's policies: the endpoints it calls, with the capability each takes, at the tools' default mounts.
import { allTools } from "../tools/index.ts";

export type Capability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo";

export interface Need {
  /** A concrete path to ask sys/capabilities-self about, e.g. "secret/data/doctor-probe". */
  path: string;
  capability: Capability;
  /** The policy path that grants it, e.g. "secret/data/*". */
  policyPath: string;
  /** What the tool does with it, in a few words. */
  why: string;
  /**
   * Only needed when sys/internal/ui/mounts/<mount> does not answer for this token: the tools then find the mount's
   * engine and KV version in sys/mounts (see vault/mount-info.ts).
   */
  detects?: string;
}

/** Where the tools' default mounts are and what they hold. */
export interface Layout {
  kvMount: string;
  kvVersion: 1 | 2;
  pkiMount: string;
  /** The transit tools' mount; "transit" (their schema default) when not given. */
  transitMount?: string;
}

/** A name no secret, role or issuer needs to have: capabilities-self answers for any path, existing or not. */
export const PROBE = "doctor-probe";

function need(path: string, capability: Capability, why: string, policyPath = path): Need {
  return { path, capability, policyPath, why };
}

function detect(mount: string): Need {
  return { ...need("sys/mounts", "read", `find what engine ${mount}/ is (sys/internal/ui/mounts/${mount} did not answer)`), detects: mount };
}

function kvNeeds(tool: string, l: Layout): Need[] {
  const k = l.kvMount;
  if (l.kvVersion === 1) {
    const secret = (c: Capability, why: string) => need(`${k}/${PROBE}`, c, why, `${k}/*`);
    switch (tool) {
      case "read_secret":
        return [detect(k), secret("read", "read a secret")];
      case "write_secret":
        return [detect(k), secret("read", "read the keys it replaces"), secret("create", "create a secret"), secret("update", "replace a secret")];
      case "generate_secret":
        return [detect(k), secret("read", "read the keys it keeps"), secret("create", "create a secret"), secret("update", "write the merged secret")];
      case "list_secrets":
        return [detect(k), need(`${k}/`, "list", "list the top level", `${k}/*`)];
      case "delete_secret":
        return [detect(k), secret("read", "check the secret exists"), secret("delete", "delete a secret")];
    }
    return [];
  }
  const data = (c: Capability, why: string) => need(`${k}/data/${PROBE}`, c, why, `${k}/data/*`);
  const meta = (c: Capability, why: string) => need(`${k}/metadata/${PROBE}`, c, why, `${k}/metadata/*`);
  switch (tool) {
    case "read_secret":
      return [detect(k), data("read", "read a secret")];
    case "write_secret":
      return [
        detect(k),
        data("patch", "merge keys into a secret"),
        data("create", "create a secret"),
        data("update", "replace a secret, or write with cas"),
        data("read", "read the version replace=true replaces"),
        meta("read", "read current_version before creating"),
      ];
    case "generate_secret":
      return [
        detect(k),
        data("patch", "merge the value into a secret"),
        data("create", "create a secret"),
        data("update", "write over a deleted latest version"),
        meta("read", "read current_version before creating"),
      ];
    case "list_secrets":
      return [detect(k), need(`${k}/metadata/`, "list", "list the top level", `${k}/metadata/*`)];
    case "delete_secret":
      return [
        detect(k),
        data("read", "read the latest version"),
        need(`${k}/delete/${PROBE}`, "update", "soft-delete that version", `${k}/delete/*`),
        meta("read", "check the delete took"),
        data("patch", "remove one key"),
      ];
  }
  return [];
}

/** KV v2's lifecycle tools (versions and metadata); on KV v1 they only find the mount's version and refuse, except read_secret_metadata's listing. */
function kvLifecycleNeeds(tool: string, l: Layout): Need[] {
  const k = l.kvMount;
  if (l.kvVersion === 1) return tool === "read_secret_metadata" ? [detect(k), need(`${k}/`, "list", "tell whether the secret exists", `${k}/*`)] : [detect(k)];
  const at = (endpoint: string, c: Capability, why: string) => need(`${k}/${endpoint}/${PROBE}`, c, why, `${k}/${endpoint}/*`);
  const readMeta = at("metadata", "read", "read the versions and settings");
  switch (tool) {
    case "read_secret_metadata":
      return [detect(k), readMeta];
    case "write_secret_metadata":
      return [detect(k), at("metadata", "create", "set a new secret's metadata"), at("metadata", "update", "change the metadata"), readMeta];
    case "patch_secret":
      return [detect(k), at("data", "patch", "merge-patch the latest version")];
    case "delete_secret_versions":
      return [detect(k), readMeta, at("delete", "update", "soft-delete versions")];
    case "undelete_secret_versions":
      return [detect(k), readMeta, at("undelete", "update", "recover versions")];
    case "destroy_secret_versions":
      return [detect(k), readMeta, at("destroy", "update", "destroy versions")];
    case "delete_secret_metadata":
      return [detect(k), readMeta, at("metadata", "delete", "delete the metadata and every version")];
    case "rollback_secret":
      return [detect(k), readMeta, at("data", "read", "read the earlier version"), at("data", "update", "write it as a new version (cas)")];
  }
  return [];
}

function pkiNeeds(tool: string, l: Layout): Need[] {
  const p = l.pkiMount;
  const at = (rest: string, c: Capability, why: string, policyRest = rest) => need(`${p}/${rest}`, c, why, `${p}/${policyRest}`);
  const defaultIssuer = at("config/issuers", "read", "tell which issuer is the default");
  switch (tool) {
    case "create_pki_issuer":
      return [
        detect(p),
        at("issuers/generate/root/internal", "update", 'generate a root (type="root")'),
        at("issuers/generate/intermediate/internal", "update", 'generate an intermediate\'s key (type="intermediate")'),
        at("intermediate/set-signed", "update", "import the signed intermediate"),
        at(`issuer/${PROBE}`, "patch", "name an intermediate", "issuer/*"),
        at("issuers/", "list", "refuse an issuer name in use", "issuers/*"),
        at("issuers/import/bundle", "update", 'import a PEM bundle (type="import")'),
        defaultIssuer,
      ];
    case "list_pki_issuers":
      return [detect(p), at("issuers/", "list", "list issuers", "issuers/*"), defaultIssuer];
    case "read_pki_issuer":
      return [detect(p), at(`issuer/${PROBE}`, "read", "read an issuer", "issuer/*"), defaultIssuer];
    case "create_pki_role":
      return [detect(p), at(`roles/${PROBE}`, "read", "tell a new role from a replaced one", "roles/*"), at(`roles/${PROBE}`, "update", "write a role", "roles/*")];
    case "list_pki_roles":
      return [detect(p), at("roles/", "list", "list roles", "roles/*")];
    case "read_pki_role":
      return [detect(p), at(`roles/${PROBE}`, "read", "read a role", "roles/*")];
    case "delete_pki_role":
      return [detect(p), at(`roles/${PROBE}`, "read", "check the role exists", "roles/*"), at(`roles/${PROBE}`, "delete", "delete a role", "roles/*")];
    case "issue_pki_certificate":
      return [detect(p), at(`issue/${PROBE}`, "update", "issue a certificate", "issue/*")];
    case "sign_pki_csr":
      return [detect(p), at(`sign/${PROBE}`, "update", "sign a CSR", "sign/*")];
    case "list_pki_certificates":
      return [detect(p), at("certs/", "list", "list certificates", "certs/*")];
    case "read_pki_certificate":
      return [detect(p), at(`cert/${PROBE}`, "read", "read a certificate", "cert/*")];
    case "revoke_pki_certificate":
      return [detect(p), at("revoke", "update", "revoke a certificate")];
    case "tidy_pki":
      return [detect(p), at("tidy", "update", "start a tidy"), at("tidy-status", "read", "read the tidy's state")];
    case "delete_pki_issuer":
      return [detect(p), at(`issuer/${PROBE}`, "read", "find the issuer", "issuer/*"), defaultIssuer, at(`issuer/${PROBE}`, "delete", "delete an issuer", "issuer/*")];
    case "set_default_pki_issuer":
      return [detect(p), at(`issuer/${PROBE}`, "read", "find the issuer", "issuer/*"), defaultIssuer, at("config/issuers", "update", "set the default issuer")];
  }
  return [];
}

function transitNeeds(tool: string, l: Layout): Need[] {
  const t = l.transitMount ?? "transit";
  const at = (rest: string, c: Capability, why: string, policyRest = rest) => need(`${t}/${rest}`, c, why, `${t}/${policyRest}`);
  const readKey = at(`keys/${PROBE}`, "read", "check the key exists", "keys/*");
  const op = (endpoint: string, why: string) => [detect(t), readKey, at(`${endpoint}/${PROBE}`, "update", why, `${endpoint}/*`)];
  switch (tool) {
    case "enable_transit":
      return [need(`sys/mounts/${t}`, "update", `mount transit at ${t}/`)];
    case "create_transit_key":
      return [detect(t), readKey, at(`keys/${PROBE}`, "create", "create a key", "keys/*"), at(`keys/${PROBE}`, "update", "create a key", "keys/*")];
    case "list_transit_keys":
      return [detect(t), at("keys/", "list", "list keys", "keys/*")];
    case "read_transit_key":
      return [detect(t), at(`keys/${PROBE}`, "read", "read a key", "keys/*")];
    case "rotate_transit_key":
      return [detect(t), readKey, at(`keys/${PROBE}/rotate`, "update", "rotate a key", "keys/*")];
    case "update_transit_key_config":
      return [detect(t), readKey, at(`keys/${PROBE}/config`, "update", "configure a key", "keys/*")];
    case "delete_transit_key":
      return [detect(t), readKey, at(`keys/${PROBE}`, "delete", "delete a key", "keys/*")];
    case "encrypt_data":
      return op("encrypt", "encrypt");
    case "decrypt_data":
      return op("decrypt", "decrypt");
    case "rewrap_data":
      return op("rewrap", "rewrap a ciphertext");
    case "generate_hmac":
      return op("hmac", "compute an HMAC");
    case "sign_data":
      return op("sign", "sign");
    case "verify_hmac":
    case "verify_signature":
      return op("verify", "verify");
    case "hash_data":
      return [detect(t), at("hash", "update", "hash data")];
    case "generate_random_bytes":
      return [detect(t), at("random", "update", "draw random bytes")];
  }
  return [];
}

const policyAt = (c: Capability, why: string) => need(`sys/policies/acl/${PROBE}`, c, why, "sys/policies/acl/*");
const lookupSelf = need("auth/token/lookup-self", "read", "look the token up");

/** The policy, identity and operations tools: Vault's own API, the same whatever the mounts. */
const POLICY_AND_SYS_NEEDS: Readonly<Record<string, (l: Layout) => Need[]>> = {
  list_policies: () => [need("sys/policies/acl", "list", "list the policies")],
  read_policy: () => [policyAt("read", "read a policy")],
  write_policy: () => [policyAt("read", "tell a new policy from a replaced one"), policyAt("create", "create a policy"), policyAt("update", "replace a policy")],
  delete_policy: () => [policyAt("read", "check the policy exists"), policyAt("delete", "delete a policy")],
  check_capabilities: () => [need("sys/capabilities-self", "update", "ask what the token may do")],
  lookup_self: () => [lookupSelf],
  read_entity_self: () => [lookupSelf, need(`identity/entity/id/${PROBE}`, "read", "read the token's entity", "identity/entity/id/*")],
  list_auth_methods: () => [need("sys/auth", "read", "list the auth methods")],
  read_auth_method: () => [need("sys/auth", "read", "find the auth method in the list")],
  // sys/health answers without a token; a policy line for it changes nothing but lets the doctor see it granted.
  read_cluster_health: () => [need("sys/health", "read", "read the node's health")],
  read_mount: () => [need("sys/mounts", "read", "find the mount")],
  tune_mount: () => [need("sys/mounts", "read", "check it is a mount"), need(`sys/mounts/${PROBE}/tune`, "update", "tune a mount", "sys/mounts/*")],
  list_audit_devices: () => [need("sys/audit", "read", "list the audit devices"), need("sys/audit", "sudo", "list the audit devices (root-protected)")],
  list_leases: () => [
    need(`sys/leases/lookup/${PROBE}`, "list", "list leases under a prefix", "sys/leases/lookup/*"),
    need(`sys/leases/lookup/${PROBE}`, "sudo", "list leases (root-protected)", "sys/leases/lookup/*"),
  ],
  read_lease: () => [need("sys/leases/lookup", "update", "look a lease up")],
  revoke_lease: () => [need("sys/leases/lookup", "update", "check the lease exists"), need("sys/leases/revoke", "update", "revoke a lease")],
};

/** Every tool's needs, by tool name. A tool missing here is reported by doctor as unknown, and fails test/doctor/needs.test.ts. */
export const TOOL_NEEDS: Readonly<Record<string, (l: Layout) => Need[]>> = {
  create_mount: () => [need(`sys/mounts/${PROBE}`, "update", "mount an engine", "sys/mounts/*")],
  list_mounts: () => [need("sys/mounts", "read", "list the mounts")],
  delete_mount: () => [
    need(`sys/mounts/${PROBE}`, "read", "check it is a mount", "sys/mounts/*"),
    need(`sys/mounts/${PROBE}`, "delete", "unmount it", "sys/mounts/*"),
  ],
  read_secret: (l) => kvNeeds("read_secret", l),
  write_secret: (l) => kvNeeds("write_secret", l),
  list_secrets: (l) => kvNeeds("list_secrets", l),
  delete_secret: (l) => kvNeeds("delete_secret", l),
  generate_secret: (l) => kvNeeds("generate_secret", l),
  read_secret_metadata: (l) => kvLifecycleNeeds("read_secret_metadata", l),
  write_secret_metadata: (l) => kvLifecycleNeeds("write_secret_metadata", l),
  patch_secret: (l) => kvLifecycleNeeds("patch_secret", l),
  delete_secret_versions: (l) => kvLifecycleNeeds("delete_secret_versions", l),
  undelete_secret_versions: (l) => kvLifecycleNeeds("undelete_secret_versions", l),
  destroy_secret_versions: (l) => kvLifecycleNeeds("destroy_secret_versions", l),
  delete_secret_metadata: (l) => kvLifecycleNeeds("delete_secret_metadata", l),
  rollback_secret: (l) => kvLifecycleNeeds("rollback_secret", l),
  enable_pki: (l) => [need(`sys/mounts/${l.pkiMount}`, "update", `mount PKI at ${l.pkiMount}/`)],
  create_pki_issuer: (l) => pkiNeeds("create_pki_issuer", l),
  list_pki_issuers: (l) => pkiNeeds("list_pki_issuers", l),
  read_pki_issuer: (l) => pkiNeeds("read_pki_issuer", l),
  create_pki_role: (l) => pkiNeeds("create_pki_role", l),
  list_pki_roles: (l) => pkiNeeds("list_pki_roles", l),
  read_pki_role: (l) => pkiNeeds("read_pki_role", l),
  delete_pki_role: (l) => pkiNeeds("delete_pki_role", l),
  issue_pki_certificate: (l) => pkiNeeds("issue_pki_certificate", l),
  enable_transit: (l) => transitNeeds("enable_transit", l),
  create_transit_key: (l) => transitNeeds("create_transit_key", l),
  list_transit_keys: (l) => transitNeeds("list_transit_keys", l),
  read_transit_key: (l) => transitNeeds("read_transit_key", l),
  rotate_transit_key: (l) => transitNeeds("rotate_transit_key", l),
  update_transit_key_config: (l) => transitNeeds("update_transit_key_config", l),
  delete_transit_key: (l) => transitNeeds("delete_transit_key", l),
  encrypt_data: (l) => transitNeeds("encrypt_data", l),
  decrypt_data: (l) => transitNeeds("decrypt_data", l),
  rewrap_data: (l) => transitNeeds("rewrap_data", l),
  generate_hmac: (l) => transitNeeds("generate_hmac", l),
  verify_hmac: (l) => transitNeeds("verify_hmac", l),
  sign_data: (l) => transitNeeds("sign_data", l),
  verify_signature: (l) => transitNeeds("verify_signature", l),
  hash_data: (l) => transitNeeds("hash_data", l),
  generate_random_bytes: (l) => transitNeeds("generate_random_bytes", l),
  sign_pki_csr: (l) => pkiNeeds("sign_pki_csr", l),
  list_pki_certificates: (l) => pkiNeeds("list_pki_certificates", l),
  read_pki_certificate: (l) => pkiNeeds("read_pki_certificate", l),
  revoke_pki_certificate: (l) => pkiNeeds("revoke_pki_certificate", l),
  tidy_pki: (l) => pkiNeeds("tidy_pki", l),
  delete_pki_issuer: (l) => pkiNeeds("delete_pki_issuer", l),
  set_default_pki_issuer: (l) => pkiNeeds("set_default_pki_issuer", l),
  ...POLICY_AND_SYS_NEEDS,
};

/** What the server itself needs besides the tools: /readyz looks the token up, and a renewable token renews itself. */
export function serverNeeds(renewable: boolean): Need[] {
  return [
    need("auth/token/lookup-self", "read", "check the token (/readyz)"),
    ...(renewable ? [need("auth/token/renew-self", "update", "renew the token before it expires")] : []),
  ];
}

/** The default of a tool's argument, read from its schema, so the doctor probes exactly the mounts the tools use by default. */
function schemaDefault(tool: string, argument: string): string {
  const def = allTools.find((t) => t.name === tool)?.input.properties[argument] as { default?: unknown } | undefined;
  if (typeof def?.default !== "string") throw new Error(`${tool} has no default for ${argument}`);
  return def.default;
}

export const DEFAULT_MOUNTS = { kv: schemaDefault("read_secret", "mount"), pki: schemaDefault("list_pki_roles", "mount") } as const;

export interface ToolVerdict {
  tool: string;
  /** Needs the token lacks; empty when the tool can do all it does. */
  missing: Need[];
  /** True when the table has no entry for the tool (nothing could be checked). */
  unknown?: boolean;
}

/**
 * The verdict for each tool, given what capabilities-self answered for each path and the mounts whose engine the token
 * could read directly (for those, the sys/mounts fallback is not needed). A path with "root" has every capability.
 */
export function judge(
  tools: readonly string[],
  layout: Layout,
  granted: Readonly<Record<string, readonly string[]>>,
  detected: ReadonlySet<string>,
): ToolVerdict[] {
  return tools.map((tool) => {
    const needsOf = TOOL_NEEDS[tool];
    if (!needsOf) return { tool, missing: [], unknown: true };
    return { tool, missing: lacking(needsOf(layout), granted, detected) };
  });
}

export function lacking(needs: readonly Need[], granted: Readonly<Record<string, readonly string[]>>, detected: ReadonlySet<string> = new Set()): Need[] {
  return needs.filter((n) => {
    if (n.detects !== undefined && detected.has(n.detects)) return false;
    const caps = granted[n.path] ?? [];
    return !(caps.includes("root") || (caps.includes(n.capability) && !caps.includes("deny")));
  });
}

/** Every path to ask capabilities-self about for these tools (and the server's own needs), once each. */
export function probePaths(tools: readonly string[], layout: Layout, extra: readonly Need[] = []): string[] {
  const paths = new Set<string>();
  for (const tool of tools) for (const n of TOOL_NEEDS[tool]?.(layout) ?? []) paths.add(n.path);
  for (const n of extra) paths.add(n.path);
  return [...paths];
}

const CAPABILITY_ORDER = ["create", "read", "update", "patch", "delete", "list", "sudo"] as const;

/**
 * HCL policy blocks that grant `missing`, one per policy path, capabilities in Vault's usual order. Vault applies only the
 * most specific path that matches a request, so a new "pki/roles/*" block would take away the read that "pki/*" gives
 * today: each block therefore also carries what `granted` shows the token has now on the paths it covers (`needs`).
 */
export function policyFor(missing: readonly Need[], granted: Readonly<Record<string, readonly string[]>> = {}, needs: readonly Need[] = missing): string {
  const byPath = new Map<string, Set<string>>();
  for (const n of missing) byPath.set(n.policyPath, (byPath.get(n.policyPath) ?? new Set()).add(n.capability));
  for (const n of needs) {
    const caps = byPath.get(n.policyPath);
    for (const c of granted[n.path] ?? []) if (caps && (CAPABILITY_ORDER as readonly string[]).includes(c)) caps.add(c);
  }
  // A line another one already grants (sys/mounts/pki under sys/mounts/*) is left out.
  const covered = (path: string, caps: Set<string>) =>
    [...byPath].some(([glob, more]) => glob !== path && glob.endsWith("*") && path.startsWith(glob.slice(0, -1)) && [...caps].every((c) => more.has(c)));
  return [...byPath]
    .filter(([path, caps]) => !covered(path, caps))
    .map(([path, caps]) => {
      const list = CAPABILITY_ORDER.filter((c) => caps.has(c)).map((c) => `"${c}"`);
      return `path "${path}" { capabilities = [${list.join(", ")}] }`;
    })
    .join("\n");
}
