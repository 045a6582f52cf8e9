// MCP_HEAP_TARGET_MB: a bound on the JS heap between collections. JavaScriptCore sizes its collection cycles by the
// machine's RAM, so on a large node the heap of a busy server grows to tens of MB of garbage (and the buffers it owns)
// before it collects. Every `intervalMs` this looks at the heap; above the target it collects at once, synchronously.
// A lower target means less memory and more CPU spent collecting: bench/README.md has the figures.

export interface HeapGovernorOptions {
  targetBytes: number;
  intervalMs?: number;
  /** The heap's current size in bytes (bun:jsc heapSize), and a full synchronous collection: injectable for tests. */
  heapSize?: () => number;
  collect?: () => void;
}

export interface HeapGovernor {
  /** Collections it has started. */
  readonly collections: number;
  /** One look now (what the timer does). */
  check(): void;
  stop(): void;
}

export async function startHeapGovernor(options: HeapGovernorOptions): Promise<HeapGovernor> {
  const jsc = options.heapSize ? undefined : await import("bun:jsc");
  const heapSize = options.heapSize ?? jsc!.heapSize;
  const collect = options.collect ?? (() => Bun.gc(true));
  let collections = 0;
  const governor: HeapGovernor = {
    get collections() {
      return collections;
    },
    check() {
      if (heapSize() <= options.targetBytes) return;
      collections++;
      collect();
    },
    stop: () => clearInterval(timer),
  };
  // unref: the governor never keeps the process alive on its own.
  const timer = setInterval(governor.check, options.intervalMs ?? 100);
  timer.unref();
  return governor;
}
