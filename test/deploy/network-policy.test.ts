// What the NetworkPolicy means: only kagent may call the server, and the server may call only DNS and Vault.
import { describe, expect, it } from 'bun:test';
import { allowed, inCidr, type Connection, type Endpoint } from './network-policy.ts';
import { OVERLAYS, deploymentSpec, one, render, type ChartExample, type Overlay } from './rendered.ts';
import { missingToolchain, type KubeObject } from './tools.ts';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const noGo = missingToolchain();

// Pods as kagent, Kubernetes and Vault's Helm chart label them.
const PODS = {
  kagentController: {
    namespace: 'kagent',
    podLabels: { 'app.kubernetes.io/name': 'kagent', 'app.kubernetes.io/instance': 'kagent', 'app.kubernetes.io/component': 'controller' },
  },
  // kagent's agent translator: the Deployment it creates for Agent vault-agent.
  kagentAgent: {
    namespace: 'kagent',
    podLabels: {
      app: 'kagent',
      kagent: 'vault-agent',
      'app.kubernetes.io/name': 'vault-agent',
      'app.kubernetes.io/managed-by': 'kagent',
      'app.kubernetes.io/part-of': 'kagent',
    },
  },
  kagentUi: { namespace: 'kagent', podLabels: { 'app.kubernetes.io/name': 'kagent', 'app.kubernetes.io/instance': 'kagent', 'app.kubernetes.io/component': 'ui' } },
  kagentTools: { namespace: 'kagent', podLabels: { 'app.kubernetes.io/name': 'kagent-tools' } },
  otherInKagent: { namespace: 'kagent', podLabels: { app: 'something-else' } },
  lookalikeElsewhere: { namespace: 'default', podLabels: { app: 'kagent', 'app.kubernetes.io/managed-by': 'kagent' } },
  coreDns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
  otherInKubeSystem: { namespace: 'kube-system', podLabels: { component: 'kube-apiserver' } },
  vaultServer: { namespace: 'vault', podLabels: { 'app.kubernetes.io/name': 'vault', 'app.kubernetes.io/instance': 'vault', component: 'server' } },
  vaultInjector: { namespace: 'vault', podLabels: { 'app.kubernetes.io/name': 'vault-agent-injector', component: 'webhook' } },
  vaultLabelsElsewhere: { namespace: 'default', podLabels: { 'app.kubernetes.io/name': 'vault', component: 'server' } },
} satisfies Record<string, Endpoint>;

const tcp = (peer: Endpoint, port: number): Connection => ({ peer, port, protocol: 'TCP' });
const udp = (peer: Endpoint, port: number): Connection => ({ peer, port, protocol: 'UDP' });

async function server(name: Parameters<typeof render>[0]): Promise<{ policies: KubeObject[]; pod: { namespace: string; labels: Record<string, string> } }> {
  const objects = await render(name);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  return { policies, pod: { namespace: 'kagent', labels: deploymentSpec(objects).template.metadata.labels } };
}

describe('the NetworkPolicy evaluator used below', () => {
  it('matches CIDRs by prefix', () => {
    expect(inCidr('192.0.2.15', '192.0.2.0/28')).toBe(true);
    expect(inCidr('192.0.2.16', '192.0.2.0/28')).toBe(false);
    expect(inCidr('10.1.2.3', '0.0.0.0/0')).toBe(true);
  });

  it('treats a pod that no policy selects as open, and a selected one as closed but for its rules', () => {
    const policy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 80 }] }] },
    } as KubeObject;
    const peer = { namespace: 'ns', podLabels: {} };
    expect(allowed([policy], 'Ingress', { namespace: 'ns', labels: { app: 'b' } }, tcp(peer, 1))).toBe(true);
    expect(allowed([policy], 'Ingress', { namespace: 'ns', labels: { app: 'a' } }, tcp(peer, 80))).toBe(true);
    expect(allowed([policy], 'Ingress', { namespace: 'ns', labels: { app: 'a' } }, tcp(peer, 81))).toBe(false);
    expect(allowed([policy], 'Ingress', { namespace: 'ns', labels: { app: 'a' } }, tcp({ namespace: 'other', podLabels: {} }, 80))).toBe(false);
    expect(allowed([policy], 'Egress', { namespace: 'ns', labels: { app: 'a' } }, tcp(peer, 1))).toBe(true);
  });
});

/** The chart examples whose NetworkPolicy keeps the base's rules (Vault's pods in namespace vault). */
const CHART_POLICIES: ChartExample[] = ['chart', 'chart+dev', 'chart+production', 'chart+kubernetes-auth', 'chart+kagent-service', 'chart+guardrails'];

for (const overlay of [...(Object.keys(OVERLAYS) as Overlay[]), ...CHART_POLICIES]) {
  describe.skipIf(!!noGo)(overlay in OVERLAYS ? `in the ${overlay} overlay, the server's pods` : `in the ${overlay} rendering, the server's pods`, () => {
    it('are selected by exactly one NetworkPolicy, which governs both ingress and egress', async () => {
      const { policies } = await server(overlay);
      const spec = one(policies, 'NetworkPolicy', 'vault-mcp-server').spec as { policyTypes: string[] };
      expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    }, TOOL_TIMEOUT_MS);

    it('accept TCP 8084 from the kagent controller (tool discovery) and from kagent agent pods (tool calls)', async () => {
      const { policies, pod } = await server(overlay);
      expect(allowed(policies, 'Ingress', pod, tcp(PODS.kagentController, 8084))).toBe(true);
      expect(allowed(policies, 'Ingress', pod, tcp(PODS.kagentAgent, 8084))).toBe(true);
    }, TOOL_TIMEOUT_MS);

    it('refuse every other port and protocol, even from kagent', async () => {
      const { policies, pod } = await server(overlay);
      expect(allowed(policies, 'Ingress', pod, udp(PODS.kagentAgent, 8084))).toBe(false);
      for (const port of [80, 443, 8083, 8085, 9090]) expect(allowed(policies, 'Ingress', pod, tcp(PODS.kagentAgent, port))).toBe(false);
    }, TOOL_TIMEOUT_MS);

    it("refuse kagent's UI and tool server, other pods in kagent, look-alike pods in other namespaces, and outside addresses", async () => {
      const { policies, pod } = await server(overlay);
      for (const peer of [PODS.kagentUi, PODS.kagentTools, PODS.otherInKagent, PODS.lookalikeElsewhere, PODS.vaultServer]) {
        expect(allowed(policies, 'Ingress', pod, tcp(peer, 8084)), JSON.stringify(peer)).toBe(false);
      }
      expect(allowed(policies, 'Ingress', pod, tcp({ ip: '203.0.113.7' }, 8084))).toBe(false);
    }, TOOL_TIMEOUT_MS);

    it('may resolve names with kube-dns over UDP and TCP 53, and nothing else in kube-system', async () => {
      const { policies, pod } = await server(overlay);
      expect(allowed(policies, 'Egress', pod, udp(PODS.coreDns, 53))).toBe(true);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.coreDns, 53))).toBe(true);
      expect(allowed(policies, 'Egress', pod, udp(PODS.coreDns, 5353))).toBe(false);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.otherInKubeSystem, 443))).toBe(false);
      expect(allowed(policies, 'Egress', pod, udp(PODS.otherInKubeSystem, 53))).toBe(false);
    }, TOOL_TIMEOUT_MS);

    it("may call Vault's server pods on TCP 8200 only", async () => {
      const { policies, pod } = await server(overlay);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.vaultServer, 8200))).toBe(true);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.vaultServer, 8201))).toBe(false);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.vaultInjector, 8200))).toBe(false);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.vaultLabelsElsewhere, 8200))).toBe(false);
    }, TOOL_TIMEOUT_MS);

    it('may not call kagent, the Kubernetes API, or the internet', async () => {
      const { policies, pod } = await server(overlay);
      expect(allowed(policies, 'Egress', pod, tcp(PODS.kagentController, 8083))).toBe(false);
      expect(allowed(policies, 'Egress', pod, tcp({ ip: '10.96.0.1' }, 443))).toBe(false);
      expect(allowed(policies, 'Egress', pod, tcp({ ip: '203.0.113.7' }, 443))).toBe(false);
      expect(allowed(policies, 'Egress', pod, tcp({ ip: '203.0.113.7' }, 8200))).toBe(false);
    }, TOOL_TIMEOUT_MS);
  });
}

for (const variant of ['production+vault-ipblock', 'chart+vault-external'] as const) describe.skipIf(!!noGo)(
  variant === 'chart+vault-external' ? 'with the chart\'s networkPolicy.vault.cidrs, the server' : 'with the vault-ipblock component, the server', () => {

  it("may call Vault's address range on TCP 8200, and no longer Vault's pods", async () => {
    const { policies, pod } = await server(variant);
    expect(allowed(policies, 'Egress', pod, tcp({ ip: '192.0.2.5' }, 8200))).toBe(true);
    expect(allowed(policies, 'Egress', pod, tcp({ ip: '192.0.2.5' }, 443))).toBe(false);
    expect(allowed(policies, 'Egress', pod, tcp({ ip: '192.0.2.16' }, 8200))).toBe(false);
    expect(allowed(policies, 'Egress', pod, tcp(PODS.vaultServer, 8200))).toBe(false);
  }, TOOL_TIMEOUT_MS);

  it('still resolves names through kube-dns, and still accepts only kagent', async () => {
    const { policies, pod } = await server(variant);
    expect(allowed(policies, 'Egress', pod, udp(PODS.coreDns, 53))).toBe(true);
    expect(allowed(policies, 'Ingress', pod, tcp(PODS.kagentAgent, 8084))).toBe(true);
    expect(allowed(policies, 'Ingress', pod, tcp(PODS.otherInKagent, 8084))).toBe(false);
  }, TOOL_TIMEOUT_MS);

  it('points VAULT_ADDR at that external server over HTTPS', async () => {
    const cm = (await render(variant)).find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('vault-mcp-server'));
    expect((cm?.data as Record<string, string>).VAULT_ADDR).toBe('https://vault.example.com:8200');
  }, TOOL_TIMEOUT_MS);
});
