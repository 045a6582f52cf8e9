// MCP prompts: the workflows an agent or a person starts from, as messages that name the tools to call, in order.
import { ErrorCode } from "./protocol.ts";
import type { Caller } from "../caller.ts";
import { withoutGuidance } from "../tools/guidance.ts";
import { RpcError } from "./jsonrpc.ts";
import { callReader, resultText } from "./resources.ts";
import { callTool, type McpDeps } from "./call.ts";

interface PromptArgument {
  name: string;
  description: string;
  required?: boolean;
}

interface PromptDef {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument[];
  messages(args: Record<string, string>, deps: McpDeps, caller: Caller | undefined): string | Promise<string>;
}

const q = (s: string) => JSON.stringify(s);

/** The Vault ACL capabilities a policy may grant. */
export const CAPABILITIES = ["create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe", "recover"] as const;

/** Splits "a, b" or one item a line into items. */
function items(raw: string): string[] {
  return raw.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * HCL granting exactly `capabilities` on each of `paths` (Vault API paths; * and + globs as Vault reads them). Throws a
 * plain Error naming what is wrong: no paths, a path with a quote, brace, space or newline, or an unknown capability.
 */
export function leastPrivilegeHcl(paths: readonly string[], capabilities: readonly string[]): string {
  if (paths.length === 0) throw new Error("name at least one path");
  const caps = capabilities.length > 0 ? [...new Set(capabilities.map((c) => c.toLowerCase()))] : ["read"];
  const unknown = caps.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (unknown.length > 0) throw new Error(`unknown capabilit${unknown.length > 1 ? "ies" : "y"} ${unknown.map(q).join(", ")}; Vault knows ${CAPABILITIES.join(", ")}`);
  if (caps.includes("deny") && caps.length > 1) throw new Error('"deny" overrides every other capability; give it alone');
  return paths
    .map((raw) => {
      const path = raw.replace(/^\/+/, "");
      if (path === "" || /["{}\s\\#]/.test(path)) throw new Error(`path ${q(raw)} must be a Vault API path without quotes, braces, spaces or "#"`);
      return `path ${q(path)} {\n  capabilities = [${caps.map(q).join(", ")}]\n}\n`;
    })
    .join("\n");
}

const mountArg = (engine: string, def: string): PromptArgument => ({ name: "mount", description: `${engine} mount (default "${def}")` });

export const PROMPTS: PromptDef[] = [
  {
    name: "store_secret",
    title: "Store a secret",
    description: "Store a value in a KV secret, keeping the secret's other keys.",
    arguments: [{ name: "path", description: 'Secret path, e.g. "myapp/database"', required: true }, { name: "key", description: 'Key inside the secret, e.g. "password"', required: true }, mountArg("KV", "secret")],
    messages: (a) => {
      const mount = a.mount || "secret";
      return (
        `Store a secret in Vault at ${mount}/${a.path}, key ${q(a.key!)}.\n` +
        `1. Ask me for the value if I have not given it; never invent one. For a new password or token use generate_secret(mount=${q(mount)}, path=${q(a.path!)}, key=${q(a.key!)}) instead, so the value never passes through this chat.\n` +
        `2. Otherwise call write_secret(mount=${q(mount)}, path=${q(a.path!)}, key=${q(a.key!)}, value="<the value>"): it merges, keeping the secret's other keys.\n` +
        "3. Tell me the version written. Do not repeat the value back. If the mount is missing, list_mounts shows the mounts and create_mount creates one."
      );
    },
  },
  {
    name: "retrieve_secret",
    title: "Retrieve a secret",
    description: "Read a KV secret, or one key of it.",
    arguments: [{ name: "path", description: 'Secret path, e.g. "myapp/database"', required: true }, { name: "key", description: "One key only (optional)" }, mountArg("KV", "secret")],
    messages: (a) => {
      const mount = a.mount || "secret";
      const key = a.key ? `, key=${q(a.key)}` : "";
      return (
        `Read the secret at ${mount}/${a.path}${a.key ? ` (key ${q(a.key)})` : ""}.\n` +
        `1. Call read_secret(mount=${q(mount)}, path=${q(a.path!)}${key}).\n` +
        `2. If it is not found, list_secrets(mount=${q(mount)}, path="<parent folder>") shows what exists there.\n` +
        "3. Values may come back masked or as a wrapping token, as the operator chose: hand those on as they are and never write a masked value back."
      );
    },
  },
  {
    name: "issue_certificate",
    title: "Issue a TLS certificate",
    description: "Check the mounts, enable PKI if needed, create a root and a role, then issue a certificate.",
    arguments: [
      { name: "common_name", description: 'The name the certificate is for, e.g. "api.example.com"', required: true },
      mountArg("PKI", "pki"),
      { name: "role_name", description: 'Role to issue from (default "web-server")' },
    ],
    messages: (a) => {
      const mount = a.mount || "pki";
      const role = a.role_name || "web-server";
      const domain = a.common_name!.split(".").slice(1).join(".") || a.common_name!;
      return (
        `Issue a TLS certificate for ${a.common_name} from Vault's PKI engine at ${mount}/.\n` +
        `1. list_mounts(): is ${mount}/ a pki mount? If not, enable_pki(path=${q(mount)}).\n` +
        `2. list_pki_issuers(mount=${q(mount)}): if it has none, create_pki_issuer(mount=${q(mount)}, type="root", common_name="Example Root CA") (ask me for the CA's name).\n` +
        `3. list_pki_roles(mount=${q(mount)}): if ${q(role)} is missing, create_pki_role(mount=${q(mount)}, role_name=${q(role)}, allowed_domains=[${q(domain)}], allow_subdomains=true${domain === a.common_name ? ", allow_bare_domains=true" : ""}).\n` +
        `4. issue_pki_certificate(mount=${q(mount)}, role_name=${q(role)}, common_name=${q(a.common_name!)}); prefer store_at={"mount": "secret", "path": "certs/${a.common_name}"} so the private key goes into KV and not into this chat.\n` +
        "Ask before each step that changes Vault, and tell me the serial and expiry at the end."
      );
    },
  },
  {
    name: "create_app_mount",
    title: "Create a KV mount for an application",
    description: "A KV v2 mount for one application, a first secret, and the policy its token needs.",
    arguments: [{ name: "app", description: 'Application name, used as the mount path, e.g. "billing"', required: true }],
    messages: (a) => {
      const app = a.app!;
      return (
        `Set up Vault for the application ${q(app)}.\n` +
        `1. list_mounts(): stop and tell me if ${app}/ exists already.\n` +
        `2. create_mount(path=${q(app)}, type="kv-v2", description="Secrets of ${app}").\n` +
        `3. Ask me which secrets it needs; store each with write_secret(mount=${q(app)}, path="config", key="...", value="...") or generate_secret for new passwords.\n` +
        `4. Give me the least-privilege policy its token needs (the least_privilege_policy prompt writes it), e.g. read on ${app}/data/* and list on ${app}/metadata/*.`
      );
    },
  },
  {
    name: "least_privilege_policy",
    title: "Write a least-privilege policy",
    description: "HCL granting exactly the given capabilities on the given Vault API paths.",
    arguments: [
      { name: "paths", description: 'Vault API paths, comma-separated or one a line, e.g. "secret/data/myapp/*, secret/metadata/myapp/*"', required: true },
      { name: "capabilities", description: 'Comma-separated, e.g. "read, list" (default "read")' },
    ],
    messages: (a) => {
      let hcl: string;
      try {
        hcl = leastPrivilegeHcl(items(a.paths!), items(a.capabilities ?? ""));
      } catch (err) {
        throw new RpcError(ErrorCode.InvalidParams, `Invalid arguments for prompt least_privilege_policy: ${(err as Error).message}.`);
      }
      return (
        "Here is a least-privilege Vault policy for these paths. Explain what each block allows, point out any path that grants more than the task needs " +
        '(KV v2 keeps data under <mount>/data/ and listing under <mount>/metadata/), and tell me to apply it with `vault policy write <name> policy.hcl`; ' +
        `or, where this server serves the policy toolset, with write_policy once I have approved it.\n\n\`\`\`hcl\n${hcl}\`\`\``
      );
    },
  },
  {
    name: "diagnose_access",
    title: "Diagnose access to a path",
    description: "What this server's Vault token may do at a path and why: its capabilities there, its policies, and the mount the path falls in.",
    arguments: [{ name: "path", description: 'A Vault API path, e.g. "secret/data/myapp/db"', required: true }],
    messages: async (a, deps, caller) => {
      const path = a.path!.replace(/^\/+/, "");
      const access = await callReader(deps, "check_access", { path }, caller);
      if (access.isError || !access.structuredContent) return `I asked Vault what this server's token may do at ${path} and it refused: ${resultText(access)}\nExplain what that means and what to check.`;
      const facts = withoutGuidance(access.structuredContent) as { capabilities: string[]; policies: string[] };
      const sections = [`Capabilities of this server's token on ${path} (sys/capabilities-self): ${facts.capabilities.join(", ") || "none"}.`];
      sections.push(`Its policies (auth/token/lookup-self): ${facts.policies.join(", ") || "none could be read"}.`);
      const mounts = await callTool(deps, { name: "list_mounts", arguments: {} }, caller);
      const listed = (mounts.structuredContent?.mounts ?? []) as { path: string; type: string; kv_version?: number }[];
      const mount = listed.filter((m) => path === m.path || path.startsWith(`${m.path}/`)).sort((x, y) => y.path.length - x.path.length)[0];
      sections.push(
        mounts.isError
          ? `The mounts could not be listed: ${resultText(mounts)}`
          : mount
            ? `The path falls in the mount ${mount.path}/ (${mount.kv_version ? `kv-v${mount.kv_version}` : mount.type}).${mount.kv_version === 2 ? " KV v2 keeps values under data/ and listing under metadata/." : ""}`
            : "The path falls in no secrets engine mount this token can see (it may be a sys/ or auth/ path, or a mount it may not list).",
      );
      for (const name of facts.policies.filter((p) => p !== "root").slice(0, 5)) {
        const policy = await callReader(deps, "read_policy", { name }, caller);
        sections.push(policy.isError ? `Policy ${q(name)} could not be read: ${resultText(policy)}` : `Policy ${q(name)}:\n\`\`\`hcl\n${String(policy.structuredContent?.policy ?? "").trim()}\n\`\`\``);
      }
      if (facts.policies.includes("root")) sections.push('The token holds "root", which may do everything.');
      return `${sections.join("\n\n")}\n\nFrom these facts, explain what the token may and may not do at ${path}, which policy block grants or denies it, and the smallest policy change that would allow what is missing.`;
    },
  },
];

/** prompts/list: every prompt with its arguments. */
export function listPrompts() {
  return { prompts: PROMPTS.map(({ name, title, description, arguments: args }) => ({ name, title, description, arguments: args })) };
}

/** prompts/get: the prompt's messages, or an RpcError naming the missing or unknown argument. */
export async function getPrompt(deps: McpDeps, params: { name: string; arguments?: Record<string, string> }, caller: Caller | undefined) {
  const prompt = PROMPTS.find((p) => p.name === params.name);
  if (!prompt) throw new RpcError(ErrorCode.InvalidParams, `Unknown prompt ${q(params.name)}. Available prompts: ${PROMPTS.map((p) => p.name).join(", ")}`);
  const args = params.arguments ?? {};
  const unknown = Object.keys(args).filter((k) => !prompt.arguments.some((a) => a.name === k));
  if (unknown.length > 0) throw new RpcError(ErrorCode.InvalidParams, `Unknown argument ${unknown.map(q).join(", ")} for prompt ${prompt.name}. It accepts: ${prompt.arguments.map((a) => a.name).join(", ")}.`);
  const missing = prompt.arguments.filter((a) => a.required && !args[a.name]?.trim());
  if (missing.length > 0) throw new RpcError(ErrorCode.InvalidParams, `Missing required argument ${missing.map((a) => q(a.name)).join(", ")} for prompt ${prompt.name} (${missing.map((a) => a.description).join("; ")}).`);
  const text = await prompt.messages(args, deps, caller);
  return { description: prompt.description, messages: [{ role: "user" as const, content: { type: "text" as const, text } }] };
}
