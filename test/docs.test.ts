// The generated tool reference: docs/tools.md and the README's tools table are what the registry and the doctor's table generate, so they cannot drift.
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { README, TOOLS_DOC, toolsReference, withReadmeTable } from "../scripts/tools-doc.ts";
import { TOOL_NEEDS } from "../src/doctor/needs.ts";
import { allTools } from "../src/tools/index.ts";

describe("docs/tools.md", () => {
  const committed = readFileSync(TOOLS_DOC, "utf8");

  it("is exactly what the registry generates (bun run docs:tools writes it)", () => {
    // A plain comparison: a diff of this size in a failure message says less than running the generator does.
    expect(committed === toolsReference(), "docs/tools.md is stale: run bun run docs:tools and commit it").toBe(true);
  });

  it("is linked from the README, whose short table per toolset is generated too", () => {
    const readme = readFileSync(README, "utf8");
    expect(readme).toContain("](docs/tools.md)");
    expect(readme === withReadmeTable(readme), "README.md's tools table is stale: run bun run docs:tools and commit it").toBe(true);
  });

  it("documents every tool under its toolset, with its title and the endpoints the doctor checks", () => {
    for (const tool of allTools) {
      const section = committed.split(`\n### ${tool.name}\n`)[1]?.split("\n### ")[0] ?? "";
      expect(section, tool.name).toContain(`**${tool.title}**: toolset \`${tool.toolset}\``);
      for (const need of TOOL_NEEDS[tool.name]?.({ kvMount: "secret", kvVersion: 2, pkiMount: "pki" }) ?? []) {
        expect(section, tool.name).toContain(`| ${need.capability} | \`${need.policyPath}\` |`);
      }
    }
  });
});
