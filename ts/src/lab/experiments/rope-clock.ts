/**
 * The picture of the `rope` experiment: RoPE as clocks. One row per dimension pair i of a head
 * (θᵢ = base^(−2i/D), the fastest first), one column per position p; each clock's hand points at
 * the angle p·θᵢ (from 12 o'clock, clockwise). A hand is red where the pair reaches an angle it
 * never reached at the training positions 0 … trainLen − 1 (its period is longer than the
 * training length and p·θᵢ went past the largest trained angle): the angles extrapolation asks
 * a model to read for the first time (Liu et al. 2024).
 */
import { escapeXml } from '../plot.js';

/** Options of {@link clockSvg}. */
export interface ClockOptions {
  /** RoPE base. */
  base: number;
  /** D: head size (even); D/2 clocks per column. */
  headDim: number;
  /** Positions to draw, one column each. */
  positions: readonly number[];
  /** Training length (default 64): positions from it on are shaded. */
  trainLen?: number;
}

/** A standalone SVG of the clocks. */
export function clockSvg(options: ClockOptions): string {
  const { base, headDim, positions, trainLen = 64 } = options;
  const pairs = headDim / 2;
  const [cell, radius, left, top] = [40, 15, 190, 60];
  const width = left + positions.length * cell + 20;
  const height = top + pairs * cell + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(`RoPE as clocks: base ${base}, head size ${headDim}; hand angle = position × θᵢ`)}</text>`,
    `<text x="${width / 2}" y="34" text-anchor="middle" fill="#555">${escapeXml(`shaded: positions ≥ ${trainLen} (past training); red hand: an angle the pair never reached in training`)}</text>`,
  ];
  positions.forEach((p, col) => {
    const x = left + col * cell;
    if (p >= trainLen) out.push(`<rect x="${x}" y="${top - 12}" width="${cell}" height="${pairs * cell + 12}" fill="#eeeeee"/>`);
    out.push(`<text x="${x + cell / 2}" y="${top - 2}" text-anchor="middle">${p}</text>`);
  });
  out.push(`<text x="${left - 8}" y="${top - 2}" text-anchor="end">position →</text>`);
  for (let i = 0; i < pairs; i++) {
    const theta = base ** ((-2 * i) / headDim);
    const period = (2 * Math.PI) / theta;
    const cy = top + i * cell + cell / 2;
    const periodText = period < 1e4 ? period.toFixed(1) : period.toExponential(1);
    out.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end">${escapeXml(`pair ${i}: period ${periodText}`)}</text>`);
    // The largest angle seen at positions < trainLen; a pair with a longer period never wraps around in training.
    const trainedMax = (trainLen - 1) * theta;
    positions.forEach((p, col) => {
      const cx = left + col * cell + cell / 2;
      const angle = p * theta;
      const unseen = trainedMax < 2 * Math.PI && angle % (2 * Math.PI) > trainedMax + 1e-9;
      const hx = cx + radius * 0.85 * Math.sin(angle);
      const hy = cy - radius * 0.85 * Math.cos(angle);
      out.push(`<circle cx="${cx}" cy="${cy}" r="${radius}" fill="white" stroke="#888"/>`);
      out.push(
        `<line x1="${cx}" y1="${cy}" x2="${hx.toFixed(2)}" y2="${hy.toFixed(2)}" stroke="${unseen ? '#D55E00' : '#0072B2'}" stroke-width="2" stroke-linecap="round"/>`,
      );
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
