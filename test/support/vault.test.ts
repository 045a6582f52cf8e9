// Checks that the test harness runs a real Vault: unsealed, usable with its root token, and cleanly stoppable.
import { describe, expect, it } from 'bun:test';
import { startDevVault, testVault, vaultFetch, type DevVault } from './vault.ts';

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function writeSecret(vault: DevVault, path: string, data: Record<string, string>): Promise<Response> {
  return vaultFetch(vault, `secret/data/${path}`, { method: 'POST', body: JSON.stringify({ data }) });
}

describe('the preloaded dev Vault', () => {
  it('reports itself initialized, unsealed and active', async () => {
    const res = await vaultFetch(testVault(), 'sys/health');
    expect(res.status).toBe(200);
    const health = (await res.json()) as { initialized: boolean; sealed: boolean; standby: boolean };
    expect(health).toMatchObject({ initialized: true, sealed: false, standby: false });
  });

  it('lets the root token write and read a KV v2 secret at secret/', async () => {
    const vault = testVault();
    const path = `harness/${crypto.randomUUID()}`;
    expect((await writeSecret(vault, path, { password: 'hunter2' })).status).toBe(200);

    const res = await vaultFetch(vault, `secret/data/${path}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { data: Record<string, string>; metadata: { version: number } } };
    expect(body.data.data).toEqual({ password: 'hunter2' });
    expect(body.data.metadata.version).toBe(1);

    await vaultFetch(vault, `secret/metadata/${path}`, { method: 'DELETE' });
  });

  it('refuses a request without the root token', async () => {
    const res = await vaultFetch(testVault(), 'secret/data/anything', { headers: { 'X-Vault-Token': 'not-a-token' } });
    expect(res.status).toBe(403);
  });
});

describe('startDevVault', () => {
  it('starts a second server on its own port and stops it without leaving a process', async () => {
    const second = await startDevVault({ fromEnv: false });
    const pid = second.pid;
    try {
      expect(second.external).toBe(false);
      expect(second.addr).not.toBe(testVault().addr);
      expect(second.token).not.toBe(testVault().token);
      expect(pid).toBeNumber();
      expect((await vaultFetch(second, 'sys/health')).status).toBe(200);
    } finally {
      await second.stop();
    }
    expect(isGone(pid!)).toBe(true);
    await expect(fetch(`${second.addr}/v1/sys/health`)).rejects.toThrow();
    await second.stop(); // a second stop is harmless
  });

  it('restarts on the same address and token, with its in-memory data gone', async () => {
    const vault = await startDevVault({ fromEnv: false, rootToken: `restart-${crypto.randomUUID()}` });
    try {
      const { addr, token, pid } = vault;
      expect((await writeSecret(vault, 'before-restart', { a: '1' })).status).toBe(200);

      await vault.restart();

      expect([vault.addr, vault.token]).toEqual([addr, token]);
      expect(vault.pid).not.toBe(pid);
      expect(isGone(pid!)).toBe(true);
      expect((await vaultFetch(vault, 'auth/token/lookup-self')).status).toBe(200);
      expect((await vaultFetch(vault, 'secret/data/before-restart')).status).toBe(404);
    } finally {
      await vault.stop();
    }
  });

  it('serves https with its own CA when asked for tls', async () => {
    const vault = await startDevVault({ tls: true });
    try {
      expect(vault.addr).toStartWith('https://127.0.0.1:');
      expect(vault.caCertFile).toBeString();
      expect((await vaultFetch(vault, 'sys/health')).status).toBe(200);
      // Without the CA the certificate must not verify, or the test would prove nothing about TLS.
      await expect(fetch(`${vault.addr}/v1/sys/health`)).rejects.toThrow();
    } finally {
      await vault.stop();
    }
  });
});
