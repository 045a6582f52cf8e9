// The deployable variants of manifests/, rendered once per test run, and small lookups into them.
import { expect } from 'bun:test';
import { kustomizeBuild, kustomizeVariant, type KubeObject } from './tools.ts';

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

const cache = new Map<string, Promise<KubeObject[]>>();

/** Objects of an overlay or a variant, rendered by the pinned kustomize. */
export function render(name: Overlay | Variant): Promise<KubeObject[]> {
  let objects = cache.get(name);
  if (!objects) {
    objects = name in OVERLAYS ? kustomizeBuild(OVERLAYS[name as Overlay]) : kustomizeVariant(name, VARIANTS[name as Variant]);
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
