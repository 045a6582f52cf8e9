// PKI issuers, the engine's certificate authorities: create_pki_issuer (root, intermediate, import), list_pki_issuers, read_pki_issuer.
import { type Static, Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultError } from "../vault/errors.ts";
import { apiPath, safeName, type SafePath } from "../vault/paths.ts";
import { ToolError } from "./errors.ts";
import { certificateFacts, checkIssuerName, failureWords, keyTypeArg, ListedMountArg, maybeApplied, MountArg, pkiMount, refusal, uniqueKeyName, vaultNotes } from "./pki-common.ts";
import { makeIntermediate } from "./pki-intermediate.ts";
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
  common_name: Type.Optional(Type.String({ description: 'root and intermediate (required): the CA\'s common name, e.g. "Example Root CA"', minLength: 1, vault: "none" })),
  issuer_name: Type.Optional(Type.String({ description: 'root and intermediate: a name for the new issuer, e.g. "root-2025"', minLength: 1, vault: "name" })),
  ttl: Type.Optional(
    Type.String({
      description: `root and intermediate: the CA certificate's lifetime; default ${ROOT_TTL} for a root, ${INTERMEDIATE_TTL} for an intermediate`,
      minLength: 1,
    }),
  ),
  key_type: Type.Optional(keyTypeArg({ description: 'root and intermediate: "rsa" (default), "ec" or "ed25519"' })),
  key_bits: Type.Optional(Type.Integer({ description: "root and intermediate: key size; default 2048 for rsa, 256 for ec; not used by ed25519", minimum: 0, vault: "none" })),
  parent_mount: Type.Optional(Type.String({ description: 'intermediate (required): the PKI mount whose issuer signs the intermediate, e.g. "pki"', minLength: 1, vault: "mount" })),
  parent_issuer: Type.Optional(Type.String({ description: 'intermediate: the signing issuer in parent_mount, by name or ID; default "default"', minLength: 1, vault: "name", vaultOf: "parent_mount" })),
  pem_bundle: Type.Optional(Type.String({ description: "import (required): PEM text of CA certificates, optionally with their private keys", minLength: 1, sensitive: true })),
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
  key_name: Type.Optional(Type.String({ description: "The name given to the issuer's key, unique in the mount" })),
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

/** The mount's issuers now; refuses `name` when one of them has it already. */
async function refuseTakenName(vault: VaultClient, mount: SafePath, name: string | undefined): Promise<Set<string>> {
  const { keys, keyInfo } = await vault.list(apiPath(mount, "issuers"));
  if (name !== undefined && Object.values(keyInfo).some((i) => (i as { issuer_name?: string })?.issuer_name === name)) {
    throw new ToolError(
      `An issuer named "${name}" already exists in ${mount.display}/. Nothing was created. Choose another issuer_name (list_pki_issuers shows the names in use).`,
    );
  }
  return new Set(keys);
}

/** The answer for a new CA certificate, with what the certificate itself says. It exists by now: no failure here may hide that. */
async function created(
  vault: VaultClient,
  mount: SafePath,
  base: Created,
  certificate: string,
  warnings: string[],
  next: string,
  note = "",
): Promise<ToolAnswer<Created>> {
  const facts = certificateFacts(certificate);
  let isDefault: boolean | undefined;
  let unread = "";
  try {
    isDefault = base.issuer_id !== undefined && (await defaultIssuer(vault, mount)) === base.issuer_id;
  } catch (err) {
    unread = ` Whether it is the mount's default issuer could not be read (${err instanceof Error ? err.message : String(err)}); list_pki_issuers(mount="${mount.display}") shows it.`;
  }
  const label = base.issuer_name ? `"${base.issuer_name}" (${base.issuer_id})` : base.issuer_id;
  const signedBy = base.parent_mount ? `, signed by issuer "${base.parent_issuer}" of ${base.parent_mount}/` : "";
  return {
    text:
      `Created ${base.type} issuer ${label} in ${mount.display}/${signedBy}: CN=${facts.common_name}, serial ${facts.serial}, ` +
      `valid from ${facts.not_before} to ${facts.not_after}.${isDefault ? " It is the mount's default issuer." : ""}${unread}${note}` +
      `${vaultNotes(warnings)}\n${next}`,
    structured: { ...base, ...(isDefault !== undefined ? { is_default: isDefault } : {}), ...facts, certificate },
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
  // A name of its own, so that if the answer is lost the root can be found by its key among other callers' keys.
  const keyName = uniqueKeyName(name ?? "root");
  const body = { common_name: args.common_name, ttl: args.ttl ?? ROOT_TTL, ...keyArgs(args), key_name: keyName, ...(name ? { issuer_name: name } : {}) };
  const path = apiPath(mount, "issuers/generate/root/internal");
  let d: { certificate?: string; issuer_id?: string; issuer_name?: string; key_id?: string } | undefined;
  let warnings: string[] = [];
  let note = "";
  try {
    const res = await ctx.vault.write<NonNullable<typeof d>>(path, body);
    d = res.data;
    warnings = res.warnings ?? [];
  } catch (err) {
    const why = refusal(err);
    if (why) {
      throw new ToolError(`Vault refused to create the root issuer in ${mount.display}/: ${why}. Nothing was created; check common_name, ttl, key_type, key_bits and issuer_name.`);
    }
    if (!maybeApplied(err)) throw err;
    d = await findLostRoot(ctx.vault, mount, keyName, err);
    note = ` Vault's answer to its creation did not arrive whole (${err instanceof Error ? err.message : String(err)}), so this was read back from Vault.`;
  }
  if (!d?.certificate || !d.issuer_id) throw new Error(`Vault answered ${path} without a certificate or issuer_id`);
  const base = { mount: mount.display, type: "root" as const, issuer_id: d.issuer_id, issuer_name: d.issuer_name ?? "", key_id: d.key_id ?? "", key_name: keyName };
  return created(ctx.vault, mount, base, d.certificate, warnings, nextRole(mount, name ?? "default"), note);
}

/**
 * After a root's generation lost its answer: the root it made, found by its key's name and read back; or an error that
 * says, as checked, that none was made, or what to look for when the check itself fails.
 */
async function findLostRoot(vault: VaultClient, mount: SafePath, keyName: string, err: unknown): Promise<{ certificate?: string; issuer_id?: string; issuer_name?: string; key_id?: string }> {
  const failed = `Creating the root issuer in ${mount.display}/ failed: ${failureWords(err)}.`;
  const late = err instanceof VaultError && err.failure === "timeout";
  try {
    const { keyInfo } = await vault.list(apiPath(mount, "keys"));
    const keyId = Object.entries(keyInfo).find(([, info]) => (info as { key_name?: string })?.key_name === keyName)?.[0];
    if (!keyId) {
      throw new ToolError(
        `${failed}\nChecked: no root was made (no key is named ${keyName} in ${mount.display}/).` +
          (late ? ` Vault did not answer in time and may still be working on it: list_pki_issuers(mount="${mount.display}") in a minute shows whether it finished.` : " Nothing was created; the call may be retried."),
      );
    }
    for (const id of (await vault.list(apiPath(mount, "issuers"))).keys) {
      const issuer = await vault.read<{ certificate?: string; issuer_id?: string; issuer_name?: string; key_id?: string }>(apiPath(mount, "issuer", safeName(id, "issuer_id")));
      if (issuer?.data?.key_id === keyId) return issuer.data;
    }
    throw new ToolError(
      `${failed}\nVault made the key ${keyId} ("${keyName}") but no issuer for it. Remove the key with vault delete ${mount.display}/key/${keyId}, then retry.`,
    );
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new ToolError(
      `${failed}\nWhat it made could not be checked (${e instanceof Error ? e.message : String(e)}). ` +
        `A root made by this call has the key named ${keyName}: list_pki_issuers(mount="${mount.display}") and vault list ${mount.display}/keys show whether it exists.`,
    );
  }
}

async function createIntermediate(ctx: ToolContext, mount: SafePath, args: CreateArgs): Promise<ToolAnswer<Created>> {
  const { vault } = ctx;
  const name = args.issuer_name !== undefined ? checkIssuerName(args.issuer_name) : undefined;
  const parentRef = safeName(args.parent_issuer ?? "default", "parent_issuer");
  const parent = await pkiMount(ctx, args.parent_mount, "parent_mount");
  const issuersBefore = await refuseTakenName(vault, mount, name);
  const made = await makeIntermediate(vault, {
    mount,
    parent,
    parentRef,
    commonName: args.common_name ?? "",
    ...(name ? { name } : {}),
    ttl: args.ttl ?? INTERMEDIATE_TTL,
    key: keyArgs(args),
    issuersBefore,
  });
  // Complete from here on: nothing below may undo it.
  const base = {
    mount: mount.display,
    type: "intermediate" as const,
    issuer_id: made.issuerId,
    issuer_name: name ?? "",
    key_id: made.keyId,
    key_name: made.keyName,
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
  toolset: "pki",
  title: "Create a PKI issuer (CA)",
  description:
    'Creates a certificate authority in a PKI mount. type="root": a self-signed root CA (common_name). ' +
    'type="intermediate": a CA whose key is generated here and whose certificate is signed by an issuer of parent_mount (common_name, parent_mount); ' +
    'if a step fails, what earlier steps made (key, issuer, the parent\'s certificate) is removed and checked, and the answer names by id anything that could not be. type="import": CA certificates and keys from a PEM bundle (pem_bundle).',
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

const IssuerEntry = Type.Object({ issuer_id: Type.String({ vault: "name" }), issuer_name: Type.String({ vault: "name" }), is_default: Type.Boolean(), serial: Type.Optional(Type.String()) });

export const listPkiIssuers = defineTool({
  name: "list_pki_issuers",
  toolset: "pki",
  title: "List PKI issuers",
  description: "Lists the issuers (CA certificates) of a PKI mount with their IDs and names, marking the default issuer.",
  input: Type.Object({ mount: ListedMountArg }),
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
    // Rendered from the view: a policy may show fewer issuers than Vault listed.
    const render = (view: { issuers: typeof issuers }) => {
      const lines = view.issuers.map((i) => `- ${i.issuer_id}${i.issuer_name ? ` "${i.issuer_name}"` : ""}${i.is_default ? " (default)" : ""}`);
      return (
        `${view.issuers.length} issuer(s) in ${mount.display}/:\n${lines.join("\n")}\n` +
        `read_pki_issuer(mount="${mount.display}", issuer="<name or id>") shows one's certificate and validity.`
      );
    };
    return { text: render, structured };
  },
});

export const readPkiIssuer = defineTool({
  name: "read_pki_issuer",
  toolset: "pki",
  title: "Read a PKI issuer",
  description: "Reads one issuer of a PKI mount, by name, ID or \"default\": its CA certificate, chain, key ID, subject and validity.",
  input: Type.Object({
    mount: MountArg,
    issuer: Type.String({ description: 'Issuer name or ID (list_pki_issuers shows them), or "default"', default: "default", minLength: 1, vault: "name" }),
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
