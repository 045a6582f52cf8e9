// A real kube-apiserver over a real etcd, both on 127.0.0.1, built from Go modules (test/kubeapi) into .cache/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildGoTool } from '../support/go-tool.ts';
import type { KubeObject } from './tools.ts';

/** The release test/kubeapi/apiserver/go.mod pins (k8s.io/kubernetes, its staging modules at the matching v0.x). */
export const KUBE_APISERVER_VERSION = 'v1.34.2';

function say(message: string): void {
  process.stderr.write(`[kube-api] ${message}\n`);
}

let binaries: Promise<{ etcd: string; apiserver: string }> | undefined;

/**
 * etcd and kube-apiserver, built once per source change: etcd in seconds, kube-apiserver in about 4 minutes on two
 * cores (longer on a busy machine), one after the other so they do not fight over the cores.
 */
export function kubeApiBinaries(): Promise<{ etcd: string; apiserver: string }> {
  binaries ??= (async () => {
    const etcd = await buildGoTool('kubeapi/etcd', 'go.mod', { progress: true });
    const apiserver = await buildGoTool('kubeapi/apiserver', 'go.mod', {
      pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
      timeoutMs: 45 * 60_000,
      progress: true,
    });
    return { etcd, apiserver };
  })().catch((error: unknown) => {
    binaries = undefined;
    throw error;
  });
  return binaries;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(['openssl', ...args], { cwd, stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

/** What the API server answered: status, the parsed body, and any Warning headers (PodSecurity's among them). */
export interface KubeAnswer {
  status: number;
  body: Record<string, unknown>;
  warnings: string[];
}

export interface KubeApi {
  url: string;
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeAnswer>;
  /** Server-side apply with strict field validation; a dry run unless `persist`. */
  apply(object: KubeObject, options?: { persist?: boolean }): Promise<KubeAnswer>;
  /** A dry-run create (POST): runs every admission step, PodSecurity's enforcement among them. */
  dryRunCreate(object: KubeObject): Promise<KubeAnswer>;
  /** Installs CustomResourceDefinitions and waits until their kinds are served. */
  installCrds(crds: KubeObject[]): Promise<void>;
  /** Whether the API server serves this kind (after installCrds, a kagent kind too). */
  serves(apiVersion: string, kind: string): Promise<boolean>;
  stop(): Promise<void>;
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

/** The message the API server gives with a refusal, or the status. */
export function refusal(answer: KubeAnswer): string {
  return typeof answer.body.message === 'string' ? answer.body.message : `HTTP ${answer.status}`;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, exited?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited?.();
    if (gone) throw new Error(`${what}: ${gone}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await Bun.sleep(250);
  }
}

/**
 * Starts etcd and kube-apiserver on fresh loopback ports with throwaway certificates and a static admin token, and
 * waits for /readyz. Admission: the plugins a manifest meets, PodSecurity among them; ServiceAccount is off because
 * objects are dry-run, so the ServiceAccount they name never exists.
 */
export async function startKubeApi(): Promise<KubeApi> {
  const { etcd, apiserver } = await kubeApiBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'kube-api-'));
  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');

  // A self-signed serving certificate for 127.0.0.1 (also the client's trust anchor) and the service account signing key.
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'serving.key', '-out', 'serving.crt',
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], dir);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'], dir);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  writeFileSync(join(dir, 'tokens.csv'), `${token},test-admin,test-admin,"system:masters"\n`, { mode: 0o600 });
  const ca = readFileSync(join(dir, 'serving.crt'), 'utf8');

  const logs: string[] = [];
  const keep = (stream: ReadableStream<Uint8Array>) => {
    void (async () => {
      for await (const chunk of stream) {
        logs.push(new TextDecoder().decode(chunk));
        if (logs.length > 400) logs.splice(0, logs.length - 400);
      }
    })().catch(() => {});
  };

  const etcdProc = Bun.spawn([etcd, '--data-dir', join(dir, 'etcd'), '--client-url', `http://127.0.0.1:${etcdClient}`, '--peer-url', `http://127.0.0.1:${etcdPeer}`], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  keep(etcdProc.stderr);
  const etcdReady = (async () => {
    let seen = '';
    for await (const chunk of etcdProc.stdout) {
      seen += new TextDecoder().decode(chunk);
      if (seen.includes('etcd ready')) return true;
    }
    return false;
  })();

  const procs: Bun.Subprocess[] = [etcdProc];
  const stop = async () => {
    for (const p of procs.reverse()) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(10_000).then(() => p.kill('SIGKILL'))])));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const ready = await Promise.race([etcdReady, Bun.sleep(60_000).then(() => false), etcdProc.exited.then(() => false)]);
    if (!ready) throw new Error(`etcd did not start:\n${logs.join('')}`);

    const apiProc = Bun.spawn([
      apiserver,
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--tls-cert-file=${join(dir, 'serving.crt')}`,
      `--tls-private-key-file=${join(dir, 'serving.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--anonymous-auth=false',
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      // Addresses handed out to Services, never routed: nothing here sends traffic to them.
      '--service-cluster-ip-range=10.96.0.0/16',
      // No Endpoints for the kubernetes Service: a loopback address is not a valid endpoint.
      '--endpoint-reconciler-type=none',
      '--enable-admission-plugins=NamespaceLifecycle,PodSecurity',
      '--disable-admission-plugins=ServiceAccount,DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize,DefaultIngressClass,CertificateApproval,CertificateSigning,CertificateSubjectRestriction,ClusterTrustBundleAttest,RuntimeClass,TaintNodesByCondition',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=0',
    ], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    procs.push(apiProc);
    keep(apiProc.stdout);
    keep(apiProc.stderr);

    const url = `https://127.0.0.1:${securePort}`;
    const request = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeAnswer> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        tls: { ca },
      } as RequestInit);
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        parsed = { message: text };
      }
      // Warning: 299 - "text", ... (RFC 7234: each text a quoted-string, with \" and \\ escapes).
      const warnings = [...(res.headers.get('warning') ?? '').matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] as string).replace(/\\(.)/g, '$1'));
      return { status: res.status, body: parsed, warnings };
    };

    const started = Date.now();
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await request('GET', '/readyz')).status === 200,
      120_000,
      () => (apiProc.exitCode !== null ? `exited with ${apiProc.exitCode}:\n${logs.join('').slice(-4000)}` : undefined),
    );
    say(`kube-apiserver ${KUBE_APISERVER_VERSION} ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const discovered = new Map<string, Resource | null>();
    const resource = async (apiVersion: string, kind: string, fresh = false): Promise<Resource | undefined> => {
      const key = `${apiVersion}/${kind}`;
      if (!fresh && discovered.has(key)) return discovered.get(key) ?? undefined;
      const list = await request('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
      const found = ((list.body.resources ?? []) as { name: string; kind: string; namespaced: boolean }[]).find((r) => r.kind === kind && !r.name.includes('/'));
      const value = found ? { plural: found.name, namespaced: found.namespaced } : null;
      discovered.set(key, value);
      return value ?? undefined;
    };
    const pathOf = async (obj: KubeObject, withName: boolean): Promise<string> => {
      const r = await resource(obj.apiVersion, obj.kind);
      if (!r) throw new Error(`the API server does not serve ${obj.apiVersion} ${obj.kind}`);
      const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
      const ns = r.namespaced ? `/namespaces/${obj.metadata.namespace ?? 'default'}` : '';
      return `${base}${ns}/${r.plural}${withName ? `/${encodeURIComponent(obj.metadata.name)}` : ''}`;
    };

    const apply = async (obj: KubeObject, options: { persist?: boolean } = {}): Promise<KubeAnswer> => {
      const query = `fieldManager=vault-mcp-server-tests&fieldValidation=Strict&force=true${options.persist ? '' : '&dryRun=All'}`;
      return request('PATCH', `${await pathOf(obj, true)}?${query}`, obj, 'application/apply-patch+yaml');
    };

    return {
      url,
      request,
      apply,
      async dryRunCreate(obj) {
        return request('POST', `${await pathOf(obj, false)}?dryRun=All&fieldValidation=Strict`, obj);
      },
      async installCrds(crds) {
        for (const crd of crds) {
          const answer = await apply(crd, { persist: true });
          if (answer.status >= 300) throw new Error(`installing ${crd.metadata.name}: ${refusal(answer)}`);
        }
        for (const crd of crds) {
          const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served: boolean }[] };
          for (const v of spec.versions.filter((x) => x.served)) {
            await waitFor(`${spec.names.kind} ${spec.group}/${v.name} served`, async () => !!(await resource(`${spec.group}/${v.name}`, spec.names.kind, true)), 60_000);
          }
        }
      },
      async serves(apiVersion, kind) {
        return !!(await resource(apiVersion, kind));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
