// The HTTP surface (Elysia): POST /mcp, health and readiness probes, and the guards and authentication in front of them.
import { Elysia } from "elysia";
import type { Caller } from "../caller.ts";
import { CONTENT_TYPE as METRICS_CONTENT_TYPE } from "../metrics.ts";
import { jsonRpcError, queryTokenRefusal } from "../mcp/http.ts";
import { publicReadiness, type Readiness } from "../vault/health.ts";
import { type Authenticator, NO_AUTH } from "./auth.ts";
import { checkRequest, type GuardPolicy, isLoopbackPeer } from "./guards.ts";

export interface AppDeps {
  /** `client` is the peer's address where the listener knows it (sessions are capped per client); `caller` who authenticated. */
  handleMcp(req: Request, client?: string, caller?: Caller): Promise<Response>;
  readiness(): Promise<Readiness>;
  guard: GuardPolicy;
  /** Who may call /mcp (MCP_AUTH); absent: anyone (none). */
  auth?: Authenticator;
  /** The Prometheus text for GET /metrics on this listener; absent when metrics are off or served elsewhere. */
  metrics?: () => Promise<string>;
}

/** GET /metrics as Prometheus scrapes it. */
export async function metricsResponse(render: () => Promise<string>): Promise<Response> {
  return new Response(await render(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
}

/** The path of a request URL without parsing it ("http://h:1/readyz?x" -> "/readyz"). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

// Answered whatever Host they are sent: kubelet probes and Prometheus scrapes address the pod by its IP. None of them
// carries a secret or changes anything, so a rebound DNS name gains nothing from them (/readyz detail is guarded below).
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * Whether /readyz may tell this request Vault's address, version and what is wrong: a request addressed to a name we
 * answer to, from this host's loopback (the operator) or, with MCP_AUTH on, from an authenticated caller.
 * Everyone else learns only whether the server is ready.
 */
export async function readinessDetail(guard: GuardPolicy, auth: Authenticator, request: Request, address: string | undefined): Promise<boolean> {
  if (!checkRequest(guard, request.headers.get("host"), request.headers.get("origin")).ok) return false;
  if (isLoopbackPeer(address)) return true;
  if (auth.mode === "none" || !request.headers.has("authorization")) return false;
  const who = auth.authenticate(request, address);
  return !((who instanceof Promise ? await who : who) instanceof Response);
}

export function createApp(deps: AppDeps) {
  const auth = deps.auth ?? NO_AUTH;

  /** The caller of an /mcp request, or the answer refusing it. */
  const mcp = async (request: Request, address: string | undefined): Promise<Response> => {
    // Before authenticating: a token in the URL is refused as such, not as a missing Authorization header.
    const leaked = queryTokenRefusal(request.url);
    if (leaked) return leaked;
    const who = auth.authenticate(request, address);
    const caller = who instanceof Promise ? await who : who;
    if (caller instanceof Response) return caller;
    return deps.handleMcp(request, address, caller);
  };


  // With no server (app.handle in-process) the peer is this process itself: address undefined.
  const peer = (request: Request, server: { requestIP(r: Request): { address: string } | null } | null) =>
    server ? (server.requestIP(request)?.address ?? "") : undefined;

  const resource = auth.protectedResource;
  const metadata = ({ request }: { request: Request }) => (resource ? resource(request) : new Response("Not Found", { status: 404 }));
  return (
    new Elysia()
      .onRequest(({ request }) => {
        const verdict = checkRequest(deps.guard, request.headers.get("host"), request.headers.get("origin"));
        // The probes and /metrics answer whatever Host they are sent (the pod's IP); /readyz then gives no detail.
        if (!verdict.ok && !PROBES.has(pathOf(request.url))) return jsonRpcError(verdict.status, -32000, verdict.reason);
      })
      .get("/healthz", () => Response.json({ status: "ok" }))
      .get("/metrics", () => (deps.metrics ? metricsResponse(deps.metrics) : new Response("Not Found", { status: 404 })))
      .get("/readyz", async ({ request, server }) => {
        const r = await deps.readiness();
        const detail = await readinessDetail(deps.guard, auth, request, peer(request, server));
        return Response.json(detail ? r : publicReadiness(r), { status: r.ready ? 200 : 503 });
      })
      // parse: "none" leaves the body stream to the MCP handler, which enforces its own size limit.
      .post("/mcp", ({ request, server }) => mcp(request, server?.requestIP(request)?.address), { parse: "none" })
      // GET (notification stream) and DELETE (end a session) exist only with sessions; the handler answers 405 without.
      .get("/mcp", ({ request, server }) => mcp(request, server?.requestIP(request)?.address))
      .delete("/mcp", ({ request, server }) => mcp(request, server?.requestIP(request)?.address), { parse: "none" })
      // MCP_AUTH=oauth (RFC 9728): at the root, and with the resource's path (/mcp) appended, where MCP clients look first.
      .get("/.well-known/oauth-protected-resource", metadata)
      .get("/.well-known/oauth-protected-resource/*", metadata)
  );
}
