// What Linux says about a process: CPU time (utime+stime, all threads) and memory, read from /proc.
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime and stime (almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
    ticksPerSecond = Number(out) > 0 ? Number(out) : 100;
  }
  return ticksPerSecond;
}

/** CPU time the process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

function statusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : Number.NaN;
}

/** Peak resident set size so far (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  return statusKb(pid, "VmHWM") / 1024;
}

/** Current resident set size (VmRSS), in MiB. */
export function rssMiB(pid: number): number {
  return statusKb(pid, "VmRSS") / 1024;
}

/** CPU used by several processes over one window. */
export class CpuWindow {
  private readonly start = new Map<number, number>();
  private readonly used = new Map<number, number>();

  constructor(private readonly pids: number[]) {}

  begin(): void {
    for (const pid of this.pids) this.start.set(pid, safe(() => cpuMs(pid)));
  }

  end(): void {
    for (const pid of this.pids) this.used.set(pid, safe(() => cpuMs(pid)) - (this.start.get(pid) ?? Number.NaN));
  }

  /** Milliseconds of CPU `pid` used in the window. */
  of(pid: number): number {
    return this.used.get(pid) ?? Number.NaN;
  }
}

function safe(read: () => number): number {
  try {
    return read();
  } catch {
    return Number.NaN;
  }
}

