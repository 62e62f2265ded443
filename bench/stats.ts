/**
 * Small helpers shared by the benchmarks: percentiles, throughput and a table printer whose
 * output is a Markdown table, so a run can be pasted into docs/benchmarks.md as it is.
 */

/** The p-th percentile (0–100) of `values`, nearest-rank; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Distribution of a set of latencies, in the unit they were given in. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** p50, p99, mean and max of `values`. */
export function summarize(values: readonly number[]): LatencySummary {
  const total = values.reduce((sum, v) => sum + v, 0);
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    mean: values.length === 0 ? Number.NaN : total / values.length,
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** Operations per second for `count` operations done in `elapsedMs`. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? Number.NaN : (count * 1000) / elapsedMs;
}

/** Times `fn` with the monotonic clock; returns milliseconds. */
export async function timeMs(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A whole number with thousands separators, e.g. `12,345`. */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
}

/** Milliseconds with two decimals, e.g. `0.87 ms`. */
export function formatMs(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} ms` : '—';
}

/** One column of {@link formatTable}. */
export interface Column {
  header: string;
  /** Numbers read best right-aligned; default left. */
  align?: 'left' | 'right';
}

/** A Markdown table with padded columns. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const right = columns.map((c) => c.align === 'right');
  const line = (cells: readonly string[]): string =>
    `| ${columns
      .map((_, i) => {
        const text = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return right[i] ? text.padStart(width) : text.padEnd(width);
      })
      .join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n');
}
