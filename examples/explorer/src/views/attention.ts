/**
 * Attention: for a prompt, the softmax attention map of every layer × head of the model being
 * trained, refreshed as training goes on. Row = query token, column = key token; the causal
 * mask (keys after the query) is grey. Hover a cell for the tokens and the weight.
 */
import { drawHeatmap, onHover } from '../heatmap';
import type { AttentionData, FromWorker } from '../protocol';
import { byId, html, state } from '../state';
import type { WorkerClient } from '../worker-client';

const show = (token: string) => JSON.stringify(token);

/** The prompt the maps are drawn for. */
export function attentionPrompt(): string {
  const input = document.getElementById('attention-prompt') as HTMLInputElement | null;
  return input?.value ?? 'the dog chased the cat .';
}

export function setupAttentionView(root: HTMLElement, worker: WorkerClient): void {
  root.append(
    html(`<div>
      <p>Each map is one head: row <i>i</i> is the query token, column <i>j</i> the key token, the colour how much of
      query <i>i</i>'s attention goes to key <i>j</i> (each row sums to 1). In a GPT a token cannot look ahead: the
      grey cells above the diagonal are the causal mask. The maps refresh while the model trains.</p>
      <label>prompt <input id="attention-prompt" size="40" value="the dog chased the cat ."></label>
      <button id="attention-refresh">Show</button>
      <p id="attention-status" class="muted">train a model (Train view) to see its attention</p>
      <div id="attention-grid" class="grid"></div>
    </div>`),
  );
  const grid = byId('attention-grid');
  let canvases: HTMLCanvasElement[] = [];
  let shape = '';
  const cellSize = (t: number) => Math.max(6, Math.min(16, Math.floor(220 / t)));

  const draw = (data: AttentionData) => {
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
            const a = state.attention;
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
    byId('attention-status').textContent =
      `step ${data.step}: ${data.nLayer} layers × ${data.nHead} heads over ${t} tokens ${data.tokens.map(show).join(' ')}`;
  };

  // Drawn only while the view is shown; showing it draws the latest maps.
  const visible = () => root.classList.contains('active');
  worker.listen((message: FromWorker) => {
    if (message.type !== 'attention') return;
    state.attention = message.data;
    if (visible()) draw(message.data);
  });
  new MutationObserver(() => {
    if (visible() && state.attention) draw(state.attention);
  }).observe(root, { attributes: true, attributeFilter: ['class'] });
  const refresh = () => worker.send({ type: 'attention', prompt: attentionPrompt() });
  byId('attention-refresh').onclick = refresh;
  byId<HTMLInputElement>('attention-prompt').addEventListener('change', refresh);
}
