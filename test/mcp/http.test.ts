// Streamable HTTP as clients meet it: curl with no headers, SDK clients, SSE-only clients, bad requests and the probes.
import { describe, expect, it } from "bun:test";
import { connectClient, MCP_URL, testServer, unique } from "../support/mcp.ts";

const server = testServer();
const json = (res: Response): Promise<any> => res.json();
const LIST = '{"jsonrpc":"2.0","method":"tools/list","id":1}';

function post(body: string, headers: Record<string, string> = {}) {
  return server.fetch(MCP_URL, { method: "POST", body, headers });
}

describe("POST /mcp", () => {
  it("answers the troubleshooting curl line: no Accept, form content type, no session, no initialize", async () => {
    // Exactly what `curl -X POST http://HOST:8084/mcp -d '{...}'` sends.
    const res = await post(LIST, { "content-type": "application/x-www-form-urlencoded", accept: "*/*" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await json(res);
    expect(body.id).toBe(1);
    expect(body.result.tools.map((t: { name: string }) => t.name)).toContain("read_secret");
  });

  it("answers with no Accept header at all", async () => {
    const res = await post(LIST);
    expect(res.status).toBe(200);
    expect((await json(res)).result.tools.length).toBeGreaterThan(10);
  });

  it("streams SSE when the client accepts only text/event-stream", async () => {
    const res = await post(LIST, { accept: "text/event-stream", "content-type": "application/json" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const data = text.split("\n").find((l) => l.startsWith("data: {"));
    expect(JSON.parse(data!.slice(6)).result.tools.length).toBeGreaterThan(10);
  });

  it("negotiates every protocol revision from 2024-11-05 to 2025-11-25", async () => {
    for (const version of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
      const init = {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "t", version: "1" } },
      };
      const res = await post(JSON.stringify(init), { accept: "application/json, text/event-stream", "content-type": "application/json" });
      const body = await json(res);
      expect(body.result.protocolVersion).toBe(version);
      expect(body.result.serverInfo.name).toBe("vault-mcp-server");
      expect(body.result.capabilities.tools).toBeDefined();
      const list = await post(LIST, { "mcp-protocol-version": version, "content-type": "application/json" });
      expect(list.status).toBe(200);
    }
  });

  it("answers a notification with 202 and no body", async () => {
    const res = await post('{"jsonrpc":"2.0","method":"notifications/initialized"}', { "content-type": "application/json" });
    expect(res.status).toBe(202);
  });

  it("refuses invalid JSON with a JSON-RPC parse error, and keeps serving", async () => {
    const res = await post('{"jsonrpc":"2.0",', { "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe(-32700);
    expect((await post(LIST)).status).toBe(200);
  });

  it("refuses JSON that is not a JSON-RPC message", async () => {
    const res = await post('{"hello":"world"}', { "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBeLessThan(0);
  });

  it("refuses an oversized body with 413 before parsing it", async () => {
    const huge = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_secret", arguments: { path: "x", key: "k", value: "v".repeat(2 * 1024 * 1024) } } });
    const res = await post(huge, { "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect((await json(res)).error.message).toContain("too large");
  });

  it("refuses a client that accepts neither JSON nor SSE with 406", async () => {
    expect((await post(LIST, { accept: "text/html" })).status).toBe(406);
  });

  it("answers an unknown method with JSON-RPC method-not-found", async () => {
    const res = await post('{"jsonrpc":"2.0","method":"secrets/steal","id":7}');
    expect((await json(res)).error.code).toBe(-32601);
  });

  it("answers an unknown tool with invalid-params naming the tools it has", async () => {
    const res = await post('{"jsonrpc":"2.0","method":"tools/call","id":8,"params":{"name":"rm_rf","arguments":{}}}');
    const body = await json(res);
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toContain('Unknown tool "rm_rf"');
    expect(body.error.message).toContain("read_secret");
  });
});

describe("other methods on /mcp", () => {
  for (const method of ["GET", "DELETE"]) {
    it(`answers ${method} with 405 and Allow: POST`, async () => {
      const res = await server.fetch(MCP_URL, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    });
  }
});

describe("guards", () => {
  it("refuses a non-loopback Host while bound to loopback (DNS rebinding)", async () => {
    const res = await server.fetch(new Request(MCP_URL, { method: "POST", body: LIST, headers: { host: "evil.example.com" } }));
    expect(res.status).toBe(403);
  });

  it("refuses a foreign Origin", async () => {
    const res = await post(LIST, { origin: "https://evil.example.com" });
    expect(res.status).toBe(403);
    expect((await json(res)).error.message).toContain("MCP_ALLOWED_ORIGINS");
  });

  it("accepts a loopback Origin and an explicitly allowed one", async () => {
    expect((await post(LIST, { origin: "http://localhost:6274" })).status).toBe(200);
    const allowed = testServer({ MCP_ALLOWED_ORIGINS: "https://console.example.com" });
    const res = await allowed.fetch(MCP_URL, { method: "POST", body: LIST, headers: { origin: "https://console.example.com" } });
    expect(res.status).toBe(200);
  });

  it("accepts the Service's own name as Host when bound to all interfaces, as behind a Kubernetes Service", async () => {
    const wide = testServer({ MCP_HOST: "0.0.0.0" });
    const req = new Request(MCP_URL, { method: "POST", body: LIST, headers: { host: "vault-mcp-server.kagent.svc:8084" } });
    expect((await wide.fetch(req)).status).toBe(200);
  });
});

describe("probes", () => {
  it("GET /healthz says ok without asking Vault", async () => {
    const broken = testServer({ VAULT_ADDR: "http://127.0.0.1:9" });
    const res = await broken.fetch("http://127.0.0.1:8084/healthz");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ok" });
  });

  it("GET /readyz is 200 when Vault is up, unsealed and the token valid", async () => {
    const res = await server.fetch("http://127.0.0.1:8084/readyz");
    expect(res.status).toBe(200);
    expect((await json(res)).ready).toBe(true);
  });

  it("GET /readyz is 503 with the reason when Vault cannot be reached", async () => {
    const res = await testServer({ VAULT_ADDR: "http://127.0.0.1:9" }).fetch("http://127.0.0.1:8084/readyz");
    expect(res.status).toBe(503);
    const body = await json(res);
    expect(body.ready).toBe(false);
    expect(body.reason).toContain("could not be reached");
  });

  it("GET /readyz is 503 when the token is invalid, without echoing it", async () => {
    const bogus = `hvs.${unique("bogus")}`;
    const res = await testServer({ VAULT_TOKEN: bogus }).fetch("http://127.0.0.1:8084/readyz");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toContain("token is invalid");
    expect(text).not.toContain(bogus);
  });
});

describe("the SDK client", () => {
  it("initializes, lists tools with schemas and annotations, and calls one", async () => {
    const client = await connectClient(server);
    expect(client.getServerVersion()?.name).toBe("vault-mcp-server");
    const { tools } = await client.listTools();
    const read = tools.find((t) => t.name === "read_secret")!;
    expect(read.annotations?.readOnlyHint).toBe(true);
    expect(read.outputSchema?.type).toBe("object");
    const result = await client.callTool({ name: "list_mounts", arguments: {} });
    expect(result.isError).toBeFalsy();
    await client.close();
  });
});
