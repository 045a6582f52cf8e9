// Turns any failure inside a tool into text a model can act on: what went wrong, and what to do next.
import type { Journal } from "../vault/client.ts";
import { VaultAuthError, VaultError } from "../vault/errors.ts";
import { MountNotFound, MountNotVisible } from "../vault/mount-info.ts";
import { PathError } from "../vault/paths.ts";

/** A failure whose message is already written for the model (bad arguments, missing things, refusals). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}

const CAPABILITY: Record<string, string> = { GET: "read", LIST: "list", POST: "create/update", PUT: "create/update", PATCH: "patch", DELETE: "delete" };
const OPERATION: Record<string, string> = { GET: "read", LIST: "list", POST: "write to", PUT: "write to", PATCH: "patch", DELETE: "delete" };

/** How a call ended, as a bounded metric label. */
export type CallOutcome = "ok" | "invalid_arguments" | "tool_error" | "denied" | "vault_error" | "uncertain" | "unavailable" | "internal";

export function failureClass(err: unknown): CallOutcome {
  if (err instanceof ToolError || err instanceof PathError || err instanceof MountNotFound) return "tool_error";
  if (err instanceof MountNotVisible) return "denied";
  if (err instanceof VaultAuthError) return "unavailable";
  if (!(err instanceof VaultError)) return "internal";
  if (err.isUncertain) return "uncertain";
  if (err.failure === "http") return err.status === 403 ? "denied" : "vault_error";
  return "unavailable";
}

/** The text of an `isError` tool result for `err`; `unexpected` is true for bugs worth logging. */
export function describeFailure(err: unknown): { text: string; unexpected: boolean } {
  if (err instanceof ToolError) return { text: err.message, unexpected: false };
  if (err instanceof PathError) return { text: `Invalid argument "${err.argument}": ${err.reason}`, unexpected: false };
  if (err instanceof MountNotFound) {
    const hint = err.enclosing
      ? ` "${err.mount}" lies inside the mount "${err.enclosing}": pass mount="${err.enclosing}" and put the rest in path.`
      : ` Use list_mounts to see the mounts that exist, or create_mount(path="${err.mount}", type="kv-v2") to create it.`;
    return { text: `No secrets engine is mounted at ${err.mount}/.${hint}`, unexpected: false };
  }
  if (err instanceof MountNotVisible) {
    return {
      text:
        `Permission denied: this token may touch nothing under ${err.mount}/ (Vault refused to say what is mounted there). Nothing was changed. ` +
        `Use a token whose policy grants a capability on the paths this tool needs under ${err.mount}/ (for KV v2, e.g. "read" on ${err.mount}/data/*), or ask a Vault administrator to add it.`,
      unexpected: false,
    };
  }
  if (err instanceof VaultError) return { text: describeVaultError(err), unexpected: false };
  if (err instanceof VaultAuthError) {
    return {
      text: `The server could not get a Vault token (${err.reason}). Nothing was sent to Vault. An operator should check the auth settings (VAULT_AUTH_METHOD and its credentials); retrying later may work once they are fixed.`,
      unexpected: false,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { text: `Internal error in vault-mcp-server: ${message}. This is a bug; the call may be retried.`, unexpected: true };
}

export function describeVaultError(err: VaultError): string {
  const detail = err.errors.length > 0 ? ` Vault said: ${err.errors.join("; ")}` : "";
  const request = `${err.method} ${err.path}`;
  // What may be said of Vault's state after a request whose answer is not known: a read changed nothing, a write may have.
  const afterUnknown = err.isRead
    ? "It was a read, so it changed nothing; retry the call."
    : "The change may or may not have been applied: read it back before retrying.";
  switch (err.failure) {
    case "unreachable":
      return `Vault at ${err.addr} could not be reached (${err.errors.join("; ")}); the request was never sent, so nothing was changed. Check that Vault is running and that VAULT_ADDR is right.`;
    case "lost":
      return `The connection to Vault at ${err.addr} broke after ${request} was sent and before its answer arrived (${err.errors.join("; ")}). ${afterUnknown}`;
    case "timeout":
      return `Vault at ${err.addr} did not answer ${request} in time. It may be overloaded or unreachable. ${afterUnknown}`;
    case "unreadable":
      return `Vault's answer to ${request} was cut off or unreadable (${err.errors.join("; ")}). ${afterUnknown}`;
    case "sealed":
      return `Vault at ${err.addr} is sealed, so it can neither read nor write; nothing was changed. Ask an operator to unseal it (vault operator unseal), then retry.`;
    case "bad-token":
      return (
        `Vault does not accept the server's own token (lookup-self says it is invalid, expired or revoked), so ${request} was refused and nothing was changed. ` +
        "This is not a missing policy: an operator must give the server a valid token (renew or replace VAULT_TOKEN, rotate the file at VAULT_TOKEN_FILE, or check VAULT_AUTH_METHOD and its role), then retry."
      );
    case "http":
      break;
  }
  if (err.isCasRequired) {
    return (
      `Vault refused ${request}: this secret requires check-and-set (cas_required is set in its metadata, or on its mount), and this write gave none. Nothing was changed. ` +
      "Pass cas=<its current version> (read_secret_metadata shows it), or turn the requirement off with write_secret_metadata(cas_required=false)."
    );
  }
  if (err.status === 403) {
    const op = OPERATION[err.method] ?? err.method.toLowerCase();
    const cap = CAPABILITY[err.method] ?? err.method.toLowerCase();
    return `Permission denied: this token may not ${op} ${err.path} (it needs the "${cap}" capability on that path). Nothing was changed. Use a token whose policy grants it, or ask a Vault administrator to add it. (Vault answers a revoked or expired token the same way; the server checks its token after such an answer, and /readyz reports it.)`;
  }
  if (err.status === 404) return `Vault has nothing at ${err.path}.${detail}`;
  if (err.status === 429) return `Vault is rate-limiting requests (429) on ${err.path}. Wait a moment and retry.${detail}`;
  if (err.status >= 500) {
    const state = err.isRead ? "" : " The change may or may not have been applied: read it back before retrying.";
    return `Vault failed with ${err.status} on ${request}.${detail}${state} If that names something missing or wrong, fix it first; otherwise retry later, and if it persists check Vault's logs.`;
  }
  // Vault's HTTP layer answers a path holding a character Go does not count as printable with a bare 400 before any
  // handler runs. paths.ts refuses those it knows of; a character newer than Vault's Unicode tables still gets here.
  if (err.status === 400 && err.errors.length === 0 && /%[89a-f][0-9a-f]/i.test(err.path)) {
    return (
      `Vault refused ${request} (400) without saying why, as it does for a path holding a character it does not accept ` +
      "(one newer than its Unicode tables, for example). Nothing was changed. Name it with letters, digits and ASCII punctuation instead."
    );
  }
  return `Vault refused ${request} (${err.status}).${detail}`;
}

/** Appended to a failure when earlier requests of the same call changed Vault, or may have. */
export function journalNote(journal: Journal | undefined, err: unknown): string {
  if (!journal) return "";
  const failed = err instanceof VaultError ? `${err.method} ${err.path}` : undefined;
  const earlier = journal.changes().filter((e) => `${e.method} ${e.path}` !== failed || e.outcome === "applied");
  if (earlier.length === 0) return "";
  const applied = earlier.filter((e) => e.outcome === "applied").map((e) => `${e.method} ${e.path}`);
  const uncertain = earlier.filter((e) => e.outcome === "uncertain").map((e) => `${e.method} ${e.path}`);
  return (
    "\nNote: before this failure, this call had already changed Vault" +
    (applied.length > 0 ? ` (applied: ${applied.join(", ")})` : "") +
    (uncertain.length > 0 ? ` (may or may not have been applied: ${uncertain.join(", ")})` : "") +
    ", so do not assume that nothing changed: read back what it touched."
  );
}

/** Vault's warnings, once each, as a line to append to a tool's text. */
export function vaultNotes(warnings: readonly string[] | undefined): string {
  return warnings && warnings.length > 0 ? `\nVault noted: ${[...new Set(warnings)].join(" ")}` : "";
}

/** Vault's own words from a failed request, without the "1 error occurred: * ..." wrapping of Go's multierror. */
export function vaultWords(err: VaultError): string {
  // VaultError has already unwrapped Go's multierror text (cleanVaultErrors).
  return err.errors.join("; ") || `status ${err.status}, no reason given`;
}

/** Vault's own words when it refused a request with 400, or undefined for any other failure. */
export function refusal(err: unknown): string | undefined {
  return err instanceof VaultError && err.failure === "http" && err.status === 400 ? vaultWords(err) : undefined;
}

/** Whether a failed request may have changed Vault: anything but a refusal in Vault's own words or a request never sent. */
export function maybeApplied(err: unknown): boolean {
  if (err instanceof VaultAuthError) return false;
  if (!(err instanceof VaultError)) return true;
  if (err.isUncertain) return true;
  // A 5xx is Vault's own word, but a step can fail after it stored something.
  return err.failure === "http" && err.status >= 500;
}

/** A failure in one line, for a message that goes on to say what was checked afterwards. */
export function failureWords(err: unknown): string {
  if (err instanceof VaultError) {
    if (err.failure === "http") return vaultWords(err);
    if (err.isUncertain) return `${err.message}, so it may have been applied without an answer`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
