// The registry: wiring, naming, annotations, argument validation and defaults, and errors turned into isError results.
import { describe, expect, it } from "bun:test";
import { Type } from "@sinclair/typebox";
import { silentLogger } from "../../src/log.ts";
import { allTools } from "../../src/tools/index.ts";
import { ToolError } from "../../src/tools/errors.ts";
import { defineTool, type ToolContext, ToolRegistry, UnknownTool } from "../../src/tools/registry.ts";
import { VaultError } from "../../src/vault/errors.ts";

const ctx = { log: silentLogger } as unknown as ToolContext;

const echo = defineTool({
  name: "echo",
  title: "Echo",
  description: "Echoes its arguments",
  input: Type.Object({
    mount: Type.String({ default: "secret", minLength: 1, description: 'KV mount, e.g. "secret"' }),
    path: Type.String({ minLength: 1, description: "Secret path" }),
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
  it("serves exactly the tools the product promises", () => {
    const names = new ToolRegistry(allTools).names().sort();
    expect(names).toEqual(
      [
        "create_mount", "list_mounts", "delete_mount",
        "read_secret", "write_secret", "list_secrets", "delete_secret",
        "enable_pki", "create_pki_issuer", "list_pki_issuers", "read_pki_issuer",
        "create_pki_role", "list_pki_roles", "read_pki_role", "delete_pki_role", "issue_pki_certificate",
      ].sort(),
    );
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
    expect(r.structuredContent).toEqual({ args: { mount: "secret", path: "a" } });
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
