// Safe Vault paths: every mount and secret path is split, checked segment by segment and percent-encoded,
// so an argument can never climb out of its mount or name another part of Vault's API.

/** A path segment list that passed every check; `encoded` is ready to be placed in a URL. */
export interface SafePath {
  readonly segments: readonly string[];
  /** Segments joined by "/", as a person would write it (no leading or trailing slash). */
  readonly display: string;
  /** Segments percent-encoded one by one and joined by "/". */
  readonly encoded: string;
}

/** Thrown before any request is made; `argument` names the tool argument at fault. */
export class PathError extends Error {
  constructor(
    readonly argument: string,
    readonly reason: string,
  ) {
    super(`invalid ${argument}: ${reason}`);
    this.name = "PathError";
  }
}

const MAX_SEGMENT = 255;
const MAX_PATH = 1024;
// C0 controls, DEL and C1 controls: none has any business in a Vault path, and some (NUL, CR, LF) are attacks.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A UTF-16 surrogate without its pair: not a character, so it has no UTF-8 form (encodeURIComponent throws on it).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// What Go's unicode.IsPrint accepts: letters, marks, numbers, punctuation, symbols and the ASCII space. Vault answers
// any other character in a path (U+200B, U+202E, U+FEFF, U+00A0, private-use, unassigned, noncharacters) with a bare 400.
const NOT_PRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;
// A percent sign followed by two hex digits would be decoded by some hop on the way and could smuggle a "/" or "..".
const PERCENT_ESCAPE = /%[0-9a-fA-F]{2}/;
// Top-level API prefixes that are not secret engines: a mount argument must never reach them.
const RESERVED_MOUNTS = new Set(["sys", "auth", "identity"]);
// Vault mounts that exist in every Vault and cannot be created, moved or removed.
const BUILTIN_MOUNTS = new Set(["sys", "auth", "identity", "cubbyhole", "token"]);

export const LONE_SURROGATE_REASON =
  "contains an unpaired UTF-16 surrogate (a lone \\uD800-\\uDFFF code unit), which is not valid Unicode and cannot be sent to Vault; send well-formed text";

/** True when `text` holds a surrogate code unit without its pair, which no UTF-8 encoder can represent. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** A segment of letters, digits, "_", "-" and inner dots: passes every check below, and encodes as itself. */
const PLAIN_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

function isPlainSegment(segment: string): boolean {
  return segment.length <= MAX_SEGMENT && PLAIN_SEGMENT.test(segment) && !segment.includes("..");
}

function checkSegment(segment: string, argument: string, raw: string): void {
  if (segment === "") throw new PathError(argument, `"${raw}" has an empty segment ("//"); write each part once, separated by single slashes`);
  if (segment === "." || segment === "..") {
    throw new PathError(argument, `"${raw}" contains "${segment}"; relative segments are not allowed, give the path from the mount down`);
  }
  if (LONE_SURROGATE.test(segment)) throw new PathError(argument, LONE_SURROGATE_REASON);
  if (CONTROL.test(segment)) throw new PathError(argument, "contains a control character (NUL, newline, tab or similar); use printable characters only");
  const odd = NOT_PRINTABLE.exec(segment)?.[0];
  if (odd !== undefined) {
    const code = `U+${(odd.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
    throw new PathError(
      argument,
      `contains ${code}, an invisible, format, space-like, private-use or unassigned character that Vault refuses in a path; use letters, digits, punctuation, symbols and plain spaces`,
    );
  }
  if (segment.includes("?") || segment.includes("#")) {
    throw new PathError(argument, `"${raw}" contains "?" or "#"; they are not allowed in Vault paths (pass options as arguments, not in the path)`);
  }
  if (segment.includes("\\")) throw new PathError(argument, `"${raw}" contains a backslash; separate segments with "/"`);
  if (PERCENT_ESCAPE.test(segment)) {
    throw new PathError(argument, `"${raw}" contains a percent-encoded sequence; pass the path unencoded (for example "a/b", not "a%2Fb")`);
  }
  if (segment.includes("..")) {
    throw new PathError(argument, `"${raw}" contains ".."; Vault refuses it inside a path on some engines (KV v1 answers "relative paths not supported"), so write the name without it`);
  }
  if (segment.length > MAX_SEGMENT) throw new PathError(argument, `a segment is longer than ${MAX_SEGMENT} characters`);
}

/**
 * Splits and checks a path relative to something (a mount, or the KV root of a mount).
 * One leading and one trailing slash are tolerated ("/a/b/" is "a/b"); `allowEmpty` lets "" mean the root.
 */
export function safePath(raw: unknown, argument: string, options: { allowEmpty?: boolean } = {}): SafePath {
  if (typeof raw !== "string") throw new PathError(argument, `must be a string, got ${raw === null ? "null" : typeof raw}`);
  if (raw.length > MAX_PATH) throw new PathError(argument, `is longer than ${MAX_PATH} characters`);
  let trimmed = raw;
  if (trimmed.startsWith("/")) trimmed = trimmed.slice(1);
  if (trimmed.endsWith("/")) trimmed = trimmed.slice(0, -1);
  if (trimmed === "") {
    if (options.allowEmpty && raw.length <= 1) return { segments: [], display: "", encoded: "" };
    throw new PathError(argument, 'must not be empty; give a path such as "myapp/database"');
  }
  const segments = trimmed.split("/");
  // Most paths are plain words: one pattern per segment instead of every check, and nothing to encode.
  let plain = true;
  for (const segment of segments) {
    if (isPlainSegment(segment)) continue;
    plain = false;
    checkSegment(segment, argument, raw);
  }
  return {
    segments,
    display: trimmed,
    encoded: plain ? trimmed : segments.map(encodeURIComponent).join("/"),
  };
}

/** A mount path ("secret", "team/kv"): a safe path that does not name one of Vault's own API prefixes. */
export function safeMount(raw: unknown, argument = "mount"): SafePath {
  const path = safePath(raw, argument);
  const first = path.segments[0] as string;
  if (RESERVED_MOUNTS.has(first.toLowerCase())) {
    throw new PathError(argument, `"${path.display}" is Vault's own ${first}/ API, not a secrets engine mount; name a mount such as "secret"`);
  }
  return path;
}

/** A mount path that may be created or deleted: also refuses the mounts every Vault has built in. */
export function manageableMount(raw: unknown, argument = "path"): SafePath {
  const path = safeMount(raw, argument);
  const first = (path.segments[0] as string).toLowerCase();
  if (BUILTIN_MOUNTS.has(first)) {
    throw new PathError(argument, `"${path.display}" is built into Vault and cannot be created or removed; choose another path`);
  }
  return path;
}

/** A single name (role, issuer, key): one segment, same checks. */
export function safeName(raw: unknown, argument: string): SafePath {
  const path = safePath(raw, argument);
  if (path.segments.length !== 1) throw new PathError(argument, `"${path.display}" must be a single name without "/"`);
  return path;
}

/** Joins already-encoded parts into an API path such as "secret/data/myapp/db". Empty parts are skipped. */
export function apiPath(...parts: (SafePath | string)[]): string {
  return parts
    .map((p) => (typeof p === "string" ? p : p.encoded))
    .filter((p) => p !== "")
    .join("/");
}
