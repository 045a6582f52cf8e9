// `npm run dev`: a throwaway Vault dev server and the MCP server wired to it, in one command.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative, resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { startDevVault } from './vault.ts';

const repoRoot = resolve(import.meta.dir, '..', '..');
const entry = join(repoRoot, 'src', 'main.ts');
const mcpPort = process.env.MCP_PORT || '8084';
const mcpHost = process.env.MCP_HOST || '127.0.0.1';
// A wildcard bind is reachable on loopback, which is what the curl line should name.
const curlHost = mcpHost === '0.0.0.0' || mcpHost === '::' ? '127.0.0.1' : mcpHost.includes(':') ? `[${mcpHost}]` : mcpHost;

if (process.env.VAULT_ADDR) {
  console.error(`[dev] ignoring VAULT_ADDR=${process.env.VAULT_ADDR}: dev mode always uses its own throwaway Vault`);
}
// Never the developer's real Vault: this command hands a root token to whatever connects to the MCP server.
const vault = await startDevVault({ fromEnv: false });

let server: Subprocess | undefined;
let exiting: Promise<never> | undefined;
// Memoised, so a signal and the server's own exit during shutdown do not race each other to process.exit.
function shutdown(code: number): Promise<never> {
  exiting ??= (async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await Promise.race([server.exited, Bun.sleep(5000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    await vault.stop();
    process.exit(code);
  })();
  return exiting;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

server = existsSync(entry)
  ? Bun.spawn([process.execPath, 'run', entry], {
      cwd: repoRoot,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VAULT_'))),
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        MCP_PORT: mcpPort,
        MCP_HOST: mcpHost,
      },
      stdio: ['inherit', 'inherit', 'inherit'],
    })
  : undefined;

if (server) {
  void server.exited.then((code) => {
    if (!exiting) console.error(`[dev] the MCP server exited (code ${code}); stopping the dev Vault`);
    return shutdown(code);
  });
  await waitForPort(curlHost.replace(/^\[|\]$/g, ''), Number(mcpPort), 20_000);
} else {
  console.error('[dev] src/main.ts does not exist yet; running the dev Vault alone');
}

const line = '─'.repeat(72);
console.log(
  [
    line,
    `  Vault dev server   ${vault.addr}   (in-memory, everything is lost on exit)`,
    `  Dev root token     ${vault.token}   (throwaway, valid only for this dev Vault)`,
    server ? `  MCP server         http://${curlHost}:${mcpPort}/mcp` : '  MCP server         not started (no src/main.ts)',
    '',
    ...(server
      ? ['  Try it:', `    curl -X POST http://${curlHost}:${mcpPort}/mcp -d '{"jsonrpc":"2.0","method":"tools/list","id":1}'`, '']
      : []),
    `  Or the vault CLI: VAULT_ADDR=${vault.addr} VAULT_TOKEN=${vault.token} ${relative(process.cwd(), vault.binary) || vault.binary} status`,
    '  Ctrl-C stops both.',
    line,
  ].join('\n'),
);

// Polls until something accepts TCP connections, so the banner appears only once the server can answer.
async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect({ host, port }, () => {
        socket.end();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    await Bun.sleep(100);
  }
  console.error(`[dev] nothing is listening on ${host}:${port} after ${timeoutMs / 1000}s; the banner below may be premature`);
}
