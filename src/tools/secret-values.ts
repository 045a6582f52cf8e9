// MCP_SECRET_VALUES: how values declared sensitive reach the model (revealed, masked, or wrapped for a person), in one place.
import { createHmac, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { VaultClient } from "../vault/client.ts";
import { VaultAuthError, VaultError } from "../vault/errors.ts";
import { type WrapInfo, wrapData } from "../vault/wrapping.ts";
import type { Found } from "./sensitive.ts";

export type SecretValuesMode = "reveal" | "mask" | "wrap";
export const SECRET_VALUES_MODES: readonly SecretValuesMode[] = ["reveal", "mask", "wrap"];

/** The operator's choice and what it needs. Never from a tool argument. */
export interface SecretValuesSettings {
  readonly mode: SecretValuesMode;
  /** wrap: how long a wrapping token can be opened (MCP_WRAP_TTL). */
  readonly wrapTtlSeconds: number;
  /** mask: the HMAC key of fingerprints (MCP_MASK_KEY / MCP_MASK_KEY_FILE, or drawn per process). */
  readonly maskKey: KeyObject;
}

export function secretValuesSettings(mode: SecretValuesMode, wrapTtlSeconds: number, maskKey?: string): SecretValuesSettings {
  // Without an operator's key, fingerprints hold within this process only: equal values still match each other.
  const key = createSecretKey(maskKey !== undefined ? Buffer.from(maskKey, "utf8") : randomBytes(32));
  return Object.freeze({ mode, wrapTtlSeconds, maskKey: key });
}

/** How a tool's renderer is told what became of its sensitive values. */
export interface Disclosure {
  mode: SecretValuesMode;
  /** wrap mode, but wrapping failed: the values reached no one (the view shows them masked). */
  undelivered?: boolean;
}

// ---- Fingerprints and markers -------------------------------------------------------------------------------------

const FINGERPRINT_PREFIX = "vmfp:";
/** Fingerprints recently shown, so a bare one written back (without its prefix) is recognised too. */
const recent = new Set<string>();
const RECENT_MAX = 4096;

/** The first 64 bits of HMAC-SHA256 over the value's JSON: equal values match, and without the key nothing is learnt. */
export function fingerprint(key: KeyObject, value: unknown): string {
  const hex = createHmac("sha256", key)
    .update(JSON.stringify(value) ?? "null")
    .digest("hex")
    .slice(0, 16);
  recent.delete(hex);
  recent.add(hex);
  if (recent.size > RECENT_MAX) recent.delete(recent.values().next().value as string);
  return FINGERPRINT_PREFIX + hex;
}

function characters(s: string): number {
  return [...s].length;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

export function maskMarker(value: unknown, fp: string): string {
  if (typeof value === "string") return `[masked: ${characters(value)} chars, fingerprint ${fp}]`;
  return `[masked: ${kindOf(value)}, ${characters(JSON.stringify(value) ?? "")} chars of JSON, fingerprint ${fp}]`;
}

export function wrapMarker(label: string): string {
  return `[wrapped: ${JSON.stringify(label)} in the wrapping token]`;
}

/** What stands where a secret value turned up outside its declared field. */
export const WITHHELD = "[withheld: secret value]";

const MARKER = /\[(masked|wrapped|withheld): /;
const FINGERPRINT = /vmfp:[0-9a-f]{8,}/i;
const BARE_FINGERPRINT = /^[0-9a-f]{16}$/;

/** Why a value sent to be stored is one of this server's stand-ins rather than a value, or undefined when it is not. */
export function standIn(value: unknown): string | undefined {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") {
      const marker = MARKER.exec(v)?.[1];
      if (marker) return `a ${marker} value marker ("[${marker}: ...]")`;
      if (FINGERPRINT.test(v)) return 'a fingerprint of a masked value ("vmfp:...")';
      const bare = v.trim().toLowerCase();
      if (BARE_FINGERPRINT.test(bare) && recent.has(bare)) return "the fingerprint of a masked value";
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === "object") stack.push(...Object.values(v));
  }
  return undefined;
}

/** The refusal for a stand-in sent where a value to store belongs. */
export function standInRefusal(argument: string, what: string): string {
  return (
    `Invalid argument "${argument}": it holds ${what}, which is how this server shows a secret value it does not reveal, ` +
    "not a value. Storing it would replace the real value with the stand-in, so nothing was sent to Vault. " +
    "To keep the current value, leave this key out (writes merge); to change it, give the new value itself, " +
    "or let generate_secret make one that no one sees."
  );
}

// ---- Values outside their declared fields ------------------------------------------------------------------------

/** Shorter strings are ordinary words and numbers too often to be withheld wherever they occur. */
export const MIN_WITHHELD = 6;

/** The strings to withhold from an answer: each value's string leaves and, for objects, its JSON text. */
export function secretStrings(values: readonly unknown[]): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    if (s.length >= MIN_WITHHELD) out.add(s);
  };
  const stack = [...values];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") add(v);
    else if (typeof v === "number" || typeof v === "bigint") add(String(v));
    else if (v && typeof v === "object") {
      add(JSON.stringify(v));
      stack.push(...Object.values(v));
    }
  }
  // Longest first, so a value that contains another is withheld whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of a secret (as is, or JSON-escaped) replaced by WITHHELD. */
export function withhold(text: string, secrets: readonly string[]): string {
  return withholdPrepared(text, prepared(secrets));
}

/** Each secret beside its JSON-escaped form (computed once per answer, not once per string). */
function prepared(secrets: readonly string[]): [string, string][] {
  return secrets.map((s) => [s, JSON.stringify(s).slice(1, -1)]);
}

function withholdPrepared(text: string, secrets: readonly [string, string][]): string {
  let out = text;
  for (const [s, escaped] of secrets) {
    if (out.includes(s)) out = out.split(s).join(WITHHELD);
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(WITHHELD);
  }
  return out;
}

/** `value` with `withhold` applied to every string in it: the same object where nothing was withheld, else a copy. */
export function withholdDeep(value: unknown, secrets: readonly string[]): unknown {
  return withholdIn(value, prepared(secrets));
}

function withholdIn(value: unknown, secrets: readonly [string, string][]): unknown {
  if (typeof value === "string") return withholdPrepared(value, secrets);
  if (!value || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const w = withholdIn(v, secrets);
      if (w !== v) changed = true;
      return w;
    });
    return changed ? out : value;
  }
  const entries = Object.entries(value);
  let changed = false;
  const kept = entries.map(([k, v]) => {
    const w = withholdIn(v, secrets);
    if (w !== v) changed = true;
    return w;
  });
  if (!changed) return value;
  const out: Record<string, unknown> = {};
  entries.forEach(([k], i) => Object.defineProperty(out, k, { value: kept[i], enumerable: true, writable: true, configurable: true }));
  return out;
}

// ---- What the model is told ---------------------------------------------------------------------------------------

/** The envelope added to structuredContent of an answer whose values were masked or wrapped; advertised in outputSchema. */
export const SecretValuesInfo = Type.Object(
  {
    mode: Type.Union([Type.Literal("mask"), Type.Literal("wrap")], { description: "The operator's MCP_SECRET_VALUES" }),
    fields: Type.Array(Type.String(), { description: "The values concerned, by key" }),
    read_command: Type.Optional(Type.String({ description: "mask: how a person with Vault access reads the values" })),
    wrapping_token: Type.Optional(Type.String({ description: "wrap: a single-use token holding exactly these values; for a person, via vault unwrap" })),
    ttl_seconds: Type.Optional(Type.Integer()),
    expires_at: Type.Optional(Type.String({ description: "ISO 8601" })),
    unwrap_command: Type.Optional(Type.String()),
    delivered: Type.Optional(Type.Boolean({ description: "wrap: false when wrapping failed, so the values reached no one" })),
  },
  {
    description:
      "Present when the operator masks or wraps secret values. A masked value shows its length and a fingerprint " +
      "(vmfp: and the first 64 bits of an HMAC-SHA256 under the server's key): equal values have equal fingerprints.",
  },
);

const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

/** `word` as one shell word. */
export function shellWord(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

function unwrapCommand(token: string, namespace: string | undefined, field?: string): string {
  return ["vault unwrap", ...(namespace ? [`-namespace=${shellWord(namespace)}`] : []), ...(field ? [`-field=${shellWord(field)}`] : []), token].join(" ");
}

function wrapFailure(err: unknown, ttlSeconds: number): string {
  if (err instanceof VaultError) {
    if (err.isForbidden) return "this server's token may not use sys/wrapping/wrap (it needs update on it, which Vault's default policy grants)";
    if (err.isUncertain) {
      return `${err.message}. Vault may have made a wrapping token whose answer never arrived: no one holds it, and it expires unopened within ${ttlSeconds}s`;
    }
    return err.message;
  }
  if (err instanceof VaultAuthError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export interface Shown {
  /** The structured answer as the model sees it. */
  view: unknown;
  disclosure: Disclosure;
  /** Appended to the text: what became of the values, and how a person reads them. */
  note: string;
  /** Put in front of the text when the values could not be handed over. */
  lead: string;
  envelope?: Record<string, unknown>;
}

/**
 * Masks or wraps the `found` values of `structured` (a copy is made by `replace`) for `settings`. A failed wrap is
 * no failure of the call: the view is masked instead, and the answer says that the values reached no one.
 */
export async function conceal(
  settings: SecretValuesSettings,
  vault: VaultClient,
  found: readonly Found[],
  names: readonly string[],
  replace: (by: (value: unknown, index: number) => string) => unknown,
  humanRead: string | undefined,
): Promise<Shown> {
  const fields = [...names];
  const masked = () => replace((v) => maskMarker(v, fingerprint(settings.maskKey, v)));
  const how = humanRead ? `\nA person with Vault access reads them with: ${humanRead}` : "";
  if (settings.mode === "mask") {
    return {
      view: masked(),
      disclosure: { mode: "mask" },
      lead: "",
      note:
        `\nSecret values are masked by the operator's setting (MCP_SECRET_VALUES=mask): each shows its length and a fingerprint ` +
        `(equal values have equal fingerprints), never the value; a masked value written back is refused.${how}`,
      envelope: { mode: "mask", fields, ...(humanRead ? { read_command: humanRead } : {}) },
    };
  }
  const payload: Record<string, unknown> = {};
  found.forEach((f, i) => Object.defineProperty(payload, names[i]!, { value: f.value, enumerable: true, writable: true, configurable: true }));
  let info: WrapInfo;
  try {
    info = await wrapData(vault, payload, settings.wrapTtlSeconds);
  } catch (err) {
    return {
      view: masked(),
      disclosure: { mode: "wrap", undelivered: true },
      lead:
        `Wrapping the secret values of this answer (${fields.join(", ")}) failed: ${wrapFailure(err, settings.wrapTtlSeconds)}. ` +
        "They are not shown (MCP_SECRET_VALUES=wrap) and reached no one; below they are masked.\n",
      note: "",
      envelope: { mode: "wrap", fields, delivered: false },
    };
  }
  const namespace = vault.namespace;
  const all = unwrapCommand(info.token, namespace);
  const one = unwrapCommand(info.token, namespace, fields[0]);
  return {
    view: replace((_, i) => wrapMarker(names[i]!)),
    disclosure: { mode: "wrap" },
    lead: "",
    note:
      `\nSecret values (${fields.join(", ")}) are wrapped by the operator's setting (MCP_SECRET_VALUES=wrap) in a single-use Vault token, ` +
      `valid for ${info.ttlSeconds}s (until ${info.expiresAt}):\n  ${info.token}\n` +
      `Hand it to the person who needs them; they open it once with: ${all}` +
      ` (${fields.length > 1 ? "one value" : "the value alone"}: ${one})` +
      ". Do not use the token yourself. If vault unwrap says it is invalid before it expires, someone else has opened it: " +
      "treat the values as exposed and replace them.",
    envelope: { mode: "wrap", fields, wrapping_token: info.token, ttl_seconds: info.ttlSeconds, expires_at: info.expiresAt, unwrap_command: all, delivered: true },
  };
}
