// An intermediate CA in four steps (key, the parent's signature, import, name); on failure each step's leftovers are found, undone and checked.
import { X509Certificate } from "node:crypto";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import { apiPath, safeName, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { csrPublicKey, failureWords, maybeApplied, pemCertificates, refusal, uniqueKeyName } from "./pki-common.ts";

export interface IntermediatePlan {
  mount: SafePath;
  parent: SafePath;
  parentRef: SafePath;
  commonName: string;
  /** The issuer's name, already checked. */
  name?: string;
  ttl: string;
  key: Record<string, unknown>;
  /** The mount's issuers before this call, so what set-signed added can be told from what was there. */
  issuersBefore: ReadonlySet<string>;
}

export interface Intermediate {
  issuerId: string;
  keyId: string;
  keyName: string;
  certificate: string;
  warnings: string[];
}

/** What the steps made so far, or may have made when an answer was lost. */
interface Trail {
  /** Unique in the mount, so a key whose id was lost with the answer can be found by name among other callers' keys. */
  keyName: string;
  keyId?: string;
  /** Key generation may have been applied though its answer was lost. */
  keyMaybe: boolean;
  csr?: string;
  /** The parent's certificates before signing; undefined when they could not be listed. */
  certsBefore?: ReadonlySet<string>;
  serial?: string;
  signMaybe: boolean;
  /** The signed certificate and its chain as sent to set-signed. */
  bundle: string[];
  issuers: string[];
  /** The imported issuer that holds our key (the others are copies of the parent's chain). */
  issuerId?: string;
  importMaybe: boolean;
  /** The failed step got no answer in time: Vault may still be carrying it out after the checks. */
  late: boolean;
}

/** The step a creation was at, and what the model can check when it fails. */
interface Step {
  doing: string;
  hint?: string;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function makeIntermediate(vault: VaultClient, plan: IntermediatePlan): Promise<Intermediate> {
  const { mount, parent, parentRef, ttl } = plan;
  const trail: Trail = { keyName: uniqueKeyName(plan.name ?? "intermediate"), keyMaybe: false, signMaybe: false, bundle: [], issuers: [], importMaybe: false, late: false };
  // Best-effort: only needed to find the certificate the parent signed if the signature's answer is lost.
  trail.certsBefore = await vault.list(apiPath(parent, "certs")).then(
    (r) => new Set(r.keys),
    () => undefined,
  );

  let step: Step = { doing: "generating its key" };
  try {
    let res;
    try {
      res = await vault.write<{ csr?: string; key_id?: string }>(apiPath(mount, "issuers/generate/intermediate/internal"), {
        common_name: plan.commonName,
        key_name: trail.keyName,
        ...plan.key,
      });
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused to generate the intermediate's key in ${mount.display}/: ${why}. Nothing was created; check key_type and key_bits.`);
      trail.keyMaybe = maybeApplied(err);
      throw err;
    }
    trail.keyId = res.data?.key_id;
    trail.csr = res.data?.csr;
    if (!trail.csr || !trail.keyId) {
      trail.keyMaybe = true;
      throw new Error("Vault answered without csr or key_id");
    }

    step = {
      doing: `having issuer "${parentRef.display}" of ${parent.display}/ sign it`,
      hint:
        `Check that parent_issuer names an issuer with a key (list_pki_issuers(mount="${parent.display}")) ` +
        `and that ttl (${ttl}) ends before that issuer's certificate expires (read_pki_issuer shows it).`,
    };
    let signed;
    try {
      signed = await vault.write<{ certificate?: string; ca_chain?: string[]; serial_number?: string }>(apiPath(parent, "issuer", parentRef, "sign-intermediate"), {
        csr: trail.csr,
        common_name: plan.commonName,
        ttl,
        format: "pem_bundle",
      });
    } catch (err) {
      trail.signMaybe = maybeApplied(err);
      throw err;
    }
    trail.serial = signed.data?.serial_number;
    // The pem_bundle is the certificate and its chain; set-signed needs the chain to link the new issuer to its parent.
    trail.bundle = [...new Set([...pemCertificates(signed.data?.certificate ?? ""), ...(signed.data?.ca_chain ?? []).flatMap(pemCertificates)])];
    const certificate = trail.bundle[0];
    if (!certificate) {
      trail.signMaybe = true;
      throw new Error("Vault answered sign-intermediate without a certificate");
    }

    step = { doing: `importing the signed certificate into ${mount.display}/` };
    let imported;
    try {
      imported = await vault.write<{ mapping?: Record<string, string> | null; imported_issuers?: string[] | null }>(apiPath(mount, "intermediate/set-signed"), {
        certificate: trail.bundle.join("\n"),
      });
    } catch (err) {
      trail.importMaybe = maybeApplied(err);
      throw err;
    }
    trail.issuers = [...(imported.data?.imported_issuers ?? [])];
    const issuerId = Object.entries(imported.data?.mapping ?? {}).find(([, key]) => key === trail.keyId)?.[0];
    trail.issuerId = issuerId;
    if (!issuerId) {
      trail.importMaybe = true;
      throw new Error(`Vault imported the signed certificate but mapped no issuer to key ${trail.keyId}`);
    }

    if (plan.name) {
      step = { doing: `naming the issuer "${plan.name}"` };
      await nameIssuer(vault, mount, issuerId, plan.name);
    }
    return { issuerId, keyId: trail.keyId, keyName: trail.keyName, certificate, warnings: [...(signed.warnings ?? []), ...(imported.warnings ?? [])] };
  } catch (err) {
    if (err instanceof ToolError) throw err;
    trail.late = err instanceof VaultError && err.failure === "timeout";
    // Advice about the arguments helps only when Vault itself said no, not when its answer went missing.
    const refused = err instanceof VaultError && err.failure === "http";
    const account = await undo(vault, plan, trail);
    throw new ToolError(
      `Creating the intermediate issuer in ${mount.display}/ failed while ${step.doing}: ${failureWords(err)}.` + (step.hint && refused ? `\n${step.hint}` : "") + account,
    );
  }
}

/** PATCH is sent twice safely (the same name); when its answer is unreadable, the issuer itself says whether it took. */
async function nameIssuer(vault: VaultClient, mount: SafePath, issuerId: string, name: string): Promise<void> {
  const path = apiPath(mount, "issuer", safeName(issuerId, "issuer_id"));
  try {
    await vault.patch(path, { issuer_name: name }, { idempotent: true });
  } catch (err) {
    if (!(err instanceof VaultError && err.isUncertain)) throw err;
    const now = await vault.read<{ issuer_name?: string }>(path).catch(() => null);
    if (now?.data?.issuer_name !== name) throw err;
  }
}

/** What undoing found: done and checked, found never made, left behind (with the command to remove it), not checkable. */
interface Account {
  done: string[];
  absent: string[];
  left: string[];
  unknown: string[];
}

/** Runs `remove`, then asks `gone`: the answer after reading back, not the answer to the removal, decides. */
async function removeAndCheck(remove: () => Promise<unknown>, gone: () => Promise<boolean>): Promise<{ gone: boolean; checked: boolean; why?: string }> {
  let why: string | undefined;
  try {
    await remove();
  } catch (err) {
    why = errText(err);
  }
  try {
    const g = await gone();
    return { gone: g, checked: true, why: g ? undefined : (why ?? "Vault accepted the request but it is still there") };
  } catch (err) {
    // Vault's own success is good evidence even when the check cannot be made; a failed removal is not.
    return why === undefined ? { gone: true, checked: false, why: `the check afterwards failed: ${errText(err)}` } : { gone: false, checked: false, why };
  }
}

function sameCertificate(a: string, b: string): boolean {
  try {
    return new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
  } catch {
    return false;
  }
}

/** Issuers that set-signed may have imported without answering: new since the call began, with our key or a certificate of our bundle. */
async function findImported(vault: VaultClient, plan: IntermediatePlan, trail: Trail): Promise<string[]> {
  const { keys } = await vault.list(apiPath(plan.mount, "issuers"));
  const found: string[] = [];
  for (const id of keys.filter((k) => !plan.issuersBefore.has(k) && !trail.issuers.includes(k))) {
    const issuer = await vault.read<{ key_id?: string; certificate?: string }>(apiPath(plan.mount, "issuer", safeName(id, "issuer_id")));
    const d = issuer?.data;
    if (!d) continue;
    if (trail.keyId && d.key_id === trail.keyId) trail.issuerId = id;
    if (trail.issuerId === id || (d.certificate && trail.bundle.some((c) => sameCertificate(c, d.certificate!)))) found.push(id);
  }
  return found;
}

/** The certificate the parent may have signed without answering: new since the call began, for our CSR's public key. */
const MAX_CANDIDATES = 50;
async function findSigned(vault: VaultClient, plan: IntermediatePlan, trail: Trail): Promise<string | undefined> {
  if (!trail.certsBefore || !trail.csr) throw new Error(`the certificates of ${plan.parent.display}/ could not be listed before signing`);
  const ours = csrPublicKey(trail.csr);
  const { keys } = await vault.list(apiPath(plan.parent, "certs"));
  const fresh = keys.filter((k) => !trail.certsBefore!.has(k));
  if (fresh.length > MAX_CANDIDATES) throw new Error(`${fresh.length} certificates appeared in ${plan.parent.display}/ meanwhile, too many to search`);
  for (const serial of fresh) {
    const res = await vault.read<{ certificate?: string }>(apiPath(plan.parent, "cert", safeName(serial, "serial")));
    const pem = res?.data?.certificate;
    if (!pem) continue;
    const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
    if (spki.equals(ours)) return serial;
  }
  return undefined;
}

/**
 * Takes back what the trail says exists or may exist, in the order Vault allows: issuers, then their key, then the
 * parent's certificate, revoked only when no issuer of ours still uses it. Each removal is checked by reading back.
 */
async function undo(vault: VaultClient, plan: IntermediatePlan, trail: Trail): Promise<string> {
  const { mount, parent } = plan;
  const a: Account = { done: [], absent: [], left: [], unknown: [] };
  const late = trail.late ? " (Vault did not answer in time and may still be working on it: look again in a minute)" : "";

  // 1. Issuers imported by set-signed.
  let issuers = [...trail.issuers];
  let issuersUnknown = false;
  if (trail.importMaybe) {
    try {
      const found = await findImported(vault, plan, trail);
      issuers = [...new Set([...issuers, ...found])];
      if (found.length === 0 && trail.issuers.length === 0) a.absent.push(`no issuer was imported into ${mount.display}/${late}`);
    } catch (err) {
      issuersUnknown = true;
      a.unknown.push(
        `whether ${mount.display}/ imported an issuer for key ${trail.keyId ?? trail.keyName} (${errText(err)}): list_pki_issuers(mount="${mount.display}") shows its issuers; remove a new one with vault delete ${mount.display}/issuer/<id>`,
      );
    }
  }
  const remaining: string[] = [];
  const which = (id: string) => (id === trail.issuerId ? "the new intermediate" : `a copy of a certificate of ${parent.display}/'s chain, imported with it`);
  for (const id of issuers) {
    const path = apiPath(mount, "issuer", safeName(id, "issuer_id"));
    const r = await removeAndCheck(
      () => vault.delete(path),
      async () => !(await vault.list(apiPath(mount, "issuers"))).keys.includes(id),
    );
    if (r.gone) a.done.push(`deleted issuer ${id} (${which(id)}) from ${mount.display}/${r.checked ? "" : ` (${r.why})`}`);
    else {
      remaining.push(id);
      a.left.push(`issuer ${id} (${which(id)}) in ${mount.display}/: vault delete ${mount.display}/issuer/${id} (${r.why})`);
    }
  }

  // Only the intermediate uses our key and our certificate; a copy of the parent's chain left behind uses neither.
  const intermediateLeft = trail.issuerId === undefined ? remaining.length > 0 : remaining.includes(trail.issuerId);

  // 2. The key, found by its unique name when its id was lost.
  if (!trail.keyId && trail.keyMaybe) {
    try {
      const { keyInfo } = await vault.list(apiPath(mount, "keys"));
      trail.keyId = Object.entries(keyInfo).find(([, info]) => (info as { key_name?: string })?.key_name === trail.keyName)?.[0];
      if (!trail.keyId) a.absent.push(`no key was made (none is named ${trail.keyName} in ${mount.display}/)${late}`);
    } catch (err) {
      a.unknown.push(`whether a key named ${trail.keyName} was made in ${mount.display}/ (${errText(err)}): vault list ${mount.display}/keys, then vault delete ${mount.display}/key/<id>`);
    }
  }
  if (trail.keyId) {
    const id = trail.keyId;
    if (intermediateLeft) {
      a.left.push(`key ${id} ("${trail.keyName}") in ${mount.display}/, used by the new intermediate: vault delete ${mount.display}/key/${id} once that issuer is gone`);
    } else {
      const r = await removeAndCheck(
        () => vault.delete(apiPath(mount, "key", safeName(id, "key_id"))),
        async () => !(await vault.list(apiPath(mount, "keys"))).keys.includes(id),
      );
      if (r.gone) a.done.push(`deleted the generated key ${id} ("${trail.keyName}") from ${mount.display}/${r.checked ? "" : ` (${r.why})`}`);
      else a.left.push(`key ${id} ("${trail.keyName}") in ${mount.display}/: vault delete ${mount.display}/key/${id} (${r.why})`);
    }
  }

  // 3. The certificate the parent signed: revoked only once no issuer of ours uses it.
  if (!trail.serial && trail.signMaybe) {
    try {
      trail.serial = await findSigned(vault, plan, trail);
      if (!trail.serial) a.absent.push(`${parent.display}/ signed no certificate for this key${late}`);
    } catch (err) {
      a.unknown.push(
        `whether ${parent.display}/ signed a certificate for this key (${errText(err)}); its key is deleted, so such a certificate can sign nothing. ` +
          `To revoke it: vault list ${parent.display}/certs, find the one with CN=${plan.commonName}, then vault write ${parent.display}/revoke serial_number=<serial>`,
      );
    }
  }
  if (trail.serial) {
    const serial = trail.serial;
    const revoke = `vault write ${parent.display}/revoke serial_number=${serial}`;
    if (intermediateLeft || issuersUnknown) {
      a.left.push(`certificate ${serial} signed by ${parent.display}/, not revoked while an issuer of ${mount.display}/ may still use it: ${revoke} once it is gone`);
    } else {
      const certPath = apiPath(parent, "cert", safeName(serial, "serial"));
      const r = await removeAndCheck(
        () => vault.write(apiPath(parent, "revoke"), { serial_number: serial }, { idempotent: true }),
        async () => ((await vault.read<{ revocation_time?: number }>(certPath))?.data?.revocation_time ?? 0) > 0,
      );
      if (r.gone) a.done.push(`revoked the unused certificate ${serial} that ${parent.display}/ had signed${r.checked ? "" : ` (${r.why})`}`);
      else a.left.push(`certificate ${serial} signed by ${parent.display}/, not revoked: ${revoke} (${r.why})`);
    }
  }

  return accountText(a, trail);
}

function accountText(a: Account, trail: Trail): string {
  const lines: string[] = [];
  if (a.done.length > 0) lines.push(`Undone, and checked by reading back: ${a.done.join("; ")}.`);
  if (a.absent.length > 0) lines.push(`Checked: ${a.absent.join("; ")}.`);
  if (a.left.length > 0) lines.push(`Could NOT undo; remove by hand: ${a.left.join("; ")}.`);
  if (a.unknown.length > 0) lines.push(`Could not check ${a.unknown.join("; ")}.`);
  if (a.left.length === 0 && a.unknown.length === 0) {
    if (a.done.length === 0 && a.absent.length === 0) lines.push("Nothing was created.");
    // After a timeout, what was not there yet may still appear; each such line already says so.
    else if (!(trail.late && a.absent.length > 0)) lines.push("Nothing this call made is left in Vault.");
  }
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
}
