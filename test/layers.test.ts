// Data flows one way: a lower layer never imports an upper one (STYLE.md, "The shape we aim for").
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const src = join(resolve(import.meta.dir, ".."), "src");

/** Every relative import of each file under src/<folder>, as a path from src/ ("config.ts", "mcp/server.ts"). */
function importsOf(folder: string): { file: string; target: string }[] {
  const found: { file: string; target: string }[] = [];
  for (const file of new Bun.Glob(`${folder}/**/*.ts`).scanSync({ cwd: src })) {
    const text = readFileSync(join(src, file), "utf8");
    for (const m of text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)) {
      const target = join(file, "..", m[1] as string);
      found.push({ file, target });
    }
  }
  return found;
}

const upward = (folder: string, above: RegExp) => importsOf(folder).filter((i) => above.test(i.target)).map((i) => `${i.file} imports ${i.target}`);

describe("layers", () => {
  it("vault/ imports neither the config nor the tools, MCP or HTTP layers", () => {
    expect(upward("vault", /^(config\.ts|runtime\.ts|main\.ts|tools\/|mcp\/|http\/|doctor\/)/)).toEqual([]);
  });

  it("tools/ imports neither the config nor the MCP or HTTP layers", () => {
    expect(upward("tools", /^(config\.ts|runtime\.ts|main\.ts|mcp\/|http\/|doctor\/)/)).toEqual([]);
  });
});
