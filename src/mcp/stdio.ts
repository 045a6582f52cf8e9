// MCP over stdio for desktop clients: one long-lived Server; one JSON-RPC message (or batch) per line each way.
import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode } from "./protocol.ts";
import type { Logger } from "../log.ts";
import { invalidMessage } from "./messages.ts";
import type { McpDeps } from "./call.ts";
import { createMcpServer } from "./server.ts";

/** The longest line read, in bytes (newline excluded): the HTTP body limit's default (MCP_MAX_BODY_BYTES). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface StdioOptions {
  /** Longer lines are answered with -32600 and skipped; the server goes on with the next line. */
  maxLineBytes?: number;
  input?: Readable;
  output?: Writable;
  log?: Logger;
}

type Id = string | number;

/** Requests of one batch line whose responses are still awaited; answered together as one array line, as HTTP does. */
interface Batch {
  order: Id[];
  responses: Map<Id, JSONRPCMessage>;
}

/**
 * A line transport in place of the SDK's StdioServerTransport, which closes (and the process exits 0) on one line over
 * its 10 MiB buffer and answers nothing to a line that is not JSON-RPC. Here every bad line gets its JSON-RPC error,
 * an over-long line is skipped without being held in memory, and the next line is served.
 */
export class LineTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  private parts: Buffer[] = [];
  private size = 0;
  /** Inside a line that already went over the limit: its bytes are dropped until the newline. */
  private skipping = false;
  private closed = false;
  /** Requests read and not yet answered: when stdin ends, they are still answered before the transport closes. */
  private readonly outstanding = new Set<Id>();
  private ending = false;
  private readonly batches = new Map<Id, Batch>();
  private readonly maxLineBytes: number;
  private readonly input: Readable;
  private readonly output: Writable;

  constructor(private readonly options: StdioOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
  }

  async start(): Promise<void> {
    this.input.on("data", this.onData);
    this.input.on("error", this.onInputError);
    // The client closing stdin ends the session; a last line without a newline is still served.
    this.input.on("end", this.onEnd);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const id = (message as { id?: unknown }).id;
    const response = (typeof id === "string" || typeof id === "number") && !("method" in message);
    if (!response) return this.write(message);
    this.outstanding.delete(id);
    const batch = this.batches.get(id);
    let written: Promise<void> | undefined;
    if (batch) {
      this.batches.delete(id);
      batch.responses.set(id, message);
      if (batch.responses.size === batch.order.length) written = this.write(batch.order.map((i) => batch.responses.get(i)));
    } else {
      written = this.write(message);
    }
    await written;
    if (this.ending && this.outstanding.size === 0) await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off("data", this.onData);
    this.input.off("error", this.onInputError);
    this.input.off("end", this.onEnd);
    this.parts = [];
    this.batches.clear();
    this.onclose?.();
  }

  private readonly onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(10, start);
      if (newline === -1) {
        this.take(bytes.subarray(start));
        return;
      }
      this.take(bytes.subarray(start, newline));
      this.endLine();
      start = newline + 1;
    }
  };

  private readonly onInputError = (error: Error) => this.onerror?.(error);

  private readonly onEnd = () => {
    if (this.size > 0 && !this.skipping) this.endLine();
    this.ending = true;
    if (this.outstanding.size === 0) void this.close();
  };

  private take(part: Buffer): void {
    if (this.skipping || part.length === 0) return;
    if (this.size + part.length > this.maxLineBytes) {
      // Answered at once (the client may be waiting for it), then the rest of the line is dropped as it arrives.
      this.parts = [];
      this.size = 0;
      this.skipping = true;
      this.options.log?.warn("skipped a stdio line over the size limit", { limitBytes: this.maxLineBytes });
      this.fail(
        null,
        ErrorCode.InvalidRequest,
        `Invalid Request: the line exceeded ${this.maxLineBytes} bytes, the most this server reads as one message (MCP_MAX_BODY_BYTES); it was skipped`,
      );
      return;
    }
    this.parts.push(part);
    this.size += part.length;
  }

  private endLine(): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const text = Buffer.concat(this.parts, this.size).toString("utf8");
    this.parts = [];
    this.size = 0;
    this.handleLine(text);
  }

  private handleLine(text: string): void {
    // Blank lines (and a CRLF's CR) carry nothing; clients sometimes send them between messages.
    if (text.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.fail(null, ErrorCode.ParseError, "Parse error: the line is not valid JSON; send one JSON-RPC 2.0 message per line");
      return;
    }
    const invalid = invalidMessage(parsed);
    if (invalid) {
      this.fail(invalid.id, invalid.code, invalid.message);
      return;
    }
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as JSONRPCMessage[];
    // Unique: a batch that repeats an id is answered once for it (the repeat's answer follows on its own line).
    const requests = [...new Set(messages.filter((m) => "method" in m && "id" in m).map((m) => (m as { id: Id }).id))];
    for (const id of requests) this.outstanding.add(id);
    if (Array.isArray(parsed) && requests.length > 0) {
      const batch: Batch = { order: requests, responses: new Map() };
      for (const id of requests) this.batches.set(id, batch);
    }
    for (const message of messages) this.onmessage?.(message);
  }

  private fail(id: Id | null, code: number, message: string): void {
    void this.write({ jsonrpc: "2.0", id, error: { code, message } });
  }

  private write(message: unknown): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.output.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.output.once("drain", resolve);
    });
  }
}

export async function serveStdio(deps: McpDeps, options: StdioOptions = {}): Promise<{ closed: Promise<void> }> {
  const server = createMcpServer(deps);
  const transport = new LineTransport({ log: deps.context.log, ...options });
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(transport);
  return { closed };
}
