// The Vault client under faults, through the fault proxy in front of the real dev Vault: what counts as an answer,
// what is resent, and what each failure lets a tool say about Vault's state.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { describeVaultError } from "../../src/tools/errors.ts";
import { Journal, StaticToken, VaultClient } from "../../src/vault/client.ts";
import { VaultError } from "../../src/vault/errors.ts";
import { createReadinessCheck } from "../../src/vault/health.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import { unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

let proxy: FaultProxy;
let vault: VaultClient;
const MOUNT = unique("client-kv");

async function failure(p: Promise<unknown>): Promise<VaultError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof VaultError) return err;
    throw err;
  }
  throw new Error("expected the request to fail");
}

beforeAll(async () => {
  proxy = await startFaultProxy(testVault().addr);
  vault = new VaultClient({ addr: proxy.addr, tokens: new StaticToken(testVault().token), timeoutMs: 1000 });
  expect((await vaultApi("POST", `sys/mounts/${MOUNT}`, { type: "kv", options: { version: "2" } })).status).toBe(204);
});

afterAll(async () => {
  await proxy?.close();
});

describe("VaultClient answers", () => {
  it("takes a 2xx whose body is cut short as unreadable, never as an empty success", async () => {
    proxy.inject({ method: "POST", path: /data\/cut$/, mode: "truncate-body" });
    const err = await failure(vault.write(`${MOUNT}/data/cut`, { data: { a: "1" } }));
    proxy.clear();
    expect(err.failure).toBe("unreadable");
    expect(describeVaultError(err)).toContain("may or may not have been applied");
    // It was applied: the wording above is the truth, and "stored" would have been a lie.
    expect((await vaultApi("GET", `${MOUNT}/data/cut`)).json.data.data).toEqual({ a: "1" });
  });

  it("takes a 2xx whose body is not JSON as unreadable", async () => {
    proxy.inject({ method: "POST", path: /data\/garbage$/, mode: "garbage-body" });
    const err = await failure(vault.write(`${MOUNT}/data/garbage`, { data: { a: "1" } }));
    proxy.clear();
    expect(err.failure).toBe("unreadable");
    expect(err.message).toContain("not JSON");
  });

  it("takes a gateway's HTML 502 as unreadable, not as Vault's refusal", async () => {
    proxy.inject({ method: "POST", path: /data\/html$/, mode: "html-502" });
    const err = await failure(vault.write(`${MOUNT}/data/html`, { data: { a: "1" } }));
    proxy.clear();
    expect(err.failure).toBe("unreadable");
    expect(err.message).toContain("HTML page");
    expect(describeVaultError(err)).toContain("may or may not have been applied");
  });

  it("says a write whose connection broke after sending may or may not have been applied, and does not resend it", async () => {
    proxy.inject({ method: "POST", path: /data\/lost$/, mode: "drop-after" });
    const err = await failure(vault.write(`${MOUNT}/data/lost`, { data: { a: "1" } }));
    const sent = proxy.seen.filter((s) => s.path.endsWith("data/lost")).length;
    proxy.clear();
    expect(err.failure).toBe("lost");
    expect(sent).toBe(1);
    expect(describeVaultError(err)).toContain("may or may not have been applied");
    expect(describeVaultError(err)).not.toContain("nothing was changed");
  });

  it("resends a read once on a fresh connection when the pooled one was reset", async () => {
    await vaultApi("POST", `${MOUNT}/data/reread`, { data: { a: "1" } });
    proxy.inject({ method: "GET", path: /data\/reread$/, mode: "reset-before" });
    const res = await vault.read<{ data: Record<string, string> }>(`${MOUNT}/data/reread`);
    const sent = proxy.seen.filter((s) => s.path.endsWith("data/reread")).length;
    proxy.clear();
    expect(res?.data?.data).toEqual({ a: "1" });
    expect(sent).toBe(2);
  });

  it("resends an idempotent write once after a lost answer, and reports its real outcome", async () => {
    proxy.inject({ method: "PATCH", path: /data\/patched$/, mode: "reset-before" });
    await vaultApi("POST", `${MOUNT}/data/patched`, { data: { a: "1" } });
    const res = await vault.patch<{ version: number }>(`${MOUNT}/data/patched`, { data: { b: "2" } }, { idempotent: true });
    proxy.clear();
    expect(res.data?.version).toBe(2);
    expect((await vaultApi("GET", `${MOUNT}/data/patched`)).json.data.data).toEqual({ a: "1", b: "2" });
  });

  it("reports the first loss, not a check-and-set mismatch, when its own first copy beat a resent check-and-set write", async () => {
    proxy.inject({ method: "POST", path: /data\/casdup$/, mode: "drop-after" });
    const err = await failure(vault.write(`${MOUNT}/data/casdup`, { data: { a: "1" }, options: { cas: 0 } }, { idempotent: true }));
    proxy.clear();
    expect(err.failure).toBe("lost");
    expect(err.isCasMismatch).toBe(false);
  });

  it("says nothing was changed only when the request was never sent", async () => {
    const closed = new VaultClient({ addr: "http://127.0.0.1:9", tokens: new StaticToken("t"), timeoutMs: 1000 });
    const err = await failure(closed.write("secret/data/x", { data: {} }));
    expect(err.failure).toBe("unreachable");
    expect(describeVaultError(err)).toContain("nothing was changed");
  });

  it("says a read it could not complete changed nothing", async () => {
    proxy.inject({ method: "GET", path: /data\/readcut$/, mode: "truncate-body", times: 2 });
    const err = await failure(vault.read(`${MOUNT}/data/readcut`));
    proxy.clear();
    expect(err.isUncertain).toBe(true);
    expect(describeVaultError(err)).toContain("It was a read, so it changed nothing");
  });

  it("reports a stalled answer as a timeout after its own limit", async () => {
    proxy.inject({ method: "POST", path: /data\/stall$/, mode: "stall" });
    const err = await failure(vault.write(`${MOUNT}/data/stall`, { data: { a: "1" } }));
    proxy.clear();
    expect(err.failure).toBe("timeout");
    expect(describeVaultError(err)).toContain("may or may not have been applied");
  });
});

describe("a tool call's journal", () => {
  it("records each request that could change Vault with what is known of its outcome", async () => {
    const journal = new Journal();
    const recording = vault.recording(journal);
    await recording.read(`sys/mounts`);
    await recording.write(`${MOUNT}/data/j1`, { data: { a: "1" } });
    proxy.inject({ method: "POST", path: /data\/j2$/, mode: "drop-after" });
    await failure(recording.write(`${MOUNT}/data/j2`, { data: { a: "1" } }));
    proxy.clear();
    await failure(recording.write(`${MOUNT}/data/j3`, { data: { a: "1" }, options: { cas: 5 } }));
    expect(journal.entries).toEqual([
      { method: "POST", path: `${MOUNT}/data/j1`, outcome: "applied" },
      { method: "POST", path: `${MOUNT}/data/j2`, outcome: "uncertain" },
      { method: "POST", path: `${MOUNT}/data/j3`, outcome: "refused" },
    ]);
    // The client it came from keeps no journal.
    await vault.write(`${MOUNT}/data/j4`, { data: { a: "1" } });
    expect(journal.entries).toHaveLength(3);
  });
});

describe("readiness", () => {
  it("answers within about two seconds while Vault stalls", async () => {
    proxy.inject({ method: "GET", path: /^sys\/health$/, mode: "stall" });
    const slow = new VaultClient({ addr: proxy.addr, tokens: new StaticToken(testVault().token), timeoutMs: 30_000 });
    const started = performance.now();
    const r = await createReadinessCheck(slow)();
    const took = performance.now() - started;
    proxy.clear();
    expect(r.ready).toBe(false);
    expect(r.reason).toBe("Vault did not answer in 2 s");
    // A behaviour bound with slack for a loaded machine, not a benchmark: the client's own 30 s limit must not apply.
    expect(took).toBeLessThan(5000);
  });
});
