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
  /** CSS pixels per cell (the canvas holds one pixel per cell, scaled up without smoothing). */
  cell: number;
  /** Cells drawn light grey instead (the causal mask). */
  masked?: (row: number, col: number) => boolean;
}

const MASKED: [number, number, number] = [222, 222, 222];

/** Draws `values: [rows, cols]` into `canvas`: one canvas pixel per cell, shown `cell` CSS pixels wide. */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  options: HeatmapOptions,
): void {
  canvas.width = cols;
  canvas.height = rows;
  canvas.style.width = `${cols * options.cell}px`;
  canvas.style.height = `${rows * options.cell}px`;
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
  const image = ctx.createImageData(cols, rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const rgb = options.masked?.(r, c) ? MASKED : viridis((values[r * cols + c]! - min) / span);
      image.data.set([rgb[0], rgb[1], rgb[2], 255], (r * cols + c) * 4);
    }
  }
  ctx.putImageData(image, 0, 0);
}

const tooltip = document.createElement('div');
tooltip.id = 'tooltip';
document.body.append(tooltip);

/** Shows `describe(row, col)` next to the pointer while it is over a cell of a {@link drawHeatmap} canvas. */
export function onHover(canvas: HTMLCanvasElement, describe: (row: number, col: number) => string | undefined): void {
  canvas.addEventListener('mousemove', (event) => {
    const rect = canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - rect.left) / rect.width) * canvas.width);
    const row = Math.floor(((event.clientY - rect.top) / rect.height) * canvas.height);
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
