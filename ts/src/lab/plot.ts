/**
 * The lab's plots as standalone SVG text (readable on GitHub, no dependencies): a line chart of
 * several series with optional error bands and a log-scale y axis, and a grouped bar chart
 * with error bars. Ticks are "nice" numbers (1, 2, 5 × 10ᵏ), as ts/src/train/loss-curve.ts.
 */

/** One point of a line series; `sd` draws a ± band/whisker around `y`. */
export interface LinePoint {
  /** x value. */
  x: number;
  /** y value (points where x or y is not finite, or y ≤ 0 on a log axis, are skipped). */
  y: number;
  /** Standard deviation over seeds (optional error whisker). */
  sd?: number;
}

/** A named line. */
export interface LineSeries {
  /** Legend label. */
  name: string;
  /** Points (drawn sorted by x). */
  points: readonly LinePoint[];
  /** Dashed line (e.g. a reference). */
  dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Title above the plot. */
  title: string;
  /** x axis label. */
  xLabel: string;
  /** y axis label. */
  yLabel: string;
  /** The lines. */
  series: readonly LineSeries[];
  /** Logarithmic y axis (base 10). */
  logY?: boolean;
  /** Logarithmic x axis (base 10; e.g. learning rates). */
  logX?: boolean;
  /** Width in px (default 720). */
  width?: number;
  /** Height in px (default 420). */
  height?: number;
  /** Horizontal reference lines, e.g. chance level. */
  hLines?: readonly { y: number; label: string }[];
}

/** One group of a bar chart: a label on the x axis and one bar per series. */
export interface BarGroup {
  /** x axis label of the group. */
  label: string;
  /** One value per series (same order as `seriesNames`); NaN leaves a gap. */
  values: readonly { mean: number; sd?: number }[];
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  /** Title above the plot. */
  title: string;
  /** y axis label. */
  yLabel: string;
  /** Legend labels of the bars inside each group. */
  seriesNames: readonly string[];
  /** The groups. */
  groups: readonly BarGroup[];
  /** Start the y axis at 0 (default true); false fits the data range. */
  zeroBased?: boolean;
  /** A fixed y range (e.g. `[0, 1]` for accuracies) instead of one fitted to the data. */
  yDomain?: readonly [number, number];
  /** Width in px (default 720). */
  width?: number;
  /** Height in px (default 420). */
  height?: number;
  /** Horizontal reference lines, e.g. chance level. */
  hLines?: readonly { y: number; label: string }[];
}

/** A colour-blind-safe palette (Okabe–Ito, then greys). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#999999', '#666666'];
const MARGIN = { left: 70, right: 170, top: 40, bottom: 50 };

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Escapes text for XML. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML[c] ?? c);
}
const r2 = (v: number): string => String(Math.round(v * 100) / 100);

/** A scale: data → pixels, with its ticks and tick labels. */
interface Axis {
  at(v: number): number;
  ticks: { value: number; label: string }[];
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  return (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
}

function tickLabel(value: number, step: number): string {
  if (Math.abs(value) < step * 1e-9) return '0';
  if (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3) return value.toExponential(0);
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return value.toFixed(decimals);
}

/** A linear axis over [lo, hi] mapped to pixels [p0, p1], extended to whole ticks. */
function linearAxis(lo: number, hi: number, p0: number, p1: number, target: number): Axis {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep(hi - lo, target);
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks: { value: number; label: string }[] = [];
  for (let k = Math.round(a / step); k * step <= b + step * 1e-9; k++) ticks.push({ value: k * step, label: tickLabel(k * step, step) });
  return { at: (v) => p0 + ((v - a) / (b - a)) * (p1 - p0), ticks };
}

/** A log10 axis over [lo, hi] (> 0), ticks at powers of ten (and 2, 5 × when the span is short). */
function logAxis(lo: number, hi: number, p0: number, p1: number): Axis {
  let a = Math.floor(Math.log10(lo));
  let b = Math.ceil(Math.log10(hi));
  if (b === a) [a, b] = [a - 1, b + 1];
  const ticks: { value: number; label: string }[] = [];
  const mantissas = b - a <= 2 ? [1, 2, 5] : [1];
  for (let e = a; e <= b; e++) {
    for (const m of mantissas) {
      const v = m * 10 ** e;
      if (v <= 10 ** b * (1 + 1e-9)) ticks.push({ value: v, label: Math.abs(e) >= 4 ? `${m}e${e}` : String(Number(v.toPrecision(3))) });
    }
  }
  return { at: (v) => p0 + ((Math.log10(v) - a) / (b - a)) * (p1 - p0), ticks };
}

function extent(values: readonly number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return values.length ? [lo, hi] : [0, 1];
}

/** The frame: background, title, grid, axes, ticks and axis labels. */
function frame(o: { width: number; height: number; title: string; xLabel: string; yLabel: string; y: Axis; x?: Axis }): string[] {
  const { width, height } = o;
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${r2((left + right) / 2)}" y="22" text-anchor="middle" font-size="14">${escapeXml(o.title)}</text>`,
    '<g stroke="#e5e5e5">',
    ...o.y.ticks.map((t) => `<line x1="${left}" x2="${right}" y1="${r2(o.y.at(t.value))}" y2="${r2(o.y.at(t.value))}"/>`),
    '</g>',
    `<g stroke="#333333"><line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/></g>`,
    '<g text-anchor="end" fill="#333333">',
    ...o.y.ticks.map((t) => `<text x="${left - 6}" y="${r2(o.y.at(t.value))}" dy="0.35em">${escapeXml(t.label)}</text>`),
    '</g>',
    `<text transform="translate(16 ${r2((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="#333333">${escapeXml(o.yLabel)}</text>`,
    `<text x="${r2((left + right) / 2)}" y="${height - 10}" text-anchor="middle" fill="#333333">${escapeXml(o.xLabel)}</text>`,
  ];
  if (o.x) {
    out.push('<g text-anchor="middle" fill="#333333">');
    for (const t of o.x.ticks) {
      const x = r2(o.x.at(t.value));
      out.push(
        `<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/><text x="${x}" y="${bottom + 16}">${escapeXml(t.label)}</text>`,
      );
    }
    out.push('</g>');
  }
  return out;
}

function legend(names: readonly { name: string; color: string; dashed?: boolean; box?: boolean }[], width: number): string[] {
  const out = [`<g transform="translate(${width - MARGIN.right + 12} ${MARGIN.top + 6})" fill="#333333">`];
  names.forEach((s, i) => {
    const y = i * 16;
    out.push(
      s.box
        ? `<rect x="0" y="${y - 5}" width="14" height="10" fill="${s.color}"/>`
        : `<line x1="0" x2="18" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="24" y="${y}" dy="0.35em">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</g>');
  return out;
}

function referenceLines(lines: readonly { y: number; label: string }[] | undefined, y: Axis, width: number): string[] {
  return (lines ?? []).map((h) => {
    const py = r2(y.at(h.y));
    return `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${py}" y2="${py}" stroke="#888888" stroke-dasharray="2 3"/><text x="${width - MARGIN.right - 4}" y="${py}" dy="-0.4em" text-anchor="end" fill="#666666">${escapeXml(h.label)}</text>`;
  });
}

/**
 * A line chart as standalone SVG: one polyline per series (palette order), ± sd whiskers where
 * points have `sd`, a legend on the right, optional log axes and reference lines.
 */
export function lineChart(options: LineChartOptions): string {
  const { width = 720, height = 420, logY = false, logX = false } = options;
  const ok = (p: LinePoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0) && (!logX || p.x > 0);
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(ok).sort((a, b) => a.x - b.x) }));
  const pts = series.flatMap((s) => s.points);
  const ys = pts.flatMap((p) => (p.sd && Number.isFinite(p.sd) ? [p.y - p.sd, p.y + p.sd] : [p.y])).filter((v) => !logY || v > 0);
  for (const h of options.hLines ?? []) ys.push(h.y);
  const [yLo, yHi] = extent(ys);
  const [xLo, xHi] = extent(pts.map((p) => p.x));
  const bottom = height - MARGIN.bottom;
  const right = width - MARGIN.right;
  const y = logY ? logAxis(Math.max(yLo, 1e-12), Math.max(yHi, 1e-12), bottom, MARGIN.top) : linearAxis(yLo, yHi, bottom, MARGIN.top, 5);
  const x = logX ? logAxis(xLo, xHi, MARGIN.left, right) : linearAxis(xLo, xHi, MARGIN.left, right, 6);
  const out = frame({ width, height, title: options.title, xLabel: options.xLabel, yLabel: options.yLabel, y, x });
  out.push(...referenceLines(options.hLines, y, width));
  if (pts.length === 0)
    out.push(`<text x="${r2((MARGIN.left + right) / 2)}" y="${r2(height / 2)}" text-anchor="middle" fill="#999999">no data</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const yAt = (v: number) => y.at(logY ? Math.max(v, 1e-12) : v);
    for (const p of s.points) {
      if (p.sd && Number.isFinite(p.sd) && p.sd > 0) {
        const px = r2(x.at(p.x));
        out.push(
          `<line x1="${px}" x2="${px}" y1="${r2(yAt(p.y - p.sd))}" y2="${r2(yAt(p.y + p.sd))}" stroke="${color}" stroke-opacity="0.5"/>`,
        );
      }
    }
    if (s.points.length === 0) return;
    const coords = s.points.map((p) => `${r2(x.at(p.x))},${r2(y.at(p.y))}`).join(' ');
    out.push(
      `<polyline data-series="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${coords}"/>`,
    );
    if (s.points.length <= 12)
      for (const p of s.points) out.push(`<circle cx="${r2(x.at(p.x))}" cy="${r2(y.at(p.y))}" r="2.5" fill="${color}"/>`);
  });
  out.push(
    ...legend(
      series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length] as string, dashed: s.dashed })),
      width,
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * A grouped bar chart as standalone SVG: one group per x label, one bar per series in each
 * group, ± sd error bars, a legend on the right and optional reference lines.
 */
export function barChart(options: BarChartOptions): string {
  const { width = 720, height = 420, zeroBased = true } = options;
  const vals = options.groups.flatMap((g) =>
    g.values.flatMap((v) => (Number.isFinite(v.mean) ? [v.mean - (v.sd ?? 0), v.mean + (v.sd ?? 0)] : [])).filter(Number.isFinite),
  );
  for (const h of options.hLines ?? []) vals.push(h.y);
  let [lo, hi] = extent(vals);
  if (zeroBased) [lo, hi] = [Math.min(0, lo), Math.max(0, hi)];
  if (options.yDomain) [lo, hi] = options.yDomain;
  const bottom = height - MARGIN.bottom;
  const right = width - MARGIN.right;
  const y = linearAxis(lo, hi, bottom, MARGIN.top, 5);
  const out = frame({ width, height, title: options.title, xLabel: '', yLabel: options.yLabel, y });
  const nGroups = Math.max(1, options.groups.length);
  const groupW = (right - MARGIN.left) / nGroups;
  const nSeries = Math.max(1, options.seriesNames.length);
  const barW = (groupW * 0.8) / nSeries;
  // Bars rise from 0, or from the bottom of the axis when it does not start at 0.
  const base = zeroBased ? y.at(0) : bottom;
  options.groups.forEach((g, gi) => {
    const gx = MARGIN.left + gi * groupW + groupW * 0.1;
    out.push(`<text x="${r2(gx + groupW * 0.4)}" y="${bottom + 16}" text-anchor="middle" fill="#333333">${escapeXml(g.label)}</text>`);
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v.mean)) return;
      const color = PALETTE[si % PALETTE.length] as string;
      const x0 = gx + si * barW;
      const top = y.at(v.mean);
      out.push(
        `<rect data-series="${escapeXml(options.seriesNames[si] ?? '')}" x="${r2(x0 + 1)}" y="${r2(Math.min(top, base))}" width="${r2(Math.max(1, barW - 2))}" height="${r2(Math.abs(base - top))}" fill="${color}"/>`,
      );
      if (v.sd && Number.isFinite(v.sd) && v.sd > 0) {
        const cx = r2(x0 + barW / 2);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${r2(y.at(v.mean - v.sd))}" y2="${r2(y.at(v.mean + v.sd))}" stroke="#222222"/>`);
      }
    });
  });
  out.push(...referenceLines(options.hLines, y, width));
  out.push(
    ...legend(
      options.seriesNames.map((name, i) => ({ name, color: PALETTE[i % PALETTE.length] as string, box: true })),
      width,
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
