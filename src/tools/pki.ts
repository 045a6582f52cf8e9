// PKI secrets engine: enable_pki and issue_pki_certificate; roles live in pki-roles.ts, issuers in pki-issuers.ts.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { apiPath, manageableMount, safeName, type SafePath } from "../vault/paths.ts";
import { describeFailure, ToolError } from "./errors.ts";
import { checkMergeable, kvGetCommand, kvTarget, type KvTarget, mergeIntoSecret, readCall } from "./kv-common.ts";
import { certificateFacts, maybeApplied, MountArg, pkiMount, refusal, subjectAltNames, vaultNotes, vaultWords } from "./pki-common.ts";
import { mountEngine } from "./mounts.ts";
import { pkiIssuerTools } from "./pki-issuers.ts";
import { noSuchRole, pkiRoleTools } from "./pki-roles.ts";
import { defineTool, type Disclosure, type EmbeddedText, type ToolContext } from "./registry.ts";
import { commaSeparated } from "./listed-schema.ts";

export const enablePki = defineTool({
  name: "enable_pki",
  toolset: "pki",
  title: "Enable a PKI secrets engine",
  description:
    'Mounts a PKI secrets engine (a certificate authority) at a path, "pki" by default. max_ttl caps the lifetime of every certificate it ' +
    "will ever sign, CA certificates included (default 87600h, ten years). Refuses when something is already mounted there. Next step: create_pki_issuer.",
  input: Type.Object({
    path: Type.String({ description: 'Where to mount it, e.g. "pki" (the default) or "pki_int"', default: "pki", minLength: 1, vault: "mount" }),
    description: Type.Optional(Type.String({ description: "Human-readable description shown by list_mounts" })),
    max_ttl: Type.String({ description: 'Longest certificate lifetime this engine allows, e.g. "87600h" (the default)', default: "87600h", minLength: 1 }),
  }),
  output: Type.Object({ path: Type.String(), type: Type.Literal("pki"), max_ttl: Type.String(), created: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const path = manageableMount(args.path, "path");
    await mountEngine(
      ctx,
      path,
      { type: "pki", description: args.description ?? "", config: { max_lease_ttl: args.max_ttl } },
      {
        taken: "Choose another path, or use list_mounts to see what is there (an existing PKI mount can be used as it is).",
        refused: (why) => `Vault refused to mount PKI at ${path.display}/: ${why}. Nothing was changed; check max_ttl (e.g. "87600h").`,
      },
    );
    return {
      text:
        `Mounted a PKI secrets engine at ${path.display}/ (certificates up to ${args.max_ttl}).\n` +
        `Next, create its CA: create_pki_issuer(mount="${path.display}", type="root", common_name="Example Root CA"), ` +
        `or type="intermediate" with parent_mount to have another PKI mount sign it.`,
      structured: { path: path.display, type: "pki" as const, max_ttl: args.max_ttl, created: true },
    };
  },
});

const NameList = (description: string) => Type.Optional(commaSeparated(Type.Array(Type.String({ minLength: 1 }), { description, vault: "none" })));

function commaList(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : value.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  return items.length > 0 ? items.join(",") : undefined;
}

/** Turns Vault's refusal to issue into what the model should change. */
function issueRefusal(why: string, mount: SafePath, role: SafePath): ToolError {
  const inspect = `Inspect the role with read_pki_role(mount="${mount.display}", role_name="${role.display}")`;
  if (/unknown role/i.test(why)) return noSuchRole(mount, role);
  if (/not allowed by this role/i.test(why)) {
    return new ToolError(
      `Vault refused: ${why}. Role "${role.display}" decides which names it may issue: allowed_domains lists the domains, allow_subdomains allows ` +
        "names under them (api.example.com), allow_bare_domains the domains themselves, allow_glob_domains globs, allow_any_name any name. " +
        `${inspect}; to change it, call create_pki_role again with the settings it needs (it replaces the role). No certificate was issued.`,
    );
  }
  if (/IP Subject Alternative Names are not allowed/i.test(why)) {
    return new ToolError(`Vault refused: ${why}. Role "${role.display}" has allow_ip_sans=false; omit ip_sans, or recreate the role with allow_ip_sans=true. ${inspect}.`);
  }
  if (/beyond the expiration of the CA/i.test(why)) {
    return new ToolError(`Vault refused: ${why}. Ask for a shorter ttl, one that ends before the issuing CA certificate expires (read_pki_issuer shows it).`);
  }
  if (/issuer/i.test(why)) {
    return new ToolError(
      `Vault refused: ${why}. The role's issuer_ref must name an issuer with a key in ${mount.display}/; see list_pki_issuers(mount="${mount.display}"). ${inspect}.`,
    );
  }
  return new ToolError(`Vault refused to issue the certificate: ${why}. ${inspect}. No certificate was issued.`);
}

/**
 * Vault may have issued and stored a certificate whose answer, with the only copy of its private key, was lost. Reading it
 * back cannot bring the key back, so the advice is to issue again, and how to revoke the lost one.
 */
function lostCertificate(err: VaultError, mount: SafePath, role: SafePath, commonName: string): ToolError {
  const what = err.failure === "http" ? `Vault failed with ${err.status} on ${err.method} ${err.path}: ${vaultWords(err)}` : err.message;
  return new ToolError(
    `${what}.\nVault may or may not have issued a certificate for ${commonName} from role "${role.display}" of ${mount.display}/. If it did, its private key ` +
      "never reached this server and Vault keeps no copy, so that certificate can never be used; it expires at the end of its ttl. " +
      `Call issue_pki_certificate again for a new certificate and key. To revoke the lost one as well: vault list ${mount.display}/certs, ` +
      `find the one with CN=${commonName}, then vault write ${mount.display}/revoke serial_number=<serial>.`,
  );
}

const StoreAtArg = Type.Object(
  {
    mount: Type.String({ description: 'KV mount, e.g. "secret" (the default)', default: "secret", minLength: 1, vault: "mount" }),
    path: Type.String({ description: 'Secret path inside the mount, e.g. "certs/api.example.com"', minLength: 1, vault: "path" }),
  },
  {
    description:
      "Write the certificate, its private key and CA chain into this KV secret (merged: its other keys are kept) and answer only the certificate, " +
      "serial and validity; applications (Vault Agent, the Secrets Store CSI provider, External Secrets) read the key from there",
  },
);

/** The keys store_at writes, named as Vault's own pki/issue answer names them (what templates and mappings expect). */
const STORED_KEYS = ["certificate", "private_key", "private_key_type", "issuing_ca", "ca_chain", "serial_number", "expiration"];

/** What became of the private key, in words, as the answer is shown (the view never holds a concealed key). */
function keyFate(d: Disclosure, mount: SafePath, serial: string): string {
  if (d.mode === "reveal") return "Vault keeps no copy of the private key: store it now (for example with write_secret).";
  if (d.mode === "wrap" && !d.undelivered) return "Its private key is wrapped for a person (below); Vault keeps no copy, so whoever opens the token must store the key.";
  return (
    "Its private key reached no one and Vault keeps no copy, so this certificate can never be used: revoke it with " +
    `vault write ${mount.display}/revoke serial_number=${serial}, and issue again with store_at to keep the key in a KV secret.`
  );
}

/** Where store_at writes, checked before anything is issued: a key issued for a secret that cannot take it would be lost. */
async function storeTarget(ctx: ToolContext, at: { mount: string; path: string }): Promise<KvTarget> {
  const t = await kvTarget(ctx, at.mount, at.path, false, { mount: "store_at.mount", path: "store_at.path" });
  checkMergeable(ctx, t, "No certificate was issued.");
  return t;
}

export const issuePkiCertificate = defineTool({
  name: "issue_pki_certificate",
  toolset: "pki",
  title: "Issue a certificate",
  description:
    "Issues a new certificate and private key from a PKI role. Answers the serial, validity read from the certificate, and the certificate, " +
    "private key and CA chain as PEM, also attached as certificate.pem, private_key.pem and ca_chain.pem. Vault does not keep the private key: save it now, " +
    "or pass store_at to have it written into a KV secret, in which case the answer holds only the certificate, serial and validity.",
  input: Type.Object({
    mount: MountArg,
    role_name: Type.String({ description: 'The role whose rules apply, e.g. "web-server"', minLength: 1, vault: "name" }),
    common_name: Type.String({ description: 'The name the certificate is for, e.g. "api.example.com"', minLength: 1, vault: "none" }),
    alt_names: NameList('More DNS names, e.g. ["www.example.com"]'),
    ip_sans: NameList('IP addresses, e.g. ["10.0.0.5"]'),
    ttl: Type.Optional(Type.String({ description: 'Lifetime, e.g. "720h"; capped by the role\'s max_ttl; default: the role\'s ttl', minLength: 1 })),
    store_at: Type.Optional(StoreAtArg),
  }),
  output: Type.Object({
    mount: Type.String(),
    role_name: Type.String(),
    common_name: Type.String(),
    subject_alt_names: Type.Array(Type.String(), { description: 'As read from the certificate, e.g. "DNS:api.example.com"' }),
    serial: Type.String(),
    not_before: Type.String({ description: "ISO 8601, read from the certificate" }),
    not_after: Type.String({ description: "ISO 8601, read from the certificate" }),
    certificate: Type.String({ description: "PEM" }),
    private_key: Type.Optional(Type.String({ description: "PEM; Vault keeps no copy. Absent when stored with store_at", sensitive: true })),
    private_key_type: Type.String(),
    issuing_ca: Type.Optional(Type.String({ description: "PEM of the issuer that signed it; absent when stored with store_at" })),
    ca_chain: Type.Optional(Type.Array(Type.String(), { description: "PEM certificates from the issuer up to the root; absent when stored with store_at" })),
    stored_at: Type.Optional(
      Type.Object({ mount: Type.String(), path: Type.String(), version: Type.Optional(Type.Integer()), keys: Type.Array(Type.String()) }, { description: "store_at: where the key now is" }),
    ),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const role = safeName(args.role_name, "role_name");
    const mount = await pkiMount(ctx, args.mount);
    const store = args.store_at ? await storeTarget(ctx, args.store_at) : undefined;
    if (!store && ctx.settings?.secretValues?.mode === "mask") {
      throw new ToolError(
        "The operator masks secret values (MCP_SECRET_VALUES=mask), so a new private key could reach no one, and Vault keeps no copy of it: " +
          'no certificate was issued. Pass store_at={"mount": "secret", "path": "certs/<name>"} to have the certificate and its key written into a KV secret, ' +
          "where applications (or a person, with vault kv get) read them.",
      );
    }
    const altNames = commaList(args.alt_names);
    const ipSans = commaList(args.ip_sans);
    const body = { common_name: args.common_name, ...(altNames ? { alt_names: altNames } : {}), ...(ipSans ? { ip_sans: ipSans } : {}), ...(args.ttl ? { ttl: args.ttl } : {}) };
    let res;
    try {
      res = await ctx.vault.write<{ certificate?: string; private_key?: string; private_key_type?: string; issuing_ca?: string; ca_chain?: string[] | null }>(
        apiPath(mount, "issue", role),
        body,
      );
    } catch (err) {
      const why = refusal(err);
      if (why) throw issueRefusal(why, mount, role);
      // Vault answers some unresolvable issuer references with 500.
      if (err instanceof VaultError && err.failure === "http" && err.errors.some((e) => /issuer/i.test(e))) throw issueRefusal(vaultWords(err), mount, role);
      if (err instanceof VaultError && maybeApplied(err)) throw lostCertificate(err, mount, role, args.common_name);
      throw err;
    }
    const d = res.data;
    if (!d?.certificate || !d.private_key) throw new Error(`Vault answered ${apiPath(mount, "issue", role)} without a certificate or private key`);
    const facts = certificateFacts(d.certificate);
    const chain = d.ca_chain && d.ca_chain.length > 0 ? d.ca_chain : d.issuing_ca ? [d.issuing_ca] : [];
    const base = `vault-pki://${mount.encoded}/${facts.serial}`;
    const pem = (name: string, text: string): EmbeddedText => ({ name, uri: `${base}/${name}`, mimeType: "application/x-pem-file", text });
    const sans = subjectAltNames(d.certificate);
    const issued =
      `Issued a certificate for ${facts.common_name} from role "${role.display}" of ${mount.display}/.\n` +
      `Serial: ${facts.serial}\nValid from ${facts.not_before} to ${facts.not_after}\nSubject alternative names: ${sans.join(", ") || "(none)"}\n`;
    const notes = vaultNotes(res.warnings);
    const publicParts = {
      mount: mount.display,
      role_name: role.display,
      common_name: facts.common_name,
      subject_alt_names: sans,
      serial: facts.serial,
      not_before: facts.not_before,
      not_after: facts.not_after,
      certificate: d.certificate,
      private_key_type: d.private_key_type ?? "",
    };
    const full = { ...publicParts, private_key: d.private_key, issuing_ca: d.issuing_ca ?? "", ca_chain: chain };
    // Rendered from the view, so the key is in the text and resources exactly as the operator lets the model see it.
    const attached = (view: { certificate: string; private_key?: string; ca_chain?: string[] }, how: Disclosure): EmbeddedText[] => [
      pem("certificate.pem", view.certificate),
      ...(how.mode === "reveal" && view.private_key !== undefined ? [pem("private_key.pem", view.private_key)] : []),
      pem("ca_chain.pem", (view.ca_chain ?? []).join("\n")),
    ];
    const attachedNames = (how: Disclosure) => (how.mode === "reveal" ? "certificate.pem, private_key.pem and ca_chain.pem" : "certificate.pem and ca_chain.pem");
    if (!store) {
      return {
        text: (_view, how) =>
          issued +
          (how.mode === "reveal"
            ? `The certificate, its ${d.private_key_type ?? ""} private key and the CA chain are attached as ${attachedNames(how)}. `
            : `The certificate and the CA chain are attached as ${attachedNames(how)}. `) +
          `${keyFate(how, mount, facts.serial)}${notes}`,
        structured: full,
        resources: attached,
      };
    }
    const bundle = {
      certificate: d.certificate,
      private_key: d.private_key,
      private_key_type: d.private_key_type ?? "",
      issuing_ca: d.issuing_ca ?? "",
      ca_chain: chain.join("\n"),
      serial_number: facts.serial,
      expiration: facts.not_after,
    };
    let written: { version?: number };
    try {
      written = await mergeIntoSecret(ctx, store, bundle);
    } catch (err) {
      // The only copy of the key is in hand: hand it over as the operator allows rather than lose it with the error.
      const why = describeFailure(err).text;
      const maybe = maybeApplied(err) ? ` Vault may or may not have stored it: ${readCall(store)} shows whether it did.` : "";
      return {
        isError: true,
        text: (_view, how) =>
          `${issued}Storing it in ${store.where} failed: ${why}${maybe}\n` +
          (how.mode === "reveal" ? `The private key is in this answer and attached as private_key.pem. ${keyFate(how, mount, facts.serial)}` : keyFate(how, mount, facts.serial)) +
          notes,
        structured: full,
        resources: attached,
      };
    }
    const stored = { mount: store.mount.display, path: store.path.display, ...(written.version !== undefined ? { version: written.version } : {}), keys: STORED_KEYS };
    return {
      text:
        issued +
        `The certificate, its ${d.private_key_type ?? ""} private key and the CA chain are stored in ${store.where}` +
        `${written.version !== undefined ? ` (version ${written.version})` : ""} under ${STORED_KEYS.join(", ")}; the secret's other keys are kept. ` +
        `The private key is not in this answer: applications read it from Vault, and a person with Vault access with: ${kvGetCommand(store, { key: "private_key" })}` +
        `\nThe certificate is attached as certificate.pem.${notes}`,
      structured: { ...publicParts, stored_at: stored },
      resources: [pem("certificate.pem", d.certificate)],
    };
  },
});

export const pkiTools = [enablePki, ...pkiIssuerTools, ...pkiRoleTools, issuePkiCertificate];
