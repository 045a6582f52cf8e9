// Shared by the PKI tools: the PKI mount check, facts read from certificates with node:crypto, PEM and TTL helpers.
import { createPublicKey, randomBytes, X509Certificate } from "node:crypto";
import { Type } from "@sinclair/typebox";
import { MountNotFound } from "../vault/mount-info.ts";
import { safeMount, safeName, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";

// Not PKI's: they live in errors.ts; re-exported so that the engines' files importing them from here keep working.
export { failureWords, maybeApplied, refusal, vaultNotes, vaultWords } from "./errors.ts";
import type { ToolContext } from "./registry.ts";

export const MountArg = Type.String({ description: 'PKI mount, e.g. "pki" (the default)', default: "pki", minLength: 1, vault: "mount" });
/** The mount a list tool lists: the policy shows what in it the caller may touch. */
export const ListedMountArg = Type.String({ description: 'PKI mount, e.g. "pki" (the default)', default: "pki", minLength: 1, vault: "mount", vaultList: true });
export function keyTypeArg(options: { description: string; default?: string }) {
  return Type.Union([Type.Literal("rsa"), Type.Literal("ec"), Type.Literal("ed25519")], { ...options, vault: "none" });
}

/** Checks `raw` is a safe mount path with a PKI engine mounted exactly there. */
export async function pkiMount(ctx: ToolContext, raw: unknown, argument = "mount"): Promise<SafePath> {
  const mount = safeMount(raw, argument);
  let type: string;
  try {
    type = (await ctx.mounts.get(mount)).type;
  } catch (err) {
    if (!(err instanceof MountNotFound)) throw err;
    throw new ToolError(
      `No secrets engine is mounted at ${mount.display}/. Create a PKI engine there with enable_pki(path="${mount.display}"), ` +
        "or use list_mounts to find the PKI mount you meant.",
    );
  }
  if (type !== "pki") {
    throw new ToolError(
      `The mount ${mount.display}/ is a ${type} secrets engine, not PKI. Pass a PKI mount as ${argument} (list_mounts shows each mount's type), ` +
        "or create one with enable_pki.",
    );
  }
  return mount;
}

export interface CertificateFacts {
  common_name: string;
  /** Colon-separated lowercase hex, as Vault writes serials. */
  serial: string;
  not_before: string;
  not_after: string;
}

/** What a certificate says about itself, read from the PEM (the first certificate of a bundle), never from Vault's summary. */
export function certificateFacts(pem: string): CertificateFacts {
  const cert = parseCertificate(pem);
  // Vault made it, so the call succeeded; a certificate our parser refuses (a noncharacter in its name is an invalid
  // UTF8String) must not turn that success into an error. Its facts are then unknown, not made up.
  if (!cert) return { common_name: "", serial: "", not_before: "", not_after: "" };
  return {
    common_name: /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? "",
    serial: colonHex(cert.serialNumber),
    not_before: cert.validFromDate.toISOString(),
    not_after: cert.validToDate.toISOString(),
  };
}

/** The subject alternative names of a certificate, e.g. ["DNS:api.example.com", "IP Address:10.0.0.1"]. */
export function subjectAltNames(pem: string): string[] {
  const san = parseCertificate(pem)?.subjectAltName;
  return san ? san.split(/,\s*/).filter((s) => s !== "") : [];
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function colonHex(hex: string): string {
  let h = hex.toLowerCase();
  if (h.length % 2 === 1) h = `0${h}`;
  // DER adds a zero byte to keep a serial positive; Vault prints the number itself.
  while (h.length > 2 && h.startsWith("00")) h = h.slice(2);
  return (h.match(/../g) ?? []).join(":");
}

/** Every certificate block of a PEM text, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The public key of a PEM certificate signing request (PKCS #10), as SPKI DER, to recognise the certificate signed for it. */
export function csrPublicKey(pem: string): Buffer {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  // CertificationRequest ::= SEQUENCE { SEQUENCE { version INTEGER, subject Name, subjectPKInfo SEQUENCE, ... }, ... }
  const info = derItem(der, derItem(der, 0).content);
  const version = derItem(der, info.content);
  const subject = derItem(der, version.end);
  const spki = derItem(der, subject.end);
  // Re-encoded by node:crypto, so it compares byte for byte with X509Certificate.publicKey's export.
  return createPublicKey({ key: der.subarray(spki.start, spki.end), format: "der", type: "spki" }).export({ type: "spki", format: "der" });
}

/** One DER tag-length-value at `at`: where it starts, where its content starts, where it ends. */
function derItem(der: Buffer, at: number): { start: number; content: number; end: number } {
  let length = der[at + 1] ?? 0;
  let content = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[content++] ?? 0);
  }
  if (content + length > der.length) throw new Error("the CSR is cut short");
  return { start: at, content, end: content + length };
}

/** Seconds as Vault reports a TTL, written back the way people give one ("8760h", "90m", "45s"). */
export function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A key name no other key of the mount has, so a key whose answer was lost can be found among other callers' keys. */
export function uniqueKeyName(prefix: string): string {
  return `${prefix}-key-${randomBytes(4).toString("hex")}`;
}

/** Issuer names as Vault accepts them: word characters, "-" and ".", starting and ending with a word character. */
const ISSUER_NAME = /^\w([\w.-]*\w)?$/;

export function checkIssuerName(raw: unknown, argument = "issuer_name"): string {
  const name = safeName(raw, argument).display;
  if (!ISSUER_NAME.test(name) || name === "default") {
    throw new ToolError(
      `Invalid argument "${argument}": "${name}" is not a usable issuer name. Use letters, digits, "_", "-" and ".", ` +
        'starting and ending with a letter or digit, e.g. "root-2025"; "default" is reserved.',
    );
  }
  return name;
}
