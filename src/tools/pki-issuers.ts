// PKI issuers, the engine's certificate authorities: create_pki_issuer (root, intermediate, import), list_pki_issuers, read_pki_issuer.
import { type Static, Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import { apiPath, safeName, type SafePath } from "../vault/paths.ts";
import { describeFailure, ToolError } from "./errors.ts";
import { certificateFacts, checkIssuerName, keyTypeArg, MountArg, pemCertificates, pkiMount, refusal, vaultNotes, vaultWords } from "./pki-common.ts";
import { defineTool, type ToolAnswer, type ToolContext } from "./registry.ts";

const ROOT_TTL = "87600h";
// Half the root's default, so an intermediate signed by a default root ends before it (Vault refuses one that would not).
const INTERMEDIATE_TTL = "43800h";

const IssuerType = Type.Union([Type.Literal("root"), Type.Literal("intermediate"), Type.Literal("import")]);
type Kind = Static<typeof IssuerType>;

const CreateInput = Type.Object({
  mount: MountArg,
  type: Type.Union([Type.Literal("root"), Type.Literal("intermediate"), Type.Literal("import")], {
    description: '"root": a self-signed CA; "intermediate": a CA signed by an issuer of parent_mount; "import": CA certificates (and keys) from pem_bundle',
  }),
  common_name: Type.Optional(Type.String({ description: 'root and intermediate (required): the CA\'s common name, e.g. "Example Root CA"', minLength: 1 })),
  issuer_name: Type.Optional(Type.String({ description: 'root and intermediate: a name for the new issuer, e.g. "root-2025"', minLength: 1 })),
  ttl: Type.Optional(
    Type.String({
      description: `root and intermediate: the CA certificate's lifetime; default ${ROOT_TTL} for a root, ${INTERMEDIATE_TTL} for an intermediate`,
      minLength: 1,
    }),
  ),
  key_type: Type.Optional(keyTypeArg({ description: 'root and intermediate: "rsa" (default), "ec" or "ed25519"' })),
  key_bits: Type.Optional(Type.Integer({ description: "root and intermediate: key size; default 2048 for rsa, 256 for ec; not used by ed25519", minimum: 0 })),
  parent_mount: Type.Optional(Type.String({ description: 'intermediate (required): the PKI mount whose issuer signs the intermediate, e.g. "pki"', minLength: 1 })),
  parent_issuer: Type.Optional(Type.String({ description: 'intermediate: the signing issuer in parent_mount, by name or ID; default "default"', minLength: 1 })),
  pem_bundle: Type.Optional(Type.String({ description: "import (required): PEM text of CA certificates, optionally with their private keys", minLength: 1 })),
});
type CreateArgs = Static<typeof CreateInput>;

/** The types each optional argument belongs to; giving it with another type is a mistake worth telling the model about. */
const APPLIES_TO: Record<string, Kind[]> = {
  common_name: ["root", "intermediate"],
  issuer_name: ["root", "intermediate"],
  ttl: ["root", "intermediate"],
  key_type: ["root", "intermediate"],
  key_bits: ["root", "intermediate"],
  parent_mount: ["intermediate"],
  parent_issuer: ["intermediate"],
  pem_bundle: ["import"],
};
const REQUIRED: Record<Kind, string[]> = { root: ["common_name"], intermediate: ["common_name", "parent_mount"], import: ["pem_bundle"] };

function quoted(names: string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

function takes(kind: Kind): string {
  const optional = Object.keys(APPLIES_TO).filter((a) => APPLIES_TO[a]?.includes(kind) && !REQUIRED[kind].includes(a));
  return `type="${kind}" requires ${quoted(REQUIRED[kind])}${optional.length > 0 ? ` and also accepts ${quoted(optional)}` : ""}`;
}

function checkCombination(args: CreateArgs): void {
  const given = args as Record<string, unknown>;
  for (const [arg, kinds] of Object.entries(APPLIES_TO)) {
    if (given[arg] !== undefined && !kinds.includes(args.type)) {
      throw new ToolError(`Invalid argument "${arg}": it applies only to type ${kinds.map((k) => `"${k}"`).join(" or ")}; omit it. ${takes(args.type)}.`);
    }
  }
  const missing = REQUIRED[args.type].filter((a) => given[a] === undefined);
  if (missing.length > 0) throw new ToolError(`Missing argument ${quoted(missing)}: ${takes(args.type)}.`);
}

const CreatedIssuer = Type.Object({
  mount: Type.String(),
  type: IssuerType,
  issuer_id: Type.Optional(Type.String()),
  issuer_name: Type.Optional(Type.String()),
  key_id: Type.Optional(Type.String()),
  is_default: Type.Optional(Type.Boolean()),
  common_name: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  not_before: Type.Optional(Type.String({ description: "ISO 8601, read from the certificate" })),
  not_after: Type.Optional(Type.String({ description: "ISO 8601, read from the certificate" })),
  certificate: Type.Optional(Type.String({ description: "PEM" })),
  parent_mount: Type.Optional(Type.String()),
  parent_issuer: Type.Optional(Type.String()),
  imported_issuers: Type.Optional(Type.Array(Type.String())),
  imported_keys: Type.Optional(Type.Array(Type.String())),
});
type Created = Static<typeof CreatedIssuer>;

interface ImportResult {
  mapping?: Record<string, string> | null;
  imported_issuers?: string[] | null;
  imported_keys?: string[] | null;
}

async function defaultIssuer(vault: VaultClient, mount: SafePath): Promise<string | undefined> {
  const res = await vault.read<{ default?: string }>(apiPath(mount, "config/issuers"));
  return res?.data?.default || undefined;
}

async function refuseTakenName(vault: VaultClient, mount: SafePath, name: string | undefined): Promise<void> {
  if (name === undefined) return;
  const { keyInfo } = await vault.list(apiPath(mount, "issuers"));
  if (Object.values(keyInfo).some((i) => (i as { issuer_name?: string })?.issuer_name === name)) {
    throw new ToolError(
      `An issuer named "${name}" already exists in ${mount.display}/. Nothing was created. Choose another issuer_name (list_pki_issuers shows the names in use).`,
    );
  }
}

/** The answer for a new CA certificate, with what the certificate itself says. */
async function created(vault: VaultClient, mount: SafePath, base: Created, certificate: string, warnings: string[], next: string): Promise<ToolAnswer<Created>> {
  const facts = certificateFacts(certificate);
  const isDefault = base.issuer_id !== undefined && (await defaultIssuer(vault, mount)) === base.issuer_id;
  const label = base.issuer_name ? `"${base.issuer_name}" (${base.issuer_id})` : base.issuer_id;
  const signedBy = base.parent_mount ? `, signed by issuer "${base.parent_issuer}" of ${base.parent_mount}/` : "";
  return {
    text:
      `Created ${base.type} issuer ${label} in ${mount.display}/${signedBy}: CN=${facts.common_name}, serial ${facts.serial}, ` +
      `valid from ${facts.not_before} to ${facts.not_after}.${isDefault ? " It is the mount's default issuer." : ""}` +
      `${vaultNotes(warnings)}\n${next}`,
    structured: { ...base, is_default: isDefault, ...facts, certificate },
  };
}

function nextRole(mount: SafePath, issuerRef: string): string {
  const ref = issuerRef === "default" ? "" : `, issuer_ref="${issuerRef}"`;
  return (
    `Next, create a role that issues certificates: ` +
    `create_pki_role(mount="${mount.display}", role_name="web-server", allowed_domains=["example.com"], allow_subdomains=true${ref})`
  );
}

function keyArgs(args: CreateArgs): Record<string, unknown> {
  return { key_type: args.key_type ?? "rsa", ...(args.key_bits !== undefined ? { key_bits: args.key_bits } : {}) };
}

async function createRoot(ctx: ToolContext, mount: SafePath, args: CreateArgs): Promise<ToolAnswer<Created>> {
  const name = args.issuer_name !== undefined ? checkIssuerName(args.issuer_name) : undefined;
  const body = { common_name: args.common_name, ttl: args.ttl ?? ROOT_TTL, ...keyArgs(args), ...(name ? { issuer_name: name } : {}) };
  let res;
  try {
    res = await ctx.vault.write<{ certificate?: string; issuer_id?: string; issuer_name?: string; key_id?: string }>(apiPath(mount, "issuers/generate/root/internal"), body);
  } catch (err) {
    const why = refusal(err);
    if (why) {
      throw new ToolError(`Vault refused to create the root issuer in ${mount.display}/: ${why}. Nothing was created; check common_name, ttl, key_type, key_bits and issuer_name.`);
    }
    throw err;
  }
  const d = res.data;
  if (!d?.certificate || !d.issuer_id) throw new Error(`Vault answered ${apiPath(mount, "issuers/generate/root/internal")} without a certificate or issuer_id`);
  const base = { mount: mount.display, type: "root" as const, issuer_id: d.issuer_id, issuer_name: d.issuer_name ?? "", key_id: d.key_id ?? "" };
  return created(ctx.vault, mount, base, d.certificate, res.warnings ?? [], nextRole(mount, name ?? "default"));
}

/** One thing a multi-step creation made, and how to take it back. */
interface Undo {
  what: string;
  run(): Promise<unknown>;
}

/** The step a multi-step creation was at, and what the model can check when it fails. */
interface Step {
  doing: string;
  hint?: string;
}

async function rollBack(undo: Undo[], step: Step, err: unknown): Promise<ToolError> {
  const done: string[] = [];
  const left: string[] = [];
  for (const u of undo.reverse()) {
    try {
      await u.run();
      done.push(u.what);
    } catch (e) {
      left.push(`${u.what} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  // Once rolled back, Vault's own words help more than generic advice to retry (it answers some bad references with 500).
  const why = err instanceof VaultError && err.failure === "http" ? vaultWords(err) : describeFailure(err).text;
  return new ToolError(
    `Creating the intermediate issuer failed while ${step.doing}: ${why}${step.hint ? `\n${step.hint}` : ""}` +
      (done.length > 0 ? `\nUndone so nothing is left half-made: ${done.join("; ")}.` : "") +
      (left.length > 0 ? `\nCould NOT undo, remove by hand: ${left.join("; ")}.` : ""),
  );
}

async function createIntermediate(ctx: ToolContext, mount: SafePath, args: CreateArgs): Promise<ToolAnswer<Created>> {
  const { vault } = ctx;
  const name = args.issuer_name !== undefined ? checkIssuerName(args.issuer_name) : undefined;
  const parentRef = safeName(args.parent_issuer ?? "default", "parent_issuer");
  const parent = await pkiMount(ctx, args.parent_mount, "parent_mount");
  await refuseTakenName(vault, mount, name);
  const ttl = args.ttl ?? INTERMEDIATE_TTL;

  let csr: string;
  let keyId: string;
  try {
    const res = await vault.write<{ csr?: string; key_id?: string }>(apiPath(mount, "issuers/generate/intermediate/internal"), {
      common_name: args.common_name,
      ...keyArgs(args),
    });
    if (!res.data?.csr || !res.data.key_id) throw new Error("Vault answered without csr or key_id");
    ({ csr, key_id: keyId } = res.data as { csr: string; key_id: string });
  } catch (err) {
    const why = refusal(err);
    if (why) throw new ToolError(`Vault refused to generate the intermediate's key in ${mount.display}/: ${why}. Nothing was created; check key_type and key_bits.`);
    throw err;
  }
  const undo: Undo[] = [{ what: `deleted the generated key ${keyId} from ${mount.display}/`, run: () => vault.delete(apiPath(mount, "key", safeName(keyId, "key_id"))) }];

  let step: Step = {
    doing: `having issuer "${parentRef.display}" of ${parent.display}/ sign it`,
    hint:
      `Check that parent_issuer names an issuer with a key (list_pki_issuers(mount="${parent.display}")) ` +
      `and that ttl (${ttl}) ends before that issuer's certificate expires (read_pki_issuer shows it).`,
  };
  let made: { issuerId: string; certificate: string; warnings: string[] };
  try {
    const signed = await vault.write<{ certificate?: string; ca_chain?: string[]; serial_number?: string }>(apiPath(parent, "issuer", parentRef, "sign-intermediate"), {
      csr,
      common_name: args.common_name,
      ttl,
      format: "pem_bundle",
    });
    const serial = signed.data?.serial_number;
    if (serial) {
      undo.push({ what: `revoked the unused certificate ${serial} that ${parent.display}/ had signed`, run: () => vault.write(apiPath(parent, "revoke"), { serial_number: serial }) });
    }
    // The pem_bundle is the certificate and its chain; set-signed needs the chain to link the new issuer to its parent.
    const bundle = [...new Set([...pemCertificates(signed.data?.certificate ?? ""), ...(signed.data?.ca_chain ?? []).flatMap(pemCertificates)])];
    const certificate = bundle[0];
    if (!certificate) throw new Error("Vault answered sign-intermediate without a certificate");

    step = { doing: `importing the signed certificate into ${mount.display}/` };
    const imported = await vault.write<ImportResult>(apiPath(mount, "intermediate/set-signed"), { certificate: bundle.join("\n") });
    const newIssuers = imported.data?.imported_issuers ?? [];
    for (const id of newIssuers) undo.push({ what: `deleted issuer ${id} from ${mount.display}/`, run: () => vault.delete(apiPath(mount, "issuer", safeName(id, "issuer_id"))) });
    const issuerId = Object.entries(imported.data?.mapping ?? {}).find(([, key]) => key === keyId)?.[0];
    if (!issuerId) throw new Error(`Vault imported the signed certificate but mapped no issuer to key ${keyId}`);

    if (name) {
      step = { doing: `naming the issuer "${name}"` };
      await vault.patch(apiPath(mount, "issuer", safeName(issuerId, "issuer_id")), { issuer_name: name });
    }
    made = { issuerId, certificate, warnings: [...(signed.warnings ?? []), ...(imported.warnings ?? [])] };
  } catch (err) {
    throw await rollBack(undo, step, err);
  }
  // Complete from here on: nothing below may undo it.
  const base = {
    mount: mount.display,
    type: "intermediate" as const,
    issuer_id: made.issuerId,
    issuer_name: name ?? "",
    key_id: keyId,
    parent_mount: parent.display,
    parent_issuer: parentRef.display,
  };
  return created(vault, mount, base, made.certificate, made.warnings, nextRole(mount, name ?? made.issuerId));
}

async function importBundle(ctx: ToolContext, mount: SafePath, args: CreateArgs): Promise<ToolAnswer<Created>> {
  const pem = args.pem_bundle ?? "";
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(pem)) {
    throw new ToolError('Invalid argument "pem_bundle": it holds no PEM block. Pass the PEM text itself ("-----BEGIN CERTIFICATE-----..."), not a file name.');
  }
  let res;
  try {
    res = await ctx.vault.write<ImportResult>(apiPath(mount, "issuers/import/bundle"), { pem_bundle: pem });
  } catch (err) {
    const why = refusal(err);
    if (why) throw new ToolError(`Vault refused to import the bundle into ${mount.display}/: ${why}. Nothing was imported.`);
    throw err;
  }
  const issuers = res.data?.imported_issuers ?? [];
  const keys = res.data?.imported_keys ?? [];
  const mapping = res.data?.mapping ?? {};
  // Vault 1.14 omits existing_issuers; the mapping names every issuer of the bundle, new or not.
  const existing = Object.keys(mapping).filter((id) => !issuers.includes(id));
  const keyless = issuers.filter((id) => !mapping[id]);
  const lines = [
    `Imported ${issuers.length} issuer(s) and ${keys.length} key(s) into ${mount.display}/.`,
    ...(issuers.length > 0 ? [`New issuers: ${issuers.join(", ")}`] : []),
    ...(existing.length > 0 ? [`Already present, left unchanged: ${existing.join(", ")}`] : []),
    ...(keyless.length > 0 ? [`Without a private key in Vault, these can only complete chains, not issue certificates: ${keyless.join(", ")}`] : []),
    `Use list_pki_issuers(mount="${mount.display}") to see every issuer and which is the default.`,
  ];
  return {
    text: lines.join("\n") + vaultNotes(res.warnings),
    structured: { mount: mount.display, type: "import", imported_issuers: issuers, imported_keys: keys },
  };
}

export const createPkiIssuer = defineTool({
  name: "create_pki_issuer",
  title: "Create a PKI issuer (CA)",
  description:
    'Creates a certificate authority in a PKI mount. type="root": a self-signed root CA (common_name). ' +
    'type="intermediate": a CA whose key is generated here and whose certificate is signed by an issuer of parent_mount (common_name, parent_mount); ' +
    'if a step fails, what earlier steps made is removed. type="import": CA certificates and keys from a PEM bundle (pem_bundle).',
  input: CreateInput,
  output: CreatedIssuer,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    checkCombination(args);
    const mount = await pkiMount(ctx, args.mount);
    if (args.type === "root") return createRoot(ctx, mount, args);
    if (args.type === "intermediate") return createIntermediate(ctx, mount, args);
    return importBundle(ctx, mount, args);
  },
});

const IssuerEntry = Type.Object({ issuer_id: Type.String(), issuer_name: Type.String(), is_default: Type.Boolean(), serial: Type.Optional(Type.String()) });

export const listPkiIssuers = defineTool({
  name: "list_pki_issuers",
  title: "List PKI issuers",
  description: "Lists the issuers (CA certificates) of a PKI mount with their IDs and names, marking the default issuer.",
  input: Type.Object({ mount: MountArg }),
  output: Type.Object({ mount: Type.String(), default_issuer: Type.Optional(Type.String()), issuers: Type.Array(IssuerEntry) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await pkiMount(ctx, args.mount);
    const { keys, keyInfo } = await ctx.vault.list(apiPath(mount, "issuers"));
    const def = await defaultIssuer(ctx.vault, mount);
    const issuers = keys.map((id) => {
      const info = (keyInfo[id] ?? {}) as { issuer_name?: string; serial_number?: string };
      return { issuer_id: id, issuer_name: info.issuer_name ?? "", is_default: id === def, ...(info.serial_number ? { serial: info.serial_number } : {}) };
    });
    const structured = { mount: mount.display, ...(def ? { default_issuer: def } : {}), issuers };
    if (issuers.length === 0) {
      return {
        text: `${mount.display}/ has no issuers yet. Create one with create_pki_issuer(mount="${mount.display}", type="root", common_name="Example Root CA").`,
        structured,
      };
    }
    const lines = issuers.map((i) => `- ${i.issuer_id}${i.issuer_name ? ` "${i.issuer_name}"` : ""}${i.is_default ? " (default)" : ""}`);
    return {
      text:
        `${issuers.length} issuer(s) in ${mount.display}/:\n${lines.join("\n")}\n` +
        `read_pki_issuer(mount="${mount.display}", issuer="<name or id>") shows one's certificate and validity.`,
      structured,
    };
  },
});

export const readPkiIssuer = defineTool({
  name: "read_pki_issuer",
  title: "Read a PKI issuer",
  description: "Reads one issuer of a PKI mount, by name, ID or \"default\": its CA certificate, chain, key ID, subject and validity.",
  input: Type.Object({
    mount: MountArg,
    issuer: Type.String({ description: 'Issuer name or ID (list_pki_issuers shows them), or "default"', default: "default", minLength: 1 }),
  }),
  output: Type.Object({
    mount: Type.String(),
    issuer_id: Type.String(),
    issuer_name: Type.String(),
    key_id: Type.String({ description: 'The issuer\'s key in Vault; "" when Vault holds no key for it' }),
    is_default: Type.Boolean(),
    common_name: Type.String(),
    serial: Type.String(),
    not_before: Type.String({ description: "ISO 8601, read from the certificate" }),
    not_after: Type.String({ description: "ISO 8601, read from the certificate" }),
    certificate: Type.String({ description: "PEM" }),
    ca_chain: Type.Array(Type.String(), { description: "PEM certificates from this issuer up to its root, as far as the mount knows them" }),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const ref = safeName(args.issuer, "issuer");
    const mount = await pkiMount(ctx, args.mount);
    let res;
    try {
      res = await ctx.vault.read<{ issuer_id?: string; issuer_name?: string; key_id?: string; certificate?: string; ca_chain?: string[] | null }>(apiPath(mount, "issuer", ref));
    } catch (err) {
      // Vault answers an unknown reference with 400, and "default" on a mount without issuers with 500.
      if (!(err instanceof VaultError && err.errors.some((e) => /unable to (find|resolve)|no default issuer/i.test(e)))) throw err;
      res = null;
    }
    const d = res?.data;
    if (!d?.certificate || !d.issuer_id) {
      throw new ToolError(
        `${mount.display}/ has no issuer "${ref.display}". Use list_pki_issuers(mount="${mount.display}") to see its issuers, ` +
          `or create_pki_issuer(mount="${mount.display}", type="root", common_name="...") to create one.`,
      );
    }
    const facts = certificateFacts(d.certificate);
    const isDefault = (await defaultIssuer(ctx.vault, mount)) === d.issuer_id;
    const chain = d.ca_chain ?? [];
    const label = d.issuer_name ? `"${d.issuer_name}" (${d.issuer_id})` : d.issuer_id;
    return {
      text:
        `Issuer ${label} in ${mount.display}/${isDefault ? " (the default issuer)" : ""}: CN=${facts.common_name}, serial ${facts.serial}, ` +
        `valid from ${facts.not_before} to ${facts.not_after}, ${d.key_id ? `key ${d.key_id}` : "no key in Vault (it cannot issue)"}, ` +
        `chain of ${chain.length} certificate(s).\n${d.certificate.trim()}`,
      structured: {
        mount: mount.display,
        issuer_id: d.issuer_id,
        issuer_name: d.issuer_name ?? "",
        key_id: d.key_id ?? "",
        is_default: isDefault,
        ...facts,
        certificate: d.certificate,
        ca_chain: chain,
      },
    };
  },
});

export const pkiIssuerTools = [createPkiIssuer, listPkiIssuers, readPkiIssuer];
