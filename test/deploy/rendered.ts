// The deployable variants of manifests/ (kustomize overlays and components, the Helm chart with each values example),
// rendered once per test run, and small lookups into them.
import { expect } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CHART_DIR, helmTemplate, kustomizeBuild, kustomizeVariant, type KubeObject } from './tools.ts';

export const OVERLAYS = {
  dev: 'manifests/overlays/dev',
  production: 'manifests/overlays/production',
} as const;

export type Overlay = keyof typeof OVERLAYS;

/** Replica count each overlay promises. */
export const REPLICAS: Record<Overlay, number> = { dev: 1, production: 3 };

/** The components layered on an overlay, as a user would in their own kustomization. */
export const VARIANTS = {
  'production+vault-ipblock': { resources: [OVERLAYS.production], components: ['manifests/components/vault-ipblock'] },
  'production+vault-kubernetes-auth': { resources: [OVERLAYS.production], components: ['manifests/components/vault-kubernetes-auth'] },
  'dev+vault-ipblock+vault-kubernetes-auth': {
    resources: [OVERLAYS.dev],
    components: ['manifests/components/vault-ipblock', 'manifests/components/vault-kubernetes-auth'],
  },
} as const;

export type Variant = keyof typeof VARIANTS;

/** A token the test makes up for the chart to put in the Secret it creates: never a real one, never committed. */
export const MADE_UP_TOKEN = `not-a-vault-token-${randomBytes(12).toString('hex')}`;

/**
 * The chart, installed as release vault-mcp-server in namespace kagent (so names match the kustomize manifests), with
 * each values example under the chart's examples/ (none: the chart's defaults).
 */
export const CHART_EXAMPLES = {
  chart: { files: [] },
  'chart+dev': { files: [`${CHART_DIR}/examples/dev.yaml`] },
  'chart+production': { files: [`${CHART_DIR}/examples/production.yaml`] },
  'chart+kubernetes-auth': { files: [`${CHART_DIR}/examples/kubernetes-auth.yaml`] },
  'chart+vault-external': { files: [`${CHART_DIR}/examples/vault-external.yaml`] },
  'chart+kagent-service': { files: [`${CHART_DIR}/examples/kagent-service.yaml`] },
  'chart+guardrails': { files: [`${CHART_DIR}/examples/guardrails.yaml`] },
  'chart+created-token': { files: [`${CHART_DIR}/examples/created-token.yaml`], set: { 'vault.auth.token.value': MADE_UP_TOKEN } },
} as const satisfies Record<string, { files: readonly string[]; set?: Record<string, string> }>;

export type ChartExample = keyof typeof CHART_EXAMPLES;

/** Every deployable rendering: overlays, overlays with components, chart examples. */
export type Rendering = Overlay | Variant | ChartExample;

export const RENDERINGS = [...Object.keys(OVERLAYS), ...Object.keys(VARIANTS), ...Object.keys(CHART_EXAMPLES)] as Rendering[];

/** The chart examples that mirror an overlay, so the overlay's checks apply to them unchanged. */
export const CHART_LIKE_OVERLAYS = { chart: 'dev', 'chart+dev': 'dev', 'chart+production': 'production' } as const satisfies Partial<Record<ChartExample, Overlay>>;

const cache = new Map<string, Promise<KubeObject[]>>();

/** Objects of an overlay or a variant, rendered by the pinned kustomize, or of a chart example, by the pinned helm. */
export function render(name: Rendering): Promise<KubeObject[]> {
  let objects = cache.get(name);
  if (!objects) {
    if (name in OVERLAYS) objects = kustomizeBuild(OVERLAYS[name as Overlay]);
    else if (name in VARIANTS) objects = kustomizeVariant(name, VARIANTS[name as Variant]);
    else objects = helmTemplate(CHART_EXAMPLES[name as ChartExample]);
    cache.set(name, objects);
  }
  return objects;
}

/** The one object of this kind (and name, if given); fails the test when there is not exactly one. */
export function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`)).toHaveLength(1);
  return found[0] as KubeObject;
}

// Just enough of the Deployment's shape for the tests to read it without casts everywhere.
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  projected?: { sources: { serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number } }[] };
  emptyDir?: Record<string, unknown>;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Volume[];
  topologySpreadConstraints?: { topologyKey: string }[];
}

export interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

export function deploymentSpec(objects: KubeObject[]): DeploymentSpec {
  return one(objects, 'Deployment', 'vault-mcp-server').spec as DeploymentSpec;
}

export function mcpContainer(objects: KubeObject[]): Container {
  const containers = deploymentSpec(objects).template.spec.containers;
  const c = containers.find((x) => x.name === 'vault-mcp');
  expect(c, 'a container named vault-mcp').toBeDefined();
  return c as Container;
}

export function env(container: Container, name: string): EnvVar | undefined {
  return container.env?.find((e) => e.name === name);
}

/** The value an environment variable has in the pod: literal, or the key of a rendered ConfigMap it refers to. */
export function envValue(objects: KubeObject[], name: string): string | undefined {
  const e = env(mcpContainer(objects), name);
  const ref = e?.valueFrom?.configMapKeyRef;
  if (!ref) return e?.value;
  return (one(objects, 'ConfigMap', ref.name).data as Record<string, string>)[ref.key];
}

/** Every environment variable the server reads: the names its configuration and flag table spell out. */
export function serverEnvNames(): Set<string> {
  const root = resolve(import.meta.dir, '..', '..');
  const source = ['config.ts', 'config-auth.ts', 'config-values.ts', 'flags.ts'].map((f) => readFileSync(join(root, 'src', f), 'utf8')).join('\n');
  return new Set(source.match(/\b(VAULT|MCP|LOG)_[A-Z0-9_]+\b/g) ?? []);
}
