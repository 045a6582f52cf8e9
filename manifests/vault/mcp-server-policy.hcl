# mcp-server-policy: what vault-mcp-server's tools need, read and write, for the KV v2 mount at
# secret/ and the PKI mount at pki/. Write it with:
#   vault policy write mcp-server-policy mcp-server-policy.hcl
#
# Each block names the tools that use it. The agent decides what to call, so this policy, not the
# agent, is the limit on what it can do: keep it to the mounts you mean it to touch. For another
# KV v2 mount (say team-a/), copy the two secret/ blocks with team-a/ in place of secret/; for a
# KV v1 mount, grant team-a/* the data capabilities plus list.

# list_mounts; also how a mount's type and KV version are found when the endpoint below refuses.
path "sys/mounts" {
  capabilities = ["read"]
}

# create_mount (POST), delete_mount (GET, then DELETE), enable_pki (POST, and /tune for its TTLs).
# No list: LIST is not an operation of sys/mounts/<path>. Vault itself refuses to unmount sys/,
# identity/, cubbyhole/ and auth methods; to protect a mount from delete_mount, add e.g.
#   path "sys/mounts/secret" { capabilities = ["read"] }
path "sys/mounts/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# KV version detection for every KV tool (a mount's type and options.version).
path "sys/internal/ui/mounts/*" {
  capabilities = ["read"]
}

# KV v2 data at secret/:
#   read_secret     GET
#   write_secret    POST with options.cas=0 to create, PATCH to merge keys into the latest version
#   delete_secret   PATCH to drop one key (check-and-set)
# No delete here: delete_secret soft-deletes exactly the version it read through secret/delete/ below.
path "secret/data/*" {
  capabilities = ["create", "read", "update", "patch"]
}

# delete_secret (whole secret): POST versions=[N], a soft delete of exactly the version it read (recoverable
# with undelete), never "whatever is latest by then"; delete_secret_versions: POST the versions given.
path "secret/delete/*" {
  capabilities = ["update"]
}

# undelete_secret_versions: POST versions=[...], recovering soft-deleted versions.
path "secret/undelete/*" {
  capabilities = ["update"]
}

# list_secrets (LIST, including the mount's top level secret/metadata/), and write_secret reads
# current_version so that creating never overwrites a concurrent writer; read_secret_metadata (GET),
# write_secret_metadata (POST), delete_secret_metadata (DELETE: every version and the metadata, for
# good). To keep an agent from that, grant only ["create", "read", "update", "list"] here.
path "secret/metadata/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# destroy_secret_versions: POST versions=[...], destroying their data for good. To keep an agent
# from that, set ["deny"] here.
path "secret/destroy/*" {
  capabilities = ["update"]
}

# The engine settings (e.g. the mount's delete_version_after) are never needed by the tools.
path "secret/config" {
  capabilities = ["deny"]
}

# PKI at pki/ (for an intermediate CA at another mount, e.g. pki_int/, copy this block and the
# denials below with that mount's name):
#   list_pki_issuers, read_pki_issuer    LIST pki/issuers, GET pki/issuer/<ref>, GET pki/config/issuers
#   list_pki_roles, read_pki_role        LIST pki/roles, GET pki/roles/<name>
#   create_pki_issuer                    POST pki/issuers/generate/root/internal, or for an
#                                        intermediate .../generate/intermediate/internal, then
#                                        POST <parent>/issuer/<ref>/sign-intermediate and
#                                        pki/intermediate/set-signed; POST pki/issuers/import/bundle;
#                                        PATCH pki/issuer/<id> to name it; on failure DELETE the new
#                                        key/issuer and POST <parent>/revoke
#   create_pki_role, delete_pki_role     POST, DELETE pki/roles/<name>
#   issue_pki_certificate                POST pki/issue/<role>
#   sign_pki_csr                         POST pki/sign/<role>
#   list_pki_certificates                LIST pki/certs
#   read_pki_certificate                 GET pki/cert/<serial>
#   revoke_pki_certificate               POST pki/revoke
#   tidy_pki                             POST pki/tidy, GET pki/tidy-status
#   delete_pki_issuer                    GET pki/issuer/<ref>, GET pki/config/issuers, DELETE pki/issuer/<id>
#   set_default_pki_issuer               GET pki/issuer/<ref>, GET and POST pki/config/issuers
path "pki/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}

# ...but never a CA's private key in a response, and never "delete every issuer and key".
path "pki/root/generate/exported" {
  capabilities = ["deny"]
}
path "pki/issuers/generate/root/exported" {
  capabilities = ["deny"]
}
path "pki/intermediate/generate/exported" {
  capabilities = ["deny"]
}
path "pki/issuers/generate/intermediate/exported" {
  capabilities = ["deny"]
}
path "pki/keys/generate/exported" {
  capabilities = ["deny"]
}
path "pki/root" {
  capabilities = ["deny"]
}

# Transit at transit/ (enable_transit mounts it through sys/mounts/* above):
#   create/list/read/rotate/update_transit_key_config/delete_transit_key   transit/keys/<name>[/rotate|/config]
#   encrypt_data, decrypt_data, rewrap_data, generate_hmac, sign_data,    POST transit/<op>/<name>
#   verify_hmac, verify_signature, hash_data, generate_random_bytes       (transit/verify, transit/hash, transit/random)
# The tools read a key before they use it, so encrypt never creates one by upsert.
path "transit/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# ...but never key material: no export, no backup (a backup holds every version's key), no restore.
path "transit/export/*" {
  capabilities = ["deny"]
}
path "transit/backup/*" {
  capabilities = ["deny"]
}
path "transit/restore*" {
  capabilities = ["deny"]
}

# MCP_SECRET_VALUES=wrap (the production overlay): values are handed over in single-use wrapping tokens.
# The `default` policy grants this too; repeated for a token created with -no-default-policy.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

# /readyz checks the token with lookup-self; a renewable token renews itself. The `default` policy
# grants these too; they are repeated so a token created with -no-default-policy still works.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Operations (the sys toolset):
#   read_mount              GET sys/mounts (above), the mount picked from the list
#   tune_mount              GET sys/mounts, POST sys/mounts/<path>/tune (sys/mounts/* above)
#   read_cluster_health     GET sys/health and sys/leader, which answer without a token; the line
#                           below changes nothing in Vault but lets `doctor` see the tool covered
#   list_audit_devices      GET sys/audit (root-protected: sudo). No update: audit devices are
#                           never enabled or disabled by the tools.
#   list_leases             LIST sys/leases/lookup/<prefix> (root-protected: sudo)
#   read_lease, revoke_lease  PUT sys/leases/lookup and sys/leases/revoke, the lease id in the body.
#                           revoke_lease ends any lease at once; to keep an agent from that, drop
#                           the sys/leases/revoke block.
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
path "sys/leases/revoke" {
  capabilities = ["update"]
}

# Policies (the policy toolset), read side only: list_policies (LIST), read_policy (GET),
# check_capabilities (the `default` policy grants it too). write_policy and delete_policy are not
# granted: a server that may write policies may grant itself anything. To let it, grant create,
# read, update and delete on sys/policies/acl/* below.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["read"]
}
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Identity (the identity toolset): list_auth_methods and read_auth_method (GET sys/auth; the
# method is picked from the list, so no sudo on sys/auth/<path>), lookup_self (lookup-self below),
# read_entity_self (GET identity/entity/id/<the token's own entity id>). Entity ids are not listable
# with this policy; to allow the token's own entity only, write the path as
#   identity/entity/id/{{identity.entity.id}}
path "sys/auth" {
  capabilities = ["read"]
}
path "identity/entity/id/*" {
  capabilities = ["read"]
}
