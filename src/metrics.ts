// Prometheus metrics in the text exposition format (0.0.4): a small registry of counters, gauges and histograms with
// bounded label sets. prom-client would add ~300 KB and its default collectors to every start; this is all we need.

export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(lines: string[]): void;
}

/** A label value as the format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<V> implements Family {
  protected readonly series = new Map<string, { values: string[]; value: V }>();
  abstract readonly type: Family["type"];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    /** Most distinct label sets kept; past it, new ones are counted under "other" so a bug cannot grow memory without end. */
    private readonly maxSeries = 1000,
  ) {
    if (!NAME.test(name)) throw new Error(`metric name ${name} is not valid`);
    for (const l of labelNames) if (!LABEL.test(l) || l.startsWith("__")) throw new Error(`label name ${l} is not valid`);
  }

  protected entry(labels: Labels, fresh: () => V): V {
    // The key is built without arrays: this runs several times per tool call.
    const names = this.labelNames;
    let key = "";
    for (let i = 0; i < names.length; i++) {
      if (i > 0) key += "\u0000";
      key += labels[names[i]!] ?? "";
    }
    let found = this.series.get(key);
    if (!found) {
      let values = names.map((n) => labels[n] ?? "");
      if (this.series.size >= this.maxSeries) {
        values = names.map(() => "other");
        key = values.join("\u0000");
        found = this.series.get(key);
      }
      if (!found) {
        found = { values, value: fresh() };
        this.series.set(key, found);
      }
    }
    return found.value;
  }

  abstract render(lines: string[]): void;
}

export class Counter extends Metric<{ n: number }> {
  readonly type = "counter" as const;
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ n: 0 })).n += by;
  }
  render(lines: string[]): void {
    for (const { values, value } of this.series.values()) lines.push(`${this.name}${labelText(this.labelNames, values)} ${formatNumber(value.n)}`);
  }
}

export class Gauge extends Metric<{ n: number }> {
  readonly type = "gauge" as const;
  set(labels: Labels, value: number): void {
    this.entry(labels, () => ({ n: 0 })).n = value;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ n: 0 })).n += by;
  }
  dec(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ n: 0 })).n -= by;
  }
  render(lines: string[]): void {
    for (const { values, value } of this.series.values()) lines.push(`${this.name}${labelText(this.labelNames, values)} ${formatNumber(value.n)}`);
  }
}

/** Seconds, from 1 ms to 30 s: a loopback Vault read to a client timeout. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Histogram extends Metric<{ counts: number[]; sum: number; count: number }> {
  readonly type = "histogram" as const;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[] = DURATION_BUCKETS,
  ) {
    super(name, help, labelNames);
  }
  observe(labels: Labels, value: number): void {
    const h = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) h.counts[i]!++;
    h.sum += value;
    h.count++;
  }
  render(lines: string[]): void {
    for (const { values, value } of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${formatNumber(b)}"`)} ${value.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${value.count}`);
      lines.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatNumber(value.sum)}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, values)} ${value.count}`);
    }
  }
}

export class MetricsRegistry {
  private readonly families: Family[] = [];
  /** Run before each scrape, to refresh gauges that are read rather than pushed (readiness, token TTL). */
  private readonly collectors: (() => void | Promise<void>)[] = [];

  counter(name: string, help: string, labels: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labels));
  }
  gauge(name: string, help: string, labels: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labels));
  }
  histogram(name: string, help: string, labels: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labels, buckets));
  }
  beforeScrape(collect: () => void | Promise<void>): void {
    this.collectors.push(collect);
  }

  private add<F extends Family>(family: F): F {
    if (this.families.some((f) => f.name === family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.families.push(family);
    return family;
  }

  async render(): Promise<string> {
    for (const collect of this.collectors) await collect();
    const lines: string[] = [];
    for (const f of this.families) {
      lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${f.name} ${f.type}`);
      f.render(lines);
    }
    return `${lines.join("\n")}\n`;
  }
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
