// PKI certificate lifecycle: sign_pki_csr, list_pki_certificates, read_pki_certificate, revoke_pki_certificate, tidy_pki.
import { X509Certificate } from "node:crypto";
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { safeName, type SafePath } from "../vault/paths.ts";
import { listCertificates, normalSerial, readCertificate, revokeCertificate, type Serial, signCsr, startTidy, tidyStatus } from "../vault/pki.ts";
import { ToolError } from "./errors.ts";
import { commaSeparated } from "./listed-schema.ts";
import { certificateFacts, csrPublicKey, ListedMountArg, maybeApplied, MountArg, pkiMount, refusal, subjectAltNames, vaultNotes, vaultWords } from "./pki-common.ts";
import { defineTool } from "./registry.ts";

const SerialArg = Type.String({
  description: 'Certificate serial as Vault writes it, e.g. "17:67:16:b0:..." (list_pki_certificates lists them; "-" separators are accepted too)',
  minLength: 1,
  vault: "name",
});

function serialArg(raw: string): Serial {
  const serial = normalSerial(raw);
  if (!serial) {
    throw new ToolError(`Invalid argument "serial": "${raw}" is not a certificate serial. Pass hex pairs such as "17:67:16:b0:b9", as list_pki_certificates lists them.`);
  }
  safeName(serial, "serial");
  return serial;
}

/** When a Unix time from Vault is a time at all (0 means "not revoked"). */
function isoTime(seconds: number | undefined, rfc3339?: string): string | undefined {
  if (seconds) return new Date(seconds * 1000).toISOString();
  return rfc3339 && !Number.isNaN(Date.parse(rfc3339)) ? new Date(rfc3339).toISOString() : undefined;
}

const CertificateView = {
  mount: Type.String(),
  serial: Type.String({ description: "Read from the certificate" }),
  common_name: Type.String(),
  subject_alt_names: Type.Array(Type.String(), { description: 'As read from the certificate, e.g. "DNS:api.example.com"' }),
  not_before: Type.String({ description: "ISO 8601, read from the certificate" }),
  not_after: Type.String({ description: "ISO 8601, read from the certificate" }),
  certificate: Type.String({ description: "PEM" }),
};

// Advertised as a list; "a, b" is accepted as well (coerced by the registry), as issue_pki_certificate's alt_names.
const AltNamesArg = Type.Optional(
  commaSeparated(Type.Array(Type.String({ minLength: 1 }), { description: 'More DNS names, e.g. ["www.example.com"]; the role decides whether the CSR\'s own SANs win', vault: "none" })),
);

function csrKey(csr: string): Buffer {
  if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(csr)) {
    throw new ToolError('Invalid argument "csr": it holds no PEM certificate signing request. Pass the PEM text itself ("-----BEGIN CERTIFICATE REQUEST-----..."), not a file name or a key.');
  }
  try {
    return csrPublicKey(csr);
  } catch (err) {
    throw new ToolError(`Invalid argument "csr": the request could not be read (${err instanceof Error ? err.message : String(err)}). Pass a PEM PKCS #10 request, e.g. made with openssl req -new.`);
  }
}

function signRefusal(why: string, mount: SafePath, role: SafePath): ToolError {
  const inspect = `Inspect the role with read_pki_role(mount="${mount.display}", role_name="${role.display}")`;
  if (/unknown role|role .* not found/i.test(why)) {
    return new ToolError(`No role "${role.display}" exists in ${mount.display}/ (Vault: ${why}). Use list_pki_roles(mount="${mount.display}") to see its roles. Nothing was signed.`);
  }
  if (/not allowed by this role/i.test(why)) {
    return new ToolError(
      `Vault refused: ${why}. Role "${role.display}" decides which names it signs (allowed_domains, allow_subdomains, allow_bare_domains, allow_glob_domains, allow_any_name); ` +
        `by default it takes the common name and SANs from the CSR itself. ${inspect}. Nothing was signed.`,
    );
  }
  if (/requires keys of type|key (size|bits)/i.test(why)) {
    return new ToolError(
      `Vault refused: ${why}. The CSR's key must be of the role's key_type and size; make the CSR with such a key, or recreate the role ` +
        `with create_pki_role(..., key_type="ec") for an EC key. ${inspect}. Nothing was signed.`,
    );
  }
  return new ToolError(`Vault refused to sign the CSR: ${why}. ${inspect}, and check the csr, common_name and ttl. Nothing was signed.`);
}

export const signPkiCsr = defineTool({
  name: "sign_pki_csr",
  toolset: "pki",
  title: "Sign a certificate signing request",
  description:
    "Signs a PEM certificate signing request (CSR) with a PKI role: the safest way to get a certificate, since the private key never leaves its owner " +
    "(neither Vault nor this server ever sees it). Answers the certificate, serial, validity and SANs read from the certificate, and the CA chain. " +
    "The role's rules apply; by default Vault takes the common name and SANs from the CSR (the role's use_csr_common_name and use_csr_sans).",
  input: Type.Object({
    mount: MountArg,
    role_name: Type.String({ description: 'The role whose rules apply, e.g. "web-server"', minLength: 1, vault: "name" }),
    csr: Type.String({ description: 'PEM text of the request, "-----BEGIN CERTIFICATE REQUEST-----..." (public; holds no private key)', minLength: 1, vault: "none" }),
    common_name: Type.Optional(Type.String({ description: "The certificate's name when the role does not take the CSR's (use_csr_common_name=false)", minLength: 1, vault: "none" })),
    alt_names: AltNamesArg,
    ttl: Type.Optional(Type.String({ description: 'Lifetime, e.g. "720h"; capped by the role\'s max_ttl; default: the role\'s ttl', minLength: 1 })),
  }),
  output: Type.Object({
    ...CertificateView,
    role_name: Type.String(),
    issuing_ca: Type.String({ description: "PEM of the issuer that signed it" }),
    ca_chain: Type.Array(Type.String(), { description: "PEM certificates from the issuer up to the root" }),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const role = safeName(args.role_name, "role_name");
    const key = csrKey(args.csr);
    const mount = await pkiMount(ctx, args.mount);
    const altNames = (args.alt_names ?? []).map((s) => s.trim()).filter((s) => s !== "");
    const body = {
      csr: args.csr,
      ...(args.common_name ? { common_name: args.common_name } : {}),
      ...(altNames.length > 0 ? { alt_names: altNames.join(",") } : {}),
      ...(args.ttl ? { ttl: args.ttl } : {}),
    };
    let res;
    try {
      res = await signCsr(ctx.vault, mount, role, body);
    } catch (err) {
      const why = refusal(err);
      if (why) throw signRefusal(why, mount, role);
      if (err instanceof VaultError && maybeApplied(err)) {
        throw new ToolError(
          `${err.failure === "http" ? `Vault failed with ${err.status}: ${vaultWords(err)}` : err.message}.\nVault may or may not have signed the CSR. ` +
            "No key was at risk (it never left its owner), so signing again is safe; list_pki_certificates shows what Vault stored, and a certificate " +
            "nobody received can be revoked with revoke_pki_certificate.",
        );
      }
      throw err;
    }
    const d = res.data;
    if (!d?.certificate) throw new Error(`Vault answered ${mount.display}/sign/${role.display} without a certificate`);
    const facts = certificateFacts(d.certificate);
    const sans = subjectAltNames(d.certificate);
    let forCsr = true;
    try {
      forCsr = new X509Certificate(d.certificate).publicKey.export({ type: "spki", format: "der" }).equals(key);
    } catch {
      // A certificate node:crypto cannot parse: its facts are blank above, and the key cannot be compared either.
    }
    const notes: string[] = [];
    if (args.common_name && facts.common_name && facts.common_name !== args.common_name) {
      notes.push(`The certificate names CN=${facts.common_name}, not the common_name asked for: role "${role.display}" takes the CSR's (use_csr_common_name).`);
    }
    const missing = altNames.filter((n) => !sans.includes(`DNS:${n}`));
    if (missing.length > 0) notes.push(`Not in the certificate: ${missing.join(", ")} (role "${role.display}" takes the CSR's SANs, use_csr_sans).`);
    if (!forCsr) notes.push("Warning: the certificate's public key is not the CSR's.");
    const chain = d.ca_chain && d.ca_chain.length > 0 ? d.ca_chain : d.issuing_ca ? [d.issuing_ca] : [];
    return {
      text:
        `Signed the CSR for ${facts.common_name || "(no common name)"} with role "${role.display}" of ${mount.display}/.\n` +
        `Serial: ${facts.serial}\nValid from ${facts.not_before} to ${facts.not_after}\nSubject alternative names: ${sans.join(", ") || "(none)"}\n` +
        `${notes.length > 0 ? `${notes.join("\n")}\n` : ""}The private key stayed with the CSR's owner. Certificate:\n${d.certificate.trim()}` +
        `${vaultNotes(res.warnings)}\nrevoke_pki_certificate(mount="${mount.display}", serial="${facts.serial}") revokes it if it is ever compromised.`,
      structured: { mount: mount.display, role_name: role.display, ...facts, subject_alt_names: sans, certificate: d.certificate, issuing_ca: d.issuing_ca ?? "", ca_chain: chain },
    };
  },
});

export const listPkiCertificates = defineTool({
  name: "list_pki_certificates",
  toolset: "pki",
  title: "List PKI certificates",
  description: "Lists the serials of the certificates a PKI mount has stored (issued, signed and CA certificates; not those issued with no_store). read_pki_certificate shows one.",
  input: Type.Object({ mount: ListedMountArg }),
  output: Type.Object({ mount: Type.String(), serials: Type.Array(Type.String({ vault: "name" })) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await pkiMount(ctx, args.mount);
    const serials = await listCertificates(ctx.vault, mount);
    const structured = { mount: mount.display, serials };
    if (serials.length === 0) return { text: `${mount.display}/ has stored no certificates yet.`, structured };
    // Rendered from the view: a policy may show fewer certificates than Vault listed.
    return {
      text: (view) =>
        `${view.serials.length} certificate(s) in ${mount.display}/:\n${view.serials.map((s) => `- ${s}`).join("\n")}\n` +
        `read_pki_certificate(mount="${mount.display}", serial="<serial>") shows one's names, validity and whether it is revoked.`,
      structured,
    };
  },
});

function noSuchCertificate(mount: SafePath, serial: string): ToolError {
  return new ToolError(`${mount.display}/ holds no certificate with serial ${serial}. Use list_pki_certificates(mount="${mount.display}") to see the serials it holds.`);
}

export const readPkiCertificate = defineTool({
  name: "read_pki_certificate",
  toolset: "pki",
  title: "Read a PKI certificate",
  description: "Reads a stored certificate by serial: its common name, SANs and validity read from the PEM, whether it has expired, and whether and when it was revoked.",
  input: Type.Object({ mount: MountArg, serial: SerialArg }),
  output: Type.Object({
    ...CertificateView,
    expired: Type.Boolean(),
    revoked: Type.Boolean(),
    revocation_time: Type.Optional(Type.String({ description: "ISO 8601, as Vault recorded it; absent when not revoked" })),
    issuer_id: Type.Optional(Type.String()),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const serial = serialArg(args.serial);
    const mount = await pkiMount(ctx, args.mount);
    const stored = await readCertificate(ctx.vault, mount, serial);
    const facts = stored && certificateFacts(stored.certificate);
    // "ca" and "crl" are hex too, and Vault answers them with the CA's certificate: only the serial asked for will do.
    if (!stored || !facts || (facts.serial !== "" && facts.serial !== serial)) throw noSuchCertificate(mount, serial);
    const sans = subjectAltNames(stored.certificate);
    const revokedAt = isoTime(stored.revocation_time, stored.revocation_time_rfc3339);
    const expired = facts.not_after !== "" && Date.parse(facts.not_after) < Date.now();
    const state = revokedAt ? `REVOKED at ${revokedAt}` : expired ? "expired" : "valid (not revoked)";
    return {
      text:
        `Certificate ${serial} in ${mount.display}/: CN=${facts.common_name || "(none)"}, ${state}.\n` +
        `Valid from ${facts.not_before} to ${facts.not_after}\nSubject alternative names: ${sans.join(", ") || "(none)"}\n${stored.certificate.trim()}` +
        (revokedAt || expired ? "" : `\nrevoke_pki_certificate(mount="${mount.display}", serial="${serial}") revokes it.`),
      structured: {
        mount: mount.display,
        ...facts,
        serial: facts.serial || serial,
        subject_alt_names: sans,
        certificate: stored.certificate,
        expired,
        revoked: revokedAt !== undefined,
        ...(revokedAt ? { revocation_time: revokedAt } : {}),
        ...(stored.issuer_id ? { issuer_id: stored.issuer_id } : {}),
      },
    };
  },
});

export const revokePkiCertificate = defineTool({
  name: "revoke_pki_certificate",
  toolset: "pki",
  title: "Revoke a PKI certificate",
  description:
    "Revokes a certificate by serial and puts it on its issuer's CRL. Cannot be undone: a revoked certificate stays revoked until it expires; " +
    "issue or sign a new one to replace it. Revoking a revoked certificate changes nothing and answers its first revocation time.",
  input: Type.Object({ mount: MountArg, serial: SerialArg }),
  output: Type.Object({ mount: Type.String(), serial: Type.String(), revoked: Type.Boolean(), revocation_time: Type.Optional(Type.String({ description: "ISO 8601, from Vault's answer" })) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const serial = serialArg(args.serial);
    const mount = await pkiMount(ctx, args.mount);
    let res;
    try {
      res = await revokeCertificate(ctx.vault, mount, serial);
    } catch (err) {
      const why = refusal(err);
      if (why && /not found/i.test(why)) throw noSuchCertificate(mount, serial);
      if (why) throw new ToolError(`Vault refused to revoke ${serial}: ${why}. Nothing was revoked. (An issuer's own CA certificate is removed with delete_pki_issuer, not revoked.)`);
      throw err;
    }
    const at = isoTime(res.data?.revocation_time, res.data?.revocation_time_rfc3339);
    const notes = vaultNotes(res.warnings);
    if (!at) {
      // Vault answers an expired certificate with no revocation: it is no longer trusted anyway, and stays off the CRL.
      return {
        text: `Vault did not revoke ${serial} in ${mount.display}/ and answered no revocation time; an expired certificate is not revoked.${notes}\nread_pki_certificate(mount="${mount.display}", serial="${serial}") shows its state.`,
        structured: { mount: mount.display, serial, revoked: false },
      };
    }
    return {
      text:
        `Revoked certificate ${serial} in ${mount.display}/ at ${at} (Vault's record). This cannot be undone; it is on its issuer's CRL ` +
        `(GET ${mount.display}/crl/pem).${notes}\nReplace it with issue_pki_certificate or sign_pki_csr.`,
      structured: { mount: mount.display, serial, revoked: true, revocation_time: at },
    };
  },
});

export const tidyPki = defineTool({
  name: "tidy_pki",
  toolset: "pki",
  title: "Tidy a PKI mount",
  description:
    "Starts Vault's tidy of a PKI mount, which runs in the background: tidy_cert_store removes stored certificates expired for longer than safety_buffer, " +
    "tidy_revoked_certs removes expired ones from the revocation list. What it removes cannot be brought back (those certificates can no longer be read or listed); " +
    `valid certificates are kept. Answers the state of the run; "vault read <mount>/tidy-status" or calling tidy_pki again later shows its progress.`,
  input: Type.Object({
    mount: MountArg,
    tidy_cert_store: Type.Boolean({ description: "Remove expired certificates from storage (default true)", default: true }),
    tidy_revoked_certs: Type.Boolean({ description: "Remove expired certificates from the revocation list and CRL (default true)", default: true }),
    safety_buffer: Type.String({ description: 'How long past expiry a certificate is kept, e.g. "72h" (the default)', default: "72h", minLength: 1 }),
  }),
  output: Type.Object({
    mount: Type.String(),
    started: Type.Boolean({ description: "Vault accepted the request and tidies in the background" }),
    state: Type.Optional(Type.String({ description: 'From tidy-status right after: "Running", "Finished", "Error", ...' })),
    cert_store_deleted_count: Type.Optional(Type.Integer()),
    revoked_cert_deleted_count: Type.Optional(Type.Integer()),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    if (!args.tidy_cert_store && !args.tidy_revoked_certs) {
      throw new ToolError('Invalid arguments "tidy_cert_store" and "tidy_revoked_certs": both are false, so there is nothing to tidy. Set at least one to true.');
    }
    const mount = await pkiMount(ctx, args.mount);
    // The status before, to tell this run's from the previous run's right after (Vault may not have begun yet).
    const previous = await tidyStatus(ctx.vault, mount).catch(() => undefined);
    let res;
    try {
      res = await startTidy(ctx.vault, mount, { tidy_cert_store: args.tidy_cert_store, tidy_revoked_certs: args.tidy_revoked_certs, safety_buffer: args.safety_buffer });
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused to tidy ${mount.display}/: ${why}. Nothing was removed; check safety_buffer (e.g. "72h").`);
      throw err;
    }
    let status;
    let unread = "";
    try {
      status = await tidyStatus(ctx.vault, mount);
      if (!status.time_started || status.time_started === previous?.time_started) {
        status = undefined;
        unread = " It had not begun when its status was read.";
      }
    } catch (err) {
      unread = ` Its progress could not be read (${err instanceof Error ? err.message : String(err)}).`;
    }
    const counts =
      status?.state === "Finished" ? ` It removed ${status.cert_store_deleted_count ?? 0} stored and ${status.revoked_cert_deleted_count ?? 0} revoked certificate(s).` : "";
    return {
      text:
        `Vault started tidying ${mount.display}/ in the background (safety buffer ${args.safety_buffer}${args.tidy_cert_store ? ", certificate store" : ""}` +
        `${args.tidy_revoked_certs ? ", revoked certificates" : ""}).${status?.state ? ` State now: ${status.state}.` : ""}${counts}${unread}` +
        `${status?.error ? ` Error: ${status.error}.` : ""}${vaultNotes(res.warnings)}\n` +
        `Its progress: vault read ${mount.display}/tidy-status (GET /v1/${mount.display}/tidy-status).`,
      structured: {
        mount: mount.display,
        started: true,
        ...(status?.state ? { state: status.state } : {}),
        ...(status?.state === "Finished" ? { cert_store_deleted_count: status.cert_store_deleted_count ?? 0, revoked_cert_deleted_count: status.revoked_cert_deleted_count ?? 0 } : {}),
      },
    };
  },
});

export const pkiCertificateTools = [signPkiCsr, listPkiCertificates, readPkiCertificate, revokePkiCertificate, tidyPki];
