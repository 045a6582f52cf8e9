// Globs over tool names and over Vault paths as a person writes them ("secret/myapp/*", "pki/+/web-*"), matched exactly.

/**
 * One rule as the operator wrote it, compiled. `*` matches any characters, "/" included (as in Vault's own policy
 * paths); `+` as a whole path segment matches exactly one segment; everything else is literal and case-sensitive, as
 * Vault paths are. A path rule ending in "/*" also covers the folder itself ("secret/myapp/*" covers "secret/myapp").
 */
export interface Glob {
  /** As written, to name the rule that decided. */
  readonly source: string;
  matches(target: string): boolean;
  /** Whether `folder` or something beneath it ("folder/...") could match: a listing of `folder` may then show what does. */
  reachesUnder(folder: string): boolean;
}

type Token = string | typeof STAR | typeof PLUS;
const STAR = Symbol("*");
const PLUS = Symbol("+");
const SPECIAL = /[.*+?^${}()|[\]\\]/g;

function tokenize(text: string, paths: boolean): Token[] {
  const tokens: Token[] = [];
  const segments = paths ? text.split("/") : [text];
  segments.forEach((seg, i) => {
    if (i > 0) tokens.push("/");
    if (paths && seg === "+") return void tokens.push(PLUS);
    for (const ch of seg) tokens.push(ch === "*" ? STAR : ch);
  });
  return tokens;
}

function regexOf(tokens: readonly Token[]): string {
  return tokens.map((t) => (t === STAR ? ".*" : t === PLUS ? "[^/]+" : t.replace(SPECIAL, "\\$&"))).join("");
}

/** Whether some string that is `folder` or begins with `folder/` matches tokens[ti..] given folder[fi..] is still to match. */
function reach(tokens: readonly Token[], ti: number, folder: string, fi: number): boolean {
  if (fi === folder.length) {
    // The folder is used up: what is left of the rule must fit the folder itself (nothing left) or a path beneath it.
    return ti === tokens.length || tokens[ti] === "/" || tokens[ti] === STAR;
  }
  if (ti === tokens.length) return false;
  const t = tokens[ti];
  // A star can swallow the rest of the folder and a "/" after it; what follows can then be chosen to fit.
  if (t === STAR) return true;
  if (t === PLUS) {
    for (let j = fi + 1; j <= folder.length && folder[j - 1] !== "/"; j++) if (reach(tokens, ti + 1, folder, j)) return true;
    return false;
  }
  return folder[fi] === t && reach(tokens, ti + 1, folder, fi + 1);
}

/** Compiles one glob; `what` names the setting in the error when the rule is not usable. */
export function compileGlob(source: string, what: string, paths: boolean): Glob {
  const text = source.trim();
  if (text === "") throw new Error(`${what}: an empty rule matches nothing; remove it`);
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new Error(`${what}: rule ${JSON.stringify(source)} contains a control character`);
  if (paths && (text.startsWith("/") || text.endsWith("/") || text.includes("//"))) {
    throw new Error(`${what}: rule "${text}" must be written as mount/path with single slashes and none at either end, e.g. "secret/myapp/*"`);
  }
  const tokens = tokenize(text, paths);
  const folderToo = paths && text.endsWith("/*") ? `|${regexOf(tokens.slice(0, -2))}` : "";
  const full = new RegExp(`^(?:${regexOf(tokens)}${folderToo})$`, "s");
  return {
    source: text,
    matches: (target) => full.test(target),
    reachesUnder: (folder) => full.test(folder) || (paths && reach(tokens, 0, folder, 0)),
  };
}

/** Several globs (from a comma-separated setting or a YAML list), compiled. */
export function compileGlobs(sources: readonly string[], what: string, paths: boolean): Glob[] {
  return sources.map((s) => compileGlob(s, what, paths));
}

/** The first glob that matches `target`, or undefined. */
export function firstMatch(globs: readonly Glob[], target: string): Glob | undefined {
  for (const g of globs) if (g.matches(target)) return g;
  return undefined;
}
