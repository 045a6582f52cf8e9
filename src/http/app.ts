// The HTTP surface (Elysia): POST /mcp, health and readiness probes, and the guards in front of them.
import { Elysia } from "elysia";
import { CONTENT_TYPE as METRICS_CONTENT_TYPE } from "../metrics.ts";
import { jsonRpcError } from "../mcp/http.ts";
import { publicReadiness, type Readiness } from "../vault/health.ts";
import { checkRequest, type GuardPolicy, isLoopbackPeer } from "./guards.ts";

export interface AppDeps {
  /** `client` is the peer's address where the listener knows it (sessions are capped per client). */
  handleMcp(req: Request, client?: string): Promise<Response>;
  readiness(): Promise<Readiness>;
  guard: GuardPolicy;
  /** The Prometheus text for GET /metrics on this listener; absent when metrics are off or served elsewhere. */
  metrics?: () => Promise<string>;
}

/** GET /metrics as Prometheus scrapes it. */
export async function metricsResponse(render: () => Promise<string>): Promise<Response> {
  return new Response(await render(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
}

export function createApp(deps: AppDeps) {
  return (
    new Elysia()
      .onRequest(({ request }) => {
        const verdict = checkRequest(deps.guard, request.headers.get("host"), request.headers.get("origin"));
        if (!verdict.ok) return jsonRpcError(verdict.status, -32000, verdict.reason);
      })
      .get("/healthz", () => Response.json({ status: "ok" }))
      .get("/metrics", () => (deps.metrics ? metricsResponse(deps.metrics) : new Response("Not Found", { status: 404 })))
      .get("/readyz", async ({ request, server }) => {
        const r = await deps.readiness();
        // Vault's address, version and what is wrong are for the operator on this host; a peer gets only the status.
        // With no server (app.handle in-process) the caller is this process itself.
        const local = isLoopbackPeer(server ? (server.requestIP(request)?.address ?? "") : undefined);
        return Response.json(local ? r : publicReadiness(r), { status: r.ready ? 200 : 503 });
      })
      // parse: "none" leaves the body stream to the MCP handler, which enforces its own size limit.
      .post("/mcp", ({ request, server }) => deps.handleMcp(request, server?.requestIP(request)?.address), { parse: "none" })
      // GET (notification stream) and DELETE (end a session) exist only with sessions; the handler answers 405 without.
      .get("/mcp", ({ request, server }) => deps.handleMcp(request, server?.requestIP(request)?.address))
      .delete("/mcp", ({ request, server }) => deps.handleMcp(request, server?.requestIP(request)?.address), { parse: "none" })
  );
}
