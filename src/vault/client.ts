// The Vault HTTP client: fetch with keep-alive, one verb layer (read, list, write, patch, delete) and one error type.
import { VaultAuthError, VaultError } from "./errors.ts";

/** Where the client gets its token; auth methods (token file, AppRole, Kubernetes) implement this. */
export interface TokenSource {
  /** The token to send now. May log in or renew first. */
  token(): Promise<string>;
  /** Called when Vault says the token is invalid (403 "permission denied" with a bad token), so the source can log in again. */
  invalidate?(token: string): void;
}

export class StaticToken implements TokenSource {
  constructor(private readonly value: string) {}
  async token(): Promise<string> {
    return this.value;
  }
}

export interface VaultTls {
  /** PEM text of the CA bundle to trust (VAULT_CACERT), read once at start-up. */
  ca?: string;
  /** PEM client certificate and key for mTLS (VAULT_CLIENT_CERT / VAULT_CLIENT_KEY). */
  cert?: string;
  key?: string;
  serverName?: string;
  skipVerify?: boolean;
}

export interface VaultClientOptions {
  addr: string;
  tokens: TokenSource;
  namespace?: string;
  timeoutMs?: number;
  tls?: VaultTls;
  /** Injected for tests of faults only; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Vault's JSON envelope; only the fields we read. */
export interface VaultResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: string[];
  warnings?: string[];
  auth?: { client_token: string; lease_duration: number; renewable: boolean; policies?: string[] } | null;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  contentType?: string;
  /** Answer null instead of throwing when Vault says 404. */
  allowNotFound?: boolean;
  /** Send no token (sys/health, login endpoints). */
  anonymous?: boolean;
  /** Set on the one retry after a 403 made the token source replace a dead token. */
  retried?: boolean;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export class VaultClient {
  readonly addr: string;
  readonly namespace: string | undefined;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly tokens: TokenSource;
  private readonly tls: Record<string, unknown> | undefined;
  private readonly fetcher: typeof fetch;

  constructor(options: VaultClientOptions) {
    this.addr = options.addr.replace(/\/+$/, "");
    this.base = `${this.addr}/v1/`;
    this.namespace = options.namespace || undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tokens = options.tokens;
    this.fetcher = options.fetch ?? fetch;
    this.tls = bunTls(options.tls);
  }

  /** One request to `/v1/<path>`. `path` must already be built from safe parts (see paths.ts). */
  async request<T = Record<string, unknown>>(method: Method, path: string, options: RequestOptions = {}): Promise<VaultResponse<T> | null> {
    const headers: Record<string, string> = { accept: "application/json" };
    let token: string | undefined;
    if (!options.anonymous) {
      token = await this.currentToken();
      headers["x-vault-token"] = token;
    }
    if (this.namespace) headers["x-vault-namespace"] = this.namespace;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = options.contentType ?? "application/json";
    }
    const url = this.base + path + queryString(options.query);
    // The verb names what a person would say; LIST travels as GET with list=true, as Vault's own client does.
    const verb = options.query?.list === "true" ? "LIST" : method;
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method,
        headers,
        body,
        keepalive: true,
        signal: AbortSignal.timeout(this.timeoutMs),
        // Bun's fetch takes TLS settings per request.
        ...(this.tls ? { tls: this.tls } : {}),
      } as RequestInit);
    } catch (err) {
      throw networkError(err, verb, path, this.addr);
    }
    const text = await response.text().catch(() => "");
    const parsed = parseJson(text);
    if (response.status === 404 && options.allowNotFound) return null;
    if (response.status >= 400) {
      if (response.status === 403 && token && this.tokens.invalidate && isBadToken(parsed)) {
        this.tokens.invalidate(token);
        // A 403 applied nothing, so it is safe to send once more when the source confirmed the token dead and got a new one.
        // If getting a new one failed, that failure (a refused login, say) is the better answer, so it propagates.
        if (!options.retried && (await this.currentToken()) !== token) {
          return this.request<T>(method, path, { ...options, retried: true });
        }
      }
      const errors = Array.isArray(parsed?.errors) ? parsed.errors.map(String) : text && !parsed ? [text.slice(0, 300)] : [];
      const sealed = response.status === 503 && errors.some((e) => /sealed/i.test(e));
      throw new VaultError(verb, path, response.status, errors, sealed ? "sealed" : "http", this.addr);
    }
    return (parsed ?? {}) as VaultResponse<T>;
  }

  private async currentToken(): Promise<string> {
    try {
      return await this.tokens.token();
    } catch (err) {
      if (err instanceof VaultError) throw err;
      throw new VaultAuthError(err instanceof Error ? err.message : String(err));
    }
  }

  /** GET; null when nothing is there. */
  async read<T = Record<string, unknown>>(path: string, query?: RequestOptions["query"]): Promise<VaultResponse<T> | null> {
    return this.request<T>("GET", path, { query, allowNotFound: true });
  }

  /** LIST; an empty list when nothing is there (Vault answers 404 for an empty folder). */
  async list(path: string): Promise<{ keys: string[]; keyInfo: Record<string, unknown> }> {
    const res = await this.request<{ keys?: string[]; key_info?: Record<string, unknown> }>("GET", path, {
      query: { list: "true" },
      allowNotFound: true,
    });
    return { keys: res?.data?.keys ?? [], keyInfo: res?.data?.key_info ?? {} };
  }

  async write<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<VaultResponse<T>> {
    return (await this.request<T>("POST", path, { body })) ?? {};
  }

  /** JSON merge patch (RFC 7396), as KV v2 takes it. */
  async patch<T = Record<string, unknown>>(path: string, body: unknown): Promise<VaultResponse<T>> {
    return (await this.request<T>("PATCH", path, { body, contentType: "application/merge-patch+json" })) ?? {};
  }

  async delete(path: string): Promise<void> {
    await this.request("DELETE", path);
  }
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : "";
}

function parseJson(text: string): VaultResponse | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" ? (value as VaultResponse) : null;
  } catch {
    return null;
  }
}

function isBadToken(parsed: VaultResponse | null): boolean {
  return !!parsed?.errors?.some((e) => /invalid token|token is expired|permission denied/i.test(String(e)));
}

function networkError(err: unknown, verb: string, path: string, addr: string): VaultError {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return new VaultError(verb, path, 0, ["timed out"], "timeout", addr);
  const reason = e?.code ?? e?.message ?? String(err);
  return new VaultError(verb, path, 0, [reason], "unreachable", addr);
}

function bunTls(tls: VaultTls | undefined): Record<string, unknown> | undefined {
  if (!tls) return undefined;
  const out: Record<string, unknown> = {};
  if (tls.ca) out.ca = tls.ca;
  if (tls.cert) out.cert = tls.cert;
  if (tls.key) out.key = tls.key;
  if (tls.serverName) out.serverName = tls.serverName;
  if (tls.skipVerify) out.rejectUnauthorized = false;
  return Object.keys(out).length > 0 ? out : undefined;
}
