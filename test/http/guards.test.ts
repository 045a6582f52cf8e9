// The request guards as a catalogue: which hosts, origins and peers count as loopback, and which are refused.
import { describe, expect, it } from "bun:test";
import { allowedHostsFrom, checkRequest, defaultAllowedHosts, hostnameOf, isLoopbackHostname, isLoopbackPeer, SERVICE_HOSTS } from "../../src/http/guards.ts";
import { publicReadiness } from "../../src/vault/health.ts";

describe("peers", () => {
  it("counts 127.0.0.0/8, ::1 and their IPv4-mapped forms as loopback", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "::FFFF:127.0.0.9"]) expect([a, isLoopbackPeer(a)]).toEqual([a, true]);
  });

  it("counts every other address, and an unknown one, as not loopback", () => {
    for (const a of ["10.0.0.5", "192.168.1.1", "::ffff:10.0.0.5", "fe80::1", "2001:db8::1", "128.0.0.1", ""]) expect([a, isLoopbackPeer(a)]).toEqual([a, false]);
  });

  it("treats an in-process call with no socket as this process itself", () => {
    expect(isLoopbackPeer(undefined)).toBe(true);
  });

  it("gives a peer that is not loopback only whether Vault is ready, never its address, version or what is wrong", () => {
    expect(publicReadiness({ ready: false, vault: "https://vault.internal:8200", reason: "Vault is sealed", sealed: true, version: "1.13.0" })).toEqual({ ready: false });
  });
});

describe("hosts and origins", () => {
  it("reads the host out of Host headers and URLs", () => {
    expect(hostnameOf("[::1]:8084")).toBe("::1");
    expect(hostnameOf("Localhost:80")).toBe("localhost");
    expect(hostnameOf("::1")).toBe("::1");
  });

  it("knows loopback names and refuses look-alikes", () => {
    for (const h of ["localhost", "LOCALHOST.", "a.localhost", "127.0.0.1", "::1"]) expect([h, isLoopbackHostname(h)]).toEqual([h, true]);
    for (const h of ["localhost.evil.com", "127.0.0.1.evil.com", "evil-localhost", "0.0.0.0"]) expect([h, isLoopbackHostname(h)]).toEqual([h, false]);
  });

  it("refuses a rebound host name while bound to loopback", () => {
    expect(checkRequest({ bindHost: "127.0.0.1", allowedOrigins: [] }, "attacker.example:8084", null).ok).toBe(false);
  });

  it("refuses a foreign origin unless it is allowed", () => {
    const policy = { bindHost: "127.0.0.1", allowedOrigins: ["https://console.example.com"] };
    expect(checkRequest(policy, "127.0.0.1:8084", "https://evil.example").ok).toBe(false);
    expect(checkRequest(policy, "127.0.0.1:8084", "https://console.example.com").ok).toBe(true);
    expect(checkRequest(policy, "127.0.0.1:8084", "http://localhost:3000").ok).toBe(true);
  });
});

describe("hosts off loopback (MCP_ALLOWED_HOSTS)", () => {
  const hosts = defaultAllowedHosts("0.0.0.0", "vault-mcp-server-7d9f-abcde", ["10.244.1.17", "fd00::17"]);
  const wide = { bindHost: "0.0.0.0", allowedOrigins: [], allowedHosts: hosts };

  it("answers by default the Service's names in namespace kagent, the pod's name and IPs, and loopback names", () => {
    for (const h of [...SERVICE_HOSTS, "vault-mcp-server.kagent.svc.cluster.local:8084", "VAULT-MCP-SERVER.KAGENT.SVC", "vault-mcp-server.kagent.svc.cluster.local.", "vault-mcp-server-7d9f-abcde", "10.244.1.17:8084", "[fd00::17]:8084", "localhost:8084", "127.0.0.1"]) {
      expect([h, checkRequest(wide, h, null).ok]).toEqual([h, true]);
    }
  });

  it("refuses a rebound or look-alike name", () => {
    for (const h of ["evil.example", "vault-mcp-server.evil.example", "vault-mcp-server.kagent.svc.cluster.local.evil.example", "evil-vault-mcp-server", "10.244.1.18", "[fd00::18]:8084"]) {
      const verdict = checkRequest(wide, h, null);
      expect([h, verdict.ok]).toEqual([h, false]);
      expect(verdict.ok ? "" : verdict.reason).toContain("MCP_ALLOWED_HOSTS");
    }
  });

  it("refuses the DNS-rebinding shape (Origin equal to a Host we do not answer to)", () => {
    expect(checkRequest(wide, "attacker.example:8084", "http://attacker.example:8084").ok).toBe(false);
    // A page served from a name we do answer to may call us.
    expect(checkRequest(wide, "vault-mcp-server.kagent.svc:8084", "http://vault-mcp-server.kagent.svc:8084").ok).toBe(true);
  });

  it("adds a specific bind address, and takes MCP_ALLOWED_HOSTS in place of the defaults, or * for any", () => {
    expect(defaultAllowedHosts("192.168.1.10", undefined, []).has("192.168.1.10")).toBe(true);
    expect(defaultAllowedHosts("0.0.0.0", undefined, []).has("0.0.0.0")).toBe(false);
    const given = allowedHostsFrom(["vault-mcp.example.com:443", "Other.Example"], () => hosts);
    expect(given).toEqual(new Set(["vault-mcp.example.com", "other.example"]));
    expect(checkRequest({ ...wide, allowedHosts: given }, "vault-mcp-server.kagent.svc", null).ok).toBe(false);
    expect(allowedHostsFrom(["*"], () => hosts)).toBe("*");
    expect(checkRequest({ ...wide, allowedHosts: "*" }, "anything.example", null).ok).toBe(true);
    expect(allowedHostsFrom(undefined, () => hosts)).toBe(hosts);
  });

  it("leaves the loopback-only check as it was while bound to loopback", () => {
    expect(checkRequest({ bindHost: "127.0.0.1", allowedOrigins: [], allowedHosts: hosts }, "vault-mcp-server.kagent.svc", null).ok).toBe(false);
  });
});
