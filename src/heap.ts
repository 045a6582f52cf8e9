// MCP_HEAP_TARGET_MB: a bound on the JS heap between collections. JavaScriptCore sizes its collection cycles by the
// machine's RAM, so on a large node the heap of a busy server grows to tens of MB of garbage (and the buffers it owns)
// before it collects. Every `intervalMs` this looks at the heap; above the target it collects at once, synchronously.
// A lower target means less memory and more CPU spent collecting: bench/README.md has the figures. When what survives a
// collection is itself near the target (a large live heap), the next collection waits until the heap has grown a
// quarter past that, so a live heap above the target never makes it collect on every look.

import { heapSize as jscHeapSize } from "bun:jsc";

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
  /** The heap size above which the next look collects: the target, or 1.25 times what survived the last collection. */
  readonly thresholdBytes: number;
  /** One look now (what the timer does). */
  check(): void;
  stop(): void;
}

export function startHeapGovernor(options: HeapGovernorOptions): HeapGovernor {
  const heapSize = options.heapSize ?? jscHeapSize;
  const collect = options.collect ?? (() => Bun.gc(true));
  let collections = 0;
  let threshold = options.targetBytes;
  const governor: HeapGovernor = {
    get collections() {
      return collections;
    },
    get thresholdBytes() {
      return threshold;
    },
    check() {
      if (heapSize() <= threshold) return;
      collections++;
      collect();
      // Collect again only once a quarter as much as survived has been allocated since: a collection's cost (which grows
      // with what survives) is paid for by garbage in proportion.
      threshold = Math.max(options.targetBytes, heapSize() * 1.25);
    },
    stop: () => clearInterval(timer),
  };
  // unref: the governor never keeps the process alive on its own.
  const timer = setInterval(governor.check, options.intervalMs ?? 100);
  timer.unref();
  return governor;
}
