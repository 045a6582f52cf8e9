// Every protocol revision a client may speak, on the wire: negotiated, then tools/list and tools/call under it,
// answered as JSON and as SSE. 2026-07-28 (stateless, server/discover) is answered so clients fall back at once.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compiledBinary } from "../support/binary.ts";
import { MCP_URL, testServer, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

const server = testServer();
const LEGACY = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] as const;
/** The MCP-Protocol-Version header arrived with 2025-06-18; clients of earlier revisions do not send it. */
const usesHeader = (revision: string) => revision >= "2025-06-18";
const MODERN_ERROR_CODES = [-32020, -32021, -32022];

type Mode = "json" | "sse";
const ACCEPT: Record<Mode, string> = { json: "application/json, text/event-stream", sse: "text/event-stream" };

let nextId = 1;

/** Posts one JSON-RPC message and returns the HTTP status, content type and the JSON-RPC answer (from JSON or SSE). */
async function rpc(message: Record<string, unknown>, headers: Record<string, string>): Promise<{ status: number; type: string; body: any }> {
  const res = await server.fetch(MCP_URL, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", ...message }),
    headers: { "content-type": "application/json", ...headers },
  });
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  if (!text) return { status: res.status, type, body: null };
  if (type.includes("text/event-stream")) {
    const data = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    return { status: res.status, type, body: data.find((d) => "result" in d || "error" in d) };
  }
  return { status: res.status, type, body: JSON.parse(text) };
}

function request(method: string, params: Record<string, unknown> = {}) {
  return { id: nextId++, method, params };
}

describe.each(LEGACY)("protocol revision %s", (revision) => {
  describe.each(["json", "sse"] as Mode[])("answered as %s", (mode) => {
    const headers = { accept: ACCEPT[mode], ...(usesHeader(revision) ? { "mcp-protocol-version": revision } : {}) };
    const expectMode = (type: string) => expect(type).toContain(mode === "json" ? "application/json" : "text/event-stream");

    it("is negotiated by initialize", async () => {
      const init = await rpc(
        request("initialize", { protocolVersion: revision, capabilities: {}, clientInfo: { name: "revisions-test", version: "1" } }),
        { accept: ACCEPT[mode] },
      );
      expect(init.status).toBe(200);
      expectMode(init.type);
      expect(init.body.result.protocolVersion).toBe(revision);
      expect(init.body.result.capabilities.tools).toBeDefined();
      expect(init.body.result.serverInfo.name).toBe("vault-mcp-server");
      const initialized = await rpc({ method: "notifications/initialized" }, headers);
      expect(initialized.status).toBe(202);
    });

    it("lists tools", async () => {
      const list = await rpc(request("tools/list"), headers);
      expect(list.status).toBe(200);
      expectMode(list.type);
      const names = list.body.result.tools.map((t: { name: string }) => t.name);
      expect(names).toEqual(expect.arrayContaining(["list_mounts", "read_secret", "write_secret"]));
    });

    it("calls a read tool, and a write tool whose effect the next read sees", async () => {
      const mounts = await rpc(request("tools/call", { name: "list_mounts", arguments: {} }), headers);
      expectMode(mounts.type);
      expect(mounts.body.result.isError).toBeFalsy();

      const path = `revisions/${revision}/${mode}/${unique("s")}`;
      const write = await rpc(request("tools/call", { name: "write_secret", arguments: { path, key: "rev", value: revision } }), headers);
      expect(write.body.result.isError).toBeFalsy();
      const read = await rpc(request("tools/call", { name: "read_secret", arguments: { path } }), headers);
      expect(read.body.result.structuredContent.data).toEqual({ rev: revision });
      expect((await vaultApi("GET", `secret/data/${path}`)).json.data.data).toEqual({ rev: revision });
    });
  });
});

describe("protocol revision 2026-07-28 (stateless; not served natively)", () => {
  const modern = (method: string, params: Record<string, unknown> = {}) => ({
    ...request(method, {
      ...params,
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { name: "modern-client", version: "1" },
      },
    }),
  });
  const modernHeaders = (method: string, name?: string) => ({
    accept: ACCEPT.json,
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": method,
    ...(name ? { "mcp-name": name } : {}),
  });

  it("answers the server/discover probe with 400 and a non-modern error, so a dual-era client falls back to initialize", async () => {
    const probe = modern("server/discover");
    const res = await rpc(probe, modernHeaders("server/discover"));
    expect(res.status).toBe(400);
    expect(res.body.id).toBe(probe.id);
    expect(res.body.error.code).toBe(-32000);
    expect(MODERN_ERROR_CODES).not.toContain(res.body.error.code);
    expect(res.body.error.message).toContain("2025-11-25");
  });

  it("answers any other modern request the same way, naming the revisions it speaks", async () => {
    const res = await rpc(modern("tools/call", { name: "read_secret", arguments: { path: "x" } }), modernHeaders("tools/call", "read_secret"));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(-32000);
    expect(res.body.error.message).toContain("2025-06-18");
  });

  it("answers server/discover without the version header (as a stdio-style probe) with method-not-found", async () => {
    const res = await rpc(request("server/discover"), { accept: ACCEPT.json });
    expect(res.status).toBe(200);
    expect(res.body.error.code).toBe(-32601);
  });

  it("answers an initialize asking for 2026-07-28 with the newest legacy revision", async () => {
    const init = await rpc(
      request("initialize", { protocolVersion: "2026-07-28", capabilities: {}, clientInfo: { name: "dual-era", version: "1" } }),
      { accept: ACCEPT.json, "mcp-protocol-version": "2026-07-28" },
    );
    expect(init.status).toBe(200);
    expect(init.body.result.protocolVersion).toBe("2025-11-25");
  });
});

describe("server/discover over stdio (compiled binary)", () => {
  let child: ReturnType<typeof Bun.spawn<"pipe", "pipe", "pipe">>;
  const answers: any[] = [];

  beforeAll(async () => {
    child = Bun.spawn([await compiledBinary(), "stdio"], {
      env: { PATH: "/usr/bin:/bin", VAULT_ADDR: testVault().addr, VAULT_TOKEN: testVault().token },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    void (async () => {
      let buffered = "";
      for await (const chunk of child.stdout) {
        buffered += new TextDecoder().decode(chunk);
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) if (line.trim()) answers.push(JSON.parse(line));
      }
    })();
  }, 120_000);

  afterAll(() => {
    child?.kill();
  });

  async function send(message: Record<string, unknown>): Promise<any> {
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
    child.stdin.flush();
    const id = message.id;
    for (let i = 0; i < 200; i++) {
      const answer = answers.find((a) => a.id === id);
      if (answer) return answer;
      await Bun.sleep(25);
    }
    throw new Error(`no answer to ${JSON.stringify(message)}`);
  }

  it("answers the probe with a non-modern error at once, then serves the initialize fallback", async () => {
    const probe = await send({ id: 1, method: "server/discover", params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } });
    expect(probe.error.code).toBe(-32601);
    const init = await send({ id: 2, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
    expect(init.result.protocolVersion).toBe("2025-11-25");
    const list = await send({ id: 3, method: "tools/list" });
    expect(list.result.tools.length).toBeGreaterThan(10);
  });
});
