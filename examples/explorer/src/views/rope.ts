/**
 * RoPE clock: RoPE turns each pair of a head's dimensions by the angle position × θᵢ, with
 * θᵢ = base^(−2i/D): every pair is a clock hand, fast for the first pairs and slow for the last.
 * q·k then depends only on the angle difference, so on the offset m − n: the scores below come
 * from the package's rope kernel for a random q and k, and the curves for different starting
 * positions n lie on top of each other.
 */
import { lineChart } from '../chart';
import type { FromWorker, RopeRequest } from '../protocol';
import { byId, html, state } from '../state';
import type { WorkerClient } from '../worker-client';

/** Positions the scores cover. */
const POSITIONS = 96;
/** The starting positions n whose curves are compared. */
const STARTS = [0, 16, 32];
const OFFSETS = POSITIONS - STARTS.at(-1)!;

function request(seed: number): RopeRequest {
  const num = (id: string) => Number(byId<HTMLInputElement>(id).value);
  return { headDim: num('rope-d'), base: 10 ** num('rope-base'), factor: num('rope-factor'), positions: POSITIONS, seed };
}

/** `scores: [P, P]` → one curve per start n: score(n + δ, n) for δ = 0 … OFFSETS − 1; and the largest gap between them relative to the largest |score|. */
export function shiftCurves(scores: Float32Array, p: number): { curves: number[][]; maxShiftGap: number } {
  const curves = STARTS.map((n) => Array.from({ length: OFFSETS }, (_, d) => scores[(n + d) * p + n]!));
  let gap = 0;
  let scale = 0;
  for (const curve of curves) {
    curve.forEach((v, d) => {
      gap = Math.max(gap, Math.abs(v - curves[0]![d]!));
      scale = Math.max(scale, Math.abs(v));
    });
  }
  return { curves, maxShiftGap: gap / (scale || 1) };
}

function drawClocks(canvas: HTMLCanvasElement, r: RopeRequest, position: number): void {
  const pairs = r.headDim / 2;
  const perRow = Math.min(pairs, 16);
  const [cell, radius] = [58, 22];
  canvas.width = perRow * cell;
  canvas.height = Math.ceil(pairs / perRow) * (cell + 14);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = '10px sans-serif';
  ctx.textAlign = 'center';
  for (let i = 0; i < pairs; i++) {
    const theta = r.base ** ((-2 * i) / r.headDim) / r.factor;
    const cx = (i % perRow) * cell + cell / 2;
    const cy = Math.floor(i / perRow) * (cell + 14) + cell / 2;
    ctx.strokeStyle = '#999';
    ctx.beginPath();
    ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
    ctx.stroke();
    // Where the hand has been at positions 0 … position (faint), then where it is (blue).
    ctx.fillStyle = 'rgba(0, 114, 178, 0.25)';
    for (let p = 0; p < position; p++) {
      const a = p * theta;
      ctx.fillRect(cx + radius * Math.sin(a) - 1, cy - radius * Math.cos(a) - 1, 2, 2);
    }
    const angle = position * theta;
    ctx.strokeStyle = '#0072B2';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx, cy);
    ctx.lineTo(cx + radius * 0.9 * Math.sin(angle), cy - radius * 0.9 * Math.cos(angle));
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.fillStyle = '#444';
    ctx.fillText(`pair ${i}`, cx, cy + radius + 11);
  }
}

export function setupRopeView(root: HTMLElement, worker: WorkerClient, headDim: () => number): void {
  root.append(
    html(`<div>
      <p>RoPE rotates each pair <i>i</i> of a head's dimensions by the angle <i>position × θ<sub>i</sub></i>,
      θ<sub>i</sub> = base<sup>−2i/D</sup>: each pair is a clock hand, the first ones fast, the last ones slow. To compare
      a query at position <i>m</i> with a key at <i>n</i>, attention only sees the difference of their angles, so the
      score q·k depends on <i>m − n</i> alone.</p>
      <fieldset>
        <label>head size D <input id="rope-d" type="number" min="2" step="2" value="16"></label>
        <label>base 10^<input id="rope-base" type="range" min="1" max="6" step="0.1" value="4"> <span id="rope-base-value"></span></label>
        <label>position scaling ÷<input id="rope-factor" type="range" min="1" max="8" step="0.5" value="1"> <span id="rope-factor-value"></span></label>
        <label>position <input id="rope-position" type="range" min="0" max="${POSITIONS - 1}" value="10"> <span id="rope-position-value"></span></label>
        <button id="rope-reseed">new random q, k</button>
      </fieldset>
      <canvas id="rope-clocks"></canvas>
      <div class="row"><div id="rope-freq"></div><div id="rope-scores"></div></div>
      <p id="rope-status" class="muted"></p>
    </div>`),
  );
  byId<HTMLInputElement>('rope-d').value = String(headDim());
  const frequencies = lineChart(byId('rope-freq'), {
    title: 'pair frequencies θᵢ (radians per position)',
    xLabel: 'pair i',
    yLabel: 'θᵢ',
    series: ['θᵢ'],
    width: 420,
    logY: true,
    points: true,
  });
  const scores = lineChart(byId('rope-scores'), {
    title: 'q·k against the offset m − n, for three starting positions n',
    xLabel: 'offset m − n',
    yLabel: 'q·k',
    series: STARTS.map((n) => `n = ${n}`),
    // Dashed and dotted, so that the curves show through each other where they coincide.
    styles: [{ color: 0 }, { color: 1, dash: [10, 6] }, { color: 2, dash: [2, 6] }],
    width: 560,
  });
  let seed = 1;
  let sent = false;
  const update = () => {
    const r = request(seed);
    if (!(r.headDim >= 2 && r.headDim % 2 === 0)) return;
    const position = Number(byId<HTMLInputElement>('rope-position').value);
    byId('rope-base-value').textContent = Math.round(r.base).toLocaleString();
    byId('rope-factor-value').textContent = String(r.factor);
    byId('rope-position-value').textContent = String(position);
    drawClocks(byId<HTMLCanvasElement>('rope-clocks'), r, position);
    const pairs = Array.from({ length: r.headDim / 2 }, (_, i) => i);
    frequencies.set(pairs, [pairs.map((i) => r.base ** ((-2 * i) / r.headDim) / r.factor)]);
    if (!sent) {
      sent = true;
      worker.send({ type: 'rope', rope: r });
    }
  };
  worker.listen((message: FromWorker) => {
    if (message.type !== 'rope') return;
    sent = false;
    const { curves, maxShiftGap } = shiftCurves(message.data.scores, message.data.request.positions);
    state.rope = { ...message.data, maxShiftGap };
    scores.set(
      Array.from({ length: OFFSETS }, (_, d) => d),
      curves,
    );
    byId('rope-status').textContent =
      `D = ${message.data.request.headDim}, base ${Math.round(message.data.request.base)}, scaling ÷${message.data.request.factor}: ` +
      `the three curves differ by at most ${(maxShiftGap * 100).toExponential(1)} % of the largest score (float32 rounding)`;
    // The sliders may have moved while the kernel ran.
    const now = request(seed);
    const asked = message.data.request;
    if (now.headDim !== asked.headDim || now.base !== asked.base || now.factor !== asked.factor || now.seed !== asked.seed) update();
  });
  for (const id of ['rope-d', 'rope-base', 'rope-factor', 'rope-position']) byId(id).addEventListener('input', update);
  byId('rope-reseed').onclick = () => {
    seed += 1;
    update();
  };
  update();
}
