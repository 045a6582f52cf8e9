// Stateful Streamable HTTP (opt-in): one SDK transport and Server per Mcp-Session-Id, expired when idle, bounded in number
// overall and per client; a full table refuses new sessions (503) rather than evicting live ones.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../log.ts";
import type { McpDeps } from "./call.ts";
import { loadSdk } from "./protocol.ts";

export interface SessionOptions {
  /** A session with no request and no open stream for this long is closed. */
  idleMs: number;
  /** Most sessions held at once; when they are all held, initialize is refused with 503 and Retry-After. */
  maxSessions: number;
  /**
   * Most sessions one client (peer address) may hold, so that one client's flood cannot take the whole table.
   * Default: a quarter of maxSessions (at least 1). Not applied to requests whose client is unknown.
   */
  maxSessionsPerClient?: number;
  log: Logger;
  now?: () => number;
}

interface Session {
  id: string;
  /** The peer that opened it, when known: counted against maxSessionsPerClient. */
  client?: string;
  /** The authenticated caller that opened it ("bearer:name", "oauth:sub"); only that caller may use it. */
  owner?: string;
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
  lastActive: number;
  /** Response streams (the GET stream, SSE answers) still open: a session with one is in use, not idle. */
  openStreams: number;
}

const sessionNotFound = () =>
  new Response(
    JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found: it ended or expired; initialize a new one" } }),
    { status: 404, headers: { "content-type": "application/json" } },
  );

const tooMany = (message: string, retryAfterSeconds: number) =>
  new Response(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message } }), {
    status: 503,
    headers: { "content-type": "application/json", "retry-after": String(retryAfterSeconds) },
  });

/** Who owns a session: an authenticated caller's method and name; undefined without authentication. */
function ownerOf(authInfo: AuthInfo | undefined): string | undefined {
  const caller = authInfo?.extra?.caller as { auth?: string; name?: string } | undefined;
  return caller && caller.auth !== "none" ? `${caller.auth}:${caller.name}` : undefined;
}

const OPENED = new TextEncoder().encode(": stream open\n\n");

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly perClient: number;
  /** Initialize requests being answered, counted with the sessions they will open so a burst cannot overshoot. */
  private opening = 0;
  private readonly openingBy = new Map<string, number>();
  private readonly heldBy = new Map<string, number>();

  constructor(
    private readonly deps: McpDeps,
    private readonly options: SessionOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.perClient = Math.max(1, options.maxSessionsPerClient ?? Math.floor(options.maxSessions / 4));
    // Unref'd: an idle sweep must never keep the process alive.
    this.sweeper = setInterval(() => void this.sweep(), Math.max(1000, Math.min(60_000, options.idleMs / 2)));
    this.sweeper.unref?.();
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Opens a session for an initialize request and lets its transport answer it (with the new Mcp-Session-Id). `client`
   * (the peer address, when the caller knows it) is held to maxSessionsPerClient. A full table, or a client at its
   * share, gets 503 with Retry-After: live sessions are never evicted to make room, since a flood of initialize
   * requests would otherwise end every other client's session. Idle expiry and DELETE free places.
   */
  async open(req: Request, parsedBody: unknown, json: boolean, client?: string, authInfo?: AuthInfo): Promise<Response> {
    if (this.sessions.size + this.opening >= this.options.maxSessions) await this.sweep();
    // Checked and reserved with no await in between, so concurrent initialize requests cannot all pass the check.
    const refusal = this.refusal(client);
    if (refusal) return refusal;
    this.reserve(client, 1);
    // The reservation becomes the session itself once the SDK opens it, or is given back if it does not.
    let reserved = true;
    const release = () => {
      if (reserved) this.reserve(client, -1);
      reserved = false;
    };
    try {
      const { createMcpServer, WebStandardStreamableHTTPServerTransport } = await loadSdk();
      const server = createMcpServer(this.deps);
      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        enableJsonResponse: json,
        onsessioninitialized: (id) => {
          release();
          this.sessions.set(id, { id, client, owner: ownerOf(authInfo), server, transport, lastActive: this.now(), openStreams: 0 });
          if (client !== undefined) this.heldBy.set(client, (this.heldBy.get(client) ?? 0) + 1);
        },
        onsessionclosed: (id) => {
          this.forget(id);
        },
      });
      await server.connect(transport);
      const response = await transport.handleRequest(req, { parsedBody, authInfo });
      const id = transport.sessionId;
      const session = id ? this.sessions.get(id) : undefined;
      // An initialize the SDK refused leaves no session behind; close its server so nothing leaks.
      if (!session) {
        void server.close();
        return response;
      }
      return this.track(session, response);
    } finally {
      release();
    }
  }

  private refusal(client: string | undefined): Response | undefined {
    const limit = this.options.maxSessions;
    if (this.sessions.size + this.opening >= limit) {
      const wait = this.secondsUntilAPlaceFrees();
      this.options.log.warn("refused a new MCP session: the session limit was reached", { limit, retryAfterSeconds: wait });
      return tooMany(
        `Too many sessions: this server already holds its limit of ${limit} (MCP_MAX_SESSIONS). Retry in ${wait} s, end unused sessions with DELETE /mcp, or send requests without a session.`,
        wait,
      );
    }
    if (client === undefined) return undefined;
    const held = (this.heldBy.get(client) ?? 0) + (this.openingBy.get(client) ?? 0);
    if (held < this.perClient) return undefined;
    const wait = this.secondsUntilAPlaceFrees(client);
    this.options.log.warn("refused a new MCP session: this client holds its share of sessions", { limit: this.perClient, retryAfterSeconds: wait });
    return tooMany(
      `Too many sessions from this client: it already holds ${held}, the most one client may hold (by default a quarter of MCP_MAX_SESSIONS). Reuse a session, end unused ones with DELETE /mcp, or retry in ${wait} s.`,
      wait,
    );
  }

  /** When the first idle session (of `client`, if given) will expire; sessions with an open stream never do. */
  private secondsUntilAPlaceFrees(client?: string): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const s of this.sessions.values()) {
      if (s.openStreams > 0 || (client !== undefined && s.client !== client)) continue;
      soonest = Math.min(soonest, s.lastActive + this.options.idleMs - this.now());
    }
    const ms = Number.isFinite(soonest) ? soonest : this.options.idleMs;
    return Math.max(1, Math.ceil(ms / 1000));
  }

  private reserve(client: string | undefined, delta: 1 | -1): void {
    this.opening += delta;
    if (client === undefined) return;
    const n = (this.openingBy.get(client) ?? 0) + delta;
    if (n > 0) this.openingBy.set(client, n);
    else this.openingBy.delete(client);
  }

  /** Removes a session from the table and from its client's count; safe to call twice. */
  private forget(id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    this.sessions.delete(id);
    if (session.client !== undefined) {
      const n = (this.heldBy.get(session.client) ?? 1) - 1;
      if (n > 0) this.heldBy.set(session.client, n);
      else this.heldBy.delete(session.client);
    }
    return session;
  }

  /** Sends a request (POST, GET or DELETE) to the session it names; 404 when that session is gone. */
  async handle(id: string, req: Request, parsedBody?: unknown, authInfo?: AuthInfo): Promise<Response> {
    const session = this.sessions.get(id);
    // Another caller's session is as good as absent: knowing its id must not let one caller act in another's session.
    if (!session || session.owner !== ownerOf(authInfo)) return sessionNotFound();
    session.lastActive = this.now();
    const response = await session.transport.handleRequest(req, { parsedBody, authInfo });
    if (req.method === "DELETE") {
      // The transport closed itself; make sure its Server goes too.
      this.forget(id);
      void session.server.close();
      return response;
    }
    return this.track(session, response, req.method === "GET");
  }

  /** Sends a notification to every open session (delivered on its GET stream, if the client opened one). */
  async notifyAll(notification: ServerNotification): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.server.notification(notification).catch(() => {})));
  }

  /** Closes idle sessions; returns how many were closed. */
  async sweep(): Promise<number> {
    const cutoff = this.now() - this.options.idleMs;
    const idle = [...this.sessions.values()].filter((s) => s.openStreams === 0 && s.lastActive <= cutoff);
    for (const s of idle) await this.end(s);
    if (idle.length > 0) this.options.log.info("closed idle MCP sessions", { closed: idle.length, open: this.sessions.size });
    return idle.length;
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((s) => this.end(s)));
  }

  private async end(session: Session): Promise<void> {
    this.forget(session.id);
    await session.server.close().catch(() => {});
  }

  // Counts a streamed answer as activity until it ends, so a client listening on GET is never expired mid-stream.
  private track(session: Session, response: Response, prime = false): Response {
    if (!response.body || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
    session.openStreams++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      session.openStreams--;
      session.lastActive = this.now();
    };
    const passthrough = new TransformStream<Uint8Array, Uint8Array>({
      // Bun sends a streamed response's headers only with its first chunk, and the GET stream may stay quiet for
      // minutes: clients that wait for those headers before going on (the Go SDK does) would hang. An SSE comment
      // goes out at once and every client ignores it.
      start: (controller) => {
        if (prime) controller.enqueue(OPENED);
      },
      flush: finish,
    });
    response.body.pipeTo(passthrough.writable).catch(finish);
    return new Response(passthrough.readable, { status: response.status, headers: response.headers });
  }
}
