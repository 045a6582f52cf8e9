// A catalogue of path attacks and of the ordinary paths that must still work.
import { describe, expect, it } from "bun:test";
import { apiPath, manageableMount, PathError, safeMount, safeName, safePath } from "../../src/vault/paths.ts";

function refusal(fn: () => unknown): PathError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PathError) return err;
    throw err;
  }
  throw new Error("expected a PathError, but the path was accepted");
}

describe("safePath", () => {
  it("accepts an ordinary nested path and encodes each segment", () => {
    const p = safePath("myapp/database", "path");
    expect(p.segments).toEqual(["myapp", "database"]);
    expect(p.display).toBe("myapp/database");
    expect(p.encoded).toBe("myapp/database");
  });

  it("tolerates one leading and one trailing slash", () => {
    expect(safePath("/myapp/db/", "path").display).toBe("myapp/db");
  });

  it("percent-encodes characters that mean something in a URL", () => {
    expect(safePath("team a/key+1&x=y", "path").encoded).toBe("team%20a/key%2B1%26x%3Dy");
  });

  it("keeps names with ordinary spaces, punctuation, symbols and marks", () => {
    for (const raw of ["my app", "café-ä", "a.b_c~d", "naïve", "日本語", "emoji-😀", "x+y=z", "v1.2"]) expect(safePath(raw, "path").display).toBe(raw);
  });

  it("keeps unicode names, encoded", () => {
    expect(safePath("équipe/clé", "path").encoded).toBe("%C3%A9quipe/cl%C3%A9");
  });

  it("allows the empty root only when asked", () => {
    expect(safePath("", "path", { allowEmpty: true }).segments).toEqual([]);
    expect(safePath("/", "path", { allowEmpty: true }).encoded).toBe("");
    expect(refusal(() => safePath("", "path")).reason).toContain("must not be empty");
  });

  const attacks: [string, string, string][] = [
    ["climbs out of its mount", "../../sys/policies/acl/x", 'contains ".."'],
    ["climbs out midway", "myapp/../../sys/seal", 'contains ".."'],
    ["ends by climbing", "myapp/..", 'contains ".."'],
    ["uses a dot segment", "./myapp", 'contains "."'],
    ["has an empty segment", "myapp//db", "empty segment"],
    ["has two leading slashes", "//sys/seal", "empty segment"],
    ["hides a NUL byte", "myapp\u0000/db", "control character"],
    ["splits a line", "myapp\r\nX-Injected: 1", "control character"],
    ["smuggles a tab", "my\tapp", "control character"],
    ["smuggles a C1 control", "my\u0085app", "control character"],
    ["carries a query string", "myapp?list=true", '"?" or "#"'],
    ["carries a fragment", "myapp#x", '"?" or "#"'],
    ["encodes a slash", "myapp%2F..%2Fsys", "percent-encoded"],
    ["encodes a dot-dot", "%2e%2e/sys", "percent-encoded"],
    ["double-encodes", "%252e%252e", "percent-encoded"],
    ["uses a backslash separator", "..\\sys", "backslash"],
    ["carries a lone high surrogate", "\uD800", "unpaired UTF-16 surrogate"],
    ["carries a lone low surrogate mid-segment", "a\uDC00b", "unpaired UTF-16 surrogate"],
    ["carries a surrogate pair in the wrong order", "x/\uDC00\uD800", "unpaired UTF-16 surrogate"],
    ["splits a surrogate pair across a slash", "a\uD83D/\uDE00b", "unpaired UTF-16 surrogate"],
    // Characters Go's unicode.IsPrint refuses: Vault answers them with a bare 400 before it logs anything.
    ["hides a right-to-left override", "\u202e", "U+202E"],
    ["hides a zero-width space", "fz\u200b", "U+200B"],
    ["starts with a byte-order mark", "\ufeffapp", "U+FEFF"],
    ["uses a no-break space", "my\u00a0app", "U+00A0"],
    ["uses a private-use character", "app\ue000", "U+E000"],
    ["uses a noncharacter", "x\ufffe", "U+FFFE"],
    ["uses an unassigned code point", "x\u{10FFFF}", "U+10FFFF"],
    // KV v1 answers ".." anywhere in a path with a 500 "relative paths not supported".
    ["has .. inside a segment", "..app/db", 'contains ".."'],
    ["has .. between letters", "a..b", 'contains ".."'],
    ["is three dots", "...", 'contains ".."'],
  ];
  for (const [what, raw, reason] of attacks) {
    it(`refuses a path that ${what}: ${JSON.stringify(raw)}`, () => {
      const err = refusal(() => safePath(raw, "path"));
      expect(err.argument).toBe("path");
      expect(err.message).toContain(reason);
    });
  }

  it("keeps characters outside the BMP (a well-formed surrogate pair), encoded as UTF-8", () => {
    expect(safePath("keys/\u{1F511}", "path").encoded).toBe("keys/%F0%9F%94%91");
  });

  it("refuses a lone surrogate in a mount or a name as a PathError naming that argument, never a URIError", () => {
    for (const check of [() => safeMount("kv\uD800"), () => manageableMount("\uDFFF"), () => safeName("role\uDBFF", "role_name")]) {
      const err = refusal(check);
      expect(err.reason).toContain("unpaired UTF-16 surrogate");
    }
    expect(refusal(() => safeName("\uD800", "issuer")).message).toStartWith("invalid issuer: contains an unpaired UTF-16 surrogate");
  });

  it("refuses non-strings, naming the argument", () => {
    expect(refusal(() => safePath(42, "path")).message).toBe("invalid path: must be a string, got number");
    expect(refusal(() => safePath(null, "mount")).message).toBe("invalid mount: must be a string, got null");
  });

  it("refuses absurdly long paths and segments", () => {
    expect(refusal(() => safePath("a".repeat(300), "path")).reason).toContain("longer than 255");
    expect(refusal(() => safePath("a/".repeat(600), "path")).reason).toContain("longer than 1024");
  });

  it("never lets an accepted path encode to a traversal", () => {
    for (const raw of ["a/b", "x y/z", "a.b/c.d", ".a.b.", "a/.b", "%/x", "100%"]) {
      const p = safePath(raw, "path");
      expect(p.encoded.split("/")).not.toContain("..");
      expect(p.encoded.split("/")).not.toContain(".");
    }
  });
});

describe("safeMount", () => {
  it("accepts ordinary and nested mounts", () => {
    expect(safeMount("secret").encoded).toBe("secret");
    expect(safeMount("team/kv").display).toBe("team/kv");
  });

  for (const reserved of ["sys", "SYS", "auth", "identity", "sys/policies", "auth/token"]) {
    it(`refuses Vault's own API prefix ${reserved}`, () => {
      const err = refusal(() => safeMount(reserved));
      expect(err.argument).toBe("mount");
      expect(err.reason).toContain("not a secrets engine mount");
    });
  }

  it("refuses traversal in a mount too", () => {
    expect(refusal(() => safeMount("secret/../sys")).reason).toContain('".."');
  });
});

describe("manageableMount", () => {
  for (const builtin of ["cubbyhole", "token", "sys", "identity"]) {
    it(`refuses to create or remove the built-in ${builtin}`, () => {
      expect(refusal(() => manageableMount(builtin)).argument).toBe("path");
    });
  }
  it("accepts a new mount path", () => {
    expect(manageableMount("myapp").display).toBe("myapp");
  });
});

describe("safeName", () => {
  it("accepts one segment", () => {
    expect(safeName("web-server", "role_name").encoded).toBe("web-server");
  });
  it("refuses a name with a slash", () => {
    expect(refusal(() => safeName("web/server", "role_name")).reason).toContain("single name");
  });
  it("refuses a name that climbs", () => {
    expect(refusal(() => safeName("../x", "role_name")).argument).toBe("role_name");
  });
});

describe("apiPath", () => {
  it("joins encoded parts and skips empty ones", () => {
    expect(apiPath(safeMount("secret"), "data", safePath("a b", "path"))).toBe("secret/data/a%20b");
    expect(apiPath(safeMount("secret"), "metadata", safePath("", "path", { allowEmpty: true }))).toBe("secret/metadata");
  });
});
