// Request guards against DNS rebinding and cross-site calls: pure functions of the bind address and request headers.

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** The host part of a Host header or URL host ("[::1]:8084" -> "::1", "Localhost:80" -> "localhost"). */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(":");
  // More than one colon and no brackets: a bare IPv6 address.
  if (colon >= 0 && h.indexOf(":", colon + 1) >= 0) return h;
  return colon >= 0 ? h.slice(0, colon) : h;
}

export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  if (LOOPBACK_NAMES.has(h) || h.endsWith(".localhost")) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Whether a peer address (Bun's requestIP) is this host's loopback; `undefined` (no socket: an in-process app.handle)
 * is this process itself. IPv4-mapped IPv6 ("::ffff:127.0.0.1") counts as its IPv4 address.
 */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return true;
  return isLoopbackHostname(address.toLowerCase().replace(/^::ffff:/, ""));
}

export interface GuardPolicy {
  /** The address the server listens on (MCP_HOST). */
  bindHost: string;
  /** Browser origins allowed besides the server's own (MCP_ALLOWED_ORIGINS), e.g. "https://console.example.com". */
  allowedOrigins: readonly string[];
  /**
   * Off loopback: the host names (lower case, no port) a request's Host may carry (MCP_ALLOWED_HOSTS), besides loopback
   * names; "*" lets any through. Absent: any (the behaviour before MCP_ALLOWED_HOSTS).
   */
  allowedHosts?: ReadonlySet<string> | "*";
}

/** The names kagent and the cluster reach the Service by, in namespace kagent (manifests/base). */
export const SERVICE_HOSTS = ["vault-mcp-server", "vault-mcp-server.kagent", "vault-mcp-server.kagent.svc", "vault-mcp-server.kagent.svc.cluster.local"];

/**
 * MCP_ALLOWED_HOSTS when unset: the Service's names, this machine's host name (a pod's name) and its own addresses
 * (a pod's IP, which kubelet probes use), and the bind address itself when it is a specific one.
 */
export function defaultAllowedHosts(bindHost: string, hostname: string | undefined, addresses: readonly string[]): Set<string> {
  const hosts = new Set(SERVICE_HOSTS);
  if (hostname) hosts.add(hostname.toLowerCase());
  for (const a of addresses) hosts.add(a.toLowerCase());
  const bind = hostnameOf(bindHost);
  if (bind !== "0.0.0.0" && bind !== "::" && bind !== "") hosts.add(bind);
  return hosts;
}

/** MCP_ALLOWED_HOSTS as given ("a,b", "*"), or the defaults. */
export function allowedHostsFrom(setting: readonly string[] | undefined, defaults: () => Set<string>): ReadonlySet<string> | "*" {
  if (setting === undefined) return defaults();
  if (setting.includes("*")) return "*";
  return new Set(setting.map((h) => hostnameOf(h)));
}

export type GuardVerdict = { ok: true } | { ok: false; status: 403; reason: string };

/**
 * Bound to loopback, the server only answers requests addressed to a loopback name, so a web page cannot reach it
 * through a rebound DNS name; off loopback, only those addressed to a name in allowedHosts (or a loopback name, as
 * `kubectl port-forward` sends). Any Origin must be loopback, the request's own host, or explicitly allowed.
 */
export function checkRequest(policy: GuardPolicy, host: string | null, origin: string | null): GuardVerdict {
  const boundToLoopback = isLoopbackHostname(policy.bindHost);
  if (host !== null) {
    if (boundToLoopback) {
      if (!isLoopbackHostname(hostnameOf(host))) return { ok: false, status: 403, reason: `Forbidden: host "${host}" is not allowed; this server listens on loopback only` };
    } else if (policy.allowedHosts !== undefined && policy.allowedHosts !== "*") {
      const name = hostnameOf(host).replace(/\.$/, "");
      if (!policy.allowedHosts.has(name) && !isLoopbackHostname(name)) {
        return { ok: false, status: 403, reason: `Forbidden: host "${host}" is not a name this server answers to; add it to MCP_ALLOWED_HOSTS` };
      }
    }
  }
  if (origin === null || origin === "") return { ok: true };
  if (policy.allowedOrigins.includes(origin)) return { ok: true };
  let originUrl: URL;
  try {
    originUrl = new URL(origin);
  } catch {
    return { ok: false, status: 403, reason: `Forbidden: origin "${origin}" is not a valid origin` };
  }
  if (isLoopbackHostname(originUrl.hostname)) return { ok: true };
  if (!boundToLoopback && host !== null && originUrl.host.toLowerCase() === host.trim().toLowerCase()) return { ok: true };
  return {
    ok: false,
    status: 403,
    reason: `Forbidden: origin "${origin}" is not allowed; add it to MCP_ALLOWED_ORIGINS to let browsers on it call this server`,
  };
}
