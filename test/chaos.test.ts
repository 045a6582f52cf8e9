// Vault killed and restarted, stalled, sealed and unsealed under load, and the server's token revoked: the server (a
// separate process with a 2 s Vault timeout) stays up, answers every call truthfully, and recovers on its own.
// It uses a dev Vault of its own, never the run's shared one, because it kills, stops and seals it.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomUUID } from "node:crypto";
import { allTools } from "../src/tools/index.ts";
import {
  type AnswerClass,
  type CallRecord,
  callTool,
  type ChaosServer,
  classify,
  type Load,
  misleading,
  probeReady,
  secretsNow,
  startLoad,
  startServerProcess,
  tally,
  vaultCall,
  waitFor,
  within,
} from "./support/chaos.ts";
import { type DevVault, startDevVault } from "./support/vault.ts";

const CLIENT_TIMEOUT_MS = 2000;
const CLIENTS = 4;
// Upper bounds on behaviour, with slack for a shared 2-core machine; not benchmarks.
const CALL_BOUND_MS = 2 * CLIENT_TIMEOUT_MS + 1500;
const READY_BOUND_MS = 4000;
const RECOVERY_BOUND_MS = 20_000;

let vault: DevVault;
let server: ChaosServer;

beforeAll(async () => {
  // A root token of our own choosing also makes sure startDevVault starts our own server even when VAULT_ADDR is set.
  vault = await startDevVault({ rootToken: randomUUID() });
  server = await startServerProcess(vault, { VAULT_CLIENT_TIMEOUT: `${CLIENT_TIMEOUT_MS / 1000}s` });
}, 60_000);

afterAll(async () => {
  // Whatever a failed test left behind: a stopped Vault would outlive the run.
  if (vault?.pid) sigcont(vault.pid);
  await server?.stop();
  await vault?.stop();
});

function sigcont(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // Gone already.
  }
}

const paths = (prefix: string) => Array.from({ length: CLIENTS }, (_, i) => `${prefix}/client-${i}`);

/** Resolves once every client has had a write acknowledged that it sent at or after `from`. */
function everyClientWrote(load: Load, from: number): () => boolean {
  return () =>
    Array.from({ length: CLIENTS }, (_, c) => c).every((c) =>
      load.records.some((r) => r.client === c && r.tool === "write_secret" && r.start >= from && r.cls === "success"),
    );
}

/** The answer classes seen, for a readable failure. */
function classes(records: readonly CallRecord[]): Set<AnswerClass> {
  return new Set(records.map((r) => r.cls));
}

/** What every scenario demands of the whole run: no hang, no internal error, no answer Vault's state contradicts. */
async function expectTruthful(records: readonly CallRecord[], prefix: string, since = 0): Promise<void> {
  const bad = records.filter((r) => r.cls === "no-answer" || r.cls === "internal" || r.cls === "other");
  expect(bad.map((r) => `${r.tool} ${r.cls}: ${r.answer.text.slice(0, 300)}`)).toEqual([]);
  expect(misleading(records, await secretsNow(vault, paths(prefix)), since)).toEqual([]);
  expect(server.alive()).toBe(true);
  // Readiness is cached for 2 s, so the last "not ready" may still be served for a moment after Vault is back.
  let last: Awaited<ReturnType<typeof probeReady>> | undefined;
  await waitFor("/readyz 200", async () => (last = await probeReady(server.base)).status === 200, 10_000, 250).catch((err) => {
    throw new Error(`${err.message}; last answer ${last?.status} ${JSON.stringify(last?.body)}`);
  });
}

describe("under load, with the server as its own process", () => {
  it("Vault killed and restarted: no success while it is down, then calls succeed again without a restart of ours", async () => {
    const prefix = `restart-${randomUUID().slice(0, 8)}`;
    const load = startLoad(server.base, { clients: CLIENTS, prefix, maxCalls: 4000 });
    let killedAt = 0;
    let restartAt = 0;
    let upAt = 0;
    let downProbe: Awaited<ReturnType<typeof probeReady>> | undefined;
    try {
      await waitFor("every client's first write", everyClientWrote(load, 0), 10_000);
      const pid = vault.pid!;
      process.kill(pid, "SIGKILL");
      killedAt = Date.now();
      // Past the readiness cache (2 s), so the probe asks the dead Vault.
      await Bun.sleep(2500);
      downProbe = await probeReady(server.base);
      await Bun.sleep(1500);
      restartAt = Date.now();
      // Dev mode comes back empty, with the same address, root token and a fresh kv-v2 mount at secret/.
      await vault.restart();
      upAt = Date.now();
      await waitFor("a write acknowledged by every client after the restart", everyClientWrote(load, upAt), RECOVERY_BOUND_MS);
      await Bun.sleep(1000);
    } finally {
      await load.stop();
    }
    const down = within(load.records, killedAt + 100, restartAt);
    expect(down.length).toBeGreaterThan(0);
    // Nothing can succeed against a dead Vault: each call says it could not reach Vault, or that its answer was lost.
    expect(down.filter((r) => r.cls === "success").map((r) => r.answer.text)).toEqual([]);
    expect([...classes(down)].filter((c) => c !== "unchanged" && c !== "uncertain")).toEqual([]);
    expect(down.filter((r) => !/could not be reached|broke/.test(r.answer.text)).map((r) => r.answer.text)).toEqual([]);
    expect(downProbe?.status).toBe(503);
    expect(downProbe?.body.reason).toContain("could not be reached");
    expect(downProbe!.ms).toBeLessThan(READY_BOUND_MS);
    // Data from before the restart is gone with the dev Vault; what was acknowledged after it must be there.
    await expectTruthful(load.records, prefix, restartAt);
    console.log(`restart: ${load.records.length} calls, ${down.length} while down, recovered ${Date.now() - upAt} ms after restart`, tally(load.records));
  }, 60_000);

  // SIGSTOP for 40 s, plus load before and after: the test's own timeout (120 s) must stay well above that.
  it("Vault stalled (SIGSTOP 40 s): each call answers within about the client timeout, saying it may or may not have applied; /readyz answers 503 in ~2 s; then it recovers", async () => {
    const prefix = `stall-${randomUUID().slice(0, 8)}`;
    const load = startLoad(server.base, { clients: CLIENTS, prefix, maxCalls: 4000 });
    const probes: Awaited<ReturnType<typeof probeReady>>[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        probes.push(await probeReady(server.base));
        await Bun.sleep(500);
      }
    })();
    let stoppedAt = 0;
    let contAt = 0;
    let healthzMs = Infinity;
    const pid = vault.pid!;
    try {
      await waitFor("every client's first write", everyClientWrote(load, 0), 10_000);
      process.kill(pid, "SIGSTOP");
      stoppedAt = Date.now();
      try {
        await Bun.sleep(20_000);
        // Liveness never asks Vault, so it answers at once even now.
        const started = performance.now();
        const live = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(5000), proxy: false } as RequestInit);
        healthzMs = performance.now() - started;
        expect(live.status).toBe(200);
        await Bun.sleep(20_000);
      } finally {
        sigcont(pid);
        contAt = Date.now();
      }
      await waitFor("a write acknowledged by every client after SIGCONT", everyClientWrote(load, contAt), RECOVERY_BOUND_MS);
      await waitFor("/readyz 200 after SIGCONT", () => probes.some((p) => p.at >= contAt && p.status === 200), RECOVERY_BOUND_MS);
    } finally {
      probing = false;
      await prober;
      await load.stop();
    }
    const stalled = within(load.records, stoppedAt + 100, contAt);
    expect(stalled.length).toBeGreaterThan(CLIENTS);
    expect(stalled.filter((r) => r.cls === "success").map((r) => r.answer.text)).toEqual([]);
    // A write may have reached Vault (it did: Vault applies it on SIGCONT); a read says it changed nothing. A write whose
    // first request was a read (a mount lookup, when the cache has expired) may say so too: expectTruthful checks it.
    for (const r of stalled) {
      expect(r.answer.text).toContain("did not answer");
      const allowed = r.tool === "write_secret" ? ["uncertain", "unchanged"] : ["unchanged"];
      expect([allowed.includes(r.cls), r.cls, r.answer.text]).toEqual([true, r.cls, r.answer.text]);
    }
    expect(stalled.some((r) => r.tool === "write_secret" && r.cls === "uncertain")).toBe(true);
    const slowest = Math.max(...stalled.map((r) => r.answer.ms));
    expect(slowest).toBeLessThan(CALL_BOUND_MS);
    // A probe that began a cache period (2 s) after the stop cannot be served from a check made before it.
    const late = probes.filter((p) => p.at >= stoppedAt + 3000 && p.at + p.ms <= contAt);
    expect(late.length).toBeGreaterThan(5);
    for (const p of late) {
      expect(p.status).toBe(503);
      expect(p.body).toMatchObject({ ready: false, reason: "Vault did not answer in 2 s" });
    }
    const slowestProbe = Math.max(...late.map((p) => p.ms));
    expect(slowestProbe).toBeLessThan(READY_BOUND_MS);
    expect(healthzMs).toBeLessThan(1000);
    await expectTruthful(load.records, prefix);
    console.log(
      `stall: ${load.records.length} calls, ${stalled.length} during the stall (slowest ${Math.round(slowest)} ms); ` +
        `${late.length} probes, slowest ${Math.round(slowestProbe)} ms`,
      tally(load.records),
    );
  }, 120_000);

  it("Vault sealed and unsealed: every call says it is sealed and nothing changed, /readyz 503, then calls succeed again", async () => {
    const prefix = `seal-${randomUUID().slice(0, 8)}`;
    await waitFor("the dev server's unseal key in its output", () => vault.unsealKey !== undefined, 5000);
    const unsealKey = vault.unsealKey!;
    const load = startLoad(server.base, { clients: CLIENTS, prefix, maxCalls: 4000 });
    const probes: Awaited<ReturnType<typeof probeReady>>[] = [];
    let sealedAt = 0;
    let unsealAt = 0;
    try {
      await waitFor("every client's first write", everyClientWrote(load, 0), 10_000);
      const sealed = await vaultCall(vault, "PUT", "sys/seal");
      expect(sealed.status).toBe(204);
      sealedAt = Date.now();
      try {
        // Past the readiness cache (2 s), then a few probes while sealed.
        await Bun.sleep(2500);
        for (let i = 0; i < 5; i++) {
          probes.push(await probeReady(server.base));
          await Bun.sleep(500);
        }
      } finally {
        unsealAt = Date.now();
        const unsealed = await vaultCall(vault, "PUT", "sys/unseal", { key: unsealKey });
        expect(unsealed.json?.sealed).toBe(false);
      }
      await waitFor("a write acknowledged by every client after unsealing", everyClientWrote(load, unsealAt), RECOVERY_BOUND_MS);
    } finally {
      await load.stop();
    }
    const sealedCalls = within(load.records, sealedAt + 100, unsealAt);
    expect(sealedCalls.length).toBeGreaterThan(CLIENTS);
    for (const r of sealedCalls) {
      expect([r.cls, r.answer.text]).toEqual(["sealed", r.answer.text]);
      expect(r.answer.text).toContain("nothing was changed");
    }
    for (const p of probes) {
      expect(p.status).toBe(503);
      expect(p.body).toMatchObject({ ready: false, sealed: true, reason: "Vault is sealed" });
    }
    // A sealed dev Vault keeps its data: every write acknowledged in the whole run must be there.
    await expectTruthful(load.records, prefix);
    console.log(`seal: ${load.records.length} calls, ${sealedCalls.length} while sealed`, tally(load.records));
  }, 60_000);
});

/** Arguments that pass validation for each tool, so that its first Vault request is what answers. */
const VALID_ARGS: Record<string, Record<string, unknown>> = {
  create_mount: { path: "chaos-new", type: "kv-v2" },
  list_mounts: {},
  delete_mount: { path: "chaos-gone" },
  read_secret: { path: "chaos/token" },
  write_secret: { path: "chaos/token", key: "a", value: "b" },
  generate_secret: { path: "chaos/token", key: "generated" },
  list_secrets: {},
  delete_secret: { path: "chaos/token" },
  read_secret_metadata: { path: "chaos/token" },
  write_secret_metadata: { path: "chaos/token", max_versions: 5 },
  patch_secret: { path: "chaos/token", data: { a: null } },
  delete_secret_versions: { path: "chaos/token", versions: [1] },
  undelete_secret_versions: { path: "chaos/token", versions: [1] },
  destroy_secret_versions: { path: "chaos/token", versions: [1] },
  delete_secret_metadata: { path: "chaos/token" },
  rollback_secret: { path: "chaos/token", version: 1 },
  enable_pki: { path: "chaos-pki" },
  create_pki_issuer: { mount: "pki", type: "root", common_name: "Chaos Root" },
  list_pki_issuers: { mount: "pki" },
  read_pki_issuer: { mount: "pki" },
  create_pki_role: { mount: "pki", role_name: "web", allowed_domains: ["example.com"], allow_subdomains: true },
  list_pki_roles: { mount: "pki" },
  read_pki_role: { mount: "pki", role_name: "web" },
  delete_pki_role: { mount: "pki", role_name: "web" },
  issue_pki_certificate: { mount: "pki", role_name: "web", common_name: "a.example.com" },
  enable_transit: { path: "chaos-transit" },
  create_transit_key: { name: "chaos" },
  list_transit_keys: {},
  read_transit_key: { name: "chaos" },
  rotate_transit_key: { name: "chaos" },
  update_transit_key_config: { name: "chaos", deletion_allowed: true },
  delete_transit_key: { name: "chaos" },
  encrypt_data: { name: "chaos", plaintext: "hello" },
  decrypt_data: { name: "chaos", ciphertext: "vault:v1:AAAA" },
  rewrap_data: { name: "chaos", ciphertext: "vault:v1:AAAA" },
  generate_hmac: { name: "chaos", input: "hello" },
  verify_hmac: { name: "chaos", input: "hello", hmac: "vault:v1:AAAA" },
  sign_data: { name: "chaos", input: "hello" },
  verify_signature: { name: "chaos", input: "hello", signature: "vault:v1:AAAA" },
  hash_data: { input: "hello" },
  generate_random_bytes: {},
  // A real CSR (its key was thrown away): the tool reads it before its first Vault request.
  sign_pki_csr: { mount: "pki", role_name: "web", csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIHWMH4CAQAwHDEaMBgGA1UEAwwRY2hhb3MuZXhhbXBsZS5jb20wWTATBgcqhkjO\nPQIBBggqhkjOPQMBBwNCAAS9PbYFaI876uUsHY5kzBZho7QRyX+WaWGQIq82lgwe\n2jA8ElfdLtttEUyeFezU7JUF/gyrrpLOlKd7Vj7ZyHN6oAAwCgYIKoZIzj0EAwID\nSAAwRQIgGs8H2JSgsYH0941axic38LnGp1XYDn7HbbcmHc0re3ACIQD1vCKNbiDV\nTyWR3P9+CuEnbZLhfFyxFdhsOk2QTnA5pA==\n-----END CERTIFICATE REQUEST-----" },
  list_pki_certificates: { mount: "pki" },
  read_pki_certificate: { mount: "pki", serial: "17:67:16:b0" },
  revoke_pki_certificate: { mount: "pki", serial: "17:67:16:b0" },
  tidy_pki: { mount: "pki" },
  delete_pki_issuer: { mount: "pki", issuer: "chaos-issuer" },
  set_default_pki_issuer: { mount: "pki", issuer: "chaos-issuer" },
  list_policies: {},
  read_policy: { name: "default" },
  write_policy: { name: "chaos", policy: 'path "secret/data/chaos/*" { capabilities = ["read"] }' },
  delete_policy: { name: "chaos" },
  check_capabilities: { paths: ["secret/data/chaos/token"] },
  lookup_self: {},
  read_entity_self: {},
  list_auth_methods: {},
  read_auth_method: { path: "token" },
  read_cluster_health: {},
  read_mount: { path: "secret" },
  tune_mount: { path: "secret", description: "chaos" },
  list_audit_devices: {},
  list_leases: { prefix: "auth/token/create" },
  read_lease: { lease_id: "auth/token/create/h0000" },
  revoke_lease: { lease_id: "auth/token/create/h0000" },
};

/** Tools that send no token (sys/health and sys/leader answer anyone), so they answer whatever Vault thinks of it. */
const TOKENLESS = new Set(["read_cluster_health"]);

describe("a token that Vault no longer accepts", () => {
  const tokens: Record<string, () => Promise<string>> = {
    revoked: async () => {
      const made = await vaultCall(vault, "POST", "auth/token/create", { policies: ["root"], ttl: "1h" });
      expect(made.status).toBe(200);
      return made.json.auth.client_token as string;
    },
    "never valid": async () => `hvs.${randomUUID().replace(/-/g, "")}`,
  };

  for (const [kind, make] of Object.entries(tokens)) {
    it(`${kind}: every tool says the token itself is bad and names the fix, not a missing policy`, async () => {
      const token = await make();
      const own = await startServerProcess({ ...vault, token }, { VAULT_CLIENT_TIMEOUT: `${CLIENT_TIMEOUT_MS / 1000}s` });
      try {
        if (kind === "revoked") {
          const before = await callTool(own.base, "list_mounts", {});
          expect([before.isError, before.text.slice(0, 80)]).toEqual([false, before.text.slice(0, 80)]);
          const revoked = await vaultCall(vault, "POST", "auth/token/revoke", { token });
          expect(revoked.status).toBe(204);
        }
        const missing = allTools.map((t) => t.name).filter((name) => !(name in VALID_ARGS));
        expect(missing).toEqual([]);
        for (const tool of allTools) {
          const answer = await callTool(own.base, tool.name, VALID_ARGS[tool.name]!);
          const said = `${tool.name}: ${answer.text}`;
          if (TOKENLESS.has(tool.name)) {
            expect([classify(answer), said]).toEqual(["success", said]);
            continue;
          }
          expect([classify(answer), said]).toEqual(["bad-token", said]);
          expect(said).not.toMatch(/Permission denied|capability/);
          expect(said).toMatch(/VAULT_TOKEN/);
          expect(said).not.toContain(token);
        }
        const ready = await probeReady(own.base);
        expect(ready.status).toBe(503);
        expect(ready.body.reason).toBe("the Vault token is invalid, expired or revoked");
        expect(own.alive()).toBe(true);
      } finally {
        await own.stop();
      }
    }, 60_000);
  }
});

describe("a token revoked moments after a policy denial", () => {
  // A 403 within TokenKeeper's verifyIntervalMs (5 s) of a lookup-self that found the token valid is checked when the
  // interval ends rather than at once (denied calls must not hammer Vault), so the answer turns to "bad token" by then.
  it("says within the verify interval that the token itself is bad", async () => {
    const made = await vaultCall(vault, "POST", "auth/token/create", { policies: ["default"], ttl: "1h" });
    const token = made.json.auth.client_token as string;
    const own = await startServerProcess({ ...vault, token }, { VAULT_CLIENT_TIMEOUT: `${CLIENT_TIMEOUT_MS / 1000}s` });
    try {
      // The default policy may not read sys/mounts: a true denial, after which lookup-self finds the token valid.
      const denied = await callTool(own.base, "list_mounts", {});
      expect(denied.text).toContain("Permission denied");
      // Until it is checked, a denial says that a revoked token looks the same.
      expect(denied.text).toContain("revoked or expired");
      await Bun.sleep(200);
      expect((await vaultCall(vault, "POST", "auth/token/revoke-self", undefined, token)).status).toBe(204);
      let after = await callTool(own.base, "list_mounts", {});
      expect(after.isError).toBe(true);
      const deadline = Date.now() + 8000;
      while (classify(after) !== "bad-token" && Date.now() < deadline) {
        await Bun.sleep(250);
        after = await callTool(own.base, "list_mounts", {});
      }
      expect([classify(after), after.text]).toEqual(["bad-token", after.text]);
    } finally {
      await own.stop();
    }
  }, 30_000);
});
