// A loopback HTTP/1.1 proxy between the server and the real dev Vault that injects one fault into chosen requests:
// resets, lost answers, truncation, garbage, a gateway's HTML 502, stalls and delays. Everything else passes through.
import { createServer, type Server, type Socket } from "node:net";

export type FaultMode =
  /** Reset the connection as soon as the request arrives; Vault never sees it. */
  | "reset-before"
  /** Send the request to Vault, wait for its whole answer, then reset the connection: applied, answer lost. */
  | "drop-after"
  /** Vault's answer cut off inside its status line and headers, then the connection closed. */
  | "truncate-head"
  /** Vault's headers and half of its body (Content-Length promises all of it), then the connection closed. */
  | "truncate-body"
  /** Vault's status and headers, with a body of the same length that is not JSON. */
  | "garbage-body"
  /** Vault applied it, but what comes back is a gateway's 502 page in HTML. */
  | "html-502"
  /** Vault applied it, and the answer never comes (the connection stays open). */
  | "stall"
  /** Vault's answer, sent after `delayMs`. */
  | "delay";

export interface FaultRule {
  /** Which requests: method or methods (LIST is GET with list=true) and the path below /v1/, without query. */
  method?: string | string[];
  path: RegExp;
  mode: FaultMode;
  /** How many matching requests get the fault (default 1); later ones pass through. */
  times?: number;
  /** Skip this many matching requests first (default 0). */
  after?: number;
  delayMs?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  fault?: FaultMode;
}

export interface FaultProxy {
  /** http://127.0.0.1:<port>, to use as VAULT_ADDR. */
  addr: string;
  /** Adds a rule; rules are tried in order, the first live match applies. */
  inject(rule: FaultRule): void;
  /** Removes every rule. */
  clear(): void;
  /** Every request seen since start or the last clear(), in order. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

interface LiveRule extends FaultRule {
  matched: number;
}

interface ParsedRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
}

const HEAD_END = Buffer.from("\r\n\r\n");

/** Starts a proxy on a free loopback port that forwards to `upstream` (e.g. the dev Vault's addr). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  let rules: LiveRule[] = [];
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<Socket>();

  const pick = (method: string, path: string): LiveRule | undefined => {
    for (const rule of rules) {
      if (rule.method && !(Array.isArray(rule.method) ? rule.method.includes(method) : rule.method === method)) continue;
      if (!rule.path.test(path)) continue;
      rule.matched++;
      if (rule.matched <= (rule.after ?? 0)) continue;
      if (rule.matched > (rule.after ?? 0) + (rule.times ?? 1)) continue;
      return rule;
    }
    return undefined;
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      stalled.delete(socket);
    });
    socket.on("error", () => undefined);
    let buffer: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          const request = takeRequest(buffer);
          if (!request) break;
          buffer = request.rest;
          const done = await handle(socket, request.parsed);
          if (!done) return;
        }
      } finally {
        busy = false;
      }
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      void pump();
    });
  });

  /** Serves one request; false when the connection is finished (reset, closed or stalled). */
  async function handle(socket: Socket, req: ParsedRequest): Promise<boolean> {
    const url = new URL(req.target, "http://proxy");
    const path = url.pathname.replace(/^\/v1\//, "");
    const method = req.method === "GET" && url.searchParams.get("list") === "true" ? "LIST" : req.method;
    const rule = pick(method, path);
    seen.push({ method, path, ...(rule ? { fault: rule.mode } : {}) });
    if (rule?.mode === "reset-before") {
      socket.resetAndDestroy();
      return false;
    }
    const answer = await forward(upstream, req);
    switch (rule?.mode) {
      case undefined:
        socket.write(answer.bytes);
        return true;
      case "drop-after":
        socket.resetAndDestroy();
        return false;
      case "truncate-head":
        socket.end(answer.bytes.subarray(0, Math.max(1, Math.floor(answer.head.length / 2))));
        return false;
      case "truncate-body": {
        const cut = answer.head.length + Math.floor(answer.body.length / 2);
        socket.end(answer.bytes.subarray(0, cut));
        return false;
      }
      case "garbage-body": {
        const junk = Buffer.from("<!-- not json -->".padEnd(Math.max(answer.body.length, 17), "#"));
        socket.write(Buffer.concat([serializeHead(answer.status, answer.statusText, answer.headers, junk.length), junk]));
        return true;
      }
      case "html-502": {
        const page = Buffer.from("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n");
        socket.write(Buffer.concat([serializeHead(502, "Bad Gateway", [["content-type", "text/html"]], page.length), page]));
        return true;
      }
      case "stall":
        stalled.add(socket);
        return false;
      case "delay":
        await Bun.sleep(rule.delayMs ?? 1000);
        if (!socket.destroyed) socket.write(answer.bytes);
        return true;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    addr: `http://127.0.0.1:${port}`,
    inject: (rule) => void rules.push({ ...rule, matched: 0 }),
    clear: () => {
      rules = [];
      seen.length = 0;
    },
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function takeRequest(buffer: Buffer): { parsed: ParsedRequest; rest: Buffer } | undefined {
  const end = buffer.indexOf(HEAD_END);
  if (end < 0) return undefined;
  const lines = buffer.subarray(0, end).toString("latin1").split("\r\n");
  const [method = "GET", target = "/"] = (lines[0] ?? "").split(" ");
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const length = Number(headers.find(([k]) => k === "content-length")?.[1] ?? 0);
  const start = end + HEAD_END.length;
  if (buffer.length < start + length) return undefined;
  return {
    parsed: { method, target, headers, body: Buffer.from(buffer.subarray(start, start + length)) },
    rest: Buffer.from(buffer.subarray(start + length)),
  };
}

interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  head: Buffer;
  body: Buffer;
  bytes: Buffer;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"]);

async function forward(upstream: string, req: ParsedRequest): Promise<Answer> {
  const headers = new Headers();
  for (const [k, v] of req.headers) if (!HOP_BY_HOP.has(k)) headers.append(k, v);
  const res = await fetch(upstream + req.target, {
    method: req.method,
    headers,
    body: req.body.length > 0 ? req.body : undefined,
    // Loopback Vault: never through a developer's HTTP_PROXY.
    proxy: false,
    decompress: false,
  } as RequestInit);
  const body = Buffer.from(await res.arrayBuffer());
  const kept: [string, string][] = [];
  res.headers.forEach((v, k) => {
    if (!HOP_BY_HOP.has(k)) kept.push([k, v]);
  });
  const head = serializeHead(res.status, res.statusText, kept, body.length);
  return { status: res.status, statusText: res.statusText, headers: kept, head, body, bytes: Buffer.concat([head, body]) };
}

function serializeHead(status: number, statusText: string, headers: [string, string][], length: number): Buffer {
  const lines = [`HTTP/1.1 ${status} ${statusText || "Status"}`, ...headers.map(([k, v]) => `${k}: ${v}`), `content-length: ${length}`, "connection: keep-alive"];
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}
