// The command line: each flag mirrors an environment variable (config.ts reads both), and the --help text that lists them.

// Where Kubernetes mounts a pod's service account token.
export const K8S_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** Flag name -> environment variable it mirrors. Tokens are deliberately not flags: argv is visible to every user. */
export const FLAGS: Record<string, string> = {
  "--vault-addr": "VAULT_ADDR",
  "--vault-namespace": "VAULT_NAMESPACE",
  "--vault-auth-method": "VAULT_AUTH_METHOD",
  "--vault-token-file": "VAULT_TOKEN_FILE",
  "--vault-k8s-role": "VAULT_K8S_ROLE",
  "--vault-k8s-token-path": "VAULT_K8S_TOKEN_PATH",
  "--vault-k8s-mount": "VAULT_K8S_MOUNT",
  "--vault-jwt-role": "VAULT_JWT_ROLE",
  "--vault-jwt-token-path": "VAULT_JWT_TOKEN_PATH",
  "--vault-jwt-mount": "VAULT_JWT_MOUNT",
  "--vault-approle-secret-id-file": "VAULT_APPROLE_SECRET_ID_FILE",
  "--vault-approle-mount": "VAULT_APPROLE_MOUNT",
  "--vault-cacert": "VAULT_CACERT",
  "--vault-client-cert": "VAULT_CLIENT_CERT",
  "--vault-client-key": "VAULT_CLIENT_KEY",
  "--vault-tls-server-name": "VAULT_TLS_SERVER_NAME",
  "--vault-skip-verify": "VAULT_SKIP_VERIFY",
  "--vault-timeout": "VAULT_CLIENT_TIMEOUT",
  "--host": "MCP_HOST",
  "--port": "MCP_PORT",
  "--max-body-bytes": "MCP_MAX_BODY_BYTES",
  "--allowed-origins": "MCP_ALLOWED_ORIGINS",
  "--tls-cert-file": "MCP_TLS_CERT_FILE",
  "--tls-key-file": "MCP_TLS_KEY_FILE",
  "--stateful": "MCP_STATEFUL",
  "--session-idle-timeout": "MCP_SESSION_IDLE_TIMEOUT",
  "--max-sessions": "MCP_MAX_SESSIONS",
  "--metrics-addr": "MCP_METRICS_ADDR",
  "--kv1-merge": "MCP_KV1_MERGE",
  "--toolsets": "MCP_TOOLSETS",
  "--tools": "MCP_TOOLS",
  "--auth": "MCP_AUTH",
  "--auth-tokens-file": "MCP_AUTH_TOKENS_FILE",
  "--oauth-issuer": "MCP_OAUTH_ISSUER",
  "--oauth-audience": "MCP_OAUTH_AUDIENCE",
  "--oauth-jwks-url": "MCP_OAUTH_JWKS_URL",
  "--oauth-resource": "MCP_OAUTH_RESOURCE",
  "--oauth-read-scope": "MCP_OAUTH_READ_SCOPE",
  "--oauth-write-scope": "MCP_OAUTH_WRITE_SCOPE",
  "--oauth-subjects": "MCP_OAUTH_SUBJECTS",
  "--oauth-ca-file": "MCP_OAUTH_CA_FILE",
  "--oauth-jwks-token-file": "MCP_OAUTH_JWKS_TOKEN_FILE",
  "--allowed-hosts": "MCP_ALLOWED_HOSTS",
  "--read-only": "MCP_READ_ONLY",
  "--tools-allow": "MCP_TOOLS_ALLOW",
  "--tools-deny": "MCP_TOOLS_DENY",
  "--allowed-paths": "MCP_ALLOWED_PATHS",
  "--denied-paths": "MCP_DENIED_PATHS",
  "--policy-file": "MCP_POLICY_FILE",
  "--rate-limit": "MCP_RATE_LIMIT",
  "--max-concurrent-calls": "MCP_MAX_CONCURRENT_CALLS",
  "--max-concurrent-calls-per-caller": "MCP_MAX_CONCURRENT_CALLS_PER_CALLER",
  "--secret-values": "MCP_SECRET_VALUES",
  "--wrap-ttl": "MCP_WRAP_TTL",
  "--mask-key-file": "MCP_MASK_KEY_FILE",
  "--vault-identity": "MCP_VAULT_IDENTITY",
  "--vault-identity-jwt-mount": "MCP_VAULT_JWT_MOUNT",
  "--vault-identity-jwt-role": "MCP_VAULT_JWT_ROLE",
  "--vault-identity-jwt-role-claim": "MCP_VAULT_JWT_ROLE_CLAIM",
  "--audit-log": "MCP_AUDIT_LOG",
  "--log-level": "LOG_LEVEL",
  "--heap-target-mb": "MCP_HEAP_TARGET_MB",
};

/** Flags that mean "true" when given alone. */
export const BOOLEAN_FLAGS = new Set(["--vault-skip-verify", "--stateful", "--read-only"]);

export const USAGE = `Usage: vault-mcp-server [serve|stdio] [flags]
       vault-mcp-server doctor [--json] [flags]

  serve (default)  MCP Streamable HTTP at POST /mcp (plus /healthz, /readyz)
  stdio            MCP over standard input/output, for desktop clients
  doctor           checks the configuration, Vault, the token, each tool's policy and the MCP port;
                   one ok/warn/fail line each (--json: as JSON); exit 0 unless a check fails

Flags (each mirrors an environment variable):
${Object.entries(FLAGS)
  .map(([f, e]) => `  ${f.padEnd(32)} ${e}`)
  .join("\n")}

Vault auth (VAULT_AUTH_METHOD):
  token (default)  VAULT_TOKEN, or VAULT_TOKEN_FILE (re-read when it changes); renewed while renewable
  kubernetes       VAULT_K8S_ROLE; VAULT_K8S_TOKEN_PATH (default ${K8S_TOKEN_PATH});
                   VAULT_K8S_MOUNT (default kubernetes)
  jwt              VAULT_JWT_ROLE; VAULT_JWT_TOKEN_PATH (default the Kubernetes one); VAULT_JWT_MOUNT (default jwt)
  approle          VAULT_APPROLE_ROLE_ID; VAULT_APPROLE_SECRET_ID or VAULT_APPROLE_SECRET_ID_FILE;
                   VAULT_APPROLE_MOUNT (default approle)
Logged-in tokens are renewed before they expire and replaced by a new login when they cannot be.
Tokens, role ids and secret ids are never flags: argv is visible to every user.

Who may call /mcp (MCP_AUTH; stdio trusts the process that started it):
  none (default)   anyone who can reach the port; a loud warning when not bound to loopback
  bearer           MCP_AUTH_TOKENS_FILE: lines "name:token" (re-read when it changes); Authorization: Bearer <token>
  oauth            JWT access tokens: MCP_OAUTH_ISSUER, MCP_OAUTH_AUDIENCE (both required); keys from
                   MCP_OAUTH_JWKS_URL or the issuer's discovery document; MCP_OAUTH_READ_SCOPE (vault:read) and
                   MCP_OAUTH_WRITE_SCOPE (vault:write), "none" for no scope; MCP_OAUTH_SUBJECTS (sub allow-list, "x*")
Off loopback, requests must name a host in MCP_ALLOWED_HOSTS (default: the Service's names, the pod's name and IP).
What a caller may touch: MCP_READ_ONLY, MCP_TOOLS_ALLOW/DENY, MCP_ALLOWED_PATHS/MCP_DENIED_PATHS ("secret/myapp/*"),
MCP_POLICY_FILE (YAML per caller); limits MCP_RATE_LIMIT ("20/s,burst=40"), MCP_MAX_CONCURRENT_CALLS(_PER_CALLER): 429.

Whose Vault token a tool call uses (MCP_VAULT_IDENTITY; HTTP only):
  server (default) the server's own
  request          the caller's X-Vault-Token header (a call without one is refused; never the server's)
  jwt              MCP_AUTH=oauth: the caller's JWT exchanged at auth/<MCP_VAULT_JWT_MOUNT>/login (default VAULT_JWT_MOUNT, jwt), as
                   MCP_VAULT_JWT_ROLE or the role its claim MCP_VAULT_JWT_ROLE_CLAIM names; cached per JWT
Audit log (MCP_AUDIT_LOG): stderr (default), a file (appended, reopened on SIGHUP), or off.
Memory (MCP_HEAP_TARGET_MB, default 8): collect garbage at once when the JS heap passes this many MiB; 0 leaves it to Bun.
Tools served: MCP_TOOLSETS, comma-separated from sys, kv, pki, transit, policy, identity, all, default (= sys,kv,pki, the
default); or MCP_TOOLS, exact tool names (docs/tools.md lists them). Not both. Tools not chosen are not served at all.`;
