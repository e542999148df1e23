/**
 * Summary statistics of the lab: mean, sample standard deviation, "mean ± sd" text, and
 * markdown tables of recorded rows grouped by variant × metric.
 */
import type { LabRow } from './lab.js';

/** Arithmetic mean (NaN for no values). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for one value, NaN for none. */
export function sd(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  if (values.length === 1) return 0;
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) ** 2;
  return Math.sqrt(sq / (values.length - 1));
}

/** Options of {@link meanSd} and {@link formatNumber}. */
export interface FormatOptions {
  /** Significant decimals (default 3). */
  digits?: number;
  /** Show values as percentages (× 100, with "%"). */
  percent?: boolean;
}

/** A number with `digits` decimals (or as a percentage); "—" for NaN, "∞" for infinities. */
export function formatNumber(value: number, options: FormatOptions = {}): string {
  const { digits = 3, percent = false } = options;
  if (Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (percent) return `${(100 * value).toFixed(Math.max(0, digits - 2))}%`;
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 10 ** -digits || abs >= 1e6)) return value.toExponential(Math.max(1, digits - 1));
  return value.toFixed(digits);
}

/**
 * "mean ± sd" of the values, e.g. `"0.123 ± 0.004"` (just the mean for one value). Non-finite
 * values (diverged runs) are left out and counted: `"0.123 ± 0.004 (1 diverged)"`.
 */
export function meanSd(values: readonly number[], options: FormatOptions = {}): string {
  const finite = values.filter(Number.isFinite);
  const bad = values.length - finite.length;
  const note = bad > 0 ? ` (${bad} diverged)` : '';
  if (finite.length === 0) return values.length === 0 ? '—' : `diverged${bad > 1 ? ` ×${bad}` : ''}`;
  if (finite.length === 1) return `${formatNumber(finite[0] as number, options)}${note}`;
  const spread = options.percent ? formatNumber(sd(finite), options).replace('%', ' pp') : formatNumber(sd(finite), options);
  return `${formatNumber(mean(finite), options)} ± ${spread}${note}`;
}

/** Values of the rows matching `where` (every given key equal), in recording order. */
export function valuesOf(rows: readonly LabRow[], where: Partial<Record<string, string | number>>): number[] {
  return rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v)).map((r) => r.value);
}

/** Mean of the finite values of the rows matching `where` (NaN when there are none). */
export function meanOf(rows: readonly LabRow[], where: Partial<Record<string, string | number>>): number {
  return mean(valuesOf(rows, where).filter(Number.isFinite));
}

/** The distinct values of `key` over the rows, in first-seen order. */
export function distinct(rows: readonly LabRow[], key: string): (string | number)[] {
  const seen = new Set<string | number>();
  for (const r of rows) {
    const v = r[key];
    if (v !== undefined) seen.add(v);
  }
  return [...seen];
}

/** A markdown table: a header row, then one row per entry (cells are escaped for `|`). */
export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of body) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

/** Options of {@link summaryTable}. */
export interface SummaryTableOptions {
  /** Metrics to show as columns, in order (default every metric of the rows). */
  metrics?: readonly string[];
  /** Column titles by metric (default the metric name). */
  labels?: Readonly<Record<string, string>>;
  /** Formatting per metric (default 3 decimals). */
  format?: Readonly<Record<string, FormatOptions>>;
  /** Only rows matching these labels. */
  where?: Partial<Record<string, string | number>>;
  /** Title of the first column (default "variant"). */
  variantLabel?: string;
}

/**
 * A markdown table of mean ± sd over seeds: one row per variant (first-seen order), one column
 * per metric.
 */
export function summaryTable(rows: readonly LabRow[], options: SummaryTableOptions = {}): string {
  const where = options.where ?? {};
  const picked = rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));
  const metrics = options.metrics ?? (distinct(picked, 'metric') as string[]);
  const variants = distinct(picked, 'variant') as string[];
  const header = [options.variantLabel ?? 'variant', ...metrics.map((m) => options.labels?.[m] ?? m)];
  const body = variants.map((variant) => [
    variant,
    ...metrics.map((metric) => meanSd(valuesOf(picked, { variant, metric }), options.format?.[metric] ?? {})),
  ]);
  return markdownTable(header, body);
}
