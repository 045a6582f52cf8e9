// A loopback stand-in for Vault, for tests that compare two server paths byte for byte and need no real Vault: one KV v2
// mount ("secret") held in memory and one PKI mount whose issue endpoint hands out a fixed certificate.

/** A fixed self-signed CA and a leaf it signed (CN and SAN api.example.com, valid until 2125), made with openssl once. */
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUKr+7DFk4iR/YC0uWe3TOARJVTHEwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJU3R1YiBSb290MCAXDTI2MTIwMTIxMTg1M1oYDzIxMjYxMTA3
MjExODUzWjAUMRIwEAYDVQQDDAlTdHViIFJvb3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATq1c1kJ6u3LsZc2nEND4f6S3Eh9RLL0a1V5Chcb7ZvlirrMGnPr6Jh
4BoCPg8LwYTX//e4I645Gl3juF52wsllo1MwUTAdBgNVHQ4EFgQUn6flmrCmBwEp
cTiD71vECmSbYNUwHwYDVR0jBBgwFoAUn6flmrCmBwEpcTiD71vECmSbYNUwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAS3K8oofwRGpj3l42lKG0E
UzpOizEWrtw3aO1N7Ns5qwIgAvn8w8KFEoEi4XVpE4Szax8pyS7LxzpClk0taRfS
8cg=
-----END CERTIFICATE-----`;
const LEAF_PEM = `-----BEGIN CERTIFICATE-----
MIIBjzCCATagAwIBAgIUGLxBKqOwRoy7QvxTV7fW+cdIrfswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJU3R1YiBSb290MCAXDTI2MTIwMTIxMTg1M1oYDzIxMjYxMTA3
MjExODUzWjAaMRgwFgYDVQQDDA9hcGkuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAARa9v28sTxgD/Qw3KjpIiN2qaujIIAoz9spKe9mXHZ8eHes
J7TTTJkWkARGSs0W/D+gzoT0RgDWou5fEO02iw8No14wXDAaBgNVHREEEzARgg9h
cGkuZXhhbXBsZS5jb20wHQYDVR0OBBYEFO3Rpe8lIYNbV1y53T0BIQbymjvfMB8G
A1UdIwQYMBaAFJ+n5ZqwpgcBKXE4g+9bxApkm2DVMAoGCCqGSM49BAMCA0cAMEQC
IDOl19vy/83XIB9ZEUeFp7xhigAYk2PZn3XN14jeM/3XAiBQ71+bo3MnicWLIISK
AMk8E0eQf7v1y1wMY9soLsdCNg==
-----END CERTIFICATE-----`;
const LEAF_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgH9swYv3MHP+OAi6o
je6zs8QmW9wK99SVoeoab5ljFEShRANCAARa9v28sTxgD/Qw3KjpIiN2qaujIIAo
z9spKe9mXHZ8eHesJ7TTTJkWkARGSs0W/D+gzoT0RgDWou5fEO02iw8N
-----END PRIVATE KEY-----`;

export interface StubVault {
  addr: string;
  token: string;
  /** The PKI mount that issues the fixed certificate (role "web"). */
  pkiMount: string;
  /** Writes a KV v2 secret directly, as a test's setup would through Vault's API. */
  put(path: string, data: Record<string, unknown>): void;
  stop(): void;
}

interface Version {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

const TOKEN = "stub-root-token";

export function startStubVault(): StubVault {
  const pkiMount = "pki-stub";
  const secrets = new Map<string, Version[]>();
  const mounts: Record<string, { type: string; description: string; options: Record<string, string> | null }> = {
    "cubbyhole/": { type: "cubbyhole", description: "per-token private secret storage", options: null },
    "secret/": { type: "kv", description: "key/value secret storage", options: { version: "2" } },
    [`${pkiMount}/`]: { type: "pki", description: "", options: null },
    "sys/": { type: "system", description: "system endpoints used for control, policy and debugging", options: null },
  };

  const reply = (status: number, body: unknown) => Response.json(body, { status });
  const ok = (data: unknown) => reply(200, { request_id: "stub", lease_id: "", renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null });
  const missing = () => reply(404, { errors: [] });

  function write(path: string, data: Record<string, unknown>): Response {
    const versions = secrets.get(path) ?? [];
    versions.push({ data, created_time: new Date().toISOString(), deletion_time: "", destroyed: false });
    secrets.set(path, versions);
    return ok({ created_time: versions.at(-1)!.created_time, custom_metadata: null, deletion_time: "", destroyed: false, version: versions.length });
  }

  function kv(method: string, rest: string, url: URL, body: any): Response {
    const [kind, ...parts] = rest.split("/");
    const path = parts.join("/").replace(/\/$/, "");
    const versions = secrets.get(path);
    if (kind === "data" && method === "GET") {
      const n = Number(url.searchParams.get("version") || versions?.length || 0);
      const v = versions?.[n - 1];
      if (!v || v.deletion_time || v.destroyed) return missing();
      return ok({ data: v.data, metadata: { created_time: v.created_time, custom_metadata: null, deletion_time: "", destroyed: false, version: n } });
    }
    if (kind === "data" && (method === "POST" || method === "PUT")) {
      const cas = body?.options?.cas;
      if (cas !== undefined && cas !== (versions?.length ?? 0)) return reply(400, { errors: ["check-and-set parameter did not match the current version"] });
      return write(path, { ...(body?.data ?? {}) });
    }
    if (kind === "data" && method === "PATCH") {
      const latest = versions?.at(-1);
      if (!latest?.data) return missing();
      const merged: Record<string, unknown> = { ...latest.data };
      for (const [k, v] of Object.entries(body?.data ?? {})) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      return write(path, merged);
    }
    if (kind === "metadata" && method === "GET" && url.searchParams.get("list") === "true") {
      const prefix = path === "" ? "" : `${path}/`;
      const keys = new Set<string>();
      for (const p of secrets.keys()) {
        if (!p.startsWith(prefix)) continue;
        const [first, ...deeper] = p.slice(prefix.length).split("/");
        keys.add(deeper.length > 0 ? `${first}/` : first!);
      }
      return keys.size > 0 ? ok({ keys: [...keys].sort() }) : missing();
    }
    if (kind === "metadata" && method === "GET") {
      if (!versions) return missing();
      const all = Object.fromEntries(versions.map((v, i) => [String(i + 1), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }]));
      return ok({ current_version: versions.length, oldest_version: 1, versions: all, cas_required: false, custom_metadata: null });
    }
    return reply(405, { errors: [`stub Vault: ${method} secret/${rest} is not emulated`] });
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.headers.get("x-vault-token") !== TOKEN) return reply(403, { errors: ["permission denied"] });
      const url = new URL(req.url);
      const path = decodeURIComponent(url.pathname.replace(/^\/v1\//, ""));
      const text = await req.text();
      const body = text ? JSON.parse(text) : undefined;
      if (path.startsWith("sys/internal/ui/mounts/")) {
        const mount = `${path.slice("sys/internal/ui/mounts/".length).replace(/\/$/, "")}/`;
        const m = mounts[mount];
        return m ? ok({ ...m, path: mount }) : reply(400, { errors: [`preflight capability check returned 403, please ensure client's policies grant access to path "${mount}"`] });
      }
      if (path === "sys/mounts" && req.method === "GET") return ok(mounts);
      if (path.startsWith("secret/")) return kv(req.method, path.slice("secret/".length), url, body);
      if (path === `${pkiMount}/issue/web` && req.method === "POST") {
        return ok({ certificate: LEAF_PEM, issuing_ca: CA_PEM, ca_chain: [CA_PEM], private_key: LEAF_KEY, private_key_type: "ec", serial_number: "stub", expiration: 4_900_000_000 });
      }
      return reply(404, { errors: [`stub Vault: nothing at ${req.method} ${path}`] });
    },
  });

  return {
    addr: `http://127.0.0.1:${server.port}`,
    token: TOKEN,
    pkiMount,
    put: (path, data) => void write(path, data),
    stop: () => void server.stop(true),
  };
}
