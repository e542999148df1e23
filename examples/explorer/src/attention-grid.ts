/** A grid of attention heatmaps, one per layer × head, with hover read-outs (Attention and BERT views). */
import { drawHeatmap, onHover } from './heatmap';
import type { AttentionData } from './protocol';
import { html } from './state';

const show = (token: string) => JSON.stringify(token);

/** Returns a function that draws `data` into `grid` (reusing the canvases while the shape stays). */
export function attentionGrid(grid: HTMLElement): (data: AttentionData) => void {
  let canvases: HTMLCanvasElement[] = [];
  let shape = '';
  let current: AttentionData | undefined;
  const cellSize = (t: number) => Math.max(6, Math.min(16, Math.floor(220 / t)));
  return (data) => {
    current = data;
    const t = data.tokens.length;
    const key = `${data.nLayer}x${data.nHead}x${t}`;
    if (key !== shape) {
      shape = key;
      grid.replaceChildren();
      grid.style.gridTemplateColumns = `repeat(${data.nHead}, max-content)`;
      canvases = [];
      for (let l = 0; l < data.nLayer; l++) {
        for (let h = 0; h < data.nHead; h++) {
          const figure = html(`<figure><canvas class="heat"></canvas><figcaption>layer ${l}, head ${h}</figcaption></figure>`);
          const canvas = figure.querySelector('canvas')!;
          onHover(canvas, (i, j) => {
            const a = current;
            if (!a || i < 0 || j < 0 || i >= a.tokens.length || j >= a.tokens.length) return undefined;
            const n = a.tokens.length;
            const w = a.weights[((l * a.nHead + h) * n + i) * n + j]!;
            const masked = a.causal && j > i ? ' (masked: a later token)' : '';
            return `query ${i} ${show(a.tokens[i]!)} → key ${j} ${show(a.tokens[j]!)}: ${w.toFixed(4)}${masked}`;
          });
          canvases.push(canvas);
          grid.append(figure);
        }
      }
    }
    const size = t * t;
    canvases.forEach((canvas, index) => {
      drawHeatmap(canvas, data.weights.subarray(index * size, (index + 1) * size), t, t, {
        min: 0,
        max: 1,
        cell: cellSize(t),
        masked: data.causal ? (i, j) => j > i : undefined,
      });
    });
  };
}

/** `tokens` as quoted strings, for a caption. */
export function showTokens(tokens: readonly string[]): string {
  return tokens.map(show).join(' ');
}
