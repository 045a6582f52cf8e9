// The registry: wiring, naming, annotations, argument validation and defaults, and errors turned into isError results.
import { describe, expect, it } from "bun:test";
import { Type } from "@sinclair/typebox";
import { silentLogger } from "../../src/log.ts";
import { allTools } from "../../src/tools/index.ts";
import { ToolError } from "../../src/tools/errors.ts";
import { defineTool, MAX_ARGUMENT_DEPTH, type ToolContext, ToolRegistry, toolNamesHint, UnknownTool } from "../../src/tools/registry.ts";
import { LONE_SURROGATE_REASON } from "../../src/vault/paths.ts";
import { VaultError } from "../../src/vault/errors.ts";

// No Vault: the registry only asks the client for a journaling view of itself, which these tools never use.
const noVault = { recording: () => noVault };
const ctx = { log: silentLogger, vault: noVault } as unknown as ToolContext;

const echo = defineTool({
  name: "echo",
  toolset: "kv",
  title: "Echo",
  description: "Echoes its arguments",
  input: Type.Object({
    mount: Type.String({ default: "secret", minLength: 1, description: 'KV mount, e.g. "secret"', vault: "mount" }),
    path: Type.String({ minLength: 1, description: "Secret path", vault: "path" }),
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    mode: Type.Optional(Type.Union([Type.Literal("root"), Type.Literal("import")])),
  }),
  output: Type.Object({ args: Type.Record(Type.String(), Type.Unknown()) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args) {
    return { text: "ok", structured: { args } };
  },
});

function failing(err: unknown) {
  return defineTool({ ...echo, name: "fails", async run() { throw err; } });
}

const registry = new ToolRegistry([echo]);
const errorText = (r: { content: { type: string; text?: string }[] }) => (r.content[0] as { text: string }).text;

describe("the wiring list", () => {
  // The names the product promises, per toolset, are the table in test/tools/toolsets.test.ts: the one place to review them.
  it("registers every tool of the wiring list, each once", () => {
    expect(new ToolRegistry(allTools).names()).toEqual(allTools.map((t) => t.name));
  });

  it("gives every tool a title, a description, schemas and all four annotations", () => {
    for (const tool of new ToolRegistry(allTools).list()) {
      expect(tool.title.length).toBeGreaterThan(3);
      expect(tool.description.length).toBeGreaterThan(20);
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.outputSchema.type).toBe("object");
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof tool.annotations[hint]).toBe("boolean");
      }
    }
  });

  it("marks reads read-only and deletes destructive, never both", () => {
    for (const tool of new ToolRegistry(allTools).list()) {
      if (/^(list|read)_/.test(tool.name)) expect(tool.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      if (/^delete_/.test(tool.name)) expect(tool.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(tool.annotations.readOnlyHint && tool.annotations.destructiveHint).toBe(false);
    }
  });

  it("sends plain JSON Schema, without TypeBox's symbol keys", () => {
    const listed = new ToolRegistry(allTools).list();
    expect(JSON.parse(JSON.stringify(listed))).toEqual(listed);
  });
});

describe("registration", () => {
  it("refuses a name outside ^[A-Za-z0-9._-]{1,128}$", () => {
    expect(() => new ToolRegistry([{ ...echo, name: "bad name" }])).toThrow(/must match/);
    expect(() => new ToolRegistry([{ ...echo, name: "x".repeat(129) }])).toThrow(/must match/);
  });

  it("refuses the same tool twice", () => {
    expect(() => new ToolRegistry([echo, echo])).toThrow(/registered twice/);
  });
});

describe("arguments", () => {
  it("applies schema defaults in code before the tool runs", async () => {
    const r = await registry.call("echo", { path: "a" }, ctx);
    expect(r.structuredContent).toEqual({ summary: "ok", args: { mount: "secret", path: "a" } });
  });

  it("treats missing arguments as an empty object", async () => {
    const r = await registry.call("echo", undefined, ctx);
    expect(r.isError).toBe(true);
    expect(errorText(r)).toBe('Invalid arguments for echo: missing required argument "path" (Secret path).');
  });

  it("names a wrongly typed argument, what it accepts and what it got", async () => {
    const r = await registry.call("echo", { path: 42 }, ctx);
    expect(errorText(r)).toBe('Invalid arguments for echo: argument "path" must be a string, got number 42 (Secret path).');
  });

  it("says which values a choice accepts", async () => {
    const r = await registry.call("echo", { path: "a", mode: "sideways" }, ctx);
    expect(errorText(r)).toContain('argument "mode" must be one of "root", "import", got "sideways"');
  });

  it("explains bounds", async () => {
    expect(errorText(await registry.call("echo", { path: "" }, ctx))).toContain('argument "path" must not be empty');
    expect(errorText(await registry.call("echo", { path: "a", count: 0 }, ctx))).toContain('argument "count" must be at least 1');
    expect(errorText(await registry.call("echo", { path: "a", count: 1.5 }, ctx))).toContain('argument "count" must be an integer');
  });

  it("refuses unknown argument names and lists the accepted ones", async () => {
    const r = await registry.call("echo", { path: "a", paht: "b" }, ctx);
    expect(errorText(r)).toBe('Unknown argument "paht" for echo. It accepts: mount, path, count, mode.');
  });

  it("refuses arguments that are not an object", async () => {
    expect(errorText(await registry.call("echo", ["a"], ctx))).toContain("expected an object of named arguments");
    expect(errorText(await registry.call("echo", "a", ctx))).toContain("got string");
  });

  it("does not mutate the caller's arguments", async () => {
    const args = { path: "a" };
    await registry.call("echo", args, ctx);
    expect(args).toEqual({ path: "a" });
  });
});

describe("hostile arguments", () => {
  const store = defineTool({
    ...echo,
    name: "store",
    input: Type.Object({
      path: Type.String({ minLength: 1, vault: "none" }),
      data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      tags: Type.Optional(Type.Array(Type.String())),
    }),
  });
  const hostile = new ToolRegistry([store]);

  it("refuses a lone surrogate in a string argument, naming the argument", async () => {
    for (const path of ["\uD800", "a\uDC00b", "\uDBFF"]) {
      const r = await hostile.call("store", { path }, ctx);
      expect(r.isError).toBe(true);
      expect(errorText(r)).toBe(`Invalid arguments for store: argument "path" ${LONE_SURROGATE_REASON}.`);
    }
  });

  it("refuses a lone surrogate anywhere inside a value, naming its place", async () => {
    expect(errorText(await hostile.call("store", { path: "a", data: { user: "u", password: "pa\uD800ss" } }, ctx))).toContain('argument "data.password" contains an unpaired');
    expect(errorText(await hostile.call("store", { path: "a", data: { db: { hosts: ["h", "\uDC00"] } } }, ctx))).toContain('argument "data.db.hosts.1" contains an unpaired');
    expect(errorText(await hostile.call("store", { path: "a", tags: ["ok", "\uD83D"] }, ctx))).toContain('argument "tags.1" contains an unpaired');
  });

  it("refuses a lone surrogate in a key of a value", async () => {
    const r = await hostile.call("store", { path: "a", data: { "pass\uD800": "x" } }, ctx);
    expect(errorText(r)).toBe(`Invalid arguments for store: argument "data" has a key that ${LONE_SURROGATE_REASON}.`);
  });

  it("accepts well-formed text outside the BMP", async () => {
    const r = await hostile.call("store", { path: "\u{1F511}", data: { emoji: "\u{1F600}" } }, ctx);
    expect(r.isError).toBeUndefined();
  });

  it("refuses 100,000-deep nesting as an argument error, without overflowing the stack", async () => {
    let object: unknown = "leaf";
    let array: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) {
      object = { a: object };
      array = [array];
    }
    for (const data of [object, { k: array }]) {
      const r = await hostile.call("store", { path: "a", data }, ctx);
      expect(r.isError).toBe(true);
      expect(errorText(r)).toBe(
        `Invalid arguments for store: argument "data" is nested more than ${MAX_ARGUMENT_DEPTH} levels deep; send a flatter value (a secret's data is a map of keys to strings, numbers or small objects).`,
      );
    }
  });

  it(`accepts nesting up to ${MAX_ARGUMENT_DEPTH} levels`, async () => {
    let data: Record<string, unknown> = { leaf: "v" };
    for (let i = 1; i < MAX_ARGUMENT_DEPTH; i++) data = { a: data };
    expect((await hostile.call("store", { path: "a", data }, ctx)).isError).toBeUndefined();
    expect((await hostile.call("store", { path: "a", data: { a: data } }, ctx)).isError).toBe(true);
  });

  it("names at most ten unknown arguments, then says how many more", async () => {
    const many: Record<string, number> = { path: 1 };
    for (let i = 0; i < 60_000; i++) many[`k${i}`] = i;
    const text = errorText(await hostile.call("store", many, ctx));
    expect(text).toBe(`Unknown arguments "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9" and 59990 more for store. It accepts: path, data, tags.`);
  });

  it("shortens an absurdly long unknown argument name", async () => {
    const text = errorText(await hostile.call("store", { path: "a", ["x".repeat(10_000)]: 1 }, ctx));
    expect(text.length).toBeLessThan(200);
    expect(text).toContain(`"${"x".repeat(40)}"...`);
  });
});

describe("hostile arguments on every tool", () => {
  // No request may reach Vault and nothing may be logged as an error: these are the caller's mistakes, not bugs.
  const untouchable = new Proxy({}, { get: (_t, p) => { throw new Error(`touched ${String(p)}`); } });
  const errors: string[] = [];
  const watched = { vault: untouchable, mounts: untouchable, log: { ...silentLogger, error: (m: string) => void errors.push(m) } } as unknown as ToolContext;
  const all = new ToolRegistry(allTools);

  for (const tool of all.list()) {
    for (const name of Object.keys(tool.inputSchema.properties as object)) {
      it(`${tool.name} refuses a lone surrogate in "${name}" as a string, a list item or a nested value`, async () => {
        const probes: [unknown, string][] = [
          ["\uD800", name],
          ["x\uDC00y", name],
          [["ok", "\uDBFF"], `${name}.1`],
          [{ password: "p\uD800" }, `${name}.password`],
        ];
        for (const [value, at] of probes) {
          const r = await all.call(tool.name, { [name]: value }, watched);
          expect(r.isError).toBe(true);
          expect(errorText(r)).toStartWith(`Invalid arguments for ${tool.name}: argument "${at}" contains an unpaired UTF-16 surrogate`);
        }
        expect(errors).toEqual([]);
      });
    }
  }
});

describe("failures", () => {
  it("throws UnknownTool for a name it does not serve, listing those it does", async () => {
    expect(registry.call("nope", {}, ctx)).rejects.toBeInstanceOf(UnknownTool);
  });

  it("returns a ToolError's own words as an isError result", async () => {
    const r = await new ToolRegistry([failing(new ToolError("Do this instead."))]).call("fails", { path: "a" }, ctx);
    expect(r).toEqual({ content: [{ type: "text", text: "Do this instead." }], isError: true });
  });

  it("turns Vault's 403 into a permission error naming the capability", async () => {
    const r = await new ToolRegistry([failing(new VaultError("PATCH", "secret/data/x", 403, ["permission denied"]))]).call("fails", { path: "a" }, ctx);
    expect(errorText(r)).toContain('Permission denied: this token may not patch secret/data/x (it needs the "patch" capability');
  });

  it("says where Vault is when it cannot be reached", async () => {
    const err = new VaultError("GET", "sys/mounts", 0, ["ECONNREFUSED"], "unreachable", "http://127.0.0.1:1");
    const r = await new ToolRegistry([failing(err)]).call("fails", { path: "a" }, ctx);
    expect(errorText(r)).toContain("Vault at http://127.0.0.1:1 could not be reached (ECONNREFUSED)");
  });

  it("reports a sealed Vault as sealed", async () => {
    const err = new VaultError("GET", "secret/data/x", 503, ["Vault is sealed"], "sealed", "http://v:8200");
    expect(errorText(await new ToolRegistry([failing(err)]).call("fails", { path: "a" }, ctx))).toContain("is sealed");
  });

  it("survives a bug in a tool as an isError result", async () => {
    const r = await new ToolRegistry([failing(new TypeError("x is undefined"))]).call("fails", { path: "a" }, ctx);
    expect(r.isError).toBe(true);
    expect(errorText(r)).toContain("Internal error in vault-mcp-server: x is undefined");
  });
});

describe("tool names in error texts", () => {
  const many = Array.from({ length: 40 }, (_, i) => `tool_${i}`).concat(["read_secret", "write_secret", "read_secret_metadata"]);

  it("lists every tool when there are few", () => {
    expect(toolNamesHint(["a", "b", "c"])).toBe("a, b, c");
  });

  it("lists the tools that share a word with the name tried, and says how many others tools/list shows", () => {
    expect(toolNamesHint(many, "read_secrets")).toBe("read_secret, read_secret_metadata, and 41 more (tools/list shows them all)");
  });

  it("keeps a long catalogue to one short sentence", () => {
    expect(toolNamesHint(many).length).toBeLessThan(200);
  });
});
