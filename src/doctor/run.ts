// `vault-mcp-server doctor`: runs every check in order with the server's own configuration, skipping what a failure makes moot.
import { type Config, ConfigError, loadConfig, vaultTls } from "../config.ts";
import { allTools } from "../tools/index.ts";
import { explainingTlsFailures } from "../vault/auth-tls.ts";
import { type TokenSource, StaticToken, type VaultClientOptions, type VaultTls, VaultClient } from "../vault/client.ts";
import { checkAddress, checkListener, checkTls } from "./checks.ts";
import type { CheckResult } from "./report.ts";
import { checkCapabilities, checkHealth, checkToken, describeAuth } from "./vault-checks.ts";

export const CHECKS = ["config", "vault address", "vault tls", "vault health", "token", "capabilities", "mcp listener"] as const;
/** The checks that talk to Vault, each of which needs the one before it. */
const VAULT_CHECKS: readonly string[] = CHECKS.slice(1, 6);

export interface DoctorRun {
  checks: CheckResult[];
  /** Every secret the run held (the token, an inline secret id), for redact(). */
  secrets: string[];
}

export interface DoctorDeps {
  fetch?: typeof fetch;
  now?: () => number;
}

function checkConfig(argv: readonly string[], env: Record<string, string | undefined>): { result: CheckResult; config?: Config; tls?: VaultTls } {
  const name = "config";
  try {
    const config = loadConfig(argv, env);
    // The PEM files are read at start-up by the server too, so an unreadable one is a configuration failure.
    const tls = vaultTls(config.vault.tls);
    const listener = `${config.http.tls ? "https" : "http"}://${config.http.host}:${config.http.port}`;
    return {
      result: {
        name,
        status: "ok",
        summary: `VAULT_ADDR ${config.vault.addr}, ${describeAuth(config.vault.auth)}, listener ${listener}, ${config.tools.enabled.length} tools`,
        data: { vault_addr: config.vault.addr, auth: config.vault.auth.method, namespace: config.vault.namespace ?? null, listener, tools: config.tools.enabled.length },
      },
      config,
      tls,
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The usage text that follows an unknown argument is for the terminal, not for a check line.
    const message = err.message.split("\n\n")[0] ?? err.message;
    return { result: { name, status: "fail", summary: message, fix: "correct the setting named above (vault-mcp-server --help lists every variable and flag)" } };
  }
}

function skipped(names: readonly string[], because: string): CheckResult[] {
  return names.map((name) => ({ name, status: "skip" as const, summary: `not checked: ${because}` }));
}

export async function runDoctor(argv: readonly string[], env: Record<string, string | undefined>, deps: DoctorDeps = {}): Promise<DoctorRun> {
  const now = deps.now ?? Date.now;
  const checks: CheckResult[] = [];
  const secrets: string[] = [];
  const { result, config, tls } = checkConfig(argv, env);
  checks.push(result);
  if (!config || !tls) return { checks: [...checks, ...skipped(CHECKS.slice(1), "the configuration does not parse")], secrets };
  // Secrets given inline are known before any check runs, so even a failure quoting one is redacted.
  if (config.vault.auth.method === "token" && config.vault.auth.token) secrets.push(config.vault.auth.token);
  if (config.vault.auth.method === "approle" && config.vault.auth.secretId) secrets.push(config.vault.auth.secretId);

  const vaultChecks = await (async (): Promise<CheckResult[]> => {
    const out: CheckResult[] = [];
    const rest = (from: string, because: string) => [...out, ...skipped(VAULT_CHECKS.slice(VAULT_CHECKS.indexOf(from)), because)];
    const address = await checkAddress(config.vault.addr, Math.min(5000, config.vault.timeoutMs));
    out.push(address);
    if (address.status === "fail") return rest("vault tls", `Vault at ${config.vault.addr} cannot be reached`);
    const tlsResult = await checkTls(config.vault.addr, tls, now(), Math.min(5000, config.vault.timeoutMs));
    out.push(tlsResult);
    if (tlsResult.status === "fail") return rest("vault health", "the TLS connection to Vault fails");

    const connection: Omit<VaultClientOptions, "tokens"> = {
      addr: config.vault.addr,
      namespace: config.vault.namespace,
      timeoutMs: config.vault.timeoutMs,
      fetch: explainingTlsFailures(deps.fetch ?? fetch),
      tls,
    };
    const clientFor = (tokens: TokenSource) => new VaultClient({ ...connection, tokens });
    const health = await checkHealth(clientFor(new StaticToken("")));
    out.push(health);
    if (health.status === "fail") return rest("token", "Vault is not serving");

    const token = await checkToken(config.vault.auth, clientFor, now());
    secrets.push(...token.secrets);
    out.push(token.result);
    if (!token.token || token.result.status === "fail") return rest("capabilities", "no working token");
    // Only the tools this configuration serves (MCP_TOOLSETS / MCP_TOOLS): a policy need not grant the others.
    const tools = allTools.filter((t) => config.tools.enabled.includes(t.name)).map((t) => ({ name: t.name, readOnly: t.annotations.readOnlyHint }));
    out.push(await checkCapabilities(clientFor(new StaticToken(token.token)), tools, token.renewable === true));
    return out;
  })();
  checks.push(...vaultChecks);
  checks.push(await checkListener(config.http));
  return { checks, secrets };
}
