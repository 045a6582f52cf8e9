// Changing a PKI mount's issuers: delete_pki_issuer and set_default_pki_issuer (creating and reading them is pki-issuers.ts).
import { Type } from "@sinclair/typebox";
import { safeName, type SafePath } from "../vault/paths.ts";
import { defaultIssuerId, deleteIssuer, type IssuerRef, resolveIssuer, setDefaultIssuer } from "../vault/pki.ts";
import { ToolError } from "./errors.ts";
import { MountArg, pkiMount, refusal, vaultNotes } from "./pki-common.ts";
import { defineTool, type ToolContext } from "./registry.ts";

const IssuerArg = Type.String({ description: 'Issuer name or ID (list_pki_issuers shows them), or "default"', minLength: 1, vault: "name" });

function label(i: IssuerRef): string {
  return i.issuer_name ? `"${i.issuer_name}" (${i.issuer_id})` : i.issuer_id;
}

/** The issuer `raw` names in the mount, or an error that says how to find the right one. */
async function issuerNamed(ctx: ToolContext, mount: SafePath, raw: string): Promise<IssuerRef> {
  const found = await resolveIssuer(ctx.vault, mount, safeName(raw, "issuer"));
  if (found) return found;
  throw new ToolError(
    `${mount.display}/ has no issuer "${raw}". Use list_pki_issuers(mount="${mount.display}") to see its issuers by name and ID. Nothing was changed.`,
  );
}

export const deletePkiIssuer = defineTool({
  name: "delete_pki_issuer",
  toolset: "pki",
  title: "Delete a PKI issuer",
  description:
    "Deletes an issuer (a CA certificate) from a PKI mount, by name or ID. Cannot be undone: the issuer can no longer sign, and Vault stops publishing its CRL; " +
    "certificates it signed stay valid until they expire, and its key stays in the mount. Refuses the mount's default issuer unless even_if_default=true " +
    "(Vault would leave the mount without a default, so roles with issuer_ref \"default\" stop issuing): set_default_pki_issuer chooses another first.",
  input: Type.Object({
    mount: MountArg,
    issuer: IssuerArg,
    even_if_default: Type.Boolean({ description: "Delete it even if it is the mount's default issuer (default false)", default: false }),
  }),
  output: Type.Object({
    mount: Type.String(),
    issuer_id: Type.String(),
    issuer_name: Type.String(),
    key_id: Type.String({ description: "Its key, which stays in the mount" }),
    was_default: Type.Boolean(),
    deleted: Type.Boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await pkiMount(ctx, args.mount);
    const issuer = await issuerNamed(ctx, mount, args.issuer);
    const wasDefault = (await defaultIssuerId(ctx.vault, mount)) === issuer.issuer_id;
    if (wasDefault && !args.even_if_default) {
      throw new ToolError(
        `Issuer ${label(issuer)} is the default issuer of ${mount.display}/: deleting it would leave the mount without one, and roles with issuer_ref "default" ` +
          `could no longer issue. Nothing was deleted. Make another issuer the default first with set_default_pki_issuer(mount="${mount.display}", issuer="<name or id>"), ` +
          "or pass even_if_default=true to delete it anyway.",
      );
    }
    let warnings;
    try {
      warnings = await deleteIssuer(ctx.vault, mount, issuer.issuer_id);
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused to delete issuer ${label(issuer)} from ${mount.display}/: ${why}. Nothing was deleted.`);
      throw err;
    }
    return {
      text:
        `Deleted issuer ${label(issuer)} from ${mount.display}/. This cannot be undone: it signs nothing more and its CRL is no longer published; ` +
        `certificates it signed stay valid until they expire.${issuer.key_id ? ` Its key ${issuer.key_id} stays in the mount.` : ""}` +
        `${wasDefault ? ` It was the default issuer: the mount has none now; choose one with set_default_pki_issuer(mount="${mount.display}", issuer="<name or id>").` : ""}` +
        vaultNotes(warnings),
      structured: { mount: mount.display, ...issuer, was_default: wasDefault, deleted: true },
    };
  },
});

export const setDefaultPkiIssuer = defineTool({
  name: "set_default_pki_issuer",
  toolset: "pki",
  title: "Set the default PKI issuer",
  description:
    'Makes an issuer, by name or ID, the default of its PKI mount: the one roles with issuer_ref "default" (the usual) sign with, and whose CA certificate ' +
    "<mount>/ca serves. Certificates already issued are not changed.",
  input: Type.Object({ mount: MountArg, issuer: IssuerArg }),
  output: Type.Object({
    mount: Type.String(),
    default_issuer: Type.String({ description: "The ID Vault now has as the default" }),
    issuer_name: Type.String(),
    previous_default: Type.Optional(Type.String()),
    changed: Type.Boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await pkiMount(ctx, args.mount);
    const issuer = await issuerNamed(ctx, mount, args.issuer);
    const before = await defaultIssuerId(ctx.vault, mount);
    let res;
    try {
      res = await setDefaultIssuer(ctx.vault, mount, issuer.issuer_id);
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused to make ${label(issuer)} the default issuer of ${mount.display}/: ${why}. The default is unchanged.`);
      throw err;
    }
    const now = res.data?.default;
    if (now !== issuer.issuer_id) {
      throw new ToolError(`Vault answered the default issuer of ${mount.display}/ as ${now ?? "(none)"}, not ${issuer.issuer_id}. list_pki_issuers(mount="${mount.display}") shows which it is.`);
    }
    const changed = before !== now;
    return {
      text:
        `${changed ? "Made" : "Left"} issuer ${label(issuer)} the default issuer of ${mount.display}/${changed ? (before ? ` (it was ${before})` : "") : " (it already was)"}.` +
        `${issuer.key_id ? "" : " It has no key in Vault, so roles that use the default cannot issue until an issuer with a key is the default."}` +
        `${vaultNotes(res.warnings)}\nRoles with issuer_ref "default" now sign with it; issue_pki_certificate or sign_pki_csr uses it.`,
      structured: { mount: mount.display, default_issuer: now, issuer_name: issuer.issuer_name, ...(before ? { previous_default: before } : {}), changed },
    };
  },
});

export const pkiIssuerAdminTools = [deletePkiIssuer, setDefaultPkiIssuer];
