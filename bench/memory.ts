// Where a server's memory is: Linux's view from /proc/<pid>/smaps (what is resident, by mapping) and the server's own
// from its /metrics (the JS heap and Bun's native allocator), so a change is judged by the part it moves.
import { readFileSync, readlinkSync } from "node:fs";
import { peakRssMiB, rssMiB } from "./proc.ts";

/** Where a process's resident memory is, in MiB, from /proc/<pid>/smaps (one pass over its mappings). */
export interface MemoryBreakdown {
  /** VmRSS now. */
  rss: number;
  /** The executable's code pages that are resident (Bun's own machine code: the more of Bun a workload uses, the more). */
  binaryText: number;
  /** The executable's read-only and writable data (the embedded bundle, bytecode, relocations). */
  binaryData: number;
  /** Shared libraries (libc, libm, ...). */
  libraries: number;
  /** Private anonymous memory: the JS heap, malloc arenas, socket and body buffers. */
  anonymous: number;
  /** Writable and executable anonymous pages: JIT-compiled code. */
  jit: number;
  /** Thread stacks and everything else. */
  other: number;
}

export function memoryBreakdown(pid: number): MemoryBreakdown {
  const smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
  const exe = (() => {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return "";
    }
  })();
  const out: MemoryBreakdown = { rss: rssMiB(pid), binaryText: 0, binaryData: 0, libraries: 0, anonymous: 0, jit: 0, other: 0 };
  let bucket: keyof MemoryBreakdown = "other";
  for (const line of smaps.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const [, perms, name] = header as unknown as [string, string, string];
      if (name && name === exe) bucket = perms.includes("x") ? "binaryText" : "binaryData";
      else if (name.startsWith("/")) bucket = "libraries";
      else if (name === "" || name === "[heap]" || name.startsWith("[anon")) bucket = perms.includes("x") ? "jit" : "anonymous";
      else bucket = "other";
      continue;
    }
    if (line.startsWith("Rss:")) out[bucket] += Number(line.slice(4).trim().split(" ")[0]) / 1024;
  }
  return out;
}

/** The server's own account, in MiB, from the gauges /metrics serves (src/process-metrics.ts); undefined when it has none. */
export interface RuntimeMemory {
  jsHeap: number;
  jsHeapCapacity: number;
  jsExtra: number;
  malloc: number;
  mallocCommitted: number;
}

export async function runtimeMemory(port: number, host = "127.0.0.1"): Promise<RuntimeMemory | undefined> {
  try {
    const res = await fetch(`http://${host}:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    const text = await res.text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]) / (1024 * 1024);
    return {
      jsHeap: gauge("vault_mcp_js_heap_bytes"),
      jsHeapCapacity: gauge("vault_mcp_js_heap_capacity_bytes"),
      jsExtra: gauge("vault_mcp_js_extra_memory_bytes"),
      malloc: gauge("vault_mcp_malloc_bytes"),
      mallocCommitted: gauge("vault_mcp_malloc_committed_bytes"),
    };
  } catch {
    return undefined;
  }
}

/** Both views at one moment. */
export interface MemorySnapshot {
  smaps: MemoryBreakdown;
  runtime?: RuntimeMemory;
  /** VmHWM so far. */
  peakRss: number;
}

export async function memorySnapshot(pid: number, port: number): Promise<MemorySnapshot> {
  const runtime = await runtimeMemory(port);
  return { smaps: memoryBreakdown(pid), runtime, peakRss: peakRssMiB(pid) };
}
