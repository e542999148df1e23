/**
 * BERT: fill-mask with a small BERT trained in the page (masked-LM on the Train view's text), and
 * the order demonstration: without positions an encoder sees a bag of words, so "the dog chased
 * the cat" and "the cat chased the dog" give it the same state, and it cannot learn who chased
 * whom; with learned positions it can.
 */
import { attentionGrid } from '../attention-grid';
import { lineChart } from '../chart';
import type { BertFromWorker, BertToWorker } from '../protocol';
import { byId, html, numberParam, state } from '../state';
import { corpus } from './train';

export function setupBertView(root: HTMLElement): void {
  root.append(
    html(`<div>
      <h2>Fill-mask</h2>
      <p>A BERT (2 layers, width 64, learned positions) learns the Train view's text with the masked-LM objective:
      15% of the words are hidden and it guesses them from both sides. Words come from the grammar's vocabulary.</p>
      <fieldset>
        <label>steps <input id="mlm-steps" type="number" min="1" value="${numberParam('bertSteps', 300)}"></label>
        <button id="mlm-start">Train BERT</button>
        <label>sentence <input id="fill-text" size="36" value="the [MASK] chased the cat ."></label>
      </fieldset>
      <div class="row"><div id="mlm-chart"></div><div><p id="fill-status" class="muted">train first</p><table id="fill-table"></table></div></div>
      <p class="muted">Its attention on the sentence: an encoder is bidirectional, so no cell is masked (compare the GPT's
      maps in the Attention view).</p>
      <div id="bert-attention" class="grid"></div>
      <h2>Word order without positions</h2>
      <p>Two encoders, one without positional encoding (NoPE) and one with learned positions, learn to answer
      "who chased whom?" from sentences that come in twins: "the dog chased the cat" / "the cat chased the dog". The
      words are the same, so only their order tells the answer.</p>
      <fieldset>
        <label>steps <input id="order-steps" type="number" min="1" value="${numberParam('orderSteps', 500)}"></label>
        <button id="order-start">Train both</button>
      </fieldset>
      <p id="order-gap" class="muted"></p>
      <div id="order-chart"></div>
    </div>`),
  );
  const mlmChart = lineChart(byId('mlm-chart'), {
    title: 'masked-LM loss',
    xLabel: 'step',
    yLabel: 'loss',
    series: ['train'],
    width: 480,
    height: 240,
  });
  const orderChart = lineChart(byId('order-chart'), {
    title: 'accuracy on held-out twins (chance = 0.5)',
    xLabel: 'step',
    yLabel: 'accuracy',
    series: ['NoPE encoder', 'learned positions'],
    width: 640,
    height: 260,
  });
  const drawAttention = attentionGrid(byId('bert-attention'));
  let worker: Worker | undefined;
  const send = (message: BertToWorker) => {
    if (!worker) {
      worker = new Worker(new URL('../bert-worker.ts', import.meta.url), { type: 'module', name: 'bert' });
      worker.onmessage = (event: MessageEvent<BertFromWorker>) => receive(event.data);
      worker.onerror = (event) => state.errors.push(`bert worker: ${event.message}`);
    }
    worker.postMessage(message);
  };
  const receive = (message: BertFromWorker) => {
    const bert = state.bert;
    if (message.type === 'mlm-step') {
      bert.mlm.push({ step: message.step, loss: message.loss });
      mlmChart.set(
        bert.mlm.map((s) => s.step),
        [bert.mlm.map((s) => s.loss)],
      );
    } else if (message.type === 'fill') {
      bert.fill = message;
      drawAttention(message.attention);
      byId('fill-status').textContent = `after ${bert.mlm.length} steps, "${message.text}":`;
      byId('fill-table').replaceChildren(
        ...message.candidates.map((c) =>
          html(
            `<tr><td><code>${c.token.replace(/[<>&]/g, '')}</code></td><td><div style="background:#0072B2;height:12px;width:${Math.round(c.score * 300)}px"></div></td><td>${c.score.toFixed(3)}</td></tr>`,
          ),
        ),
      );
    } else if (message.type === 'order-gap') {
      bert.orderGap[message.positional] = message.gap;
      const { none, learned } = bert.orderGap;
      if (none !== undefined && learned !== undefined) {
        byId('order-gap').textContent =
          `Before training, the state each encoder answers from, "the dog chased the cat" vs "the cat chased the dog": ` +
          `NoPE differs by ${none.toExponential(1)} (the same up to float rounding), learned positions by ${learned.toFixed(2)} (relative to its size).`;
      }
    } else if (message.type === 'order-accuracy') {
      bert.order.push({ step: message.step, accuracy: message.accuracy });
      orderChart.set(
        bert.order.map((o) => o.step),
        [0, 1].map((i) => bert.order.map((o) => o.accuracy[i]!)),
      );
    } else if (message.type === 'done') {
      bert.done.push(message.what);
      if (message.what === 'mlm') byId<HTMLButtonElement>('mlm-start').disabled = false;
      if (message.what === 'order') byId<HTMLButtonElement>('order-start').disabled = false;
    } else if (message.type === 'error') {
      state.errors.push(message.message);
    }
  };
  byId('mlm-start').onclick = () => {
    state.bert.mlm = [];
    byId<HTMLButtonElement>('mlm-start').disabled = true;
    send({
      type: 'mlm',
      text: corpus(),
      steps: Number(byId<HTMLInputElement>('mlm-steps').value),
      fill: byId<HTMLInputElement>('fill-text').value,
    });
  };
  byId('fill-text').addEventListener('change', () => send({ type: 'fill', text: byId<HTMLInputElement>('fill-text').value }));
  byId('order-start').onclick = () => {
    state.bert.order = [];
    state.bert.orderGap = {};
    byId<HTMLButtonElement>('order-start').disabled = true;
    send({ type: 'order', steps: Number(byId<HTMLInputElement>('order-steps').value) });
  };
}
