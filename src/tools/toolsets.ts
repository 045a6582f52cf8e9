// Toolsets: the groups MCP_TOOLSETS names, and the choice of tools a server registers (MCP_TOOLSETS or MCP_TOOLS).

/** Every toolset a tool can belong to, in the order the reference and the README list them. */
export const TOOLSETS = ["sys", "kv", "pki", "transit", "policy", "identity"] as const;
export type Toolset = (typeof TOOLSETS)[number];

/** What `default` (and an unset MCP_TOOLSETS) means: close to the seed's list, so a default server keeps its short catalogue. */
export const DEFAULT_TOOLSETS: readonly Toolset[] = ["sys", "kv", "pki"];

/** What an operator asked for: toolsets (words such as "kv", "all", "default") or exact tool names; never both. */
export type ToolChoice = { readonly toolsets: readonly string[] } | { readonly tools: readonly string[] };

/** Thrown for a name that is no toolset or no tool; the message lists the valid ones. Config turns it into a ConfigError. */
export class ToolChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolChoiceError";
  }
}

/** The toolsets a list of words names: "all" is every toolset, "default" is DEFAULT_TOOLSETS. */
export function toolsetsNamed(words: readonly string[], setting = "MCP_TOOLSETS"): Set<Toolset> {
  const chosen = new Set<Toolset>();
  for (const word of words) {
    if (word === "all") for (const t of TOOLSETS) chosen.add(t);
    else if (word === "default") for (const t of DEFAULT_TOOLSETS) chosen.add(t);
    else if ((TOOLSETS as readonly string[]).includes(word)) chosen.add(word as Toolset);
    else throw new ToolChoiceError(`${setting}: unknown toolset "${word}"; valid: ${[...TOOLSETS, "all", "default"].join(", ")}`);
  }
  return chosen;
}

/** The tools of `all` that `choice` selects, in wiring-list order. Throws ToolChoiceError for an unknown name. */
export function selectTools<T extends { name: string; toolset: Toolset }>(all: readonly T[], choice: ToolChoice): T[] {
  if ("tools" in choice) {
    const known = new Set(all.map((t) => t.name));
    const unknown = choice.tools.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new ToolChoiceError(`MCP_TOOLS: unknown tool${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}; valid: ${[...known].join(", ")}`);
    }
    const wanted = new Set(choice.tools);
    return all.filter((t) => wanted.has(t.name));
  }
  const sets = toolsetsNamed(choice.toolsets);
  // "all" is every tool of the wiring list, whatever its label says.
  if (choice.toolsets.includes("all")) return [...all];
  return all.filter((t) => sets.has(t.toolset));
}
