// The Vault HTTP client: fetch with keep-alive, one verb layer (read, list, write, patch, delete) and one error type.
import { VaultAuthError, VaultError } from "./errors.ts";

/** Where the client gets its token; auth methods (token file, AppRole, Kubernetes) implement this. */
export interface TokenSource {
  /** The token to send now. May log in or renew first. */
  token(): Promise<string>;
  /** Called when Vault says the token is invalid (403 "permission denied" with a bad token), so the source can log in again. */
  invalidate?(token: string): void;
  /** True once Vault confirmed (lookup-self answered 403) that `token` itself is dead, not merely refused by a policy. */
  rejected?(token: string): boolean;
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
  /** Told of every request sent (resends too): for metrics. `outcome` is the HTTP status or the failure's kind. */
  observe?: VaultObserver;
}

export type VaultObserver = (method: string, path: string, outcome: string, seconds: number) => void;

/** Vault's JSON envelope; only the fields we read. */
export interface VaultResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: string[];
  warnings?: string[];
  auth?: { client_token: string; lease_duration: number; renewable: boolean; policies?: string[] } | null;
  /** Vault's id for this request, as its own audit log records it. */
  request_id?: string;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  contentType?: string;
  /** Answer null instead of throwing when Vault says 404. */
  allowNotFound?: boolean;
  /** Send no token (sys/health, login endpoints). */
  anonymous?: boolean;
  /**
   * Sending it twice leaves Vault as sending it once would (a check-and-set write, a merge patch of the same keys), so a
   * request whose answer was lost is resent once on a fresh connection. Reads and lists always are.
   */
  idempotent?: boolean;
  /** This request's own time limit instead of the client's (readiness probes must answer quickly). */
  timeoutMs?: number;
  /** Ask Vault to wrap the answer (X-Vault-Wrap-TTL), in seconds; sys/wrapping/wrap requires it. */
  wrapTtlSeconds?: number;
  /** Set on the one retry after a 403 made the token source replace a dead token. */
  retried?: boolean;
}

export interface WriteOptions {
  /** See RequestOptions.idempotent. */
  idempotent?: boolean;
  /** See RequestOptions.wrapTtlSeconds. */
  wrapTtlSeconds?: number;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One request that could change Vault, as a tool call's journal keeps it. */
export interface JournalEntry {
  method: string;
  path: string;
  /** "applied": Vault said it succeeded; "refused": Vault said no; "uncertain": its answer was lost or unreadable. */
  outcome: "applied" | "refused" | "uncertain" | "not-sent";
}

/** What one tool call has asked Vault to change so far, so a failure never claims "nothing was changed" untruthfully. */
export class Journal {
  readonly entries: JournalEntry[] = [];
  record(entry: JournalEntry): void {
    this.entries.push(entry);
  }
  /** Writes that Vault applied or may have applied. */
  changes(): JournalEntry[] {
    return this.entries.filter((e) => e.outcome === "applied" || e.outcome === "uncertain");
  }
}

/** One request as it goes on the wire. */
interface Outgoing {
  method: Method;
  /** As a person would say it: LIST for a GET with list=true. */
  verb: string;
  path: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** On a new connection rather than a pooled one. */
  fresh: boolean;
  timeoutMs: number;
}

interface Exchange {
  status: number;
  parsed: VaultResponse | null;
  text: string;
}

export class VaultClient {
  readonly addr: string;
  readonly namespace: string | undefined;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly tokens: TokenSource;
  private readonly tls: Record<string, unknown> | undefined;
  private readonly fetcher: typeof fetch;
  private readonly observe: VaultObserver | undefined;
  private journal: Journal | undefined;
  /** Where a view made by withRequestIds collects Vault's request_id of every answer (the audit log joins on them). */
  private requestIds: string[] | undefined;

  constructor(options: VaultClientOptions) {
    this.addr = options.addr.replace(/\/+$/, "");
    this.base = `${this.addr}/v1/`;
    this.namespace = options.namespace || undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tokens = options.tokens;
    this.fetcher = options.fetch ?? fetch;
    this.observe = options.observe;
    this.tls = bunTls(options.tls);
    // Every field exists from the start, so views (which copy them) all have one shape.
    this.journal = undefined;
    this.requestIds = undefined;
  }

  /** The same client (connections, token) that records every request that could change Vault into `journal`. */
  recording(journal: Journal): VaultClient {
    const view = this.view();
    view.journal = journal;
    return view;
  }

  /** The same client (address, TLS, connections) sending `tokens`' token instead: one caller's own Vault identity. */
  withTokens(tokens: TokenSource): VaultClient {
    const view = this.view();
    (view as unknown as { tokens: TokenSource }).tokens = tokens;
    return view;
  }

  /** The same client that appends Vault's request_id of each answer to `ids`; views made from it (recording) share the list. */
  withRequestIds(ids: string[]): VaultClient {
    const view = this.view();
    view.requestIds = ids;
    return view;
  }

  /**
   * A copy of this client's fields (the same fetch, TLS and observer, so the same connections). Copied rather than
   * inherited (Object.create): a view made per call would otherwise become the prototype of the next view, and every
   * call would meet objects of a new shape, which keeps the JIT from optimising anything that reads a field.
   */
  private view(): VaultClient {
    return Object.assign(Object.create(VaultClient.prototype) as VaultClient, this);
  }

  /** One request to `/v1/<path>`. `path` must already be built from safe parts (see paths.ts). */
  async request<T = Record<string, unknown>>(method: Method, path: string, options: RequestOptions = {}): Promise<VaultResponse<T> | null> {
    // The verb names what a person would say; LIST travels as GET with list=true, as Vault's own client does.
    const verb = options.query?.list === "true" ? "LIST" : method;
    const isRead = verb === "GET" || verb === "LIST";
    try {
      const res = await this.attempt<T>(method, verb, path, options);
      if (!isRead) this.journal?.record({ method: verb, path, outcome: "applied" });
      return res;
    } catch (err) {
      if (!isRead) this.journal?.record({ method: verb, path, outcome: outcomeOf(err) });
      throw err;
    }
  }

  private async attempt<T>(method: Method, verb: string, path: string, options: RequestOptions): Promise<VaultResponse<T> | null> {
    const headers: Record<string, string> = { accept: "application/json" };
    let token: string | undefined;
    if (!options.anonymous) {
      token = await this.currentToken();
      headers["x-vault-token"] = token;
    }
    if (this.namespace) headers["x-vault-namespace"] = this.namespace;
    if (options.wrapTtlSeconds !== undefined) headers["x-vault-wrap-ttl"] = `${Math.round(options.wrapTtlSeconds)}s`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = options.contentType ?? "application/json";
    }
    const url = this.base + path + queryString(options.query);
    const resendable = verb === "GET" || verb === "LIST" || options.idempotent === true;
    const send = (fresh: boolean) => this.exchange({ method, verb, path, url, headers, body, fresh, timeoutMs: options.timeoutMs ?? this.timeoutMs });
    let answer: Exchange;
    let resent: VaultError | undefined;
    try {
      answer = await send(false);
    } catch (err) {
      // Bun's fetch resends nothing itself, and a reused keep-alive socket can be reset under any request. Resend once,
      // on a new connection, only what may safely arrive twice; a reply that came back unreadable is resent only for reads.
      const again = err instanceof VaultError && resendable && (err.failure === "lost" || (err.failure === "unreadable" && err.isRead));
      if (!again) throw err;
      resent = err;
      answer = await send(true);
    }
    const { status, parsed } = answer;
    if (this.requestIds && typeof parsed?.request_id === "string") this.requestIds.push(parsed.request_id);
    if (status === 404 && options.allowNotFound) return null;
    if (status >= 400) {
      if (status === 403 && token && this.tokens.invalidate && isBadToken(parsed)) {
        this.tokens.invalidate(token);
        // A 403 applied nothing, so it is safe to send once more when the source confirmed the token dead and got a new one.
        // If getting a new one failed, that failure (a refused login, say) is the better answer, so it propagates.
        if (!options.retried && (await this.currentToken()) !== token) {
          return this.attempt<T>(method, verb, path, { ...options, retried: true });
        }
        if (this.tokens.rejected?.(token)) throw new VaultError(verb, path, 403, parsed?.errors ?? [], "bad-token", this.addr);
      }
      const errors = Array.isArray(parsed?.errors) ? parsed.errors.map(String) : [];
      const sealed = status === 503 && errors.some((e) => /sealed/i.test(e));
      const refused = new VaultError(verb, path, status, errors, sealed ? "sealed" : "http", this.addr);
      // After a lost answer, a resent check-and-set that no longer matches may have been beaten by our own first copy.
      if (resent && refused.isCasMismatch) throw resent;
      throw refused;
    }
    return (parsed ?? {}) as VaultResponse<T>;
  }

  private async exchange(out: Outgoing): Promise<Exchange> {
    if (!this.observe) return this.exchangeOnce(out);
    const started = performance.now();
    let outcome = "error";
    try {
      const answer = await this.exchangeOnce(out);
      outcome = String(answer.status);
      return answer;
    } catch (err) {
      if (err instanceof VaultError) outcome = err.failure === "http" ? String(err.status) : err.failure;
      throw err;
    } finally {
      this.observe(out.verb, out.path, outcome, (performance.now() - started) / 1000);
    }
  }

  /** Sends once and reads the whole answer. Throws VaultError for anything that is not a complete answer in Vault's JSON. */
  private async exchangeOnce({ method, verb, path, url, headers, body, fresh, timeoutMs }: Outgoing): Promise<Exchange> {
    let response: Response;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      response = await this.fetcher(url, {
        method,
        headers,
        body,
        // A resend goes on a new connection: the pooled one may be the socket that just broke.
        keepalive: !fresh,
        signal,
        // Bun's fetch takes TLS settings per request.
        ...(this.tls ? { tls: this.tls } : {}),
      } as RequestInit);
    } catch (err) {
      throw networkError(err, verb, path, this.addr);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      if (isTimeout(err)) throw new VaultError(verb, path, response.status, ["timed out"], "timeout", this.addr);
      throw new VaultError(verb, path, response.status, [`status ${response.status}, then the body was cut off`], "unreadable", this.addr);
    }
    const status = response.status;
    if (text === "") {
      // Vault answers "no content" with 204, and every refusal with a JSON body; a proxy's empty 5xx or 200 is not Vault's word.
      if (status === 204 || (status >= 400 && status < 500)) return { status, parsed: null, text };
      throw new VaultError(verb, path, status, [`status ${status} with an empty body`], "unreadable", this.addr);
    }
    const parsed = parseJson(text);
    if (!parsed) {
      const kind = /<html|<!doctype/i.test(text) ? "an HTML page (a proxy or load balancer?)" : "a body that is not JSON";
      throw new VaultError(verb, path, status, [`status ${status} with ${kind}`], "unreadable", this.addr);
    }
    return { status, parsed, text };
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
    const res = await this.request<{ keys?: unknown; key_info?: Record<string, unknown> }>("GET", path, {
      query: { list: "true" },
      allowNotFound: true,
    });
    const keys = res?.data?.keys;
    if (res?.data && keys !== undefined && !(Array.isArray(keys) && keys.every((k) => typeof k === "string"))) {
      throw new VaultError("LIST", path, 200, ["keys is not a list of strings"], "unreadable", this.addr);
    }
    return { keys: (keys as string[] | undefined) ?? [], keyInfo: res?.data?.key_info ?? {} };
  }

  async write<T = Record<string, unknown>>(path: string, body: unknown = {}, options: WriteOptions = {}): Promise<VaultResponse<T>> {
    return (await this.request<T>("POST", path, { body, ...options })) ?? {};
  }

  /** JSON merge patch (RFC 7396), as KV v2 takes it. */
  async patch<T = Record<string, unknown>>(path: string, body: unknown, options: WriteOptions = {}): Promise<VaultResponse<T>> {
    return (await this.request<T>("PATCH", path, { body, contentType: "application/merge-patch+json", ...options })) ?? {};
  }

  /**
   * DELETE. Not resent by default: something recreated at the same path between a lost answer and a resend would be
   * deleted too. Pass idempotent for paths that name one object for good (an id).
   */
  async delete(path: string, options: WriteOptions = {}): Promise<void> {
    await this.request("DELETE", path, options);
  }
}

function outcomeOf(err: unknown): JournalEntry["outcome"] {
  if (!(err instanceof VaultError)) return "not-sent";
  if (err.isUncertain) return "uncertain";
  return err.failure === "unreachable" ? "not-sent" : "refused";
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  let any = false;
  for (const k in query) if (query[k] !== undefined) any = true;
  if (!any) return "";
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

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === "TimeoutError" || name === "AbortError";
}

// Failures that happen before any byte of the request is written: nothing can have reached Vault.
const BEFORE_SENDING = new Set(["ECONNREFUSED", "ConnectionRefused", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "FailedToOpenSocket", "ERR_INVALID_URL"]);

function networkError(err: unknown, verb: string, path: string, addr: string): VaultError {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (isTimeout(err)) return new VaultError(verb, path, 0, ["timed out"], "timeout", addr);
  const reason = e?.code ?? e?.message ?? String(err);
  // A TLS failure (wrapped in words by auth-tls.ts, with the original as cause) ends the handshake before the request.
  const tls = e?.cause !== undefined && typeof (e.cause as { code?: unknown })?.code === "string";
  if ((e?.code && BEFORE_SENDING.has(e.code)) || tls) return new VaultError(verb, path, 0, [reason], "unreachable", addr);
  return new VaultError(verb, path, 0, [reason], "lost", addr);
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
