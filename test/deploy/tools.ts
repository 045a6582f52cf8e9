// Finds or builds the offline tools the deploy tests need (kustomize, helm, Kubernetes' OpenAPI), cached under .cache/deploy/.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Pinned, so every machine renders and validates the same way. Both come from the Go module proxy. */
export const KUSTOMIZE_VERSION = 'v5.8.1';
export const HELM_VERSION = 'v3.22.0';
/** The Kubernetes release whose published OpenAPI v3 documents (api/openapi-spec/v3) we validate against. */
export const KUBERNETES_VERSION = 'v1.34.2';

export const repoRoot = resolve(import.meta.dir, '..', '..');
export const cacheDir = join(repoRoot, '.cache', 'deploy');

/** Why a tool is missing, for a skip message; undefined when the Go toolchain is there. */
export function missingToolchain(): string | undefined {
  return Bun.which('go') ? undefined : 'the Go toolchain (`go`) is not on PATH, so kustomize, helm and the Kubernetes OpenAPI cannot be fetched';
}

function say(message: string): void {
  process.stderr.write(`[deploy-tools] ${message}\n`);
}

async function run(cmd: string[], env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: repoRoot, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited with ${code}:\n${err.trim()}`);
  return out;
}

/** Builds into a fresh temp dir, then renames into place, so a half-built tool is never seen as cached. */
async function publish(target: string, build: (tmp: string) => Promise<string>): Promise<string> {
  if (existsSync(target)) return target;
  await mkdir(cacheDir, { recursive: true });
  const tmp = await mkdtemp(join(cacheDir, '.tmp-'));
  try {
    const built = await build(tmp);
    if (!existsSync(target)) await rename(built, target);
    return target;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

let kustomize: Promise<string> | undefined;

/** Path of the pinned kustomize binary; the first call on a machine builds it with `go install` (about a minute). */
export function kustomizeBinary(): Promise<string> {
  kustomize ??= publish(join(cacheDir, `kustomize-${KUSTOMIZE_VERSION}`), async (tmp) => {
    say(`building kustomize ${KUSTOMIZE_VERSION} with go install (once per machine)`);
    await run(['go', 'install', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], { GOBIN: tmp, CGO_ENABLED: '0' });
    return join(tmp, 'kustomize');
  });
  return kustomize;
}

let helm: Promise<string> | undefined;

/** Path of the pinned helm binary; the first call on a machine builds it with `go install` (a minute or two). */
export function helmBinary(): Promise<string> {
  helm ??= publish(join(cacheDir, `helm-${HELM_VERSION}`), async (tmp) => {
    say(`building helm ${HELM_VERSION} with go install (once per machine)`);
    await run(['go', 'install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], { GOBIN: tmp, CGO_ENABLED: '0' });
    return join(tmp, 'helm');
  });
  return helm;
}

/** The chart in this repository. */
export const CHART_DIR = 'manifests/helm/vault-mcp-server';

export interface HelmValues {
  /** Values files, relative to the repository. */
  files?: readonly string[];
  /** --set pairs (helm parses the value: `true`, `2` and `null` are not strings). */
  set?: Readonly<Record<string, string>>;
  /** Defaults to vault-mcp-server, so the names match the kustomize manifests. */
  release?: string;
  /** Defaults to kagent. */
  namespace?: string;
}

function helmValueArgs(values: HelmValues): string[] {
  const args = (values.files ?? []).flatMap((f) => ['-f', resolve(repoRoot, f)]);
  for (const [k, v] of Object.entries(values.set ?? {})) args.push('--set', `${k}=${v}`);
  return args;
}

// Helm keeps its own state (repositories, cache) under these; the tests keep it under .cache/, off the user's home.
function helmEnv(): Record<string, string> {
  const home = join(cacheDir, 'helm-home');
  return { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
}

/** Runs `helm template` over the chart and answers its objects. */
export async function helmTemplate(values: HelmValues = {}): Promise<KubeObject[]> {
  const args = [await helmBinary(), 'template', values.release ?? 'vault-mcp-server', resolve(repoRoot, CHART_DIR), '--namespace', values.namespace ?? 'kagent'];
  return parseYamlDocuments(await run([...args, ...helmValueArgs(values)], helmEnv()));
}

/** `helm template`'s error text when it refuses the values (a `fail` or `required` in the chart); undefined when it renders. */
export async function helmTemplateError(values: HelmValues): Promise<string | undefined> {
  try {
    await helmTemplate(values);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `helm lint --strict` with these values: its output, and whether it passed. */
export async function helmLint(values: HelmValues = {}): Promise<{ ok: boolean; output: string }> {
  const cmd = [await helmBinary(), 'lint', '--strict', resolve(repoRoot, CHART_DIR), '--namespace', values.namespace ?? 'kagent', ...helmValueArgs(values)];
  const proc = Bun.spawn(cmd, { cwd: repoRoot, env: { ...process.env, ...helmEnv() }, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { ok: code === 0, output: `${out}${err}`.trim() };
}

let openapi: Promise<string> | undefined;

/**
 * Directory of Kubernetes' own OpenAPI v3 documents (one JSON file per group/version), copied out of the
 * k8s.io/kubernetes module: the Go module proxy serves it, checksummed, about 18 MB once.
 */
export function kubernetesOpenApiDir(): Promise<string> {
  openapi ??= publish(join(cacheDir, `kubernetes-openapi-${KUBERNETES_VERSION}`), async (tmp) => {
    say(`fetching Kubernetes ${KUBERNETES_VERSION} OpenAPI documents through the Go module proxy (once per machine)`);
    const info = JSON.parse(await run(['go', 'mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`])) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download k8s.io/kubernetes@${KUBERNETES_VERSION}: ${info.Error ?? 'no directory'}`);
    const out = join(tmp, 'v3');
    await cp(join(info.Dir, 'api', 'openapi-spec', 'v3'), out, { recursive: true });
    if ((await readdir(out)).length === 0) throw new Error('the module has no api/openapi-spec/v3 documents');
    return out;
  });
  return openapi;
}

/** Renders a kustomization directory (absolute, or relative to the repo) into its objects. */
export async function kustomizeBuild(dir: string): Promise<KubeObject[]> {
  const yaml = await run([await kustomizeBinary(), 'build', resolve(repoRoot, dir)]);
  return parseYamlDocuments(yaml);
}

/** A Kubernetes object as parsed from YAML; only the fields every object has are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Every non-empty document of a YAML stream. */
export function parseYamlDocuments(text: string): KubeObject[] {
  const parsed = Bun.YAML.parse(text) as unknown;
  const docs = Array.isArray(parsed) && /^---/m.test(text) ? parsed : [parsed];
  return docs.filter((d): d is KubeObject => d !== null && d !== undefined);
}

/**
 * Renders a kustomization that exists only for the test: `resources` and `components` are paths relative to
 * the repository, written into a throwaway directory under .cache/ (kustomize accepts only relative paths).
 */
export async function kustomizeVariant(name: string, spec: { resources: readonly string[]; components?: readonly string[] }): Promise<KubeObject[]> {
  const dir = join(cacheDir, 'variants', name);
  await mkdir(dir, { recursive: true });
  const rel = (p: string) => join('..', '..', '..', '..', p);
  const lines = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', ...spec.resources.map((r) => `  - ${rel(r)}`)];
  if (spec.components?.length) lines.push('components:', ...spec.components.map((c) => `  - ${rel(c)}`));
  await Bun.write(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
  return kustomizeBuild(dir);
}
