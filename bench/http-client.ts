// A minimal HTTP/1.1 keep-alive client over Bun.connect, so the load generator spends its CPU on the servers, not on fetch.

export interface RawResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Map<string, string>;
  body: string;
}

interface Pending {
  resolve(res: RawResponse): void;
  reject(err: Error): void;
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** One connection, one request in flight at a time (a closed-loop virtual client). */
export class HttpConnection {
  private socket: import("bun").Socket<undefined> | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private head: { status: number; headers: Map<string, string>; bodyStart: number } | undefined;
  private closed = false;

  private constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  static async open(host: string, port: number): Promise<HttpConnection> {
    const c = new HttpConnection(host, port);
    await c.connect();
    return c;
  }

  private async connect(): Promise<void> {
    this.closed = false;
    this.buffer = Buffer.alloc(0);
    this.head = undefined;
    this.socket = await Bun.connect({
      hostname: this.host,
      port: this.port,
      socket: {
        data: (_s, chunk) => this.onData(chunk),
        close: () => this.onClose(),
        error: (_s, err) => this.fail(err),
      },
    });
    this.socket.setNoDelay(true);
  }

  /** Sends one request; `head` is the request line and headers without Content-Length or the blank line. */
  async request(head: string, body: string): Promise<RawResponse> {
    if (this.closed || !this.socket) await this.connect();
    if (this.pending) throw new Error("HttpConnection: one request at a time");
    const payload = `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise<RawResponse>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket!.write(payload);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
  }

  private onData(chunk: Buffer | Uint8Array): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    this.tryComplete();
  }

  private tryComplete(): void {
    if (!this.pending) return;
    if (!this.head) {
      const end = this.buffer.indexOf(CRLF2);
      if (end < 0) return;
      const lines = this.buffer.toString("latin1", 0, end).split("\r\n");
      const status = Number(lines[0]!.split(" ")[1]);
      const headers = new Map<string, string>();
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      this.head = { status, headers, bodyStart: end + 4 };
    }
    const { status, headers, bodyStart } = this.head;
    const length = headers.get("content-length");
    let body: string;
    let consumed: number;
    if (length !== undefined) {
      consumed = bodyStart + Number(length);
      if (this.buffer.length < consumed) return;
      body = this.buffer.toString("utf8", bodyStart, consumed);
    } else if (headers.get("transfer-encoding")?.includes("chunked")) {
      const parts: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = this.buffer.indexOf("\r\n", at);
        if (lineEnd < 0) return;
        const size = Number.parseInt(this.buffer.toString("latin1", at, lineEnd), 16);
        const dataStart = lineEnd + 2;
        if (this.buffer.length < dataStart + size + 2) return;
        if (size === 0) {
          consumed = dataStart + 2;
          break;
        }
        parts.push(this.buffer.subarray(dataStart, dataStart + size));
        at = dataStart + size + 2;
      }
      body = Buffer.concat(parts).toString("utf8");
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      consumed = bodyStart;
      body = "";
    } else {
      // Delimited by close: wait for onClose.
      return;
    }
    this.buffer = this.buffer.subarray(consumed);
    this.head = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (headers.get("connection")?.toLowerCase() === "close") this.closed = true;
    p.resolve({ status, headers, body });
  }

  private onClose(): void {
    this.closed = true;
    this.socket = undefined;
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (this.head && this.head.headers.get("content-length") === undefined && !this.head.headers.get("transfer-encoding")) {
      const { status, headers, bodyStart } = this.head;
      this.head = undefined;
      p.resolve({ status, headers, body: this.buffer.toString("utf8", bodyStart) });
      return;
    }
    p.reject(new Error("connection closed before the response was complete"));
  }

  private fail(err: Error): void {
    this.closed = true;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }
}
