// manifests/vault on a real Vault: setup.sh writes the policies and tokens, and each tool's requests are allowed or refused as the policy says.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOrBuildVaultBinary, testVault, vaultFetch, type DevVault } from '../support/vault.ts';
import { parseYamlDocuments, repoRoot } from './tools.ts';

const SETUP = join(repoRoot, 'manifests', 'vault', 'setup.sh');
const POLICY = join(repoRoot, 'manifests', 'vault', 'mcp-server-policy.hcl');
const id = crypto.randomUUID().slice(0, 8);

let vault: DevVault;
let vaultBin: string;

function setup(args: string[], extraEnv: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), VAULT_BIN: vaultBin, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, ...extraEnv };
  if (vault.caCertFile) env.VAULT_CACERT = vault.caCertFile;
  const r = Bun.spawnSync(['bash', SETUP, ...args], { env, stdout: 'pipe', stderr: 'pipe' });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** One Vault API call as the given token; LIST is sent as GET ?list=true. Returns the status and JSON body, if any. */
async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const list = method === 'LIST';
  const headers: Record<string, string> = { 'X-Vault-Token': token };
  if (body !== undefined) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  const res = await vaultFetch(vault, `${path}${list ? '?list=true' : ''}`, {
    method: list ? 'GET' : method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

/** 2xx, or the status with Vault's errors, so a failure says why. */
async function ok(token: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await call(token, method, path, body);
  expect(`${method} ${path} -> ${r.status} ${r.status >= 300 ? JSON.stringify(r.json.errors) : ''}`.trim()).toMatch(/-> 2\d\d$/);
  return r.json;
}

async function denied(token: string, method: string, path: string, body?: unknown): Promise<void> {
  const r = await call(token, method, path, body);
  expect(`${method} ${path} -> ${r.status}`).toBe(`${method} ${path} -> 403`);
}

async function root(method: string, path: string, body?: unknown): Promise<Response> {
  return vaultFetch(vault, path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

beforeAll(async () => {
  vault = testVault();
  vaultBin = await findOrBuildVaultBinary();
});

describe('setup.sh policies', () => {
  it('writes mcp-server-policy and read-only-policy, which Vault accepts as they are in the repository', async () => {
    const r = setup(['policies']);
    expect(r.code, r.stderr).toBe(0);
    for (const [name, file] of [['mcp-server-policy', 'mcp-server-policy.hcl'], ['read-only-policy', 'read-only-policy.hcl']] as const) {
      const res = await root('GET', `sys/policies/acl/${name}`);
      expect(res.status).toBe(200);
      const stored = ((await res.json()) as { data: { policy: string } }).data.policy;
      expect(stored).toBe(readFileSync(join(repoRoot, 'manifests', 'vault', file), 'utf8'));
    }
  });
});

describe('a token from `setup.sh token`', () => {
  let token: string;
  beforeAll(() => {
    setup(['policies']);
    const r = setup(['token']);
    expect(r.code, r.stderr).toBe(0);
    token = r.stdout.trim();
  });

  it('is printed alone, so it can be piped', () => {
    expect(token).toMatch(/^(hvs\.|s\.)[A-Za-z0-9_.-]+$/);
  });

  it('is an orphan, renewable, 720-hour token backed only by mcp-server-policy (and default)', async () => {
    const { data } = await ok(token, 'GET', 'auth/token/lookup-self');
    expect([...data.policies].sort()).toEqual(['default', 'mcp-server-policy']);
    expect(data.orphan).toBe(true);
    expect(data.renewable).toBe(true);
    expect(data.creation_ttl).toBe(720 * 3600);
    expect(data.meta).toEqual({ app: 'vault-mcp-server' });
  });

  it('can renew itself', async () => {
    await ok(token, 'POST', 'auth/token/renew-self', {});
  });
});

describe('mcp-server-policy lets every tool do its job, and no more', () => {
  let token: string;
  const prefix = `deploy-test-${id}`;
  const pkiMount = `pki-deploy-${id}`;
  const kvMount = `kv-deploy-${id}`;
  let pkiToken: string;

  beforeAll(async () => {
    setup(['policies']);
    token = setup(['token']).stdout.trim();
    // The same policy for a PKI mount of our own, so the test never touches a pki/ that other tests may use.
    const text = readFileSync(POLICY, 'utf8').replaceAll('"pki/', `"${pkiMount}/`);
    expect((await root('PUT', `sys/policies/acl/mcp-server-policy-${id}`, { policy: text })).status).toBe(204);
    const created = await root('POST', 'auth/token/create-orphan', { policies: [`mcp-server-policy-${id}`], ttl: '1h' });
    pkiToken = ((await created.json()) as { auth: { client_token: string } }).auth.client_token;
  });

  afterAll(async () => {
    await root('DELETE', `secret/metadata/${prefix}/db`);
    await root('DELETE', `sys/mounts/${pkiMount}`);
    await root('DELETE', `sys/mounts/${kvMount}`);
    await root('DELETE', `sys/policies/acl/mcp-server-policy-${id}`);
  });

  it('list_mounts: reads sys/mounts and how secret/ is mounted', async () => {
    const mounts = await ok(token, 'GET', 'sys/mounts');
    expect(mounts.data['secret/']).toBeDefined();
    const info = await ok(token, 'GET', 'sys/internal/ui/mounts/secret');
    expect(info.data.options.version).toBe('2');
  });

  it('write_secret and read_secret: creates with cas=0, merges a key with PATCH, reads current_version and the data back', async () => {
    await ok(token, 'POST', `secret/data/${prefix}/db`, { data: { user: 'app' }, options: { cas: 0 } });
    await ok(token, 'PATCH', `secret/data/${prefix}/db`, { data: { password: 'p4ss' }, options: { cas: 1 } });
    expect((await ok(token, 'GET', `secret/metadata/${prefix}/db`)).data.current_version).toBe(2);
    expect((await ok(token, 'GET', `secret/data/${prefix}/db`)).data.data).toEqual({ user: 'app', password: 'p4ss' });
  });

  it('list_secrets: lists a folder and the top level of the mount', async () => {
    expect((await ok(token, 'LIST', `secret/metadata/${prefix}`)).data.keys).toEqual(['db']);
    expect((await ok(token, 'LIST', 'secret/metadata/')).data.keys).toContain(`${prefix}/`);
  });

  it('delete_secret: drops one key with PATCH, then soft-deletes the latest version', async () => {
    await ok(token, 'PATCH', `secret/data/${prefix}/db`, { data: { password: null }, options: { cas: 2 } });
    await ok(token, 'POST', `secret/delete/${prefix}/db`, { versions: [3] });
    // Deleting "whatever is latest" is no longer needed, so the policy does not grant it.
    await denied(token, 'DELETE', `secret/data/${prefix}/db`);
  });

  it('KV v2 lifecycle: sets metadata, undeletes, destroys a version, and deletes the metadata with every version', async () => {
    await ok(token, 'POST', `secret/metadata/${prefix}/db`, { max_versions: 5, custom_metadata: { owner: 'deploy-test' } });
    await ok(token, 'POST', `secret/undelete/${prefix}/db`, { versions: [3] });
    await ok(token, 'PUT', `secret/destroy/${prefix}/db`, { versions: [1] });
    expect((await ok(token, 'GET', `secret/metadata/${prefix}/db`)).data.versions['1'].destroyed).toBe(true);
    await ok(token, 'DELETE', `secret/metadata/${prefix}/db`);
  });

  it('refuses what no tool does: changing the engine settings', async () => {
    await denied(token, 'POST', 'secret/config', { delete_version_after: '1s' });
  });

  it('create_mount and delete_mount: mounts a KV engine, reads it, unmounts it', async () => {
    await ok(token, 'POST', `sys/mounts/${kvMount}`, { type: 'kv', options: { version: '2' } });
    const mount = await ok(token, 'GET', `sys/mounts/${kvMount}`);
    expect(mount.data?.type ?? mount.type).toBe('kv');
    await ok(token, 'DELETE', `sys/mounts/${kvMount}`);
  });

  it('enable_pki, create_pki_issuer, list/read issuers: mounts PKI, generates and names a root, reads it back', async () => {
    await ok(pkiToken, 'POST', `sys/mounts/${pkiMount}`, { type: 'pki', config: { max_lease_ttl: '24h' } });
    await ok(pkiToken, 'POST', `sys/mounts/${pkiMount}/tune`, { max_lease_ttl: '48h' });
    const root = await ok(pkiToken, 'POST', `${pkiMount}/issuers/generate/root/internal`, { common_name: 'deploy test root', ttl: '24h' });
    expect(root.data.private_key).toBeUndefined();
    await ok(pkiToken, 'PATCH', `${pkiMount}/issuer/${root.data.issuer_id}`, { issuer_name: 'root-1' });
    expect((await ok(pkiToken, 'LIST', `${pkiMount}/issuers`)).data.keys).toEqual([root.data.issuer_id]);
    expect((await ok(pkiToken, 'GET', `${pkiMount}/issuer/root-1`)).data.issuer_name).toBe('root-1');
    await ok(pkiToken, 'GET', `${pkiMount}/config/issuers`);
  });

  it('create_pki_role, list/read roles, issue_pki_certificate, delete_pki_role', async () => {
    await ok(pkiToken, 'POST', `${pkiMount}/roles/web`, { allowed_domains: 'example.com', allow_subdomains: true, max_ttl: '1h' });
    expect((await ok(pkiToken, 'LIST', `${pkiMount}/roles`)).data.keys).toEqual(['web']);
    await ok(pkiToken, 'GET', `${pkiMount}/roles/web`);
    const cert = await ok(pkiToken, 'POST', `${pkiMount}/issue/web`, { common_name: 'a.example.com', ttl: '5m' });
    expect(cert.data.certificate).toContain('BEGIN CERTIFICATE');
    await ok(pkiToken, 'DELETE', `${pkiMount}/roles/web`);
  });

  it("never hands out a CA's private key, and cannot delete every issuer at once", async () => {
    await denied(pkiToken, 'POST', `${pkiMount}/root/generate/exported`, { common_name: 'x' });
    await denied(pkiToken, 'POST', `${pkiMount}/issuers/generate/root/exported`, { common_name: 'x' });
    await denied(pkiToken, 'POST', `${pkiMount}/intermediate/generate/exported`, { common_name: 'x' });
    await denied(pkiToken, 'POST', `${pkiMount}/keys/generate/exported`, {});
    await denied(pkiToken, 'DELETE', `${pkiMount}/root`);
  });

  it('cannot change who may do what: no policies, auth methods, new tokens or audit devices', async () => {
    await denied(token, 'PUT', `sys/policies/acl/evil-${id}`, { policy: 'path "*" { capabilities = ["sudo"] }' });
    await denied(token, 'POST', `sys/auth/evil-${id}`, { type: 'userpass' });
    await denied(token, 'POST', 'auth/token/create', { policies: ['mcp-server-policy'] });
    await denied(token, 'PUT', `sys/audit/evil-${id}`, { type: 'file', options: { file_path: '/tmp/x' } });
  });

  it('cannot reach mounts other than secret/ and pki/, nor identities', async () => {
    await denied(token, 'GET', `kv-other/data/${prefix}`);
    await denied(token, 'GET', 'identity/entity/id?list=true');
  });
});

describe('read-only-policy lets the read tools work and Vault refuse every write', () => {
  let token: string;
  const prefix = `deploy-test-ro-${id}`;

  beforeAll(async () => {
    setup(['policies']);
    const r = setup(['token', 'read-only-policy']);
    expect(r.code, r.stderr).toBe(0);
    token = r.stdout.trim();
    await root('POST', `secret/data/${prefix}/app`, { data: { key: 'v' } });
  });

  afterAll(async () => {
    await root('DELETE', `secret/metadata/${prefix}/app`);
  });

  it('list_mounts, read_secret and list_secrets work', async () => {
    await ok(token, 'GET', 'sys/mounts');
    await ok(token, 'GET', 'sys/internal/ui/mounts/secret');
    expect((await ok(token, 'GET', `secret/data/${prefix}/app`)).data.data).toEqual({ key: 'v' });
    expect((await ok(token, 'LIST', `secret/metadata/${prefix}`)).data.keys).toEqual(['app']);
  });

  it('write_secret, delete_secret and create_mount are refused', async () => {
    await denied(token, 'POST', `secret/data/${prefix}/app`, { data: { key: 'w' } });
    await denied(token, 'PATCH', `secret/data/${prefix}/app`, { data: { key: 'w' } });
    await denied(token, 'DELETE', `secret/data/${prefix}/app`);
    await denied(token, 'POST', `secret/delete/${prefix}/app`, { versions: [1] });
    await denied(token, 'POST', `secret/undelete/${prefix}/app`, { versions: [1] });
    await denied(token, 'PUT', `secret/destroy/${prefix}/app`, { versions: [1] });
    await denied(token, 'POST', `secret/metadata/${prefix}/app`, { max_versions: 1 });
    await denied(token, 'DELETE', `secret/metadata/${prefix}/app`);
    await denied(token, 'POST', `sys/mounts/ro-${id}`, { type: 'kv' });
  });

  it('on pki/, may read and list but not issue, create roles or issuers, or unmount', async () => {
    const r = await ok(token, 'POST', 'sys/capabilities-self', { paths: ['pki/issue/web', 'pki/roles/web', 'pki/issuers/generate/root/internal', 'pki/issuers'] });
    expect(r['pki/issue/web']).toEqual(['list', 'read']);
    expect(r['pki/roles/web']).toEqual(['list', 'read']);
    expect(r['pki/issuers/generate/root/internal']).toEqual(['list', 'read']);
    await denied(token, 'DELETE', 'sys/mounts/pki');
  });
});

describe('setup.sh kubernetes-auth', () => {
  const path = `kubernetes-deploy-${id}`;
  const caMount = `pki-k8s-ca-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'k8s-auth-'));
  // Vault runs outside any cluster here, so it is given the API server's CA as a file, as setup.sh documents.
  const env = { K8S_AUTH_PATH: path, KUBERNETES_HOST: 'https://kubernetes.invalid:443', KUBERNETES_CA_CERT: join(dir, 'ca.crt') };

  beforeAll(async () => {
    // Any CA certificate will do; the dev Vault makes one.
    await root('POST', `sys/mounts/${caMount}`, { type: 'pki' });
    const res = await root('POST', `${caMount}/root/generate/internal`, { common_name: 'kubernetes test CA', ttl: '1h' });
    await Bun.write(env.KUBERNETES_CA_CERT, ((await res.json()) as { data: { certificate: string } }).data.certificate);
  });

  afterAll(async () => {
    await root('DELETE', `sys/auth/${path}`);
    await root('DELETE', `sys/mounts/${caMount}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds role vault-mcp-server to the ServiceAccount, namespace and audience the manifests use', async () => {
    const r = setup(['kubernetes-auth'], env);
    expect(r.code, r.stderr).toBe(0);
    const role = ((await (await root('GET', `auth/${path}/role/vault-mcp-server`)).json()) as { data: Record<string, unknown> }).data;
    const doc = (file: string) => parseYamlDocuments(readFileSync(join(repoRoot, 'manifests', file), 'utf8'))[0] as Record<string, any>;
    const serviceAccount = doc('base/serviceaccount.yaml').metadata.name;
    const namespace = doc('base/kustomization.yaml').namespace;
    const audience = doc('components/vault-kubernetes-auth/deployment-kubernetes-auth.yaml').spec.template.spec.volumes.find((v: any) => v.projected)
      .projected.sources[0].serviceAccountToken.audience;
    expect(role.bound_service_account_names).toEqual([serviceAccount]);
    expect(role.bound_service_account_namespaces).toEqual([namespace]);
    expect(role.audience).toBe(audience);
    expect(role.token_policies).toEqual(['mcp-server-policy']);
    const config = ((await (await root('GET', `auth/${path}/config`)).json()) as { data: Record<string, unknown> }).data;
    expect(config.kubernetes_ca_cert).toBe(readFileSync(env.KUBERNETES_CA_CERT, 'utf8'));
  });

  it('can run twice (the auth method already enabled)', () => {
    const r = setup(['kubernetes-auth'], env);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('setup.sh k8s-secret', () => {
  it('hands the token to kubectl on standard input, never as an argument', async () => {
    setup(['policies']);
    const dir = mkdtempSync(join(tmpdir(), 'fake-kubectl-'));
    try {
      // Records each call's arguments and input by subcommand (the two calls run at once, in a pipeline);
      // `create` answers with a Secret, as kubectl would.
      const kubectl = join(dir, 'kubectl');
      await Bun.write(
        kubectl,
        `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/$1.args"\ncat > "${dir}/$1.stdin"\ncase "$1" in create) printf 'kind: Secret\\n' ;; esac\n`,
      );
      chmodSync(kubectl, 0o755);
      const r = setup(['k8s-secret'], { KUBECTL: kubectl });
      expect(r.code, r.stderr).toBe(0);
      const args0 = readFileSync(join(dir, 'create.args'), 'utf8');
      const token = readFileSync(join(dir, 'create.stdin'), 'utf8').trim();
      expect(token).toMatch(/^(hvs\.|s\.)/);
      expect(args0.split('\n')).toEqual(expect.arrayContaining(['create', 'secret', 'generic', 'vault-mcp-server-token', '--namespace=kagent', '--from-file=token=/dev/stdin']));
      const args1 = readFileSync(join(dir, 'apply.args'), 'utf8');
      expect(args1.split('\n')).toEqual(expect.arrayContaining(['apply', '-f', '-']));
      expect(`${args0}${args1}${r.stdout}${r.stderr}`).not.toContain(token);
      await root('POST', 'auth/token/revoke', { token });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
