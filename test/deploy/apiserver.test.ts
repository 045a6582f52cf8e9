// Every rendering (kustomize overlays and components, chart examples) as a real kube-apiserver judges it: server-side
// apply with strict field validation, admission with PodSecurity enforcing "restricted", and kagent's CRDs with their
// CEL rules. In addition to the offline schema checks, which cannot run CEL or admission.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBE_APISERVER_VERSION, refusal, startKubeApi, type KubeAnswer, type KubeApi } from './kube-api.ts';
import { RENDERINGS, one, render, type DeploymentSpec, type Rendering } from './rendered.ts';
import { missingToolchain, parseYamlDocuments, repoRoot, type KubeObject } from './tools.ts';

// The first run on a machine may still have to build kube-apiserver here, if test/support/prepare.ts did not.
const START_TIMEOUT_MS = 50 * 60_000;
const TEST_TIMEOUT_MS = 60_000;
const NAMESPACE = 'kagent';

const noGo = missingToolchain();
if (noGo) console.warn(`[deploy] skipping the API server checks: ${noGo}`);

const kagentDir = join(repoRoot, '..', 'shared', 'kagent');
const CRD_FILES = ['remotemcpservers.kagent.dev.yaml', 'agents.kagent.dev.yaml'].map((f) => join(kagentDir, f));
const haveCrds = CRD_FILES.every((f) => existsSync(f));
if (!noGo && !haveCrds) {
  console.warn(`[deploy] kagent's CRDs are not in ${kagentDir} (a clone outside the workplace): RemoteMCPServer and Agent objects and their CEL rules are not checked by the API server`);
}

const KAGENT_KINDS = new Set(['kagent.dev/v1alpha2/RemoteMCPServer', 'kagent.dev/v1alpha2/Agent']);
/** No CRD for it is at hand offline; helm.test.ts checks its shape against the Service instead. */
const NO_CRD_KINDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);

/** The API server's verdict on each object, printed at the end for the record. */
const verdicts: string[] = [];

function podFrom(deployment: KubeObject): KubeObject {
  const template = (deployment.spec as DeploymentSpec).template as DeploymentSpec['template'] & { metadata: { annotations?: Record<string, string> } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${deployment.metadata.name}-template`, namespace: deployment.metadata.namespace, labels: template.metadata.labels, annotations: template.metadata.annotations },
    spec: template.spec,
  };
}

function verdict(answer: KubeAnswer): string {
  if (answer.status >= 300) return `REFUSED (${answer.status}): ${refusal(answer)}`;
  return answer.warnings.length ? `accepted, with warnings: ${answer.warnings.join(' | ')}` : 'accepted';
}

describe.skipIf(!!noGo)(`a real kube-apiserver ${KUBE_APISERVER_VERSION} on loopback`, () => {
  let api: KubeApi;

  beforeAll(async () => {
    api = await startKubeApi();
    // Created for real (dry-run objects still need their namespace), enforcing the restricted standard.
    const ns = await api.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: NAMESPACE,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/warn': 'restricted',
            'pod-security.kubernetes.io/warn-version': 'latest',
          },
        },
      },
      { persist: true },
    );
    if (ns.status >= 300) throw new Error(`creating namespace ${NAMESPACE}: ${refusal(ns)}`);
    if (haveCrds) await api.installCrds(CRD_FILES.flatMap((f) => parseYamlDocuments(readFileSync(f, 'utf8'))));
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await api?.stop();
    if (verdicts.length) console.log(`[deploy] kube-apiserver ${KUBE_APISERVER_VERSION} verdicts (server-side apply, dry run, strict):\n  ${verdicts.join('\n  ')}`);
  }, 30_000);

  it.each(RENDERINGS)('accepts every object of %s, server-side applied with strict field validation, without a warning', async (name) => {
    const problems: string[] = [];
    for (const obj of await render(name as Rendering)) {
      const id = `${name}: ${obj.kind}/${obj.metadata.name}`;
      const kind = `${obj.apiVersion}/${obj.kind}`;
      if (NO_CRD_KINDS.has(kind)) {
        verdicts.push(`${id}: not sent (no CRD for ${obj.apiVersion} at hand; shape checked in helm.test.ts)`);
        continue;
      }
      if (KAGENT_KINDS.has(kind) && !haveCrds) {
        verdicts.push(`${id}: not sent (kagent's CRDs absent)`);
        continue;
      }
      const answer = await api.apply(obj);
      verdicts.push(`${id}: ${verdict(answer)}`);
      if (answer.status >= 300 || answer.warnings.length) problems.push(`${id}: ${verdict(answer)}`);
    }
    expect(problems).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it.each(RENDERINGS)('admits the Pod that the Deployment of %s makes, in a namespace enforcing the restricted Pod Security Standard', async (name) => {
    const pod = podFrom(one(await render(name as Rendering), 'Deployment'));
    const answer = await api.dryRunCreate(pod);
    verdicts.push(`${name}: Pod from Deployment's template: ${verdict(answer)}`);
    expect(verdict(answer)).toBe('accepted');
  }, TEST_TIMEOUT_MS);

  it('refuses a Pod that breaks the restricted standard there, so the admission check is live', async () => {
    const pod = podFrom(one(await render('dev'), 'Deployment'));
    const container = (pod.spec as DeploymentSpec['template']['spec']).containers[0] as { securityContext: Record<string, unknown> };
    container.securityContext = { ...container.securityContext, allowPrivilegeEscalation: true, capabilities: { add: ['NET_ADMIN'] } };
    const answer = await api.dryRunCreate(pod);
    expect(answer.status).toBe(403);
    expect(refusal(answer)).toContain('violates PodSecurity "restricted:latest"');
    expect(refusal(answer)).toContain('allowPrivilegeEscalation');
  }, TEST_TIMEOUT_MS);

  it('warns about a Deployment whose Pod template breaks the standard, so "without a warning" above means something', async () => {
    const deployment = structuredClone(one(await render('dev'), 'Deployment')) as KubeObject & { spec: DeploymentSpec };
    delete deployment.spec.template.spec.securityContext;
    const container = deployment.spec.template.spec.containers[0] as { securityContext?: Record<string, unknown> };
    delete container.securityContext;
    const answer = await api.apply(deployment);
    expect(answer.status).toBeLessThan(300);
    // The policy name is quoted inside the warning text, escaped once more by some API server builds.
    expect(answer.warnings.join('\n')).toMatch(/would violate PodSecurity \\*"restricted:latest\\*"/);
  }, TEST_TIMEOUT_MS);

  it('refuses an unknown field, as kubectl apply --validate=strict does', async () => {
    const deployment = structuredClone(one(await render('chart'), 'Deployment')) as KubeObject & { spec: DeploymentSpec };
    (deployment.spec.template.spec.containers[0] as { securityContext: Record<string, unknown> }).securityContext.readOnlyRootFileSystem = true;
    const answer = await api.apply(deployment);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(refusal(answer)).toContain('readOnlyRootFileSystem');
  }, TEST_TIMEOUT_MS);

  describe.skipIf(!haveCrds)("kagent's RemoteMCPServer CRD, with its CEL rules run by the API server", () => {
    const remote = async (): Promise<KubeObject & { spec: Record<string, unknown> }> =>
      structuredClone(one(await render('chart'), 'RemoteMCPServer')) as KubeObject & { spec: Record<string, unknown> };

    it('refuses spec.tls beside an http:// URL', async () => {
      const obj = await remote();
      obj.spec.tls = { disableVerify: true };
      const answer = await api.apply(obj);
      expect(answer.status).toBe(422);
      expect(refusal(answer)).toContain('spec.tls must be unset when spec.url has http:// scheme');
    }, TEST_TIMEOUT_MS);

    it('accepts the same spec.tls with an https:// URL (the rule is about the scheme, not tls itself)', async () => {
      const obj = await remote();
      obj.spec.tls = { caCertSecretRef: 'mcp-ca', caCertSecretKey: 'ca.crt' };
      obj.spec.url = String(obj.spec.url).replace('http://', 'https://');
      expect(verdict(await api.apply(obj))).toBe('accepted');
    }, TEST_TIMEOUT_MS);

    it('refuses a CA Secret reference without its key, and a header with both a value and a valueFrom', async () => {
      const noKey = await remote();
      noKey.spec.url = String(noKey.spec.url).replace('http://', 'https://');
      noKey.spec.tls = { caCertSecretRef: 'mcp-ca' };
      expect(refusal(await api.apply(noKey))).toContain('caCertSecretRef requires caCertSecretKey');
      const header = await remote();
      header.spec.headersFrom = [{ name: 'Authorization', value: 'Bearer x', valueFrom: { type: 'Secret', name: 's', key: 'k' } }];
      expect(refusal(await api.apply(header))).toContain('Exactly one of value or valueFrom must be specified');
    }, TEST_TIMEOUT_MS);

    it('refuses a protocol kagent does not speak', async () => {
      const obj = await remote();
      obj.spec.protocol = 'HTTP';
      const answer = await api.apply(obj);
      expect(answer.status).toBe(422);
      expect(refusal(answer)).toContain('spec.protocol');
    }, TEST_TIMEOUT_MS);
  });
});
