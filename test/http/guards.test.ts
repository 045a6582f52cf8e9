// The request guards as a catalogue: which hosts, origins and peers count as loopback, and which are refused.
import { describe, expect, it } from "bun:test";
import { checkRequest, hostnameOf, isLoopbackHostname, isLoopbackPeer } from "../../src/http/guards.ts";
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
