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
