// Doctor checks on the network: Vault's address takes TCP, its TLS certificate holds up, and the MCP port is ours to use.
import { X509Certificate } from "node:crypto";
import { lookup } from "node:dns/promises";
import { connect as tcpConnect, createServer, isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate, connect as tlsConnect } from "node:tls";
import type { Config } from "../config.ts";
import { isLoopbackHostname } from "../http/guards.ts";
import { explainTlsFailure } from "../vault/auth-tls.ts";
import type { VaultTls } from "../vault/client.ts";
import type { CheckResult } from "./report.ts";

/** The longest any one network check waits: long enough for a slow link, short enough for a probe run by hand. */
const NET_TIMEOUT_MS = 5000;
const DAY_MS = 86_400_000;
/** A certificate this close to its end gets a warning. */
const CERT_WARN_DAYS = 30;

interface Target {
  url: URL;
  /** Without IPv6 brackets. */
  host: string;
  port: number;
  /** "host:port" as a person writes it. */
  where: string;
}

export function target(addr: string): Target {
  const url = new URL(addr);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return { url, host, port, where: `${url.hostname}:${port}` };
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return String(e?.code ?? e?.message ?? err);
}

/** VAULT_ADDR's host resolves, and something accepts a TCP connection at its port. */
export async function checkAddress(addr: string, timeoutMs = NET_TIMEOUT_MS): Promise<CheckResult> {
  const name = "vault address";
  const t = target(addr);
  let ip = t.host;
  if (isIP(t.host) === 0) {
    try {
      ip = (await lookup(t.host)).address;
    } catch (err) {
      return {
        name,
        status: "fail",
        summary: `${t.host} (from VAULT_ADDR ${addr}) does not resolve (${codeOf(err)})`,
        fix: "check the host name in VAULT_ADDR and this host's DNS; in Kubernetes, the Service name and namespace, and that the NetworkPolicy lets the pod reach kube-dns",
      };
    }
  }
  const resolved = ip !== t.host ? ` (${ip})` : "";
  const error = await new Promise<unknown>((resolve) => {
    const socket = tcpConnect({ host: ip, port: t.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("timeout");
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      resolve(undefined);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
  if (error === undefined) return { name, status: "ok", summary: `${t.where}${resolved} accepts TCP`, data: { addr, ip, port: t.port } };
  if (error === "timeout") {
    return {
      name,
      status: "fail",
      summary: `${t.where}${resolved} (VAULT_ADDR ${addr}) did not answer a TCP connection within ${timeoutMs / 1000} s`,
      fix: "check that Vault runs there and that no firewall or NetworkPolicy drops traffic to that port",
    };
  }
  const code = codeOf(error);
  const refused = /ECONNREFUSED|ConnectionRefused/i.test(code);
  return {
    name,
    status: "fail",
    summary: refused
      ? `nothing accepts connections at ${t.where}${resolved} (VAULT_ADDR ${addr}): connection refused`
      : `cannot connect to ${t.where}${resolved} (VAULT_ADDR ${addr}): ${code}`,
    fix: refused ? "start Vault, or set VAULT_ADDR to the address it listens on" : "check VAULT_ADDR and the network between this host and Vault",
  };
}

function subjectOf(cert: PeerCertificate): string {
  const cn = cert.subject?.CN;
  return cn ? `CN=${Array.isArray(cn) ? cn.join(",") : cn}` : "no CN";
}

function issuerOf(cert: PeerCertificate): string {
  const cn = cert.issuer?.CN;
  return cn ? `CN=${Array.isArray(cn) ? cn.join(",") : cn}` : "an unnamed issuer";
}

interface Handshake {
  cert: PeerCertificate;
  authorizationError?: string;
  protocol: string | null;
}

function handshake(t: Target, tls: VaultTls, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    // Verification is judged below, one problem at a time, rather than ending the handshake at the first.
    const socket = tlsConnect({
      host: t.host,
      port: t.port,
      ...(tls.serverName || isIP(t.host) === 0 ? { servername: tls.serverName ?? t.host } : {}),
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no TLS handshake within ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      const authorizationError = socket.authorizationError ? String((socket.authorizationError as { code?: string }).code ?? socket.authorizationError) : undefined;
      const protocol = socket.getProtocol();
      socket.end();
      resolve({ cert, authorizationError, protocol });
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const NOT_TRUSTED = /UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SELF_SIGNED|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_CHAIN_TOO_LONG|INVALID_CA/;

/** The TLS handshake with Vault, and its certificate: signed by a trusted CA, naming the host, within its validity. */
export async function checkTls(addr: string, tls: VaultTls, now = Date.now(), timeoutMs = NET_TIMEOUT_MS): Promise<CheckResult> {
  const name = "vault tls";
  const t = target(addr);
  if (t.url.protocol === "http:") {
    if (isLoopbackHostname(t.host)) return { name, status: "ok", summary: `not used: VAULT_ADDR is plain http on this host (${t.where})` };
    return {
      name,
      status: "warn",
      summary: `not used: VAULT_ADDR is plain http to ${t.where}, so the token crosses the network unencrypted`,
      fix: "serve Vault over https and set VAULT_ADDR to https://..., with VAULT_CACERT naming its CA",
    };
  }
  let hs: Handshake;
  try {
    hs = await handshake(t, tls, timeoutMs);
  } catch (err) {
    const words = explainTlsFailure(err) ?? `the TLS handshake with ${t.where} failed (${codeOf(err)})`;
    const [summary, fix] = splitAdvice(words);
    return { name, status: "fail", summary, fix: fix ?? "check that VAULT_ADDR points at Vault's TLS listener" };
  }
  const { cert } = hs;
  const problems: { summary: string; fix: string }[] = [];
  const who = `Vault's certificate (${subjectOf(cert)}, issued by ${issuerOf(cert)})`;
  if (hs.authorizationError && NOT_TRUSTED.test(hs.authorizationError)) {
    problems.push({
      summary: `${who} is not signed by a CA this host trusts (${hs.authorizationError})`,
      fix: tls.ca
        ? `VAULT_CACERT does not hold the CA that signed it: point it at the PEM certificate of ${issuerOf(cert)}`
        : `set VAULT_CACERT to the PEM certificate of the CA that signed it (${issuerOf(cert)})`,
    });
  } else if (hs.authorizationError && !/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ALTNAME|HOSTNAME/.test(hs.authorizationError)) {
    // Expiry and the name are judged below, from the certificate itself, with words of their own.
    problems.push({ summary: `${who} was not accepted (${hs.authorizationError})`, fix: "check Vault's certificate chain and VAULT_CACERT" });
  }
  const expected = tls.serverName ?? t.host;
  const mismatch = checkServerIdentity(expected, cert);
  if (mismatch) {
    problems.push({
      summary: `${who} does not name ${expected} (it names ${cert.subjectaltname || subjectOf(cert)})`,
      fix: `use a name the certificate holds in VAULT_ADDR, or set VAULT_TLS_SERVER_NAME to one`,
    });
  }
  const x509 = cert.raw ? new X509Certificate(cert.raw) : undefined;
  const notAfter = x509?.validToDate ?? new Date(cert.valid_to);
  const notBefore = x509?.validFromDate ?? new Date(cert.valid_from);
  const days = Math.floor((notAfter.getTime() - now) / DAY_MS);
  const until = notAfter.toISOString().slice(0, 10);
  if (notAfter.getTime() <= now) problems.push({ summary: `${who} expired on ${until}`, fix: "renew Vault's certificate (and check this host's clock)" });
  else if (notBefore.getTime() > now) {
    problems.push({ summary: `${who} is not valid before ${notBefore.toISOString()}`, fix: "check this host's clock, or Vault's certificate" });
  }
  const data = { protocol: hs.protocol, subject: subjectOf(cert), issuer: issuerOf(cert), not_after: notAfter.toISOString(), days_left: days, names: cert.subjectaltname };
  if (problems.length > 0) {
    if (tls.skipVerify) {
      return {
        name,
        status: "warn",
        summary: `VAULT_SKIP_VERIFY is set, so the server connects anyway, but: ${problems.map((p) => p.summary).join("; ")}`,
        fix: `${problems.map((p) => p.fix).join("; ")}; then unset VAULT_SKIP_VERIFY`,
        data,
      };
    }
    return { name, status: "fail", summary: problems.map((p) => p.summary).join("; "), fix: problems.map((p) => p.fix).join("; "), data };
  }
  const summary = `${hs.protocol ?? "TLS"}, ${who} for ${expected}, valid until ${until} (${days} days)${tls.cert ? ", client certificate sent" : ""}`;
  if (tls.skipVerify) {
    return { name, status: "warn", summary: `${summary}, but VAULT_SKIP_VERIFY is set`, fix: "the certificate checks out: unset VAULT_SKIP_VERIFY so that it is verified", data };
  }
  if (days < CERT_WARN_DAYS) return { name, status: "warn", summary: `${summary}: expires soon`, fix: `renew Vault's certificate before ${until}`, data };
  return { name, status: "ok", summary, data };
}

/** "what went wrong (code); what to do" as explainTlsFailure words it, split in two. */
function splitAdvice(words: string): [string, string | undefined] {
  const at = words.indexOf("; ");
  return at === -1 ? [words, undefined] : [words.slice(0, at), words.slice(at + 2)];
}

/** Binds the listener's address for a moment: undefined when that works, else the error code. */
function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err) => resolve(codeOf(err)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Whatever holds the port answers GET /healthz as vault-mcp-server does ({"status":"ok"}). */
async function answersHealthz(http: Config["http"]): Promise<string> {
  const host = http.host === "0.0.0.0" ? "127.0.0.1" : http.host === "::" ? "[::1]" : isIP(http.host) === 6 ? `[${http.host}]` : http.host;
  const url = `${http.tls ? "https" : "http"}://${host}:${http.port}/healthz`;
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(2000),
      proxy: false,
      // Only asking who is there: our own listener's certificate need not be trusted by this host.
      ...(http.tls ? { tls: { rejectUnauthorized: false } } : {}),
    } as RequestInit);
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    return res.status === 200 && body?.status === "ok" ? "ours" : `GET /healthz answered ${res.status}`;
  } catch (err) {
    return `GET /healthz got no answer (${codeOf(err)})`;
  }
}

/** The MCP port is free, or held by a vault-mcp-server that answers /healthz (as when run in the server's own pod). */
export async function checkListener(http: Config["http"]): Promise<CheckResult> {
  const name = "mcp listener";
  const where = `${isIP(http.host) === 6 ? `[${http.host}]` : http.host}:${http.port}`;
  if (http.port === 0) return { name, status: "ok", summary: "MCP_PORT=0: the server takes a free port when it starts" };
  const code = await tryListen(http.host, http.port);
  if (code === undefined) return { name, status: "ok", summary: `${where} is free for the MCP listener` };
  if (code === "EADDRINUSE") {
    const who = await answersHealthz(http);
    if (who === "ours") return { name, status: "ok", summary: `${where} is held by a running vault-mcp-server (GET /healthz answers ok)` };
    return {
      name,
      status: "fail",
      summary: `${where} is taken by another program (${who}, not as vault-mcp-server answers)`,
      fix: "stop that program, or set MCP_PORT (--port) to a free port",
    };
  }
  if (code === "EADDRNOTAVAIL") {
    return {
      name,
      status: "fail",
      summary: `MCP_HOST ${http.host} is not an address of this host`,
      fix: "set MCP_HOST to one of this host's addresses: 127.0.0.1 (this host only) or 0.0.0.0 (every interface)",
    };
  }
  if (code === "EACCES") {
    return { name, status: "fail", summary: `binding ${where} needs privileges this user lacks`, fix: "set MCP_PORT to a port above 1023" };
  }
  return { name, status: "fail", summary: `cannot listen on ${where} (${code})`, fix: "check MCP_HOST and MCP_PORT" };
}
