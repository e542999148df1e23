/**
 * Attention: for a prompt, the softmax attention map of every layer × head of the model being
 * trained, refreshed as training goes on. Row = query token, column = key token; the causal
 * mask (keys after the query) is grey. Hover a cell for the tokens and the weight.
 */
import { attentionGrid, showTokens } from '../attention-grid';
import type { AttentionData, FromWorker } from '../protocol';
import { byId, html, state } from '../state';
import type { WorkerClient } from '../worker-client';

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
  const drawGrid = attentionGrid(byId('attention-grid'));
  const draw = (data: AttentionData) => {
    drawGrid(data);
    byId('attention-status').textContent =
      `step ${data.step}: ${data.nLayer} layers × ${data.nHead} heads over ${data.tokens.length} tokens ${showTokens(data.tokens)}`;
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
