// MCP_HEAP_TARGET_MB: the JS heap is collected at once when it passes the target, never below it, and 0 turns that off.
import { describe, expect, it } from "bun:test";
import { ConfigError, DEFAULT_HEAP_TARGET_MB, loadConfig } from "../src/config.ts";
import { startHeapGovernor } from "../src/heap.ts";

const env = { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t" };

describe("the heap governor", () => {
  it("collects when the heap is above the target and not when it is at or below it", async () => {
    let size = 10;
    let collected = 0;
    // Each collection leaves little behind.
    const g = startHeapGovernor({ targetBytes: 10, intervalMs: 60_000, heapSize: () => size, collect: () => void (collected++, (size = 1)) });
    try {
      g.check();
      expect(collected).toBe(0);
      size = 11;
      g.check();
      expect(collected).toBe(1);
      g.check();
      expect(collected).toBe(1);
      size = 11;
      g.check();
      expect(collected).toBe(2);
      expect(g.collections).toBe(2);
    } finally {
      g.stop();
    }
  });

  it("waits for the heap to grow a quarter past what survived when the live heap itself is above the target, rather than collecting on every look", async () => {
    let size = 30;
    let collected = 0;
    // What survives each collection stays at 25, above the target of 10.
    const g = startHeapGovernor({ targetBytes: 10, intervalMs: 60_000, heapSize: () => size, collect: () => void (collected++, (size = 25)) });
    try {
      g.check();
      expect(collected).toBe(1);
      expect(g.thresholdBytes).toBe(31.25);
      size = 31;
      g.check();
      expect(collected).toBe(1);
      size = 32;
      g.check();
      expect(collected).toBe(2);
      // Once little survives again, the target is the bound again.
      const small = startHeapGovernor({ targetBytes: 10, intervalMs: 60_000, heapSize: () => size, collect: () => void (size = 2) });
      size = 11;
      small.check();
      expect(small.thresholdBytes).toBe(10);
      small.stop();
    } finally {
      g.stop();
    }
  });

  it("looks on its own timer, and with the real engine a collection brings the heap back down", async () => {
    const g = startHeapGovernor({ targetBytes: 1, intervalMs: 5 });
    try {
      // Garbage the engine would otherwise keep until its own next cycle, made and dropped in a function of its own so no
      // stale reference on this frame's stack keeps it alive; a WeakRef tells when it has been collected.
      const garbage = weakGarbage();
      const deadline = Date.now() + 5000;
      while ((g.collections === 0 || garbage.deref() !== undefined) && Date.now() < deadline) await Bun.sleep(5);
      expect(g.collections).toBeGreaterThan(0);
      expect(garbage.deref()).toBeUndefined();
    } finally {
      g.stop();
    }
  });
});

/** A weak reference to megabytes of objects that are garbage once this returns. */
function weakGarbage(): WeakRef<object[]> {
  const held = Array.from({ length: 50_000 }, (_, i) => ({ i, text: `garbage ${i}`.repeat(4) }));
  return new WeakRef(held);
}

describe("MCP_HEAP_TARGET_MB", () => {
  it(`defaults to ${DEFAULT_HEAP_TARGET_MB} MiB, takes 0 (off) and a number of MiB, and the --heap-target-mb flag`, () => {
    expect(loadConfig([], env).heapTargetMb).toBe(DEFAULT_HEAP_TARGET_MB);
    expect(loadConfig([], { ...env, MCP_HEAP_TARGET_MB: "0" }).heapTargetMb).toBe(0);
    expect(loadConfig([], { ...env, MCP_HEAP_TARGET_MB: "64" }).heapTargetMb).toBe(64);
    expect(loadConfig(["--heap-target-mb", "8"], env).heapTargetMb).toBe(8);
  });

  it("refuses what is not a whole number of MiB, naming the variable", () => {
    for (const bad of ["-1", "lots", "1.5", "70000"]) {
      expect(() => loadConfig([], { ...env, MCP_HEAP_TARGET_MB: bad })).toThrow(ConfigError);
      expect(() => loadConfig([], { ...env, MCP_HEAP_TARGET_MB: bad })).toThrow(/MCP_HEAP_TARGET_MB/);
    }
  });
});
