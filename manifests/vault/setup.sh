#!/usr/bin/env bash
# Sets up Vault for vault-mcp-server: its policies, then either a limited token stored in a
# Kubernetes Secret or a Kubernetes-auth role for its service account.
#
# Run it as a Vault operator (VAULT_ADDR and VAULT_TOKEN, or `vault login`, set for the vault CLI):
#
#   ./setup.sh policies                 write mcp-server-policy and read-only-policy
#   ./setup.sh token [POLICY]           print a new renewable orphan token (default mcp-server-policy)
#   ./setup.sh k8s-secret [POLICY]      create that token straight into the Secret the Deployment
#                                       mounts (kagent/vault-mcp-server-token, key `token`)
#   ./setup.sh kubernetes-auth          enable Kubernetes auth and bind role vault-mcp-server to the
#                                       service account kagent/vault-mcp-server
#
# Environment: VAULT_BIN (default: vault), KUBECTL (default: kubectl), NAMESPACE (default: kagent),
# TOKEN_TTL (default: 720h), K8S_AUTH_PATH (default: kubernetes), KUBERNETES_HOST (default: the
# in-cluster API address, right when Vault runs in the cluster). For a Vault outside the cluster,
# also KUBERNETES_CA_CERT (PEM file of the API server's CA) and TOKEN_REVIEWER_JWT_FILE (a file
# holding a token allowed to call TokenReview); both are passed to Vault as files, not arguments.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vault_bin="${VAULT_BIN:-vault}"
kubectl_bin="${KUBECTL:-kubectl}"
namespace="${NAMESPACE:-kagent}"
token_ttl="${TOKEN_TTL:-720h}"
auth_path="${K8S_AUTH_PATH:-kubernetes}"
service_account=vault-mcp-server
secret_name=vault-mcp-server-token

v() { "$vault_bin" "$@"; }
say() { printf '%s\n' "$*" >&2; }

policies() {
  v policy write mcp-server-policy "$here/mcp-server-policy.hcl" >&2
  v policy write read-only-policy "$here/read-only-policy.hcl" >&2
}

# A token that only this policy (plus `default`, for lookup-self and renew-self) backs. Orphan, so
# it outlives the operator's own token; renewable up to its max TTL, so the server can renew it.
new_token() {
  local policy="${1:-mcp-server-policy}"
  v token create \
    -policy="$policy" \
    -ttl="$token_ttl" \
    -renewable=true \
    -orphan \
    -display-name=vault-mcp-server \
    -metadata=app=vault-mcp-server \
    -field=token
}

# The token goes from Vault to the API server through a pipe: never an argument, a file or a log.
k8s_secret() {
  new_token "${1:-mcp-server-policy}" |
    "$kubectl_bin" create secret generic "$secret_name" \
      --namespace="$namespace" \
      --from-file=token=/dev/stdin \
      --dry-run=client -o yaml |
    "$kubectl_bin" apply -f - >&2
  say "Secret $namespace/$secret_name holds a new token. The kubelet updates the mounted file within a minute or so and the server re-reads it; no restart is needed. Revoke the old token once the pods use the new one."
}

kubernetes_auth() {
  # Captured first: `grep -q` in a pipe may stop reading early, and pipefail would count that as a failure.
  local enabled
  enabled="$(v auth list -format=json)"
  if ! grep -q "\"$auth_path/\"" <<<"$enabled"; then
    v auth enable -path="$auth_path" kubernetes >&2
  fi
  # Vault in the cluster reviews tokens with its own service account and reads the cluster's CA from
  # its pod; outside, it needs both given.
  local config=(kubernetes_host="${KUBERNETES_HOST:-https://kubernetes.default.svc:443}")
  if [[ -n "${KUBERNETES_CA_CERT:-}" ]]; then config+=(kubernetes_ca_cert="@$KUBERNETES_CA_CERT"); fi
  if [[ -n "${TOKEN_REVIEWER_JWT_FILE:-}" ]]; then config+=(token_reviewer_jwt="@$TOKEN_REVIEWER_JWT_FILE"); fi
  v write "auth/$auth_path/config" "${config[@]}" >&2
  v write "auth/$auth_path/role/$service_account" \
    bound_service_account_names="$service_account" \
    bound_service_account_namespaces="$namespace" \
    audience=vault \
    alias_name_source=serviceaccount_name \
    token_policies=mcp-server-policy \
    token_ttl=1h \
    token_max_ttl=4h >&2
}

case "${1:-}" in
  policies) policies ;;
  token) new_token "${2:-}" ;;
  k8s-secret) k8s_secret "${2:-}" ;;
  kubernetes-auth) kubernetes_auth ;;
  *)
    # The comment block at the top of this file is the usage text.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
    ;;
esac
