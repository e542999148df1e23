/**
 * Positions compared: the same data, the same model but its positional encoding, trained side
 * by side (one worker each, one thread each); their loss curves; and what each encoding is:
 * the cosine similarity of the learned or sinusoidal position vectors, ALiBi's fixed distance
 * penalty per head, T5's learned bias per bucket and head. Each model is created with room for
 * {@link ROOM}× the training length, as the lab's `long-text` experiment does, and after training
 * its validation loss is measured at 1×, 2× and 4× the training length (train short, test long).
 */
import { type LineChart, lineChart } from '../chart';
import { cosineSimilarity } from '../encodings';
import { drawHeatmap, onHover } from '../heatmap';
import type { EncodingData, FromWorker } from '../protocol';
import { byId, type ComparedRun, html, numberParam, state } from '../state';
import { startWorker, type WorkerClient } from '../worker-client';
import { corpus, modelOptions, trainOptions } from './train';

const CHOICES = ['learned', 'sinusoidal', 'rope', 'alibi', 'relative', 'kerple', 'none'] as const;
const DEFAULT = ['learned', 'rope', 'alibi'];
/** The models' blockSize over the training length: learned positions past it exist untrained. */
const ROOM = 4;
const CONTEXT_FACTORS = [1, 2, 4] as const;

function drawEncoding(figure: HTMLElement, data: EncodingData): void {
  const body = figure.querySelector('div')!;
  if (data.kind === 'vectors') {
    const t = Math.min(data.blockSize, 64);
    const sim = cosineSimilarity(data.vectors, t, data.nEmbd);
    const canvas = document.createElement('canvas');
    canvas.className = 'heat';
    const cell = Math.max(3, Math.floor(192 / t));
    drawHeatmap(canvas, sim, t, t, { min: -1, max: 1, cell });
    onHover(canvas, (i, j) =>
      i >= 0 && j >= 0 && i < t && j < t ? `positions ${i} and ${j}: cosine ${sim[i * t + j]!.toFixed(3)}` : undefined,
    );
    body.replaceChildren(
      canvas,
      html(`<p class="muted">cosine similarity of position vectors 0 … ${t - 1} of ${data.blockSize} (row i, column j; −1 … 1)</p>`),
    );
  } else if (data.kind === 'alibi') {
    const chartBox = document.createElement('div');
    body.replaceChildren(chartBox);
    const d = Array.from({ length: 32 }, (_, i) => i);
    lineChart(chartBox, {
      title: 'ALiBi: bias added to the score',
      xLabel: 'distance i − j',
      yLabel: 'bias',
      series: data.slopes.map((s, h) => `head ${h} (slope ${s.toPrecision(3)})`),
      width: 360,
      height: 240,
    }).set(
      d,
      data.slopes.map((s) => d.map((x) => -s * x)),
    );
  } else if (data.kind === 'kerple') {
    const chartBox = document.createElement('div');
    body.replaceChildren(chartBox);
    const d = Array.from({ length: 32 }, (_, i) => i);
    lineChart(chartBox, {
      title: 'KERPLE (learned): bias added to the score',
      xLabel: 'distance i − j',
      yLabel: 'bias',
      series: data.r1.map((r1, h) => `head ${h} (r1 ${r1.toPrecision(2)}, r2 ${data.r2[h]!.toPrecision(2)})`),
      width: 360,
      height: 240,
    }).set(
      d,
      data.r1.map((r1, h) => d.map((x) => -r1 * Math.log1p(data.r2[h]! * x))),
    );
  } else if (data.kind === 'relative') {
    const canvas = document.createElement('canvas');
    canvas.className = 'heat';
    const { buckets, nHead, table } = data;
    // table: [buckets, H] → drawn as H rows × buckets columns.
    const rows = new Float32Array(nHead * buckets);
    for (let b = 0; b < buckets; b++) for (let h = 0; h < nHead; h++) rows[h * buckets + b] = table[b * nHead + h]!;
    drawHeatmap(canvas, rows, nHead, buckets, { cell: 10 });
    onHover(canvas, (h, b) =>
      h >= 0 && b >= 0 && h < nHead && b < buckets ? `head ${h}, bucket ${b}: bias ${rows[h * buckets + b]!.toFixed(4)}` : undefined,
    );
    body.replaceChildren(
      canvas,
      html(
        `<p class="muted">T5 relative bias, learned: one row per head, one column per distance bucket (near distances exact, far ones log-spaced)</p>`,
      ),
    );
  } else if (data.kind === 'rope') {
    body.replaceChildren(
      html(
        `<p class="muted">RoPE has no table: it rotates q and k (head size ${data.headDim}, base ${data.base}); see the RoPE clock view.</p>`,
      ),
    );
  } else {
    body.replaceChildren(
      html(`<p class="muted">${data.positional}: no positions at all; only the causal mask tells the tokens apart.</p>`),
    );
  }
}

export function setupPositionsView(root: HTMLElement): void {
  root.append(
    html(`<div>
      <p>Pick two or more positional encodings: each trains a copy of the Train view's model (same text, sizes and
      seed; only the encoding differs) in its own worker on one thread. Validation loss is measured every few steps.
      Each model trains on windows of the Train view's block but is built with room for ${ROOM}× as many positions, so
      learned positions past the training length exist but are never trained; when training ends, its validation loss
      is measured on non-overlapping windows of 1×, 2× and 4× the training length (the lab's <code>long-text</code>
      experiment, train short, test long).</p>
      <fieldset>
        ${CHOICES.map((c) => `<label><input type="checkbox" name="compare" value="${c}"${DEFAULT.includes(c) ? ' checked' : ''}> ${c}</label>`).join('')}
        <label>steps <input id="compare-steps" type="number" min="1" value="${numberParam('compareSteps', 300)}"></label>
        <button id="compare-start">Train side by side</button>
      </fieldset>
      <p id="compare-status" class="muted"></p>
      <div class="row"><div id="compare-chart"></div><div id="compare-context"></div></div>
      <h2>What each encoding is</h2>
      <div id="compare-encodings" class="row"></div>
    </div>`),
  );
  let workers: WorkerClient[] = [];
  let chart: LineChart | undefined;
  let contextChart: LineChart | undefined;

  const redrawContext = (runs: ComparedRun[]) => {
    const lens = [...new Set(runs.flatMap((r) => (r.context ?? []).map((p) => p.len)))].sort((a, b) => a - b);
    contextChart?.set(
      lens,
      runs.map((r) => {
        const loss = new Map((r.context ?? []).map((p) => [p.len, p.loss]));
        return lens.map((len) => loss.get(len) ?? null);
      }),
    );
  };

  const redraw = (runs: ComparedRun[]) => {
    const steps = [...new Set(runs.flatMap((r) => r.losses.map((l) => l.step)))].sort((a, b) => a - b);
    const series = runs.flatMap((r) => {
      const train = new Map(r.losses.map((l) => [l.step, l.loss]));
      const val = new Map(r.valLosses.map((l) => [l.step, l.loss]));
      return [steps.map((s) => train.get(s) ?? null), steps.map((s) => val.get(s) ?? null)];
    });
    chart?.set(steps, series);
  };

  byId('compare-start').onclick = () => {
    for (const w of workers) w.terminate();
    const chosen = [...document.querySelectorAll<HTMLInputElement>('input[name=compare]:checked')].map((box) => box.value);
    if (chosen.length < 1) return;
    const model = modelOptions();
    const trainLen = model.blockSize;
    const runs: ComparedRun[] = chosen.map((positional) => ({ positional, losses: [], valLosses: [], done: false, trainLen }));
    state.positions = runs;
    byId('compare-chart').replaceChildren();
    byId('compare-context').replaceChildren();
    contextChart = lineChart(byId('compare-context'), {
      title: `validation loss by context length (trained at ${trainLen})`,
      xLabel: 'context length (tokens)',
      yLabel: 'validation loss',
      series: chosen,
      width: 440,
      height: 320,
    });
    chart = lineChart(byId('compare-chart'), {
      title: 'loss per encoding: training (solid), validation (dashed)',
      xLabel: 'step',
      yLabel: 'loss',
      series: chosen.flatMap((p) => [`${p} train`, `${p} validation`]),
      styles: chosen.flatMap((_, i) => [{ color: i }, { color: i, dash: [6, 4] }]),
      width: 560,
      height: 320,
    });
    const encodings = byId('compare-encodings');
    encodings.replaceChildren();
    const steps = Math.max(1, Number(byId<HTMLInputElement>('compare-steps').value));
    const train = { ...trainOptions(), maxSteps: steps, evalEvery: Math.max(1, Math.floor(steps / 10)) };
    const text = corpus();
    byId('compare-status').textContent = `training ${chosen.join(', ')} for ${steps} steps each…`;
    workers = runs.map((run) => {
      const worker = startWorker('compare');
      const figure = html(`<figure><figcaption><b>${run.positional}</b></figcaption><div class="muted">training…</div></figure>`);
      encodings.append(figure);
      worker.listen((message: FromWorker) => {
        if (message.type === 'step') run.losses.push({ step: message.step, loss: message.loss });
        else if (message.type === 'eval') run.valLosses.push({ step: message.step, loss: message.valLoss });
        else if (message.type === 'context') {
          run.context = message.points;
          redrawContext(runs);
        }        else if (message.type === 'state' && message.done) {
          run.done = true;
          worker.send({ type: 'encoding' });
        } else if (message.type === 'encoding') {
          run.encoding = message.data;
          drawEncoding(figure, message.data);
          worker.terminate();
          if (runs.every((r) => r.encoding)) {
            byId('compare-status').textContent =
              `done: final validation loss ${runs.map((r) => `${r.positional} ${r.valLosses.at(-1)?.loss.toFixed(3)}`).join(', ')}; ` +
              `at ${ROOM}× the training length ${runs.map((r) => `${r.positional} ${r.context?.at(-1)?.loss.toFixed(3) ?? '–'}`).join(', ')}`;
          }
        }
        if (message.type === 'step' || message.type === 'eval') redraw(runs);
      });
      worker.send({
        type: 'start',
        text,
        model: { ...model, positional: run.positional as EncodingData['positional'], blockSize: ROOM * trainLen },
        train: { ...train, seqLen: trainLen },
        attentionPrompt: 'the',
        seed: 1,
        contextLengths: CONTEXT_FACTORS.map((f) => f * trainLen),
      });
      return worker;
    });
  };
}
