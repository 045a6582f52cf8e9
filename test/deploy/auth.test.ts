// Who may call the deployed server: the production overlay's MCP_AUTH=bearer, its tokens file from a Secret, and the
// RemoteMCPServer sending the matching header from the same Secret through headersFrom.
import { beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_HOSTS } from '../../src/http/guards.ts';
import { CrdSchema, KubernetesSchemas } from './kube-schema.ts';
import { deploymentSpec, env, mcpContainer, one, render } from './rendered.ts';
import { kubernetesOpenApiDir, missingToolchain, parseYamlDocuments, repoRoot, type KubeObject } from './tools.ts';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const noGo = missingToolchain();
const REMOTE_CRD = join(repoRoot, '..', 'shared', 'kagent', 'remotemcpservers.kagent.dev.yaml');
const TOKENS_FILE = '/var/run/secrets/mcp-auth/tokens';
const SECRET = 'vault-mcp-server-auth';

interface HeaderRef {
  name: string;
  value?: string;
  valueFrom?: { type: string; name: string; key: string };
}

describe.skipIf(!!noGo)('authentication in the production overlay', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render('production');
  }, TOOL_TIMEOUT_MS);

  it('runs the server with MCP_AUTH=bearer and its tokens file from Secret vault-mcp-server-auth, key tokens', () => {
    const c = mcpContainer(objects);
    expect(env(c, 'MCP_AUTH')?.value).toBe('bearer');
    expect(env(c, 'MCP_AUTH_TOKENS_FILE')?.value).toBe(TOKENS_FILE);
    const mount = c.volumeMounts?.find((m) => TOKENS_FILE.startsWith(`${m.mountPath}/`));
    // No subPath: the kubelet updates the file when the Secret is rotated, and the server re-reads it.
    expect(mount).toMatchObject({ mountPath: '/var/run/secrets/mcp-auth', readOnly: true });
    expect(mount?.subPath).toBeUndefined();
    const volume = deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === mount?.name);
    // Only the server's key is mounted: kagent's copy of the header stays out of the pod.
    expect(volume?.secret).toEqual({ secretName: SECRET, items: [{ key: 'tokens', path: 'tokens' }], defaultMode: 0o440 });
  });

  it('never puts a token in an environment variable', () => {
    expect(mcpContainer(objects).env?.filter((e) => e.valueFrom?.secretKeyRef)).toEqual([]);
  });

  it("has kagent send Authorization from the same Secret's authorization key (headersFrom), for discovery and every call", () => {
    const spec = one(objects, 'RemoteMCPServer', 'vault-mcp-remote').spec as { headersFrom?: HeaderRef[] };
    expect(spec.headersFrom).toEqual([{ name: 'Authorization', valueFrom: { type: 'Secret', name: SECRET, key: 'authorization' } }]);
  });

  it.skipIf(!existsSync(REMOTE_CRD))("keeps the RemoteMCPServer valid against kagent's CRD, and the CRD refuses a header with both value and valueFrom", async () => {
    const schemas = new KubernetesSchemas(await kubernetesOpenApiDir());
    const crd = new CrdSchema(parseYamlDocuments(readFileSync(REMOTE_CRD, 'utf8')), schemas.objectMetaSchema());
    const remote = one(objects, 'RemoteMCPServer', 'vault-mcp-remote');
    expect(crd.validate(remote).errors).toEqual([]);
    const bad = structuredClone(remote) as KubeObject & { spec: { headersFrom: HeaderRef[] } };
    bad.spec.headersFrom[0]!.valueFrom = { type: 'Vault', name: SECRET, key: 'authorization' };
    expect(crd.validate(bad).errors.join('\n')).toContain('headersFrom');
  }, TOOL_TIMEOUT_MS);

  it('leaves the server answering the names the RemoteMCPServer uses (MCP_ALLOWED_HOSTS is left to its default)', () => {
    expect(env(mcpContainer(objects), 'MCP_ALLOWED_HOSTS')).toBeUndefined();
    const url = new URL((one(objects, 'RemoteMCPServer', 'vault-mcp-remote').spec as { url: string }).url);
    expect(SERVICE_HOSTS).toContain(url.hostname);
  });
});
