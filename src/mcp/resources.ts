// MCP resources: vault:// URIs read through callTool, so every read has the caller's identity, scopes, audit and masking.
import { ErrorCode } from "./protocol.ts";
import type { Caller } from "../caller.ts";
import { withoutGuidance } from "../tools/guidance.ts";
import { allTools } from "../tools/index.ts";
import { readerTools } from "../tools/readers.ts";
import { type CallResult, ToolRegistry } from "../tools/registry.ts";
import { RpcError } from "./jsonrpc.ts";
import { callTool, type McpDeps } from "./call.ts";

/** The MCP error for a resource that does not exist (or cannot be read): the spec's -32002. */
export const RESOURCE_NOT_FOUND = -32002;

const JSON_TYPE = "application/json";
const PEM_TYPE = "application/x-pem-file";
const HCL_TYPE = "text/x-hcl";

export const RESOURCES = [
  {
    uri: "vault://mounts",
    name: "mounts",
    title: "Secrets engine mounts",
    description: "Every secrets engine mount the token may see, with its type and KV version (list_mounts).",
    mimeType: JSON_TYPE,
  },
];

export const RESOURCE_TEMPLATES = [
  {
    uriTemplate: "vault://kv/{mount}/{+path}",
    name: "kv-metadata",
    title: "KV secret metadata or folder",
    description: 'A KV secret\'s metadata (versions, times), never its values; a path ending in "/" (or empty) lists a folder.',
    mimeType: JSON_TYPE,
  },
  {
    uriTemplate: "vault://policies/{name}",
    name: "policy",
    title: "ACL policy",
    description: "An ACL policy's rules as HCL (sys/policies/acl/{name}).",
    mimeType: HCL_TYPE,
  },
  {
    uriTemplate: "vault://pki/{mount}/ca",
    name: "pki-ca",
    title: "PKI mount's default CA certificate",
    description: "The PEM certificate of the mount's default issuer.",
    mimeType: PEM_TYPE,
  },
  {
    uriTemplate: "vault://pki/{mount}/issuers/{issuer}",
    name: "pki-issuer",
    title: "PKI issuer certificate",
    description: "The PEM certificate of one issuer, by name or ID.",
    mimeType: PEM_TYPE,
  },
  {
    uriTemplate: "vault://transit/{mount}/keys/{name}",
    name: "transit-key",
    title: "Transit key (public parts)",
    description: "A transit key's type, versions, settings and, for asymmetric keys, public keys (read_transit_key); never key material.",
    mimeType: JSON_TYPE,
  },
];

interface Read {
  /** The tool (or reader) that reads it, with its arguments. */
  tool: string;
  args: Record<string, unknown>;
  reader: boolean;
  /** What the resource's content is made of: the PEM certificate, the HCL, or the structured result as JSON. */
  render: (structured: Record<string, unknown>) => { mimeType: string; text: string };
}

const asJson = (s: Record<string, unknown>) => ({ mimeType: JSON_TYPE, text: JSON.stringify(withoutGuidance(s), null, 2) });
const asPem = (s: Record<string, unknown>) => ({ mimeType: PEM_TYPE, text: String(s.certificate ?? "") });

/** What a vault:// URI names, or why it names nothing. Segments are percent-decoded; the tools check them as paths. */
export function resolveResource(uri: string): Read | string {
  const prefix = "vault://";
  if (!uri.startsWith(prefix)) return 'a resource URI starts with "vault://"';
  let parts: string[];
  try {
    parts = uri.slice(prefix.length).split("/").map(decodeURIComponent);
  } catch {
    return "it holds a malformed percent-encoding";
  }
  const [kind, ...rest] = parts;
  if (kind === "mounts" && rest.length === 0) return { tool: "list_mounts", args: {}, reader: false, render: asJson };
  if (kind === "policies" && rest.length === 1 && rest[0]) return { tool: "read_policy", args: { name: rest[0] }, reader: true, render: (s) => ({ mimeType: HCL_TYPE, text: String(s.policy ?? "") }) };
  if (kind === "pki" && rest.length === 2 && rest[0] && rest[1] === "ca") return { tool: "read_pki_issuer", args: { mount: rest[0], issuer: "default" }, reader: false, render: asPem };
  if (kind === "pki" && rest.length === 3 && rest[0] && rest[1] === "issuers" && rest[2]) {
    return { tool: "read_pki_issuer", args: { mount: rest[0], issuer: rest[2] }, reader: false, render: asPem };
  }
  if (kind === "kv" && rest.length >= 1 && rest[0]) {
    const path = rest.slice(1).join("/");
    if (path === "" || path.endsWith("/")) return { tool: "list_secrets", args: { mount: rest[0], path: path.replace(/\/$/, "") }, reader: false, render: asJson };
    return { tool: "read_secret_metadata", args: { mount: rest[0], path }, reader: true, render: asJson };
  }
  if (kind === "transit" && rest.length === 3 && rest[0] && rest[1] === "keys" && rest[2]) {
    return { tool: "read_transit_key", args: { mount: rest[0], name: rest[2] }, reader: true, render: asJson };
  }
  return `it names no resource; resources/list and resources/templates/list show the forms (vault://mounts, ${RESOURCE_TEMPLATES.map((t) => t.uriTemplate).join(", ")})`;
}

/** The readers' registry beside each tool registry, so that each server's policy and metrics reach its readers. */
const readersOf = new WeakMap<ToolRegistry, ToolRegistry>();

/** Served tools some resources read through: the readers run them when MCP_TOOLSETS leaves them out, so every resource reads. */
const RESOURCE_TOOLS = new Set(["list_mounts", "list_secrets", "read_pki_issuer"]);
const readerDefinitions = [...readerTools, ...allTools.filter((t) => RESOURCE_TOOLS.has(t.name) && !readerTools.some((r) => r.name === t.name))];

/**
 * Runs a read that no served tool makes (a policy, a secret's metadata, the token's capabilities) through callTool with a
 * registry of readers in place of the tools: the caller's identity, scopes, policy, audit and masking apply as to a tool call.
 */
export function callReader(deps: McpDeps, name: string, args: Record<string, unknown>, caller: Caller | undefined): Promise<CallResult> {
  let readers = readersOf.get(deps.registry);
  if (!readers) readersOf.set(deps.registry, (readers = new ToolRegistry(readerDefinitions)));
  readers.policy = deps.registry.policy;
  readers.observer = deps.registry.observer;
  return callTool({ ...deps, registry: readers }, { name, arguments: args }, caller);
}

/** The first text block of a result: a tool's words. */
export function resultText(result: CallResult): string {
  const block = result.content.find((c) => c.type === "text");
  return block && block.type === "text" ? block.text : "";
}

/** resources/read: the content of one vault:// URI, or an RpcError telling why there is none. */
export async function readResource(deps: McpDeps, uri: unknown, caller: Caller | undefined) {
  if (typeof uri !== "string") throw new RpcError(ErrorCode.InvalidParams, 'Invalid params for resources/read: "uri" must be a string such as "vault://mounts".');
  const read = resolveResource(uri);
  if (typeof read === "string") throw new RpcError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}: ${read}.`);
  const args = { arguments: read.args, name: read.tool };
  const reader = read.reader || !deps.registry.has(read.tool);
  const result = reader ? await callReader(deps, read.tool, read.args, caller) : await callTool(deps, args, caller);
  if (result.isError || !result.structuredContent) throw new RpcError(RESOURCE_NOT_FOUND, `Resource ${uri} could not be read: ${resultText(result)}`);
  const { mimeType, text } = read.render(result.structuredContent);
  return { contents: [{ uri, mimeType, text }] };
}
