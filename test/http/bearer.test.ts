// MCP_AUTH=bearer as a catalogue: the tokens file's format, matching in constant time, the header, and rotation.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearerToken } from "../../src/http/auth.ts";
import { BearerTokens, parseTokens } from "../../src/http/bearer.ts";
import { createLogger } from "../../src/log.ts";

const A = "a".repeat(12) + "-token-of-kagent";
const B = "b".repeat(12) + "-token-of-ci-bot";

function tokensFile(text: string): { path: string; rewrite(text: string): void; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "mcp-bearer-"));
  const path = join(dir, "tokens");
  writeFileSync(path, text);
  let n = 0;
  return {
    path,
    // As the kubelet updates a Secret volume: a new file renamed over the old one.
    rewrite(next) {
      const tmp = join(dir, `next-${++n}`);
      writeFileSync(tmp, next);
      renameSync(tmp, path);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe("the tokens file", () => {
  it("reads name:token lines, skipping blank lines and # comments", () => {
    const entries = parseTokens(`# callers\n\nkagent:${A}\n  ci-bot : ${B}  \n`);
    expect(entries.map((e) => e.name)).toEqual(["kagent", "ci-bot"]);
  });

  it("lets a name hold two tokens, for rotation without a gap", () => {
    expect(parseTokens(`kagent:${A}\nkagent:${B}`).map((e) => e.name)).toEqual(["kagent", "kagent"]);
  });

  const bad: [string, string, RegExp][] = [
    ["an empty file", "\n# nothing\n", /no "name:token" line/],
    ["a line without a colon", A, /line 1 must be "name:token"/],
    ["a line with no name", `:${A}`, /line 1 must be "name:token"/],
    ["a name with spaces", `my agent:${A}`, /line 1 must be "name:token"/],
    ["a short token", "kagent:short", /at least 16 characters/],
    ["a token with a space", `kagent:${A} ${B}`, /no spaces/],
    ["one token for two names", `kagent:${A}\nother:${A}`, /line 2 \(other\): the same token appears twice/],
  ];
  for (const [what, text, reason] of bad) {
    it(`refuses ${what}, naming the line but never a token`, () => {
      let message = "";
      try {
        parseTokens(text);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(reason);
      expect(message).toStartWith("MCP_AUTH_TOKENS_FILE: ");
      expect(message).not.toContain(A);
      expect(message).not.toContain(B);
    });
  }
});

describe("matching", () => {
  const file = tokensFile(`kagent:${A}\nci-bot:${B}\n`);
  const tokens = new BearerTokens(file.path, { log: createLogger("error", () => {}) });

  it("names the caller whose token it is", () => {
    expect(tokens.match(A)).toBe("kagent");
    expect(tokens.match(B)).toBe("ci-bot");
  });

  it("knows no look-alike: a prefix, an extension, another case, the name, an empty string", () => {
    for (const t of [A.slice(0, -1), `${A}x`, A.toUpperCase(), "kagent", "", `kagent:${A}`]) expect([t, tokens.match(t)]).toEqual([t, undefined]);
  });

  it("refuses at start-up a file that is missing", () => {
    expect(() => new BearerTokens(join(tmpdir(), "no-such-tokens-file"), { log: createLogger("error", () => {}) })).toThrow(/MCP_AUTH_TOKENS_FILE: cannot read/);
    file.cleanup();
  });
});

describe("the Authorization header", () => {
  it("reads a bearer token in any case of the scheme", () => {
    expect(bearerToken(`Bearer ${A}`)).toBe(A);
    expect(bearerToken(`bearer ${A}`)).toBe(A);
    expect(bearerToken(`BEARER  ${A}`)).toBe(A);
  });

  it("finds none in another scheme, a bare scheme, two words or control characters", () => {
    for (const h of [null, "", `Basic ${A}`, "Bearer", "Bearer ", `Bearer ${A} ${B}`, `Bearer ${A}\u0000`, `${A}`]) expect([h, bearerToken(h)]).toEqual([h, undefined]);
  });
});

describe("rotation", () => {
  it("takes a rewritten file within the recheck interval: the new token works and the removed one stops", async () => {
    const file = tokensFile(`kagent:${A}\n`);
    const logs: string[] = [];
    const tokens = new BearerTokens(file.path, { log: createLogger("info", (l) => logs.push(l)), recheckMs: 0 });
    expect(tokens.match(A)).toBe("kagent");
    file.rewrite(`kagent:${B}\n`);
    expect(tokens.match(B)).toBe("kagent");
    expect(tokens.match(A)).toBeUndefined();
    expect(logs.join("\n")).toContain("re-read MCP_AUTH_TOKENS_FILE");
    expect(logs.join("\n")).not.toContain(B);
    file.cleanup();
  });

  it("keeps the last good tokens when the new file cannot be used, and says why", () => {
    const file = tokensFile(`kagent:${A}\n`);
    const logs: string[] = [];
    const tokens = new BearerTokens(file.path, { log: createLogger("info", (l) => logs.push(l)), recheckMs: 0 });
    file.rewrite("kagent:short\n");
    expect(tokens.match(A)).toBe("kagent");
    expect(logs.join("\n")).toContain("keeping the tokens read before");
    file.cleanup();
  });

  it("checks the file at most once per interval, so a request costs one hash and no file system call", () => {
    const file = tokensFile(`kagent:${A}\n`);
    let now = 0;
    const tokens = new BearerTokens(file.path, { log: createLogger("error", () => {}), recheckMs: 1000, now: () => now });
    file.rewrite(`kagent:${B}\n`);
    now = 999;
    expect(tokens.match(A)).toBe("kagent");
    now = 1000;
    expect(tokens.match(B)).toBe("kagent");
    file.cleanup();
  });
});
