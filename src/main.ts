// Entry point, and the only module with side effects: reads config, then serves MCP over HTTP or stdio.
import { ConfigError, loadConfig, readPem, USAGE } from "./config.ts";
import { exitCode, redact, renderJson, renderText } from "./doctor/report.ts";
import { runDoctor } from "./doctor/run.ts";
import { createApp, metricsResponse } from "./http/app.ts";
import { isLoopbackHostname } from "./http/guards.ts";
import { createLogger } from "./log.ts";
import { flushStderr } from "./stderr.ts";
import { startHeapGovernor } from "./heap.ts";
import { SERVER_VERSION } from "./mcp/protocol.ts";
import { buildRuntime } from "./runtime.ts";

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (argv.includes("--version")) {
    process.stdout.write(`vault-mcp-server ${SERVER_VERSION}\n`);
    return;
  }
  if (argv[0] === "doctor") {
    // Same flags and environment as the server; a configuration that does not parse is the doctor's first finding.
    const json = argv.includes("--json");
    const { checks, secrets } = await runDoctor(argv.slice(1).filter((a) => a !== "--json"), process.env);
    process.stdout.write(redact(json ? renderJson(checks) : renderText(checks), secrets));
    process.exit(exitCode(checks));
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vault-mcp-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  if (config.heapTargetMb > 0) startHeapGovernor({ targetBytes: config.heapTargetMb * 1024 * 1024 });
  const runtime = buildRuntime(config, log);

  if (config.command === "stdio") {
    // One line is one message: the same limit as an HTTP body.
    // stdio speaks through the SDK, so it is loaded here rather than by every HTTP server.
    const { serveStdio } = await import("./mcp/stdio.ts");
    const { closed } = await serveStdio(runtime, { maxLineBytes: config.http.maxBodyBytes });
    log.info("serving MCP over stdio", { vault: config.vault.addr });
    await closed;
    await runtime.audit.flush();
    process.exit(0);
  }

  const app = createApp({
    handleMcp: runtime.handleMcp,
    readiness: runtime.readiness,
    guard: runtime.guard,
    auth: runtime.auth,
    ...(config.http.metrics.serve === "mcp" ? { metrics: runtime.telemetry.render } : {}),
  });
  if (config.http.auth.mode === "none" && !isLoopbackHostname(config.http.host)) {
    log.warn(
      `MCP_AUTH=none on ${config.http.host}: ANYONE WHO CAN REACH PORT ${config.http.port} ACTS WITH THIS SERVER'S VAULT TOKEN (read, write, delete). ` +
        "Set MCP_AUTH=bearer (MCP_AUTH_TOKENS_FILE) or MCP_AUTH=oauth, or bind to 127.0.0.1; see README 'Securing it'",
      { host: config.http.host, auth: "none" },
    );
  }
  const metricsAddr = config.http.metrics.serve === "separate" ? config.http.metrics : undefined;
  // A listener of its own for clusters that scrape only a metrics port: it serves /metrics and nothing else.
  const metricsServer =
    metricsAddr &&
    Bun.serve({
      hostname: metricsAddr.host,
      port: metricsAddr.port,
      reusePort: false,
      development: false,
      fetch: (req) => (new URL(req.url).pathname === "/metrics" && req.method === "GET" ? metricsResponse(runtime.telemetry.render) : new Response("Not Found", { status: 404 })),
    });
  // Bun's idle timeout (seconds, at most 255) must outlast the slowest Vault call we wait for.
  const idleTimeout = Math.min(255, Math.ceil(config.vault.timeoutMs / 1000) + 10);
  const certFiles = config.http.tls;
  const tls = certFiles && { cert: readPem("MCP_TLS_CERT_FILE", certFiles.certFile), key: readPem("MCP_TLS_KEY_FILE", certFiles.keyFile) };
  app.listen({
    hostname: config.http.host,
    port: config.http.port,
    idleTimeout,
    maxRequestBodySize: config.http.maxBodyBytes + 1,
    // Elysia defaults to SO_REUSEPORT, which lets a second instance silently share the port: fail loudly instead.
    reusePort: false,
    // Elysia turns on Bun's development mode unless NODE_ENV=production; it would show stack traces to clients.
    development: false,
    ...(tls ? { tls } : {}),
  });
  const port = app.server?.port ?? config.http.port;
  log.info("serving MCP over HTTP", {
    url: `${tls ? "https" : "http"}://${config.http.host}:${port}/mcp`,
    vault: config.vault.addr,
    version: SERVER_VERSION,
    sessions: config.http.stateful ? "stateful" : "stateless",
    auth: config.http.auth.mode,
    vault_identity: config.identity.mode,
    audit_log: config.audit.to,
    metrics: metricsServer ? `http://${metricsAddr.host}:${metricsServer.port}/metrics` : config.http.metrics.serve === "mcp" ? "/metrics" : "off",
  });

  const stop = (signal: string) => {
    log.info("shutting down", { signal });
    void runtime
      .close()
      .then(() => app.stop())
      .then(() => metricsServer?.stop())
      .finally(() => process.exit(0));
  };
  // logrotate moved the audit log file: write on in a new one at the same path.
  process.on("SIGHUP", () => runtime.audit.reopen());
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main(process.argv.slice(2)).catch((err) => {
  // After the log lines queued before it, so the last line says why the process stopped.
  flushStderr();
  process.stderr.write(`vault-mcp-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
