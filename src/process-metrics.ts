// The process's own gauges on /metrics, read at each scrape: the usual process_* names Prometheus's client libraries
// export (resident memory, CPU, start time, open descriptors), and where Bun's memory is (JS heap, malloc), so a
// dashboard shows which part grows.
import { readdirSync } from "node:fs";
import { heapStats } from "bun:jsc";
import type { MetricsRegistry } from "./metrics.ts";

/** The figures one scrape reads (bench/memory.ts reads them back from /metrics). */
interface ProcessFigures {
  residentBytes: number;
  cpuSeconds: number;
  startTimeSeconds: number;
  openFds: number | undefined;
  /** Bytes of live JS objects (JavaScriptCore's heapSize). */
  jsHeapBytes: number;
  /** Bytes the JS heap holds from the system, live or free (heapCapacity). */
  jsHeapCapacityBytes: number;
  /** Bytes outside the heap that JS objects own (ArrayBuffers, strings' external buffers). */
  jsExtraBytes: number;
  /** Bytes mimalloc has handed out now (Bun's native allocations: sockets, request and response bodies, parsers). */
  mallocBytes: number | undefined;
  /** Bytes mimalloc holds committed from the system, in use or cached. */
  mallocCommittedBytes: number | undefined;
}

const startTimeSeconds = (Date.now() - performance.now()) / 1000;

interface MimallocStats {
  malloc_normal?: { current?: number };
  malloc_huge?: { current?: number };
  committed?: { current?: number };
}

function processFigures(): ProcessFigures {
  const cpu = process.cpuUsage();
  const heap = heapStats() as ReturnType<typeof heapStats> & { mimalloc?: MimallocStats };
  const mi = heap.mimalloc;
  const malloc = mi?.malloc_normal?.current !== undefined ? mi.malloc_normal.current + (mi.malloc_huge?.current ?? 0) : undefined;
  return {
    residentBytes: process.memoryUsage.rss(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startTimeSeconds,
    openFds: openFds(),
    jsHeapBytes: heap.heapSize,
    jsHeapCapacityBytes: heap.heapCapacity,
    jsExtraBytes: heap.extraMemorySize,
    mallocBytes: malloc,
    mallocCommittedBytes: mi?.committed?.current,
  };
}

function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/** Registers the gauges on `registry`, filled in before each scrape. */
export function watchProcess(registry: MetricsRegistry): void {
  const g = (name: string, help: string) => registry.gauge(name, help);
  const rss = g("process_resident_memory_bytes", "Resident memory size in bytes.");
  const cpu = registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
  const start = g("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
  const fds = g("process_open_fds", "Number of open file descriptors.");
  const heap = g("vault_mcp_js_heap_bytes", "Bytes of live JavaScript objects (JavaScriptCore heap size).");
  const capacity = g("vault_mcp_js_heap_capacity_bytes", "Bytes the JavaScript heap holds from the system, live or free.");
  const extra = g("vault_mcp_js_extra_memory_bytes", "Bytes outside the JavaScript heap owned by JavaScript objects (buffers).");
  const malloc = g("vault_mcp_malloc_bytes", "Bytes Bun's native allocator (mimalloc) has handed out.");
  const committed = g("vault_mcp_malloc_committed_bytes", "Bytes Bun's native allocator (mimalloc) holds committed, in use or cached.");
  let cpuSeen = 0;
  registry.beforeScrape(() => {
    const f = processFigures();
    rss.set({}, f.residentBytes);
    cpu.inc({}, f.cpuSeconds - cpuSeen);
    cpuSeen = f.cpuSeconds;
    start.set({}, Math.round(f.startTimeSeconds * 1000) / 1000);
    if (f.openFds !== undefined) fds.set({}, f.openFds);
    heap.set({}, f.jsHeapBytes);
    capacity.set({}, f.jsHeapCapacityBytes);
    extra.set({}, f.jsExtraBytes);
    if (f.mallocBytes !== undefined) malloc.set({}, f.mallocBytes);
    if (f.mallocCommittedBytes !== undefined) committed.set({}, f.mallocCommittedBytes);
  });
}
