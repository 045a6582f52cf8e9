// Stateful Streamable HTTP (opt-in): one SDK transport and Server per Mcp-Session-Id, expired when idle, bounded in number.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../log.ts";
import { createMcpServer, type McpDeps } from "./server.ts";

export interface SessionOptions {
  /** A session with no request and no open stream for this long is closed. */
  idleMs: number;
  /** Most sessions held at once; opening one more closes the least recently used. */
  maxSessions: number;
  log: Logger;
  now?: () => number;
}

interface Session {
  id: string;
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

const OPENED = new TextEncoder().encode(": stream open\n\n");

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly deps: McpDeps,
    private readonly options: SessionOptions,
  ) {
    this.now = options.now ?? Date.now;
    // Unref'd: an idle sweep must never keep the process alive.
    this.sweeper = setInterval(() => void this.sweep(), Math.max(1000, Math.min(60_000, options.idleMs / 2)));
    this.sweeper.unref?.();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Opens a session for an initialize request and lets its transport answer it (with the new Mcp-Session-Id). */
  async open(req: Request, parsedBody: unknown, json: boolean): Promise<Response> {
    await this.sweep();
    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastActive - b.lastActive)[0]!;
      this.options.log.warn("closing the least recently used MCP session: the session limit was reached", {
        limit: this.options.maxSessions,
        idleSeconds: Math.round((this.now() - oldest.lastActive) / 1000),
      });
      await this.end(oldest);
    }
    const server = createMcpServer(this.deps);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse: json,
      onsessioninitialized: (id) => {
        this.sessions.set(id, { id, server, transport, lastActive: this.now(), openStreams: 0 });
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    await server.connect(transport);
    const response = await transport.handleRequest(req, { parsedBody });
    const id = transport.sessionId;
    const session = id ? this.sessions.get(id) : undefined;
    // An initialize the SDK refused leaves no session behind; close its server so nothing leaks.
    if (!session) {
      void server.close();
      return response;
    }
    return this.track(session, response);
  }

  /** Sends a request (POST, GET or DELETE) to the session it names; 404 when that session is gone. */
  async handle(id: string, req: Request, parsedBody?: unknown): Promise<Response> {
    const session = this.sessions.get(id);
    if (!session) return sessionNotFound();
    session.lastActive = this.now();
    const response = await session.transport.handleRequest(req, parsedBody === undefined ? undefined : { parsedBody });
    if (req.method === "DELETE") {
      // The transport closed itself; make sure its Server goes too.
      this.sessions.delete(id);
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
    this.sessions.delete(session.id);
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
