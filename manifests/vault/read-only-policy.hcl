# read-only-policy: vault-mcp-server's read tools only (list_mounts, read_secret, list_secrets,
# read_secret_metadata, list_pki_issuers, read_pki_issuer, list_pki_roles, read_pki_role). With this policy every write
# tool is refused by Vault itself, whatever the agent or its approvals say. Write it with:
#   vault policy write read-only-policy read-only-policy.hcl

# list_mounts
path "sys/mounts" {
  capabilities = ["read"]
}

# KV version detection for read_secret and list_secrets.
path "sys/internal/ui/mounts/*" {
  capabilities = ["read"]
}

# read_secret (KV v2 at secret/)
path "secret/data/*" {
  capabilities = ["read"]
}

# list_secrets, read_secret_metadata
path "secret/metadata/*" {
  capabilities = ["read", "list"]
}

# PKI: list and read issuers, roles and certificates (list_pki_certificates, read_pki_certificate).
# Issuing, signing, revoking, tidying and changing issuers are updates or deletes, so they are refused.
path "pki/*" {
  capabilities = ["read", "list"]
}

# Transit: list and read keys (public parts only). Encrypting, decrypting, signing and the rest are
# updates, so they are refused.
path "transit/keys/*" {
  capabilities = ["read", "list"]
}

# /readyz and token renewal, as in mcp-server-policy.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Operations, policies and identity: read_mount (sys/mounts above), read_cluster_health,
# list_audit_devices, list_leases, read_lease (a lookup, sent as PUT), list_policies, read_policy,
# check_capabilities (a question, sent as POST), list_auth_methods, read_auth_method,
# read_entity_self, lookup_self. tune_mount, revoke_lease, write_policy and delete_policy are refused.
path "sys/health" {
  capabilities = ["read"]
}
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
path "sys/leases/lookup/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/lookup" {
  capabilities = ["update"]
}
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["read"]
}
path "sys/capabilities-self" {
  capabilities = ["update"]
}
path "sys/auth" {
  capabilities = ["read"]
}
path "identity/entity/id/*" {
  capabilities = ["read"]
}
