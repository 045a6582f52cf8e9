// Vault API paths reduced to templates for metric labels: only words of Vault's own API survive, so no mount, secret
// path, role or id can reach a label, and the number of distinct labels stays small.

/** Words that name Vault endpoints (sys/, auth/ and the engines' own path grammar). Anything else becomes ":arg". */
const API_WORDS = new Set([
  // sys/ and auth/
  "sys", "auth", "token", "mounts", "internal", "ui", "health", "capabilities-self", "wrapping", "wrap", "unwrap", "lookup",
  "lookup-self", "renew-self", "revoke-self", "create", "login", "policies", "acl", "policy", "audit", "leases", "seal-status", "seal",
  "unseal", "tune", "rotate", "key-status", "namespaces", "tools", "random", "hash", "generate",
  // KV
  "data", "metadata", "delete", "undelete", "destroy", "config", "subkeys",
  // PKI
  "issue", "sign", "sign-intermediate", "sign-verbatim", "sign-self-issued", "issuers", "issuer", "keys", "key", "roles", "role", "certs",
  "cert", "revoke", "revoke-with-key", "root", "intermediate", "exported", "internal", "kms", "existing", "import", "bundle", "set-signed",
  "urls", "crl", "ca", "ca_chain", "tidy", "tidy-status", "default", "der", "pem", "json",
  // transit
  "encrypt", "decrypt", "rewrap", "hmac", "verify", "export", "backup", "restore", "trim", "datakey", "plaintext", "wrapped",
]);

const ARG = ":arg";

// After these, everything is a secret's own path, whatever its words.
const KV_PREFIXES = new Set(["data", "metadata", "delete", "undelete", "destroy", "subkeys"]);

/** The template of `path` (below /v1/, no query): `secret/data/app/db` -> `:mount/data/:arg`, `sys/mounts/x` -> `sys/mounts/:arg`. */
export function pathTemplate(path: string): string {
  const segments = path.split("?")[0]!.split("/").filter((s) => s !== "");
  if (segments.length === 0) return "/";
  const out: string[] = [];
  let i = 0;
  if (segments[0] === "sys") {
    out.push("sys");
    i = 1;
  } else if (segments[0] === "auth") {
    // auth/<mount>/...: the token mount is one well-known name, every other mount is the operator's.
    out.push("auth", segments[1] === "token" ? "token" : ":mount");
    i = 2;
  } else {
    // An engine mount may have several segments ("team/kv"): it runs up to the first word of the engine's API.
    const op = segments.findIndex((s, n) => n > 0 && API_WORDS.has(s));
    out.push(":mount");
    if (op < 0) return `:mount/${ARG}`;
    const word = segments[op]!;
    if (KV_PREFIXES.has(word)) return op + 1 < segments.length ? `:mount/${word}/${ARG}` : `:mount/${word}`;
    i = op;
  }
  for (; i < segments.length; i++) {
    const s = segments[i]!;
    const word = API_WORDS.has(s) ? s : ARG;
    if (word === ARG && out[out.length - 1] === ARG) continue;
    out.push(word);
  }
  return out.join("/");
}
