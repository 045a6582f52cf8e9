// Every file under manifests/ parses, every rendered variant is valid Kubernetes, and nothing secret is committed.
import { beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesSchemas } from './kube-schema.ts';
import { RENDERINGS, render } from './rendered.ts';
import { kubernetesOpenApiDir, KUBERNETES_VERSION, missingToolchain, parseYamlDocuments, repoRoot, type KubeObject } from './tools.ts';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const noGo = missingToolchain();
if (noGo) console.warn(`[deploy] skipping kustomize rendering and schema validation: ${noGo}`);

function files(pattern: string): string[] {
  return [...new Bun.Glob(pattern).scanSync({ cwd: repoRoot, dot: true })].sort();
}

const allYamlFiles = files('manifests/**/*.{yaml,yml}');
/** Kubernetes objects as written; the chart's files are templates and values, which helm.test.ts lints and renders. */
const yamlFiles = allYamlFiles.filter((f) => !f.startsWith('manifests/helm/'));
/** Everything we ship for deploying, text only: manifests, policies, the unit, the image recipe. */
const deployFiles = [...files('manifests/**/*'), 'Dockerfile.distroless', '.dockerignore'];

/** Kinds we declare that Kubernetes itself does not define; kagent.test.ts checks them against kagent's CRDs. */
const CUSTOM_KINDS = new Set(['kagent.dev/v1alpha2/RemoteMCPServer', 'kagent.dev/v1alpha2/Agent']);
/** The prometheus-operator's kind, whose CRD is not at hand offline: helm.test.ts checks its shape against the Service. */
const SHAPE_CHECKED_KINDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);

describe('the files under manifests/', () => {
  it('include a kustomize base, dev and production overlays, Vault policies and a systemd unit', () => {
    expect(yamlFiles).toContain('manifests/base/kustomization.yaml');
    expect(yamlFiles).toContain('manifests/overlays/dev/kustomization.yaml');
    expect(yamlFiles).toContain('manifests/overlays/production/kustomization.yaml');
    expect(deployFiles).toContain('manifests/vault/mcp-server-policy.hcl');
    expect(deployFiles).toContain('manifests/vault/read-only-policy.hcl');
    expect(deployFiles).toContain('manifests/vm/vault-mcp-server.service');
  });

  it.each(yamlFiles)('%s parses as YAML into objects with an apiVersion, a kind and (for resources) a name', (file) => {
    const docs = parseYamlDocuments(readFileSync(join(repoRoot, file), 'utf8'));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      expect(typeof doc.apiVersion).toBe('string');
      expect(typeof doc.kind).toBe('string');
      if (!doc.kind.startsWith('Kustomization') && doc.kind !== 'Component') expect(doc.metadata?.name).toBeTruthy();
    }
  });

  // kubectl and kustomize read YAML 1.1, where 0440 is octal and `on` is true; Bun and most tools read 1.2.
  it.each(allYamlFiles)('%s means the same in YAML 1.1 and 1.2 (no leading-zero numbers, no bare yes/no/on/off)', (file) => {
    const ambiguous = readFileSync(join(repoRoot, file), 'utf8')
      .split('\n')
      .map((line, i) => ({ line: line.replace(/\s+#.*$/, ''), n: i + 1 }))
      .filter(({ line }) => !line.trimStart().startsWith('#'))
      .filter(({ line }) => /:\s+(0\d+|y|n|yes|no|on|off)\s*$/i.test(line) || /^\s*-\s+(0\d+|yes|no|on|off)\s*$/i.test(line));
    expect(ambiguous.map(({ line, n }) => `${file}:${n}: ${line.trim()}`)).toEqual([]);
  });

  it.each(deployFiles)('%s holds no Vault token, private key or other credential', (file) => {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    const findings = [
      // Vault service, batch and recovery tokens (current and legacy forms).
      ...(text.match(/\bhv[sbr]\.[A-Za-z0-9_-]{20,}/g) ?? []),
      ...(text.match(/\b[sbr]\.[A-Za-z0-9]{24}\b/g) ?? []),
      ...(text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----/g) ?? []),
      // A token handed over as a value rather than a file.
      ...(text.match(/^\s*(export\s+)?VAULT_TOKEN\s*=\s*\S+/gm) ?? []),
      ...(text.match(/name:\s*VAULT_TOKEN\s*$/gm) ?? []),
    ];
    expect(findings).toEqual([]);
  });

  it('declare no Secret: the Vault token Secret is created out of band, never committed', () => {
    const kinds = yamlFiles.flatMap((f) => parseYamlDocuments(readFileSync(join(repoRoot, f), 'utf8')).map((d) => d.kind));
    expect(kinds).not.toContain('Secret');
    for (const f of yamlFiles) expect(readFileSync(join(repoRoot, f), 'utf8')).not.toMatch(/secretGenerator:/);
  });
});

describe.skipIf(!!noGo)(`rendered with kustomize and checked against Kubernetes ${KUBERNETES_VERSION}'s OpenAPI`, () => {
  let schemas: KubernetesSchemas;
  beforeAll(async () => {
    schemas = new KubernetesSchemas(await kubernetesOpenApiDir());
  }, TOOL_TIMEOUT_MS);

  const names = RENDERINGS;

  it.each(names)('%s renders, with every object in namespace kagent', async (name) => {
    const objects = await render(name);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.filter((o) => o.metadata.namespace !== 'kagent').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it.each(names)('%s holds only valid objects of kinds Kubernetes defines, or kagent resources', async (name) => {
    const problems: string[] = [];
    for (const obj of await render(name)) {
      const id = `${obj.kind}/${obj.metadata.name}`;
      if (CUSTOM_KINDS.has(`${obj.apiVersion}/${obj.kind}`) || SHAPE_CHECKED_KINDS.has(`${obj.apiVersion}/${obj.kind}`)) continue;
      if (!schemas.knows(obj.apiVersion, obj.kind)) {
        problems.push(`${id}: ${obj.apiVersion} ${obj.kind} is neither a Kubernetes kind nor a kagent one`);
        continue;
      }
      for (const e of schemas.validate(obj).errors) problems.push(`${id}: ${e}`);
    }
    expect(problems).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it('catches what it should: an unknown field, a wrong type and a duplicate env var are all errors', async () => {
    const deployment = structuredClone((await render('dev')).find((o) => o.kind === 'Deployment')) as KubeObject & {
      spec: { replicas: unknown; template: { spec: { containers: { env: unknown[]; securityContext: Record<string, unknown> }[] } } };
    };
    const container = deployment.spec.template.spec.containers[0] as { env: unknown[]; securityContext: Record<string, unknown> };
    container.securityContext.readOnlyRootFileSystem = true;
    deployment.spec.replicas = 'three';
    container.env.push({ name: 'MCP_PORT', value: '9000' });
    const { valid, errors } = schemas.validate(deployment);
    expect(valid).toBe(false);
    expect(errors.join('\n')).toContain('"readOnlyRootFileSystem"');
    expect(errors.join('\n')).toContain('/spec/replicas');
    expect(errors.join('\n')).toContain('same key');
  }, TOOL_TIMEOUT_MS);
});
