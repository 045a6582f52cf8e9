// The server's own metrics: tool calls, Vault requests by path template, the token's life and readiness, as /metrics serves them.
import { MetricsRegistry } from "./metrics.ts";
import { watchProcess } from "./process-metrics.ts";
import type { CallObserver } from "./tools/registry.ts";
import type { VaultObserver } from "./vault/client.ts";
import type { Readiness } from "./vault/health.ts";
import { pathTemplate } from "./vault/path-template.ts";
import type { TokenEvent } from "./vault/token-keeper.ts";

export interface Telemetry {
  registry: MetricsRegistry;
  calls: CallObserver;
  vault: VaultObserver;
  token(event: TokenEvent, ok: boolean): void;
  /** Read at each scrape: the token's remaining TTL and readiness, so the gauges are never stale. */
  watch(sources: { tokenTtlSeconds?: () => number | undefined; readiness?: () => Promise<Readiness> }): void;
  render(): Promise<string>;
}

/** Templates of the paths seen lately: a tool call's Vault paths repeat, and reducing one takes a split and a scan. */
const templates = new Map<string, string>();
const MAX_TEMPLATES = 2048;

function templateOf(path: string): string {
  let t = templates.get(path);
  if (t === undefined) {
    // Bounded by forgetting everything at once: cheap, and a scan of ever-new paths costs no more than no cache.
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    templates.set(path, (t = pathTemplate(path)));
  }
  return t;
}

export function createTelemetry(version: string): Telemetry {
  const registry = new MetricsRegistry();
  const calls = registry.counter("vault_mcp_tool_calls_total", "Tool calls by tool and outcome.", ["tool", "outcome"]);
  const callSeconds = registry.histogram("vault_mcp_tool_call_duration_seconds", "Tool call duration, from arguments received to answer.", ["tool"]);
  const inFlight = registry.gauge("vault_mcp_tool_calls_in_flight", "Tool calls being answered now.");
  const requests = registry.counter(
    "vault_mcp_vault_requests_total",
    "Requests sent to Vault, by method, path template (never a mount or secret path) and HTTP status or failure.",
    ["method", "path", "status"],
  );
  const requestSeconds = registry.histogram("vault_mcp_vault_request_duration_seconds", "Vault request duration, sent to answer read whole.", ["method", "path"]);
  const tokenEvents = registry.counter("vault_mcp_token_events_total", "Logins, renewals and checks of the server's Vault token, by outcome.", ["event", "outcome"]);
  const tokenTtl = registry.gauge("vault_mcp_token_ttl_seconds", "Seconds left on the server's Vault token (absent while unknown).");
  const ready = registry.gauge("vault_mcp_ready", "1 when Vault is reachable, unsealed and the token valid (as /readyz says), else 0.");
  const build = registry.gauge("vault_mcp_build_info", "Always 1; the labels say which build is running.", ["version", "bun"]);
  build.set({ version, bun: typeof Bun !== "undefined" ? Bun.version : "" }, 1);
  inFlight.set({}, 0);
  watchProcess(registry);

  return {
    registry,
    calls: {
      started: () => inFlight.inc(),
      finished(tool, outcome, seconds) {
        inFlight.dec();
        calls.inc({ tool, outcome });
        callSeconds.observe({ tool }, seconds);
      },
    },
    vault(method, path, status, seconds) {
      const template = templateOf(path);
      requests.inc({ method, path: template, status });
      requestSeconds.observe({ method, path: template }, seconds);
    },
    token: (event, ok) => tokenEvents.inc({ event, outcome: ok ? "ok" : "failed" }),
    watch({ tokenTtlSeconds, readiness }) {
      registry.beforeScrape(async () => {
        const ttl = tokenTtlSeconds?.();
        if (ttl !== undefined) tokenTtl.set({}, Math.round(ttl));
        if (readiness) ready.set({}, (await readiness()).ready ? 1 : 0);
      });
    },
    render: () => registry.render(),
  };
}
