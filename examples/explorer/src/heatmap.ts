/** Heatmaps on a plain canvas: one cell per matrix entry, a colour scale, hover read-out. */

/** Viridis at five stops, interpolated linearly. */
const STOPS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The colour of `v` in [0, 1]. */
export function viridis(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + f * (b[k]! - a[k]!))) as [number, number, number];
}

/** Options of {@link drawHeatmap}. */
export interface HeatmapOptions {
  /** Value mapped to the lowest colour (default: the smallest value). */
  min?: number;
  /** Value mapped to the highest colour (default: the largest value). */
  max?: number;
  /** Pixels per cell. */
  cell: number;
  /** Cells drawn hatched grey instead (the causal mask). */
  masked?: (row: number, col: number) => boolean;
}

/** Draws `values: [rows, cols]` into `canvas` (resized to fit). */
export function drawHeatmap(canvas: HTMLCanvasElement, values: ArrayLike<number>, rows: number, cols: number, options: HeatmapOptions): void {
  const { cell } = options;
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  let min = options.min ?? Number.POSITIVE_INFINITY;
  let max = options.max ?? Number.NEGATIVE_INFINITY;
  if (options.min === undefined || options.max === undefined) {
    for (let i = 0; i < rows * cols; i++) {
      const v = values[i]!;
      if (options.min === undefined) min = Math.min(min, v);
      if (options.max === undefined) max = Math.max(max, v);
    }
  }
  const span = max - min || 1;
  const image = ctx.createImageData(cols * cell, rows * cell);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const masked = options.masked?.(r, c) ?? false;
      const [red, green, blue] = masked ? [0, 0, 0] : viridis((values[r * cols + c]! - min) / span);
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          const o = ((r * cell + y) * cols * cell + c * cell + x) * 4;
          // Masked cells: light grey with a diagonal hatch.
          const hatch = masked && (x + y) % 4 === 0;
          image.data[o] = masked ? (hatch ? 170 : 225) : red;
          image.data[o + 1] = masked ? (hatch ? 170 : 225) : green;
          image.data[o + 2] = masked ? (hatch ? 170 : 225) : blue;
          image.data[o + 3] = 255;
        }
      }
    }
  }
  ctx.putImageData(image, 0, 0);
}

const tooltip = document.createElement('div');
tooltip.id = 'tooltip';
document.body.append(tooltip);

/** Shows `describe(row, col)` next to the pointer while it is over a cell of `canvas`. */
export function onHover(canvas: HTMLCanvasElement, cell: () => number, describe: (row: number, col: number) => string | undefined): void {
  canvas.addEventListener('mousemove', (event) => {
    const rect = canvas.getBoundingClientRect();
    const scale = canvas.width / rect.width;
    const col = Math.floor(((event.clientX - rect.left) * scale) / cell());
    const row = Math.floor(((event.clientY - rect.top) * scale) / cell());
    const text = describe(row, col);
    if (text === undefined) {
      tooltip.style.display = 'none';
      return;
    }
    tooltip.textContent = text;
    tooltip.style.left = `${event.clientX + 12}px`;
    tooltip.style.top = `${event.clientY + 12}px`;
    tooltip.style.display = 'block';
  });
  canvas.addEventListener('mouseleave', () => {
    tooltip.style.display = 'none';
  });
}
