/**
 * A dependency-free SVG chart of loss against step (e.g. train and val curves), suitable for
 * writing next to a checkpoint or inserting into a page.
 */
import { InvalidArgumentError } from '../errors.js';

/** One point of a loss curve. */
export interface LossPoint {
  /** Optimizer step (x axis). */
  step: number;
  /** Loss value (y axis). Points where `step` or `loss` is not finite are skipped. */
  loss: number;
}

/** A named curve, e.g. `{ name: 'train', points }`. */
export interface LossSeries {
  /** Legend label (XML-escaped in the output). */
  name: string;
  /** The curve's points, in any order (drawn sorted by step). */
  points: LossPoint[];
}

/** Chart options. */
export interface LossCurveOptions {
  /** Title drawn above the plot (XML-escaped); default `"Loss"`. */
  title?: string;
  /** Width in px; default 640. */
  width?: number;
  /** Height in px; default 400. */
  height?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const MARGIN = { left: 64, right: 20, top: 36, bottom: 44 };

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes `&`, `<`, `>`, `"` and `'` for use in XML text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

/** A "nice" tick spacing (1, 2 or 5 × 10ᵏ) giving about `target` intervals over [lo, hi]. */
function niceStep(lo: number, hi: number, target: number, integer: boolean): number {
  const raw = (hi - lo) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
  return integer ? Math.max(1, Math.round(step)) : step;
}

/** The multiples of `step` in [lo, hi]. */
function ticksIn(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step);
  return ticks;
}

/** [min, max] of the values, by a loop (spreading a long array into Math.min overflows the stack). */
function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return (Math.abs(value) < step * 1e-9 ? 0 : value).toFixed(decimals);
}

function checkSize(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 100 || value > 100_000) {
    throw new InvalidArgumentError(`lossCurveSvg: ${name} must be a number of pixels in [100, 100000], got ${String(value)}`);
  }
  return value;
}

/** Expands a degenerate [lo, hi] range so that it has a positive width. */
function padRange(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
  return [lo - pad, hi + pad];
}

const round = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * Draws loss curves as a standalone SVG document: x axis = step, y axis = loss, tick labels
 * on both, one polyline per series (in series order, coloured from a fixed palette) and a
 * legend. Points with a non-finite step or loss are ignored; a series with no finite points
 * still appears in the legend but draws no line.
 *
 * @param series - the curves, e.g. `[{ name: 'train', points }, { name: 'val', points }]`.
 * @param options - title and pixel size.
 * @returns the SVG markup, starting with `<svg` and with all text XML-escaped.
 * @throws InvalidArgumentError if `series` is not an array of `{ name, points }` or a size is out of range.
 */
export function lossCurveSvg(series: LossSeries[], options: LossCurveOptions = {}): string {
  if (!Array.isArray(series)) throw new InvalidArgumentError('lossCurveSvg: series must be an array of { name, points }');
  const width = checkSize('width', options.width, 640);
  const height = checkSize('height', options.height, 400);
  const title = options.title ?? 'Loss';
  const clean = series.map((s, i) => {
    if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || !Array.isArray(s.points)) {
      throw new InvalidArgumentError(`lossCurveSvg: series[${i}] must be { name: string, points: { step, loss }[] }`);
    }
    const points = s.points
      .filter((p) => typeof p === 'object' && p !== null && Number.isFinite(p.step) && Number.isFinite(p.loss))
      .map((p) => ({ step: p.step, loss: p.loss }))
      .sort((a, b) => a.step - b.step);
    return { name: s.name, color: COLORS[i % COLORS.length] ?? '#000', points };
  });

  const all = clean.flatMap((s) => s.points);
  const steps = all.map((p) => p.step);
  const losses = all.map((p) => p.loss);
  const [x0, x1] = all.length ? padRange(...extent(steps)) : [0, 1];
  const [yLo, yHi] = all.length ? padRange(...extent(losses)) : [0, 1];
  const xStep = niceStep(x0, x1, 6, steps.every(Number.isInteger));
  const xTicks = ticksIn(x0, x1, xStep);
  // Extend y to whole tick steps so the curves do not touch the frame.
  const yStep = niceStep(yLo, yHi, 5, false);
  const y0 = Math.floor(yLo / yStep) * yStep;
  const y1 = Math.ceil(yHi / yStep) * yStep;
  const yTicks = ticksIn(y0, y1, yStep);

  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const sx = (step: number): number => MARGIN.left + ((step - x0) / (x1 - x0)) * plotW;
  const sy = (loss: number): number => MARGIN.top + (1 - (loss - y0) / (y1 - y0)) * plotH;
  const left = MARGIN.left;
  const right = MARGIN.left + plotW;
  const top = MARGIN.top;
  const bottom = MARGIN.top + plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${round(width / 2)}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  );
  out.push('<g class="grid" stroke="#e5e5e5" stroke-width="1">');
  for (const t of yTicks) {
    out.push(`<line x1="${left}" x2="${right}" y1="${round(sy(t))}" y2="${round(sy(t))}"/>`);
  }
  out.push('</g>');
  out.push(`<g class="axes" stroke="#333333" stroke-width="1" fill="none">`);
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>`);
  out.push('</g>');
  out.push('<g class="x-ticks" text-anchor="middle" fill="#333333">');
  for (const t of xTicks) {
    const x = round(sx(t));
    out.push(`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
    out.push(`<text x="${x}" y="${bottom + 16}">${escapeXml(formatTick(t, xStep))}</text>`);
  }
  out.push(`<text x="${round(left + plotW / 2)}" y="${height - 8}">step</text>`);
  out.push('</g>');
  out.push('<g class="y-ticks" text-anchor="end" fill="#333333">');
  for (const t of yTicks) {
    const y = round(sy(t));
    out.push(`<line x1="${left - 4}" x2="${left}" y1="${y}" y2="${y}" stroke="#333333"/>`);
    out.push(`<text x="${left - 6}" y="${y}" dy="0.35em">${escapeXml(formatTick(t, yStep))}</text>`);
  }
  out.push(`<text transform="translate(14 ${round(top + plotH / 2)}) rotate(-90)" text-anchor="middle">loss</text>`);
  out.push('</g>');
  if (all.length === 0) {
    out.push(`<text x="${round(left + plotW / 2)}" y="${round(top + plotH / 2)}" text-anchor="middle" fill="#999999">no data</text>`);
  }

  for (const s of clean) {
    if (s.points.length === 0) continue;
    const coords = s.points.map((p) => `${round(sx(p.step))},${round(sy(p.loss))}`).join(' ');
    out.push(`<polyline data-series="${escapeXml(s.name)}" fill="none" stroke="${s.color}" stroke-width="1.5" points="${coords}"/>`);
    if (s.points.length === 1) {
      const [x, y] = coords.split(',');
      out.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${s.color}"/>`);
    }
  }

  out.push(`<g class="legend" transform="translate(${right - 130} ${top + 8})">`);
  clean.forEach((s, i) => {
    const y = i * 16;
    out.push(`<line x1="0" x2="18" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="24" y="${y}" dy="0.35em" fill="#333333">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
