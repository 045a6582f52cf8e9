// manifests/vm: the systemd unit runs the server sandboxed with its token as a credential; env.example sets only what it reads.
import { describe, expect, it } from 'bun:test';
import { serverEnvNames } from './rendered.ts';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './tools.ts';

const UNIT = join(repoRoot, 'manifests', 'vm', 'vault-mcp-server.service');
const ENV_EXAMPLE = join(repoRoot, 'manifests', 'vm', 'env.example');
const unitText = readFileSync(UNIT, 'utf8');

/** Section -> directive -> every value it is given, in order (systemd directives may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1] as string] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a directive: ${line}`);
    (current[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return sections;
}

const unit = parseUnit(unitText);
const service = unit.Service ?? {};
const last = (key: string) => service[key]?.at(-1);

describe('vault-mcp-server.service', () => {
  it('starts /usr/local/bin/vault-mcp-server, serving HTTP, after the network is up, restarting on failure', () => {
    expect(last('ExecStart')).toBe('/usr/local/bin/vault-mcp-server serve');
    expect(unit.Unit?.After).toContain('network-online.target');
    expect(unit.Unit?.Wants).toContain('network-online.target');
    expect(last('Restart')).toBe('on-failure');
    expect(unit.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('reads settings from /etc/vault-mcp-server/env and the token only as a systemd credential file', () => {
    expect(service.EnvironmentFile).toEqual(['/etc/vault-mcp-server/env']);
    expect(service.LoadCredential).toEqual(['vault-token:/etc/vault-mcp-server/vault-token']);
    expect(service.Environment).toEqual(['VAULT_TOKEN_FILE=%d/vault-token']);
    expect(unitText).not.toMatch(/^\s*Environment\s*=\s*"?VAULT_TOKEN=/m);
  });

  it('runs as an unprivileged dynamic user with no capabilities and no way to gain privileges', () => {
    expect(last('DynamicUser')).toBe('yes');
    expect(last('User')).toBeUndefined();
    expect(last('NoNewPrivileges')).toBe('yes');
    expect(service.CapabilityBoundingSet).toEqual(['']);
    expect(service.AmbientCapabilities).toEqual(['']);
  });

  it('sees a read-only system, no home directories, a private /tmp and no devices, and cannot touch the kernel', () => {
    expect(last('ProtectSystem')).toBe('strict');
    for (const key of ['ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'RestrictSUIDSGID', 'LockPersonality']) {
      expect(`${key}=${last(key)}`).toBe(`${key}=yes`);
    }
  });

  it('may open only IPv4, IPv6 and Unix sockets, and only the usual service system calls', () => {
    expect(last('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(service.SystemCallFilter).toContain('@system-service');
    expect(last('SystemCallArchitectures')).toBe('native');
  });

  it("leaves MemoryDenyWriteExecute off, with the reason, since Bun's JIT needs writable executable memory", () => {
    expect(last('MemoryDenyWriteExecute')).toBe('no');
    expect(unitText).toMatch(/#.*MemoryDenyWriteExecute[\s\S]*JIT/);
  });

  const analyze = Bun.which('systemd-analyze');

  it.skipIf(!analyze)('passes `systemd-analyze verify`, and `security --offline` rates it well protected (exposure under 2.0)', () => {
    // verify checks that ExecStart exists, so point it at a stand-in executable in a scratch directory.
    const dir = mkdtempSync(join(tmpdir(), 'unit-verify-'));
    try {
      const stub = join(dir, 'vault-mcp-server');
      writeFileSync(stub, '#!/bin/sh\n');
      chmodSync(stub, 0o755);
      const copy = join(dir, 'vault-mcp-server.service');
      writeFileSync(copy, unitText.replace(/^ExecStart=\/usr\/local\/bin\/vault-mcp-server\b/m, `ExecStart=${stub}`));
      const verify = Bun.spawnSync([analyze as string, 'verify', copy], { stderr: 'pipe', stdout: 'pipe' });
      const complaints = verify.stderr
        .toString()
        .split('\n')
        .filter((l) => l.includes('vault-mcp-server.service'));
      expect(complaints).toEqual([]);
      expect(verify.exitCode).toBe(0);

      const security = Bun.spawnSync([analyze as string, 'security', '--offline=yes', '--no-pager', copy], { stderr: 'pipe', stdout: 'pipe' });
      const exposure = /Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout.toString())?.[1];
      expect(exposure, security.stderr.toString()).toBeDefined();
      expect(Number(exposure)).toBeLessThan(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('env.example', () => {
  const settings = readFileSync(ENV_EXAMPLE, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.slice(0, l.indexOf('=')));

  it('sets the listen address, port and Vault address', () => {
    expect(settings).toEqual(expect.arrayContaining(['MCP_HOST', 'MCP_PORT', 'VAULT_ADDR']));
  });

  it('leaves the token to the unit: neither VAULT_TOKEN nor VAULT_TOKEN_FILE is set', () => {
    expect(settings).not.toContain('VAULT_TOKEN');
    expect(settings).not.toContain('VAULT_TOKEN_FILE');
  });

  it('sets only variables the server reads (names taken from its configuration sources)', () => {
    const known = serverEnvNames();
    expect(settings.filter((s) => !known.has(s))).toEqual([]);
  });
});
