// Plain-text tables for the bench report.

export type Cell = string | number;

/** Fixed-width table; numbers are right-aligned. */
export function table(title: string, header: string[], rows: Cell[][], notes: string[] = []): string {
  const text = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[], numeric: boolean[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const numericCols = header.map((_, i) => rows.some((r) => typeof r[i] === "number"));
  const out = [`\n== ${title} ==`, line(header, numericCols), widths.map((w) => "-".repeat(w)).join("  ")];
  for (let r = 0; r < rows.length; r++) out.push(line(text[r]!, rows[r]!.map((c) => typeof c === "number")));
  for (const n of notes) out.push(`  ${n}`);
  return out.join("\n");
}

/** Numbers with sensible precision: 12345 -> "12345", 12.345 -> "12.3", 0.1234 -> "0.123". */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return n.toFixed(0);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "-";
  return `${(a / b).toFixed(2)}x`;
}

export function signed(n: number): string {
  return Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${fmt(n)}` : "-";
}
