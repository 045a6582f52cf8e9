// The Helm chart (manifests/helm/vault-mcp-server): it lints, renders each values example, and its values do what they say.
// The rendered objects also go through the overlays' checks (deployment, network-policy, manifests, kagent, apiserver tests).
import { describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowed, type Endpoint } from './network-policy.ts';
import { CHART_EXAMPLES, MADE_UP_TOKEN, OVERLAYS, deploymentSpec, env, envValue, mcpContainer, one, render, serverEnvNames, type ChartExample, type Overlay } from './rendered.ts';
import { CHART_DIR, HELM_VERSION, helmLint, helmTemplate, helmTemplateError, missingToolchain, parseYamlDocuments, repoRoot, type KubeObject } from './tools.ts';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const noGo = missingToolchain();
if (noGo) console.warn(`[deploy] skipping helm lint and helm template: ${noGo}`);

const examples = Object.keys(CHART_EXAMPLES) as ChartExample[];
const chart = parseYamlDocuments(readFileSync(join(repoRoot, CHART_DIR, 'Chart.yaml'), 'utf8'))[0] as unknown as { name: string; version: string; appVersion: string };

/** Settings for features the server is gaining (toolsets, issue 11); it ignores them until then, so the chart may set them. */
const PENDING_ENV = new Set(['MCP_TOOLSETS']);

function annotations(obj: { metadata?: { [key: string]: unknown } }): Record<string, string> {
  return (obj.metadata?.annotations as Record<string, string> | undefined) ?? {};
}

const podAnnotations = (objects: KubeObject[]) => annotations((one(objects, 'Deployment').spec as { template: { metadata: { annotations?: Record<string, string> } } }).template);

describe.skipIf(!!noGo)(`the chart, linted and rendered by helm ${HELM_VERSION}`, () => {
  it.each(examples)('passes helm lint --strict with the values of %s', async (name) => {
    const { ok, output } = await helmLint(CHART_EXAMPLES[name]);
    expect(output).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(ok).toBe(true);
  }, TOOL_TIMEOUT_MS);

  it('lints every values example under examples/, and the tests render each one', () => {
    const files = [...new Bun.Glob(`${CHART_DIR}/examples/*.yaml`).scanSync({ cwd: repoRoot })].sort();
    const used = examples.flatMap((e) => CHART_EXAMPLES[e].files as readonly string[]);
    expect(files.filter((f) => !used.includes(f))).toEqual([]);
  });

  it.each(examples)('%s: every object carries the standard app.kubernetes.io/* and helm.sh/chart labels', async (name) => {
    for (const obj of await render(name)) {
      expect(obj.metadata.labels, `${obj.kind}/${obj.metadata.name}`).toMatchObject({
        'helm.sh/chart': `${chart.name}-${chart.version}`,
        'app.kubernetes.io/name': 'vault-mcp-server',
        'app.kubernetes.io/instance': 'vault-mcp-server',
        'app.kubernetes.io/version': chart.appVersion,
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
  }, TOOL_TIMEOUT_MS);

  it('selects its pods by name and instance only, so an upgrade (new version label) keeps the same selector', async () => {
    const spec = deploymentSpec(await render('chart'));
    expect(spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'vault-mcp-server', 'app.kubernetes.io/instance': 'vault-mcp-server' });
  }, TOOL_TIMEOUT_MS);

  it('names everything after the release, and points the RemoteMCPServer at the Service it creates', async () => {
    const objects = await helmTemplate({ release: 'ops', namespace: 'tools' });
    const service = one(objects, 'Service', 'ops-vault-mcp-server');
    expect(service.metadata.namespace).toBe('tools');
    const remote = one(objects, 'RemoteMCPServer', 'ops-vault-mcp-server');
    expect((remote.spec as { url: string }).url).toBe('http://ops-vault-mcp-server.tools.svc.cluster.local:8084/mcp');
    expect((remote.spec as { protocol: string }).protocol).toBe('STREAMABLE_HTTP');
    // The server answers only Host names it knows off loopback; its defaults are the Service's names in namespace kagent.
    const hosts = (one(objects, 'ConfigMap', 'ops-vault-mcp-server').data as Record<string, string>).MCP_ALLOWED_HOSTS;
    expect(hosts?.split(',')).toEqual([
      'ops-vault-mcp-server',
      'ops-vault-mcp-server.tools',
      'ops-vault-mcp-server.tools.svc',
      'ops-vault-mcp-server.tools.svc.cluster.local',
    ]);
    expect(envValue(await render('chart'), 'MCP_ALLOWED_HOSTS')).toBeUndefined();
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)('the checksum annotation', () => {
  const checksum = async (set: Record<string, string> = {}) => podAnnotations(await helmTemplate({ set }))['checksum/config'];

  it('is a sha256 of the settings, the same for the same values', async () => {
    expect(await checksum()).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum()).toBe(await checksum());
  }, TOOL_TIMEOUT_MS);

  it('changes when a setting changes, so the pods roll (env from a ConfigMap is read only at start)', async () => {
    const base = await checksum();
    expect(await checksum({ 'vault.addr': 'https://vault.example.com:8200' })).not.toBe(base);
    expect(await checksum({ 'mcp.logLevel': 'debug' })).not.toBe(base);
    expect(await checksum({ 'mcp.secretValues': 'mask' })).not.toBe(base);
  }, TOOL_TIMEOUT_MS);

  it('stays when only something else changes (the replica count)', async () => {
    expect(await checksum({ replicaCount: '2' })).toBe(await checksum());
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)('the Vault token', () => {
  it('comes by default from the existing Secret vault-mcp-server-token, which the chart does not create', async () => {
    const objects = await render('chart');
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === 'vault-token')?.secret?.secretName).toBe('vault-mcp-server-token');
  }, TOOL_TIMEOUT_MS);

  it('comes from another existing Secret and key when named', async () => {
    const objects = await helmTemplate({ set: { 'vault.auth.token.existingSecret': 'team-vault-token', 'vault.auth.token.key': 'vault-token' } });
    const volume = deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === 'vault-token');
    expect(volume?.secret).toEqual({ secretName: 'team-vault-token', items: [{ key: 'vault-token', path: 'token' }], defaultMode: 0o440 });
  }, TOOL_TIMEOUT_MS);

  it('is put in a Secret the chart creates when asked, and is in no other object', async () => {
    const objects = await render('chart+created-token');
    const secret = one(objects, 'Secret', 'vault-mcp-server-token') as KubeObject & { data: Record<string, string>; type: string };
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.token as string, 'base64').toString()).toBe(MADE_UP_TOKEN);
    for (const obj of objects.filter((o) => o.kind !== 'Secret')) expect(JSON.stringify(obj)).not.toContain(MADE_UP_TOKEN);
    expect(env(mcpContainer(objects), 'VAULT_TOKEN_FILE')?.value).toBe('/var/run/secrets/vault/token');
  }, TOOL_TIMEOUT_MS);

  it('trims the newline that --set-file brings along', async () => {
    const objects = await helmTemplate({ files: CHART_EXAMPLES['chart+created-token'].files, set: { 'vault.auth.token.value': `${MADE_UP_TOKEN}\n` } });
    const secret = one(objects, 'Secret') as KubeObject & { data: Record<string, string> };
    expect(Buffer.from(secret.data.token as string, 'base64').toString()).toBe(MADE_UP_TOKEN);
  }, TOOL_TIMEOUT_MS);

  it('must be given when the chart is to create the Secret, and the refusal says how', async () => {
    expect(await helmTemplateError({ files: CHART_EXAMPLES['chart+created-token'].files })).toContain('--set-file vault.auth.token.value=token.txt');
  }, TOOL_TIMEOUT_MS);

  it('is not needed with Kubernetes auth: no Secret, no token file, a projected token for audience vault', async () => {
    const objects = await render('chart+kubernetes-auth');
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(envValue(objects, 'VAULT_AUTH_METHOD')).toBe('kubernetes');
    expect(envValue(objects, 'VAULT_K8S_ROLE')).toBe('vault-mcp-server');
    expect(envValue(objects, 'VAULT_TOKEN_FILE')).toBeUndefined();
  }, TOOL_TIMEOUT_MS);

  it('gives way to AppRole: the role id as a setting, the secret id as a file from its Secret', async () => {
    const objects = await helmTemplate({ set: { 'vault.auth.method': 'approle', 'vault.auth.approle.roleId': 'role-1', 'vault.auth.approle.secretIdSecret': 'approle' } });
    expect(envValue(objects, 'VAULT_AUTH_METHOD')).toBe('approle');
    expect(envValue(objects, 'VAULT_APPROLE_ROLE_ID')).toBe('role-1');
    expect(envValue(objects, 'VAULT_APPROLE_SECRET_ID_FILE')).toBe('/var/run/secrets/vault-approle/secret-id');
    expect(deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === 'vault-approle')?.secret?.secretName).toBe('approle');
  }, TOOL_TIMEOUT_MS);

  it('refuses an auth method the server does not have', async () => {
    expect(await helmTemplateError({ set: { 'vault.auth.method': 'ldap' } })).toContain('vault.auth.method must be token, kubernetes, jwt or approle');
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)('TLS to Vault', () => {
  it('trusts the CA from a ConfigMap (production) or a Secret, mounted where VAULT_CACERT points', async () => {
    const fromConfigMap = await render('chart+production');
    expect(envValue(fromConfigMap, 'VAULT_CACERT')).toBe('/var/run/secrets/vault-ca/ca.crt');
    const fromSecret = await helmTemplate({ set: { 'vault.addr': 'https://vault.example.com:8200', 'vault.tls.caSecret': 'vault-ca', 'vault.tls.caKey': 'ca.pem' } });
    const volume = deploymentSpec(fromSecret).template.spec.volumes?.find((v) => v.name === 'vault-ca');
    expect(volume?.secret).toMatchObject({ secretName: 'vault-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] });
  }, TOOL_TIMEOUT_MS);

  it('presents a client certificate from a kubernetes.io/tls Secret, and names the server it expects', async () => {
    const objects = await helmTemplate({
      set: { 'vault.addr': 'https://10.0.0.5:8200', 'vault.tls.clientCertSecret': 'vault-client', 'vault.tls.serverName': 'vault.example.com' },
    });
    expect(envValue(objects, 'VAULT_CLIENT_CERT')).toBe('/var/run/secrets/vault-client/tls.crt');
    expect(envValue(objects, 'VAULT_CLIENT_KEY')).toBe('/var/run/secrets/vault-client/tls.key');
    expect(envValue(objects, 'VAULT_TLS_SERVER_NAME')).toBe('vault.example.com');
    expect(deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === 'vault-client')?.secret?.secretName).toBe('vault-client');
  }, TOOL_TIMEOUT_MS);

  it('refuses TLS settings for a plaintext Vault address', async () => {
    expect(await helmTemplateError({ set: { 'vault.tls.caConfigMap': 'vault-ca' } })).toContain('is not https://');
  }, TOOL_TIMEOUT_MS);

  it("opens egress to the port of Vault's address", async () => {
    const objects = await helmTemplate({ set: { 'vault.addr': 'https://vault.example.com:8443', 'vault.tls.caConfigMap': 'vault-ca' } });
    const egress = (one(objects, 'NetworkPolicy').spec as { egress: { ports: { port: number }[] }[] }).egress;
    expect(egress[1]?.ports).toEqual([{ protocol: 'TCP', port: 8443 }] as never);
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)('auth on /mcp, secret-value mode and toolsets', () => {
  it('are unset by default, so the server keeps its own defaults', async () => {
    const c = mcpContainer(await render('chart'));
    for (const name of ['MCP_AUTH', 'MCP_AUTH_TOKENS_FILE', 'MCP_SECRET_VALUES', 'MCP_TOOLSETS', 'MCP_ALLOWED_HOSTS']) expect(env(c, name), name).toBeUndefined();
  }, TOOL_TIMEOUT_MS);

  it('map to MCP_AUTH, MCP_AUTH_TOKENS_FILE, MCP_SECRET_VALUES and MCP_TOOLSETS when set', async () => {
    const objects = await render('chart+guardrails');
    expect(envValue(objects, 'MCP_AUTH')).toBe('bearer');
    expect(envValue(objects, 'MCP_AUTH_TOKENS_FILE')).toBe('/var/run/secrets/mcp-auth/tokens');
    expect(envValue(objects, 'MCP_SECRET_VALUES')).toBe('mask');
    expect(envValue(objects, 'MCP_TOOLSETS')).toBe('default');
    expect(deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === 'mcp-auth')?.secret).toEqual({
      secretName: 'vault-mcp-server-callers',
      items: [{ key: 'tokens', path: 'tokens' }],
      defaultMode: 0o440,
    });
    // kagent sends the bearer token from the same Secret.
    const remote = one(objects, 'RemoteMCPServer').spec as { headersFrom: { name: string; valueFrom: { name: string } }[] };
    expect(remote.headersFrom).toEqual([{ name: 'Authorization', valueFrom: { type: 'Secret', name: 'vault-mcp-server-callers', key: 'authorization' } }] as never);
  }, TOOL_TIMEOUT_MS);

  it('are set in the production example as the production overlay sets them', async () => {
    const [overlay, chart] = [await render('production'), await render('chart+production')];
    for (const name of ['MCP_AUTH', 'MCP_AUTH_TOKENS_FILE', 'MCP_SECRET_VALUES', 'VAULT_ADDR', 'VAULT_CACERT', 'VAULT_TOKEN_FILE']) {
      expect(envValue(chart, name), name).toBe(envValue(overlay, name) as string);
    }
    const secretOf = (objects: KubeObject[]) => deploymentSpec(objects).template.spec.volumes?.find((v) => v.name === 'mcp-auth')?.secret;
    expect(secretOf(chart)).toEqual(secretOf(overlay) as never);
    const headers = (objects: KubeObject[]) => (one(objects, 'RemoteMCPServer').spec as { headersFrom?: unknown }).headersFrom;
    expect(headers(chart)).toEqual(headers(overlay));
  }, TOOL_TIMEOUT_MS);

  it('refuse values outside what the server will accept', async () => {
    expect(await helmTemplateError({ set: { 'mcp.secretValues': 'show' } })).toContain('mcp.secretValues must be reveal, mask or wrap');
    expect(await helmTemplateError({ set: { 'mcp.auth': 'basic' } })).toContain('mcp.auth must be none, bearer or oauth');
  }, TOOL_TIMEOUT_MS);

  const pending = [...PENDING_ENV].filter((n) => !serverEnvNames().has(n));
  if (pending.length) console.warn(`[deploy] the chart can set ${pending.join(', ')}, which src/config.ts does not read yet (the server ignores them)`);

  it.each(examples)('%s sets only environment variables the server reads, or one of those', async (name) => {
    const known = serverEnvNames();
    const names = mcpContainer(await render(name)).env?.map((e) => e.name) ?? [];
    expect(names.filter((n) => !known.has(n) && !PENDING_ENV.has(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)("kagent's Service discovery", () => {
  it('is off by default: the Service carries no kagent label, and port 8084 says it speaks MCP', async () => {
    const service = one(await render('chart'), 'Service');
    expect(service.metadata.labels?.['kagent.dev/mcp-service']).toBeUndefined();
    expect((service.spec as { ports: { appProtocol: string }[] }).ports[0]?.appProtocol).toBe('mcp');
  }, TOOL_TIMEOUT_MS);

  it('labels the Service kagent.dev/mcp-service=true and annotates the port, path and protocol kagent reads', async () => {
    const objects = await render('chart+kagent-service');
    const service = one(objects, 'Service', 'vault-mcp-server');
    expect(service.metadata.labels?.['kagent.dev/mcp-service']).toBe('true');
    expect(annotations(service)).toMatchObject({
      'kagent.dev/mcp-service-port': '8084',
      'kagent.dev/mcp-service-path': '/mcp',
      'kagent.dev/mcp-service-protocol': 'STREAMABLE_HTTP',
    });
    // What kagent builds from them (ConvertServiceToRemoteMCPServer): the port must be one the Service has.
    const ports = (service.spec as { ports: { name: string; port: number }[] }).ports;
    expect(ports.find((p) => p.port === Number(annotations(service)['kagent.dev/mcp-service-port']))?.name).toBe('http');
    expect(objects.filter((o) => o.kind === 'RemoteMCPServer')).toEqual([]);
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)('metrics', () => {
  it('are announced to Prometheus by pod annotations on the MCP port by default, with no ServiceMonitor', async () => {
    const objects = await render('chart');
    expect(podAnnotations(objects)).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8084', 'prometheus.io/path': '/metrics' });
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(env(mcpContainer(objects), 'MCP_METRICS_ADDR')).toBeUndefined();
  }, TOOL_TIMEOUT_MS);

  it('on a port of their own: MCP_METRICS_ADDR, a container and Service port "metrics", and the annotations follow', async () => {
    const objects = await render('chart+kagent-service');
    expect(envValue(objects, 'MCP_METRICS_ADDR')).toBe(':9090');
    expect(mcpContainer(objects).ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
    const ports = (one(objects, 'Service').spec as { ports: { name: string; port: number; targetPort: string }[] }).ports;
    expect(ports.find((p) => p.name === 'metrics')).toMatchObject({ port: 9090, targetPort: 'metrics' });
    expect(podAnnotations(objects)['prometheus.io/port']).toBe('9090');
  }, TOOL_TIMEOUT_MS);

  it("through a ServiceMonitor that selects this chart's Service and a port it has", async () => {
    const objects = await render('chart+kagent-service');
    const monitor = one(objects, 'ServiceMonitor', 'vault-mcp-server') as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: { port: string; path: string }[] };
    };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    const service = one(objects, 'Service');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels?.[k]).toBe(v);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([service.metadata.namespace as string]);
    const names = (service.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
    expect(monitor.spec.endpoints.map((e) => e.port).filter((p) => !names.includes(p))).toEqual([]);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
    // Fields the prometheus-operator's CRD knows; an unknown one would be dropped or refused there.
    expect(Object.keys(monitor.spec).sort()).toEqual(['endpoints', 'namespaceSelector', 'selector']);
    expect(Object.keys(monitor.spec.endpoints[0] as object).sort()).toEqual(['interval', 'path', 'port', 'scheme', 'scrapeTimeout']);
  }, TOOL_TIMEOUT_MS);

  it('may be scraped by the Prometheus pods named in networkPolicy.metricsFrom on that port only', async () => {
    const objects = await render('chart+kagent-service');
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const pod = { namespace: 'kagent', labels: deploymentSpec(objects).template.metadata.labels };
    const prometheus: Endpoint = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } };
    const kagentAgent: Endpoint = { namespace: 'kagent', podLabels: { app: 'kagent', 'app.kubernetes.io/managed-by': 'kagent' } };
    expect(allowed(policies, 'Ingress', pod, { peer: prometheus, port: 9090, protocol: 'TCP' })).toBe(true);
    expect(allowed(policies, 'Ingress', pod, { peer: prometheus, port: 8084, protocol: 'TCP' })).toBe(false);
    expect(allowed(policies, 'Ingress', pod, { peer: kagentAgent, port: 9090, protocol: 'TCP' })).toBe(false);
  }, TOOL_TIMEOUT_MS);

  it('when off, are neither announced nor monitored', async () => {
    const objects = await helmTemplate({ set: { 'metrics.addr': 'off', 'metrics.serviceMonitor.enabled': 'true' } });
    expect(podAnnotations(objects)['prometheus.io/scrape']).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it.each(Object.keys(OVERLAYS) as Overlay[])('are announced the same way by the %s overlay', async (overlay) => {
    expect(podAnnotations(await render(overlay))).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8084', 'prometheus.io/path': '/metrics' });
  }, TOOL_TIMEOUT_MS);
});

describe.skipIf(!!noGo)('the NetworkPolicy', () => {
  it('refuses to render with no one allowed in, which would let every pod in', async () => {
    expect(await helmTemplateError({ set: { 'networkPolicy.ingressFrom': 'null' } })).toContain('networkPolicy.ingressFrom is empty');
  }, TOOL_TIMEOUT_MS);
});
