// Generates docs/tools.md (and README.md's tools table) from the tool registry and the doctor's capability table:
// `bun run docs:tools` (`--check`: only compare).
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_MOUNTS, type Layout, type Need, TOOL_NEEDS } from "../src/doctor/needs.ts";
import { GUIDANCE_FIELDS } from "../src/tools/guidance.ts";
import { allTools } from "../src/tools/index.ts";
import { type ListedTool, ToolRegistry } from "../src/tools/registry.ts";
import { DEFAULT_TOOLSETS, TOOLSETS, type Toolset } from "../src/tools/toolsets.ts";

export const TOOLS_DOC = join(resolve(import.meta.dir, ".."), "docs", "tools.md");

type Schema = Record<string, any>;

const TOOLSET_WORDS: Record<Toolset, string> = {
  sys: "mounts and the server's Vault: engines and their settings, audit devices, leases, health",
  kv: "KV secrets (v1 and v2) and KV v2's versions and metadata",
  pki: "PKI mounts, issuers, roles and certificates",
  transit: "transit keys, encryption, signatures, HMACs, random bytes",
  policy: "ACL policies and what the token may do",
  identity: "the token's own identity and the auth methods",
};

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function code(value: unknown): string {
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

/** A schema's type in a few words: `string`, `integer[]`, `object (string → string)`, `object {mount?, path}`. */
function typeOf(s: Schema | undefined): string {
  if (!s || Object.keys(s).length === 0) return "any";
  if ("const" in s) return code(s.const);
  if (Array.isArray(s.type)) return s.type.join(" | ");
  if (Array.isArray(s.anyOf)) return [...new Set(s.anyOf.map((b: Schema) => typeOf(b)))].join(" | ");
  if (s.type === "array") return typeOf(s.items).includes(" ") ? `array of ${typeOf(s.items)}` : `${typeOf(s.items)}[]`;
  if (s.type === "object") {
    if (s.properties) {
      const required = new Set<string>(s.required ?? []);
      return `object {${Object.entries(s.properties as Record<string, Schema>)
        .map(([k, v]) => `${k}${required.has(k) ? "" : "?"}: ${typeOf(v)}`)
        .join(", ")}}`;
    }
    if (s.additionalProperties && typeof s.additionalProperties === "object") return `object (string → ${typeOf(s.additionalProperties)})`;
    return "object";
  }
  return typeof s.type === "string" ? s.type : "any";
}

/** Allowed values and bounds: an enum's members, a number's range, a list's length, a string's minimum length above one. */
function allowed(s: Schema): string {
  const parts: string[] = [];
  if (Array.isArray(s.enum)) parts.push(s.enum.map(code).join(", "));
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) parts.push(`at least ${s.minimum}`);
  else if (s.maximum !== undefined) parts.push(`at most ${s.maximum}`);
  if (s.minItems !== undefined) parts.push(`at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems} items`);
  if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  if (s.items && Array.isArray(s.items.enum)) parts.push(`each one of ${s.items.enum.map(code).join(", ")}`);
  return parts.join("; ");
}

function sensitive(s: Schema): boolean {
  return s.sensitive === true || (s.additionalProperties && typeof s.additionalProperties === "object" && s.additionalProperties.sensitive === true) || s.items?.sensitive === true;
}

function argumentsTable(schema: Schema): string[] {
  const props = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
  if (props.length === 0) return ["No arguments."];
  const required = new Set<string>(schema.required ?? []);
  return [
    "| argument | type | required | default | allowed | description |",
    "| --- | --- | --- | --- | --- | --- |",
    ...props.map(([name, s]) => {
      const words = [s.description ?? "", sensitive(s) ? "(secret material)" : ""].filter(Boolean).join(" ");
      const dflt = s.default === undefined ? "" : code(s.default);
      return `| \`${name}\` | ${cell(typeOf(s))} | ${required.has(name) ? "yes" : "no"} | ${cell(dflt)} | ${cell(allowed(s))} | ${cell(words)} |`;
    }),
  ];
}

function returnsTable(schema: Schema): string[] {
  const own = new Set([...GUIDANCE_FIELDS, "secret_values"]);
  const props = Object.entries((schema.properties ?? {}) as Record<string, Schema>).filter(([name]) => !own.has(name));
  const required = new Set<string>(schema.required ?? []);
  return [
    "| field | type | always | description |",
    "| --- | --- | --- | --- |",
    ...props.map(([name, s]) => {
      const words = [s.description ?? "", sensitive(s) ? "(secret material: shown, masked or wrapped per `MCP_SECRET_VALUES`)" : ""].filter(Boolean).join(" ");
      return `| \`${name}\` | ${cell(typeOf(s))} | ${required.has(name) ? "yes" : "no"} | ${cell(words)} |`;
    }),
  ];
}

function needsTable(needs: readonly Need[]): string[] {
  return [
    "| capability | policy path | asked about | why |",
    "| --- | --- | --- | --- |",
    // A need that `detects` a mount says in its why that it is needed only when sys/internal/ui/mounts does not answer.
    ...needs.map((n) => `| ${n.capability} | \`${n.policyPath}\` | \`${n.path}\` | ${cell(n.why)} |`),
  ];
}

function hints(a: ListedTool["annotations"]): string {
  return `readOnlyHint ${a.readOnlyHint}, destructiveHint ${a.destructiveHint}, idempotentHint ${a.idempotentHint}, openWorldHint ${a.openWorldHint}`;
}

/** The README's short table, one row per toolset, between the README_MARKERS; the reference has the rest. */
export function readmeTable(): string {
  return [
    "| toolset | what | tools |",
    "| --- | --- | --- |",
    ...TOOLSETS.map((set) => {
      const names = allTools.filter((t) => t.toolset === set).map((t) => `[\`${t.name}\`](docs/tools.md#${t.name})`);
      return `| \`${set}\`${DEFAULT_TOOLSETS.includes(set) ? " (default)" : ""} | ${TOOLSET_WORDS[set]} | ${names.join(", ") || "none yet"} |`;
    }),
  ].join("\n");
}

export const README = join(resolve(import.meta.dir, ".."), "README.md");
const README_MARKERS = ["<!-- tools table: generated by bun run docs:tools -->", "<!-- end of tools table -->"] as const;

/** The README with its tools table replaced by what the registry generates. */
export function withReadmeTable(readme: string): string {
  const [start, end] = README_MARKERS;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no "${start}" ... "${end}" block for the tools table`);
  return `${readme.slice(0, from + start.length)}\n${readmeTable()}\n${readme.slice(to)}`;
}

const same = (a: readonly Need[], b: readonly Need[]) => JSON.stringify(a) === JSON.stringify(b);

/** The whole reference, as docs/tools.md holds it. */
export function toolsReference(): string {
  const listed = new Map(new ToolRegistry(allTools).list().map((t) => [t.name, t]));
  const v2: Layout = { kvMount: DEFAULT_MOUNTS.kv, kvVersion: 2, pkiMount: DEFAULT_MOUNTS.pki };
  const v1: Layout = { ...v2, kvVersion: 1 };
  const bySet = (set: Toolset) => allTools.filter((t) => t.toolset === set);
  const out: string[] = [
    "# Tool reference",
    "",
    "<!-- Generated by `bun run docs:tools` (scripts/tools-doc.ts) from the tool registry and src/doctor/needs.ts. Do not edit: test/docs.test.ts fails when this file differs. -->",
    "",
    `${allTools.length} tools in ${TOOLSETS.length} toolsets. A server serves the toolsets \`MCP_TOOLSETS\` (\`--toolsets\`) names, comma-separated: ${TOOLSETS.map(code).join(", ")}, \`all\`, or \`default\` (${DEFAULT_TOOLSETS.map(code).join(", ")}, also what an unset \`MCP_TOOLSETS\` serves); or exactly the tools \`MCP_TOOLS\` (\`--tools\`) names. Not both. A tool not chosen is neither listed nor callable.`,
    "",
    "Every answer carries `structuredContent` as described under *Returns*, plus `summary` (the first line of the text answer) and, when the answer suggests calls, `next`; a tool whose answer holds secret material also says in `secret_values` how `MCP_SECRET_VALUES` showed it. Defaults are applied by the server, so an argument with a default may be left out.",
    "",
    `*Vault needs* are the endpoints each tool calls and the capability each takes, at the default mounts (\`${v2.kvMount}/\` as KV v2, \`${v2.pkiMount}/\`, \`transit/\`), as \`vault-mcp-server doctor\` checks them; \`manifests/vault/mcp-server-policy.hcl\` grants them all.`,
    "",
    "| toolset | what | tools |",
    "| --- | --- | --- |",
    ...TOOLSETS.map((set) => `| \`${set}\`${DEFAULT_TOOLSETS.includes(set) ? " (default)" : ""} | ${TOOLSET_WORDS[set]} | ${bySet(set).length} |`),
  ];
  for (const set of TOOLSETS) {
    const tools = bySet(set);
    out.push("", `## ${set}`, "", `${TOOLSET_WORDS[set]}.${DEFAULT_TOOLSETS.includes(set) ? " In the default toolsets." : ""}`);
    if (tools.length === 0) out.push("", "No tools yet.");
    else out.push("", tools.map((t) => `[\`${t.name}\`](#${t.name})`).join(" · "));
    for (const def of tools) {
      const t = listed.get(def.name)!;
      const needs = TOOL_NEEDS[def.name];
      out.push("", `### ${def.name}`, "", `**${t.title}**: toolset \`${set}\`; ${hints(t.annotations)}.`, "", t.description, "", "Arguments:", "", ...argumentsTable(t.inputSchema));
      out.push("", "Returns:", "", ...returnsTable(t.outputSchema));
      if (!needs) {
        out.push("", "Vault needs: not in src/doctor/needs.ts.");
        continue;
      }
      const atV2 = needs(v2);
      const atV1 = needs(v1);
      out.push("", same(atV2, atV1) ? "Vault needs:" : `Vault needs (\`${v2.kvMount}/\` as KV v2):`, "", ...needsTable(atV2));
      if (!same(atV2, atV1)) out.push("", `On a KV v1 mount:`, "", ...needsTable(atV1));
    }
  }
  return `${out.join("\n")}\n`;
}

if (import.meta.main) {
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  const check = process.argv.includes("--check");
  let stale = false;
  for (const [file, text] of [
    [TOOLS_DOC, toolsReference()],
    [README, withReadmeTable(read(README))],
  ] as const) {
    if (read(file) === text) continue;
    stale = true;
    if (check) console.error(`${file} differs from what the registry generates: run bun run docs:tools`);
    else {
      writeFileSync(file, text);
      console.log(`wrote ${file} (${allTools.length} tools)`);
    }
  }
  if (check && stale) process.exit(1);
}
