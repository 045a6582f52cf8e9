// The Deployment, Service, PodDisruptionBudget and ServiceAccount, as each overlay renders them, and the chart examples that mirror one.
import { describe, expect, it } from 'bun:test';
import {
  CHART_LIKE_OVERLAYS,
  OVERLAYS,
  REPLICAS,
  deploymentSpec,
  env,
  envValue,
  mcpContainer,
  one,
  render,
  serverEnvNames,
  type Container,
  type ChartExample,
  type Overlay,
  type PodSpec,
} from './rendered.ts';
import { missingToolchain } from './tools.ts';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const TOKEN_FILE = '/var/run/secrets/vault/token';
const noGo = missingToolchain();

const overlays = Object.keys(OVERLAYS) as Overlay[];
/** Each overlay, and each chart example held to the same promises as the overlay it mirrors. */
const renderings: [Overlay | ChartExample, Overlay][] = [
  ...overlays.map((o): [Overlay, Overlay] => [o, o]),
  ...(Object.entries(CHART_LIKE_OVERLAYS) as [ChartExample, Overlay][]),
];

/** "100m" -> 0.1, "2" -> 2; "128Mi" -> bytes. Enough of Kubernetes' quantities to compare requests with limits. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(q);
  if (!m) throw new Error(`unexpected quantity ${q}`);
  const scale = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] as string] ?? 1;
  return Number(m[1]) * scale;
}

/** Names of the environment variables the server reads, from its config module (so a typo here fails). */
for (const [overlay, like] of renderings) describe.skipIf(!!noGo)(overlay in OVERLAYS ? `the ${overlay} overlay` : `the ${overlay} rendering`, () => {
  const objects = () => render(overlay);
  const pod = async (): Promise<PodSpec> => deploymentSpec(await objects()).template.spec;
  const container = async (): Promise<Container> => mcpContainer(await objects());

  it(`runs ${REPLICAS[like]} replica(s)`, async () => {
    expect(deploymentSpec(await objects()).replicas).toBe(REPLICAS[like]);
  }, TOOL_TIMEOUT_MS);

  it('runs the vault-mcp container from a pinned image tag, listening on 8084 as port "http"', async () => {
    const c = await container();
    expect(c.image).toMatch(/^vault-mcp-server(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
    expect(c.image).not.toMatch(/:latest$/);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8084, protocol: 'TCP' }]);
    expect(env(c, 'MCP_PORT')?.value).toBe('8084');
    expect(env(c, 'MCP_HOST')?.value).toBe('0.0.0.0');
  }, TOOL_TIMEOUT_MS);

  it('probes liveness at /healthz and readiness at /readyz on that port', async () => {
    const c = await container();
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
  }, TOOL_TIMEOUT_MS);

  it('runs under the restricted Pod Security Standard: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', async () => {
    const p = await pod();
    expect(p.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(p.securityContext?.runAsUser).not.toBe(0);
    const c = await container();
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect((c.securityContext?.capabilities as { add?: unknown }).add).toBeUndefined();
    expect(c.securityContext?.privileged).not.toBe(true);
    // A read-only root still leaves a scratch directory.
    expect(c.volumeMounts?.some((m) => m.mountPath === '/tmp')).toBe(true);
  }, TOOL_TIMEOUT_MS);

  it('sets CPU and memory requests and limits, each request within its limit', async () => {
    const { requests = {}, limits = {} } = (await container()).resources ?? {};
    for (const r of ['cpu', 'memory']) {
      expect(requests[r], `requests.${r}`).toBeDefined();
      expect(limits[r], `limits.${r}`).toBeDefined();
      expect(quantity(requests[r] as string)).toBeLessThanOrEqual(quantity(limits[r] as string));
    }
  }, TOOL_TIMEOUT_MS);

  it('reads the Vault token from a file mounted from the Secret, never from an environment variable', async () => {
    const c = await container();
    expect(env(c, 'VAULT_TOKEN')).toBeUndefined();
    expect(env(c, 'VAULT_TOKEN_FILE')).toEqual({ name: 'VAULT_TOKEN_FILE', value: TOKEN_FILE });
    const mount = c.volumeMounts?.find((m) => TOKEN_FILE.startsWith(`${m.mountPath}/`));
    // No subPath, so the kubelet updates the file when the Secret is rotated.
    expect(mount).toMatchObject({ mountPath: '/var/run/secrets/vault', readOnly: true });
    expect(mount?.subPath).toBeUndefined();
    const volume = (await pod()).volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret).toEqual({ secretName: 'vault-mcp-server-token', items: [{ key: 'token', path: 'token' }], defaultMode: 0o440 });
    // Nothing else may carry the token: no env var comes from that Secret.
    expect(c.env?.filter((e) => e.valueFrom?.secretKeyRef)).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it('takes VAULT_ADDR from a ConfigMap that the overlay renders', async () => {
    const ref = env(await container(), 'VAULT_ADDR')?.valueFrom?.configMapKeyRef;
    expect(ref?.key).toBe('VAULT_ADDR');
    const cm = one(await objects(), 'ConfigMap', ref?.name);
    const addr = (cm.data as Record<string, string>).VAULT_ADDR as string;
    expect(new URL(addr).protocol).toMatch(/^https?:$/);
    if (like === 'production') expect(addr).toStartWith('https://');
  }, TOOL_TIMEOUT_MS);

  it('sets only environment variables the server reads', async () => {
    const known = serverEnvNames();
    expect((await container()).env?.map((e) => e.name).filter((n) => !known.has(n))).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it('runs as ServiceAccount vault-mcp-server without mounting an API token it does not use', async () => {
    const p = await pod();
    expect(p.serviceAccountName).toBe('vault-mcp-server');
    expect(p.automountServiceAccountToken).toBe(false);
    expect(one(await objects(), 'ServiceAccount', 'vault-mcp-server').automountServiceAccountToken).toBe(false);
  }, TOOL_TIMEOUT_MS);

  it('exposes Service vault-mcp-server on port 8084 named http, selecting exactly these pods', async () => {
    const objs = await objects();
    const spec = one(objs, 'Service', 'vault-mcp-server').spec as {
      selector: Record<string, string>;
      ports: { name: string; port: number; targetPort: string | number; protocol: string; appProtocol?: string }[];
    };
    // The chart says what the port speaks, as kagent's own tool charts do; the kustomize base predates that.
    const appProtocol = overlay in OVERLAYS ? 'http' : 'mcp';
    expect(spec.ports).toEqual([{ name: 'http', port: 8084, targetPort: 'http', protocol: 'TCP', appProtocol }]);
    const labels = deploymentSpec(objs).template.metadata.labels;
    for (const [k, v] of Object.entries(spec.selector)) expect(labels[k]).toBe(v);
    expect(deploymentSpec(objs).selector.matchLabels).toEqual(spec.selector);
  }, TOOL_TIMEOUT_MS);

  it('has a PodDisruptionBudget over the same pods that still lets a drain evict one at a time', async () => {
    const objs = await objects();
    const spec = one(objs, 'PodDisruptionBudget', 'vault-mcp-server').spec as { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } };
    expect(spec.selector.matchLabels).toEqual(deploymentSpec(objs).selector.matchLabels);
    expect(spec.maxUnavailable).toBe(1);
    expect(spec.minAvailable).toBeUndefined();
  }, TOOL_TIMEOUT_MS);

  if (like === 'production') {
    it('hands secret values only to people, in single-use wrapping tokens (MCP_SECRET_VALUES=wrap)', async () => {
      expect(envValue(await objects(), 'MCP_SECRET_VALUES')).toBe('wrap');
    }, TOOL_TIMEOUT_MS);

    it('verifies Vault against its CA, from a mounted ConfigMap', async () => {
      const c = await container();
      expect(env(c, 'VAULT_CACERT')?.value).toBe('/var/run/secrets/vault-ca/ca.crt');
      const mount = c.volumeMounts?.find((m) => m.mountPath === '/var/run/secrets/vault-ca');
      const volume = (await pod()).volumes?.find((v) => v.name === mount?.name);
      expect(volume?.configMap?.name).toBe('vault-ca');
      expect(volume?.configMap?.items).toEqual([{ key: 'ca.crt', path: 'ca.crt' }]);
    }, TOOL_TIMEOUT_MS);

    it('spreads its replicas over zones and nodes', async () => {
      const keys = (await pod()).topologySpreadConstraints?.map((t) => t.topologyKey);
      expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    }, TOOL_TIMEOUT_MS);
  }
});

for (const kubernetesAuth of ['production+vault-kubernetes-auth', 'chart+kubernetes-auth'] as const) describe.skipIf(!!noGo)(
  kubernetesAuth === 'chart+kubernetes-auth' ? 'the chart with vault.auth.method=kubernetes' : 'the vault-kubernetes-auth component', () => {
  const variant = () => render(kubernetesAuth);

  it('logs in with Kubernetes auth as role vault-mcp-server, and drops the token file and its Secret', async () => {
    const objs = await variant();
    const c = mcpContainer(objs);
    expect(envValue(objs, 'VAULT_AUTH_METHOD')).toBe('kubernetes');
    expect(envValue(objs, 'VAULT_K8S_ROLE')).toBe('vault-mcp-server');
    expect(env(c, 'VAULT_TOKEN_FILE')).toBeUndefined();
    const volumes = deploymentSpec(objs).template.spec.volumes ?? [];
    // The Vault token's Secret is gone; another Secret (the production overlay's MCP auth tokens) may stay.
    expect(volumes.filter((v) => v.secret?.secretName === 'vault-mcp-server-token')).toEqual([]);
    expect(c.volumeMounts?.map((m) => m.name).every((n) => volumes.some((v) => v.name === n))).toBe(true);
  }, TOOL_TIMEOUT_MS);

  it('mounts a short-lived service account token meant only for Vault, where Vault clients look for it', async () => {
    const objs = await variant();
    const c = mcpContainer(objs);
    const mount = c.volumeMounts?.find((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
    const volume = deploymentSpec(objs).template.spec.volumes?.find((v) => v.name === mount?.name);
    const token = volume?.projected?.sources[0]?.serviceAccountToken;
    expect(token).toEqual({ path: 'token', audience: 'vault', expirationSeconds: 600 });
    // Still no general-purpose API token.
    expect(deploymentSpec(objs).template.spec.automountServiceAccountToken).toBe(false);
  }, TOOL_TIMEOUT_MS);

  // Kubernetes auth lands in the server separately; until src/config.ts reads VAULT_AUTH_METHOD, say so rather than fail.
  const serverLogsIn = serverEnvNames().has('VAULT_AUTH_METHOD');
  if (!serverLogsIn) console.warn('[deploy] src/config.ts does not read VAULT_AUTH_METHOD yet: the vault-kubernetes-auth component needs a server that does');

  it.skipIf(!serverLogsIn)('sets only environment variables the server reads, the auth method among them', async () => {
    const known = serverEnvNames();
    expect(mcpContainer(await variant()).env?.map((e) => e.name).filter((n) => !known.has(n))).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it('keeps the restricted security context and the probes', async () => {
    const c = mcpContainer(await variant());
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
  }, TOOL_TIMEOUT_MS);
});
