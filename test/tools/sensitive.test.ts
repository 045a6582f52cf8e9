// Sensitive fields without Vault: finding them, masking, refusing stand-ins, and withholding a value a tool let slip.
import { describe, expect, it } from "bun:test";
import { Type } from "@sinclair/typebox";
import { createLogger, silentLogger } from "../../src/log.ts";
import { defineTool, type ToolContext, type ToolDefinition, ToolRegistry } from "../../src/tools/registry.ts";
import { fingerprint, maskMarker, secretValuesSettings, shellWord, standIn, withhold, WITHHELD } from "../../src/tools/secret-values.ts";
import { findSensitive, labels, mapSensitive, sensitiveAt } from "../../src/tools/sensitive.ts";

const noVault = { recording: () => noVault };
function context(mode: "reveal" | "mask", log = silentLogger): ToolContext {
  return { log, vault: noVault, settings: { kv1Merge: "refuse", secretValues: secretValuesSettings(mode, 300, "k".repeat(32)) } } as unknown as ToolContext;
}

const Secret = Type.Object({
  name: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown({ sensitive: true })),
  key: Type.Optional(Type.String({ sensitive: true })),
  items: Type.Optional(Type.Array(Type.Object({ pin: Type.String({ sensitive: true }) }))),
});

describe("finding sensitive values by the schema", () => {
  const value = { name: "db", data: { password: "p4ss", port: 5432, __proto__x: 1 }, key: "PEM", items: [{ pin: "1234" }] };

  it("finds record values, plain fields and fields inside arrays, in document order, and nothing else", () => {
    expect(findSensitive(Secret, value).map((f) => [f.at.join("."), f.value])).toEqual([
      ["data.password", "p4ss"],
      ["data.port", 5432],
      ["data.__proto__x", 1],
      ["key", "PEM"],
      ["items.0.pin", "1234"],
    ]);
  });

  it("copies with replacements and leaves the original as it was", () => {
    const copy = mapSensitive(Secret, value, () => "X");
    expect(copy).toEqual({ name: "db", data: { password: "X", port: "X", __proto__x: "X" }, key: "X", items: [{ pin: "X" }] });
    expect(value.data.password).toBe("p4ss");
  });

  it('keeps a key named "__proto__" as an own key, never the prototype', () => {
    const data = JSON.parse('{"__proto__": "s3cret-proto"}');
    const copy = mapSensitive(Secret, { name: "x", data }, () => "X") as { data: Record<string, unknown> };
    expect(Object.hasOwn(copy.data, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(copy.data)).toBe(Object.prototype);
    expect(findSensitive(Secret, { name: "x", data }).map((f) => f.value)).toEqual(["s3cret-proto"]);
  });

  it("names values by their key, and by their whole path where two would share a name", () => {
    expect(labels([{ at: ["data", "password"], value: 1 }, { at: ["key"], value: 2 }])).toEqual(["password", "key"]);
    expect(labels([{ at: ["data", "key"], value: 1 }, { at: ["key"], value: 2 }])).toEqual(["data.key", "key"]);
  });

  it("tells an argument inside a sensitive field from one outside", () => {
    expect(sensitiveAt(Secret, ["data", "password"])).toBe(true);
    expect(sensitiveAt(Secret, ["items", "0", "pin"])).toBe(true);
    expect(sensitiveAt(Secret, ["name"])).toBe(false);
  });
});

describe("masks and fingerprints", () => {
  const key = secretValuesSettings("mask", 300, "a".repeat(32)).maskKey;
  const other = secretValuesSettings("mask", 300, "b".repeat(32)).maskKey;

  it("gives equal values equal fingerprints under one key, and different ones under another key or for another value", () => {
    expect(fingerprint(key, "hunter2")).toBe(fingerprint(key, "hunter2"));
    expect(fingerprint(key, "hunter2")).not.toBe(fingerprint(key, "hunter3"));
    expect(fingerprint(key, "hunter2")).not.toBe(fingerprint(other, "hunter2"));
    expect(fingerprint(key, "42")).not.toBe(fingerprint(key, 42));
    expect(fingerprint(key, "x")).toMatch(/^vmfp:[0-9a-f]{16}$/);
  });

  it("shows a value's length in characters and never the value", () => {
    expect(maskMarker("pässwörd", "vmfp:0")).toBe("[masked: 8 chars, fingerprint vmfp:0]");
    expect(maskMarker({ a: "secret" }, "vmfp:0")).toBe("[masked: object, 14 chars of JSON, fingerprint vmfp:0]");
    expect(maskMarker({ a: "secret" }, "vmfp:0")).not.toContain("secret");
  });
});

describe("stand-ins sent as values", () => {
  const fp = fingerprint(secretValuesSettings("mask", 300).maskKey, "the real one");

  it("recognises our masks, wrap markers, withheld markers and fingerprints, also inside objects and arrays", () => {
    expect(standIn(maskMarker("the real one", fp))).toContain("masked");
    expect(standIn('[wrapped: "password" in the wrapping token]')).toContain("wrapped");
    expect(standIn(WITHHELD)).toContain("withheld");
    expect(standIn(fp)).toContain("fingerprint");
    expect(standIn(fp.slice("vmfp:".length))).toContain("fingerprint");
    expect(standIn({ nested: [`prefix ${fp}`] })).toContain("fingerprint");
  });

  it("lets real values through, hex strings among them", () => {
    for (const v of ["hunter2", "0123456789abcdef", "[not ours]", 42, { a: ["b"] }, "masked: no bracket"]) expect(standIn(v)).toBeUndefined();
  });
});

describe("withholding", () => {
  it("replaces a secret as it is and JSON-escaped, and leaves shorter strings alone", () => {
    expect(withhold('a "multi\nline" b', ["multi\nline"])).toBe(`a "${WITHHELD}" b`);
    expect(withhold(JSON.stringify({ v: "multi\nline" }), ["multi\nline"])).toBe(`{"v":"${WITHHELD}"}`);
  });

  it("quotes shell words that need it", () => {
    expect(shellWord("myapp/db")).toBe("myapp/db");
    expect(shellWord("it's here")).toBe(`'it'"'"'s here'`);
  });
});

describe("the registry", () => {
  const leaky = defineTool({
    name: "leaky",
    toolset: "kv",
    title: "Leaky",
    description: "A tool that puts a value in its text instead of rendering from the view",
    input: Type.Object({ secret: Type.Optional(Type.String({ sensitive: true, maxLength: 5 })) }),
    output: Secret,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run() {
      const value = "the-value-that-leaks";
      return { text: `value is ${value}`, structured: { name: `n ${value}`, data: { v: value } }, resources: [{ name: "v.txt", uri: "x://v.txt", mimeType: "text/plain", text: value }] };
    },
  });

  it("withholds a sensitive value the tool put anywhere else when the operator masks, and logs that the tool is at fault", async () => {
    const lines: string[] = [];
    const r = await new ToolRegistry([leaky]).call("leaky", {}, context("mask", createLogger("debug", (l) => lines.push(l))));
    expect(JSON.stringify(r)).not.toContain("the-value-that-leaks");
    expect(JSON.stringify(r)).toContain(WITHHELD);
    expect((r.structuredContent?.data as Record<string, string>).v).toStartWith("[masked: 20 chars");
    expect(lines.some((l) => l.includes("outside its declared fields") && l.includes("leaky"))).toBe(true);
  });

  it("shows it as before when the operator reveals values", async () => {
    const r = await new ToolRegistry([leaky]).call("leaky", {}, context("reveal"));
    expect(JSON.stringify(r)).toContain("value is the-value-that-leaks");
  });

  it("describes a sensitive argument's wrong value without quoting it", async () => {
    const r = await new ToolRegistry([leaky]).call("leaky", { secret: "toolong" }, context("reveal"));
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r)).not.toContain("toolong");
    expect(JSON.stringify(r)).toContain("a string of 7 characters");
  });

  it("refuses a stand-in in a sensitive argument before the tool runs", async () => {
    let ran = false;
    const tool = defineTool({
      ...leaky,
      name: "store",
      input: Type.Object({ data: Type.Record(Type.String(), Type.Unknown({ sensitive: true })) }),
      async run() {
        ran = true;
        return { text: "", structured: { name: "", data: {} } };
      },
    });
    const r = await new ToolRegistry([tool]).call("store", { data: { password: "[masked: 3 chars, fingerprint vmfp:0123456789abcdef]" } }, context("reveal"));
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toStartWith('Invalid argument "data.password": it holds a masked value marker');
    expect(ran).toBe(false);
  });

  it("advertises the secret_values envelope on tools with sensitive output and says so in their description", () => {
    const [listed] = new ToolRegistry([leaky]).list();
    expect((listed?.outputSchema.properties as Record<string, unknown>).secret_values).toBeDefined();
    expect(listed?.description).toContain("MCP_SECRET_VALUES");
  });

  it("refuses, at registration, a sensitive field inside a union and a sensitive output that could not hold a marker", () => {
    const withOutput = (name: string, output: ReturnType<typeof Type.Object>) => ({ ...leaky, name, output }) as unknown as ToolDefinition;
    expect(() => new ToolRegistry([withOutput("u", Type.Object({ v: Type.Union([Type.String({ sensitive: true }), Type.Number()]) }))])).toThrow(/inside a union/);
    expect(() => new ToolRegistry([withOutput("n", Type.Object({ v: Type.Number({ sensitive: true }) }))])).toThrow(/must accept a string/);
  });
});
