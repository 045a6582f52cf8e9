// kagent's client: the official Go SDK's StreamableClientTransport (test/goclient) against the compiled binary and
// the real Vault, with go-sdk v1.6 (kagent v0.9's) and v1.7 (which probes 2026-07-28's server/discover first).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { buildGoTool } from "../support/go-tool.ts";
import { unique, vaultApi } from "../support/mcp.ts";
import { run, type ServerProcess, startServer } from "./server-process.ts";


interface Variant {
  label: string;
  /** The go.mod to build with (go build -modfile), which pins the go-sdk version. */
  modfile: string;
  sdk: RegExp;
  /** Whether this SDK opens with 2026-07-28's server/discover before initialize. */
  probesDiscover: boolean;
}

const VARIANTS: Variant[] = [
  { label: "go-sdk v1.6 (kagent v0.9)", modfile: "go.mod", sdk: /^v1\.6\./, probesDiscover: false },
  { label: "go-sdk v1.7 (server/discover, then fallback)", modfile: "go.v17.mod", sdk: /^v1\.7\./, probesDiscover: true },
];

/** test/goclient built with the variant's go.mod (see test/support/go-tool.ts). */
function buildClient(variant: Variant): Promise<string> {
  return buildGoTool("goclient", variant.modfile);
}

interface Exchange {
  method: string;
  jsonrpc: string | undefined;
  protocolHeader: string | null;
  /** Mcp-Session-Id sent with the request, and the one the answer carried. */
  session: string | null;
  givenSession: string | null;
  status: number;
}

/** A loopback pass-through in front of the server that records each request's JSON-RPC method and the answer's status. */
function recordingProxy(target: string) {
  const seen: Exchange[] = [];
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const body = req.method === "POST" ? await req.text() : undefined;
      let jsonrpc: string | undefined;
      try {
        jsonrpc = body ? (JSON.parse(body) as { method?: string }).method : undefined;
      } catch {}
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(target, { method: req.method, headers, body });
      seen.push({
        method: req.method,
        jsonrpc,
        protocolHeader: req.headers.get("mcp-protocol-version"),
        session: req.headers.get("mcp-session-id"),
        givenSession: res.headers.get("mcp-session-id"),
        status: res.status,
      });
      return res;
    },
  });
  return { url: `http://127.0.0.1:${proxy.port}/mcp`, seen, stop: () => proxy.stop(true) };
}

const MODES = [
  { label: "stateless (default)", args: [] as string[] },
  { label: "stateful (--stateful)", args: ["--stateful"] },
];

for (const variant of VARIANTS) for (const mode of MODES) {
  describe(`Go client, ${variant.label}, ${mode.label} server`, () => {
    let server: ServerProcess;
    let proxy: ReturnType<typeof recordingProxy>;
    let report: any;
    let elapsedMs = 0;
    const path = `goclient/${unique("s")}`;
    const value = `from-go-${crypto.randomUUID()}`;

    beforeAll(async () => {
      const [binary, running] = await Promise.all([buildClient(variant), startServer(mode.args, { LOG_LEVEL: "debug" })]);
      server = running;
      proxy = recordingProxy(server.url);
      const started = performance.now();
      const result = await run([binary, "-url", proxy.url, "-path", path, "-value", value], { timeoutMs: 60_000 });
      elapsedMs = performance.now() - started;
      if (result.code !== 0) throw new Error(`goclient failed (${result.code}):\n${result.stderr}\nserver log:\n${server.stderr()}`);
      report = JSON.parse(result.stdout);
    }, 600_000);

    afterAll(async () => {
      proxy?.stop();
      await server?.stop();
    });

    it("runs through without waiting on anything (the whole conversation in well under 5 s)", () => {
      // The Go SDK waits for the GET stream's headers before going on; a stream that sent none hung it for 15 s.
      expect(elapsedMs).toBeLessThan(5000);
    });

    it("is linked against the intended go-sdk version", () => {
      expect(report.sdkVersion).toMatch(variant.sdk);
    });

    it("initializes on 2025-11-25 and lists the Vault tools", () => {
      expect(report.protocolVersion).toBe("2025-11-25");
      expect(report.serverName).toBe("vault-mcp-server");
      expect(report.tools).toEqual(expect.arrayContaining(["list_mounts", "read_secret", "write_secret"]));
    });

    it("calls a read tool, then writes a secret and reads it back", async () => {
      expect(report.mountsText).toContain("secret/");
      expect(report.writeText).toStartWith(`Secret stored successfully at secret/${path}`);
      expect(report.readData).toEqual({ password: value });
      // Checked in Vault itself, not only through the server.
      const stored = await vaultApi("GET", `secret/data/${path}`);
      expect(stored.json.data.data).toEqual({ password: value });
    });

    it("hands the model guidance in structuredContent: the summary and the read_secret call the text suggests", () => {
      expect(report.writeStructured.summary).toStartWith(`Secret stored successfully at secret/${path}`);
      expect(report.writeStructured.next).toEqual([`read_secret(mount="secret", path="${path}")`]);
    });

    it("lists and reads resources: the mounts, and a secret's metadata without its value", () => {
      expect(report.resources).toEqual(["vault://mounts"]);
      expect(report.templates).toEqual(expect.arrayContaining(["vault://kv/{mount}/{+path}", "vault://policies/{name}", "vault://pki/{mount}/ca", "vault://pki/{mount}/issuers/{issuer}"]));
      expect(JSON.parse(report.mountsResource).mounts.map((m: { path: string }) => m.path)).toContain("secret");
      expect(report.secretResource.mimeType).toBe("application/json");
      expect(JSON.parse(report.secretResource.text)).toMatchObject({ mount: "secret", path, exists: true, current_version: 1 });
      expect(report.secretResource.text).not.toContain(value);
    });

    it("lists prompts and gets least_privilege_policy's HCL", () => {
      expect(report.prompts).toEqual(expect.arrayContaining(["store_secret", "retrieve_secret", "issue_certificate", "create_app_mount", "least_privilege_policy", "diagnose_access"]));
      expect(report.policyPrompt).toContain(`path "secret/data/${path}" {\n  capabilities = ["read"]\n}`);
    });

    if (variant.probesDiscover) {
      it("probes server/discover first, is told to fall back at once, then initializes", () => {
        const [probe, init] = proxy.seen.filter((e) => e.method === "POST");
        expect(probe).toMatchObject({ jsonrpc: "server/discover", protocolHeader: "2026-07-28", status: 400 });
        expect(init).toMatchObject({ jsonrpc: "initialize", status: 200 });
        expect(proxy.seen.filter((e) => e.jsonrpc === "server/discover")).toHaveLength(1);
      });
    } else {
      it("opens with initialize", () => {
        expect(proxy.seen.find((e) => e.method === "POST")).toMatchObject({ jsonrpc: "initialize", status: 200 });
      });
    }

    if (mode.args.includes("--stateful")) {
      it("keeps the session initialize gave it, listens on GET, and ends the session with DELETE", async () => {
        const init = proxy.seen.find((e) => e.jsonrpc === "initialize")!;
        expect(init.givenSession).toBeTruthy();
        const later = proxy.seen.slice(proxy.seen.indexOf(init) + 1);
        expect(later.filter((e) => e.method === "POST").every((e) => e.session === init.givenSession)).toBe(true);
        expect(later.find((e) => e.method === "GET")).toMatchObject({ session: init.givenSession, status: 200 });
        // The DELETE is sent as the client closes; give it a moment to arrive.
        for (let i = 0; i < 50 && !proxy.seen.some((e) => e.method === "DELETE"); i++) await Bun.sleep(20);
        expect(proxy.seen.find((e) => e.method === "DELETE")).toMatchObject({ session: init.givenSession, status: 200 });
      });
    } else {
      it("gets no session and a 405 for the optional GET stream, which the client tolerates", () => {
        expect(proxy.seen.every((e) => e.givenSession === null)).toBe(true);
        const get = proxy.seen.find((e) => e.method === "GET");
        if (get) expect(get.status).toBe(405);
      });
    }

    it("leaves no error or warning in the server's log", () => {
      expect(server.logLines("warn")).toEqual([]);
      expect(server.stderr()).not.toContain(value);
    });
  });
}
