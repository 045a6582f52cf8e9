// PKI engine requests for certificates and issuers: paths, bodies and Vault's answers parsed, under the PKI tool files.
import type { VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";
import { apiPath, safeName, type SafePath } from "./paths.ts";

/** A serial as Vault writes it in answers: lowercase hex pairs joined by ":". */
export type Serial = string;

/** "17-67-AB", "17:67:ab" or "1767ab" as Vault's "17:67:ab"; undefined when it is no serial. */
export function normalSerial(raw: string): Serial | undefined {
  const s = raw.trim().toLowerCase().replace(/-/g, ":");
  if (/^[0-9a-f]{2}(:[0-9a-f]{2})*$/.test(s)) return s;
  if (/^[0-9a-f]+$/.test(s) && s.length % 2 === 0) return (s.match(/../g) ?? []).join(":");
  return undefined;
}

export interface StoredCertificate {
  certificate: string;
  /** Unix seconds; 0 when not revoked. */
  revocation_time: number;
  revocation_time_rfc3339?: string;
  issuer_id?: string;
}

/** GET <mount>/cert/<serial>: the certificate Vault stored, or null when it has none by that serial. */
export async function readCertificate(vault: VaultClient, mount: SafePath, serial: Serial): Promise<StoredCertificate | null> {
  let res;
  try {
    res = await vault.read<Partial<StoredCertificate>>(apiPath(mount, "cert", safeName(serial, "serial")));
  } catch (err) {
    // Some versions answer an unknown serial with 400 "certificate with serial ... not found" rather than 404.
    if (err instanceof VaultError && err.failure === "http" && err.status < 500 && err.errors.some((e) => /not found/i.test(e))) return null;
    throw err;
  }
  const d = res?.data;
  if (!d?.certificate) return null;
  return {
    certificate: d.certificate,
    revocation_time: d.revocation_time ?? 0,
    ...(d.revocation_time_rfc3339 ? { revocation_time_rfc3339: d.revocation_time_rfc3339 } : {}),
    ...(d.issuer_id ? { issuer_id: d.issuer_id } : {}),
  };
}

/** LIST <mount>/certs: the serials of every stored certificate (CA certificates included), as Vault writes serials. */
export async function listCertificates(vault: VaultClient, mount: SafePath): Promise<Serial[]> {
  const { keys } = await vault.list(apiPath(mount, "certs"));
  return keys.map((k) => k.toLowerCase().replace(/-/g, ":"));
}

export interface SignedCertificate {
  certificate?: string;
  issuing_ca?: string;
  ca_chain?: string[] | null;
  serial_number?: string;
}

/** POST <mount>/sign/<role>: Vault signs the CSR by the role's rules. Not resent: each call makes a new certificate. */
export async function signCsr(vault: VaultClient, mount: SafePath, role: SafePath, body: Record<string, unknown>) {
  return vault.write<SignedCertificate>(apiPath(mount, "sign", role), body);
}

/** POST <mount>/revoke. Safe to resend: revoking a revoked certificate answers its first revocation time. */
export async function revokeCertificate(vault: VaultClient, mount: SafePath, serial: Serial) {
  return vault.write<{ revocation_time?: number; revocation_time_rfc3339?: string; state?: string }>(apiPath(mount, "revoke"), { serial_number: serial }, { idempotent: true });
}

/** POST <mount>/tidy: Vault answers 202 and tidies in the background. */
export async function startTidy(vault: VaultClient, mount: SafePath, body: Record<string, unknown>) {
  return vault.write(apiPath(mount, "tidy"), body, { idempotent: true });
}

export interface TidyStatus {
  state?: string;
  error?: string | null;
  cert_store_deleted_count?: number;
  revoked_cert_deleted_count?: number;
  time_started?: string | null;
  time_finished?: string | null;
}

/** GET <mount>/tidy-status: the last or running tidy ("Inactive", "Running", "Finished", "Error", "Cancelled"). */
export async function tidyStatus(vault: VaultClient, mount: SafePath): Promise<TidyStatus> {
  return (await vault.read<TidyStatus>(apiPath(mount, "tidy-status")))?.data ?? {};
}

export interface IssuerRef {
  issuer_id: string;
  issuer_name: string;
  key_id: string;
}

/** GET <mount>/issuer/<ref>: the issuer a name, ID or "default" resolves to, or null when none does. */
export async function resolveIssuer(vault: VaultClient, mount: SafePath, ref: SafePath): Promise<IssuerRef | null> {
  let res;
  try {
    res = await vault.read<{ issuer_id?: string; issuer_name?: string; key_id?: string }>(apiPath(mount, "issuer", ref));
  } catch (err) {
    // Vault answers an unknown reference with 400, and "default" on a mount without issuers with 500.
    if (err instanceof VaultError && err.errors.some((e) => /unable to (find|resolve)|no default issuer/i.test(e))) return null;
    throw err;
  }
  const d = res?.data;
  return d?.issuer_id ? { issuer_id: d.issuer_id, issuer_name: d.issuer_name ?? "", key_id: d.key_id ?? "" } : null;
}

/** GET <mount>/config/issuers: the default issuer's ID, or undefined when the mount has none. */
export async function defaultIssuerId(vault: VaultClient, mount: SafePath): Promise<string | undefined> {
  return (await vault.read<{ default?: string }>(apiPath(mount, "config/issuers")))?.data?.default || undefined;
}

/** POST <mount>/config/issuers: makes `issuerId` the default; Vault answers the default it now has. */
export async function setDefaultIssuer(vault: VaultClient, mount: SafePath, issuerId: string) {
  return vault.write<{ default?: string }>(apiPath(mount, "config/issuers"), { default: issuerId }, { idempotent: true });
}

/** DELETE <mount>/issuer/<id>; by ID, so a resend cannot remove another issuer given the same name meanwhile. */
export async function deleteIssuer(vault: VaultClient, mount: SafePath, issuerId: string): Promise<string[]> {
  const res = await vault.request("DELETE", apiPath(mount, "issuer", safeName(issuerId, "issuer")), { idempotent: true });
  return res?.warnings ?? [];
}
