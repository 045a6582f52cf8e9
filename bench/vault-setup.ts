// Prepares a dev Vault for the run with direct API calls: 100 KV v2 secrets, and a PKI mount with an EC root issuer and a role.
import type { Upstream } from "./servers.ts";

export const SECRETS = 100;
export const PKI_MOUNT = "pki";
export const PKI_ROLE = "svc";

async function call(vault: Upstream, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${vault.addr}/v1/${path}`, {
    method,
    headers: { "x-vault-token": vault.token, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

export async function prepareVault(vault: Upstream): Promise<void> {
  // Dev mode mounts KV v2 at secret/.
  for (let i = 0; i < SECRETS; i++) {
    const n = String(i).padStart(3, "0");
    await call(vault, "POST", `secret/data/bench/s${n}`, {
      data: { username: `app-${n}`, password: "correct-horse-battery-staple", url: `postgres://db-${n}.internal:5432/app` },
    });
  }
  await call(vault, "POST", `sys/mounts/${PKI_MOUNT}`, { type: "pki", config: { max_lease_ttl: "87600h" } });
  // EC P-256 throughout: issuing then measures the servers, not RSA key generation.
  await call(vault, "POST", `${PKI_MOUNT}/root/generate/internal`, { common_name: "Bench Root CA", key_type: "ec", key_bits: 256, ttl: "87600h", issuer_name: "bench-root" });
  await call(vault, "POST", `${PKI_MOUNT}/roles/${PKI_ROLE}`, {
    allowed_domains: ["bench.test"],
    allow_subdomains: true,
    key_type: "ec",
    key_bits: 256,
    ttl: "1h",
    max_ttl: "72h",
    // Issued certificates are not stored, so thousands of them do not grow Vault's storage during the run.
    no_store: true,
  });
}
