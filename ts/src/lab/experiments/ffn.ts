/**
 * `ffn`: GLU feed-forward layers (Shazeer 2020, "GLU Variants Improve Transformer"). A
 * character model on tinyshakespeare with each feed-forward block at (nearly) the same
 * parameter count — the MLP 4C wide, the GLUs 8C/3 (rounded up to 8) so that their three
 * matrices match the MLP's two — and the same steps: validation loss and time per step.
 */
import { CharTokenizer, type FfnKind, GPT, TokenDataset, Trainer } from '../../index.node.js';
import { type Experiment, type LabContext, readDataFile } from '../lab.js';
import { barChart, lineChart } from '../plot.js';
import { distinct, markdownTable, mean, meanOf, meanSd, sd, valuesOf } from '../stats.js';

/** The feed-forward kinds compared, the plain MLPs (GELU, ReLU) first. */
const FFNS: readonly FfnKind[] = ['gelu', 'relu', 'swiglu', 'geglu', 'reglu'];
const PLAIN: ReadonlySet<string> = new Set(['gelu', 'relu']);

/** Sizes of one run. */
interface Sizes {
  nLayer: number;
  nEmbd: number;
  nHead: number;
  blockSize: number;
  batchSize: number;
  steps: number;
  lr: number;
  evalInterval: number;
  evalBatches: number;
}

const DEFAULT: Sizes = {
  nLayer: 4,
  nEmbd: 64,
  nHead: 4,
  blockSize: 64,
  batchSize: 8,
  steps: 500,
  lr: 3e-3,
  evalInterval: 100,
  evalBatches: 40,
};
const QUICK: Sizes = { nLayer: 2, nEmbd: 32, nHead: 2, blockSize: 32, batchSize: 8, steps: 40, lr: 3e-3, evalInterval: 20, evalBatches: 4 };

async function run(ctx: LabContext): Promise<void> {
  const sizes = ctx.quick ? QUICK : DEFAULT;
  const text = readDataFile('tinyshakespeare.txt');
  const tokenizer = CharTokenizer.fromText(text);
  const { train, val } = TokenDataset.split(tokenizer.encode(text), 0.1);
  const bar = ctx.progress('train', ctx.seeds.length * FFNS.length * sizes.steps);
  for (const seed of ctx.seeds) {
    for (const ffn of FFNS) {
      const model = GPT.create(
        { vocabSize: tokenizer.vocabSize, blockSize: sizes.blockSize, nLayer: sizes.nLayer, nHead: sizes.nHead, nEmbd: sizes.nEmbd, ffn },
        { seed },
      );
      try {
        const trainer = new Trainer(
          model,
          { train, val },
          {
            batchSize: sizes.batchSize,
            maxSteps: sizes.steps,
            lr: sizes.lr,
            warmupSteps: Math.round(sizes.steps / 10),
            weightDecay: 0.1,
            beta2: 0.99,
            evalInterval: sizes.evalInterval,
            evalBatches: sizes.evalBatches,
            seed,
          },
        );
        const stepMs: number[] = [];
        trainer.on('step', (e) => {
          stepMs.push(e.stepMs);
          bar.tick();
        });
        await trainer.fit();
        const finalVal = trainer.history.val.at(-1)?.loss ?? Number.NaN;
        ctx.record({ variant: ffn, seed, metric: 'val_loss', value: finalVal });
        // The median step after the first 10% (warm-up of the JIT and the caches), robust to other load on the machine.
        ctx.record({ variant: ffn, seed, metric: 'ms_per_step', value: median(stepMs.slice(Math.ceil(stepMs.length / 10))) });
        ctx.record({ variant: ffn, seed, metric: 'params', value: model.numParams });
        ctx.record({ variant: ffn, seed, metric: 'ffn_hidden', value: model.config.ffnHidden });
        for (const p of trainer.history.val) ctx.record({ variant: ffn, seed, metric: 'val_loss_curve', value: p.loss, step: p.step });
      } finally {
        model.dispose();
      }
    }
  }
  bar.done();
  writeReport(ctx, sizes);
}

/** The median of the values (NaN for none). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function writeReport(ctx: LabContext, sizes: Sizes): void {
  const rows = ctx.rows();
  const table = markdownTable(
    ['feed-forward', 'hidden F', 'parameters', 'validation loss', 'gain over best plain MLP (paired by seed)', 'ms / step (median)'],
    FFNS.map((ffn) => [
      ffn,
      String(meanOf(rows, { variant: ffn, metric: 'ffn_hidden' })),
      meanOf(rows, { variant: ffn, metric: 'params' }).toLocaleString('en-US'),
      meanSd(valuesOf(rows, { variant: ffn, metric: 'val_loss' })),
      PLAIN.has(ffn) ? '—' : meanSd(pairedDeltas(rows, bestPlainOf(rows), ffn)),
      meanSd(valuesOf(rows, { variant: ffn, metric: 'ms_per_step' }), { digits: 1 }),
    ]),
  );
  ctx.writeFile(
    'val-loss.svg',
    barChart({
      title: `Validation loss after ${sizes.steps} steps (mean ± sd over ${ctx.seeds.length} seed(s))`,
      yLabel: 'validation loss (nats/char)',
      seriesNames: ['validation loss'],
      zeroBased: false,
      groups: FFNS.map((ffn) => {
        const values = valuesOf(rows, { variant: ffn, metric: 'val_loss' });
        return { label: ffn, values: [{ mean: mean(values), sd: sd(values) }] };
      }),
    }),
  );
  ctx.writeFile(
    'curves.svg',
    lineChart({
      title: 'Validation loss during training (mean over seeds)',
      xLabel: 'step',
      yLabel: 'validation loss (nats/char)',
      series: FFNS.map((ffn) => ({
        name: ffn,
        dashed: PLAIN.has(ffn),
        points: (
          distinct(
            rows.filter((r) => r.variant === ffn && r.metric === 'val_loss_curve'),
            'step',
          ) as number[]
        ).map((step) => {
          const values = valuesOf(rows, { variant: ffn, metric: 'val_loss_curve', step });
          return { x: step, y: mean(values), sd: sd(values) };
        }),
      })),
    }),
  );

  const glus = FFNS.filter((f) => !PLAIN.has(f));
  const loss = (ffn: string) => meanOf(rows, { variant: ffn, metric: 'val_loss' });
  const bestPlain = bestPlainOf(rows);
  const ranked = [...FFNS].sort((a, b) => loss(a) - loss(b));
  // Paired by seed (same data order and initial stream): d = loss(best plain MLP) − loss(GLU), > 0 when the GLU is better.
  // "Clear" when the mean difference exceeds twice its standard error over seeds.
  const gains = glus.map((g) => {
    const deltas = pairedDeltas(rows, bestPlain, g);
    return { g, d: mean(deltas), se: sd(deltas) / Math.sqrt(deltas.length) };
  });
  const clear = gains.filter((x) => ctx.seeds.length > 1 && x.d > 2 * x.se);
  const worse = gains.filter((x) => ctx.seeds.length > 1 && x.d < -2 * x.se);
  const gapText = (x: { g: string; d: number; se: number }) =>
    `${x.g} ${x.d >= 0 ? 'ahead' : 'behind'} by ${Math.abs(x.d).toFixed(3)} ± ${x.se.toFixed(3)}`;
  const paragraph: string[] = [];
  paragraph.push(`Ranked by mean validation loss: ${ranked.map((f) => `${f} ${loss(f).toFixed(3)}`).join(' < ')}.`);
  paragraph.push(
    ctx.seeds.length < 2
      ? 'With one seed there is no spread to compare the differences with, so this run cannot say whether they are real.'
      : clear.length === glus.length
        ? `Every GLU beats the best plain MLP (${bestPlain}) by more than twice the standard error of the paired difference (${gains.map(gapText).join('; ')} nats): the direction Shazeer reports${gains.every((x) => x.d > 0.03) ? ', with gaps of the order of his ≈ 0.04–0.05 nats' : ', with smaller gaps than his ≈ 0.04–0.05 nats'}.`
        : clear.length > 0
          ? `Against the best plain MLP (${bestPlain}), paired by seed: ${gains.map(gapText).join('; ')} nats (mean ± standard error). Only ${clear.map((x) => x.g).join(', ')} ${clear.length === 1 ? 'is' : 'are'} ahead by more than twice the standard error, so this run supports Shazeer's ordering only in part${clear.every((x) => x.d < 0.03) ? ', and with smaller gaps than his ≈ 0.04–0.05 nats' : ''}.`
          : worse.length > 0
            ? `Against the best plain MLP (${bestPlain}), paired by seed: ${gains.map(gapText).join('; ')} nats; ${worse.map((x) => x.g).join(', ')} ${worse.length === 1 ? 'is' : 'are'} clearly behind and no GLU clearly ahead: this run does not reproduce Shazeer's ordering.`
            : `Against the best plain MLP (${bestPlain}), paired by seed: ${gains.map(gapText).join('; ')} nats — none beyond twice its standard error: at this size and length of training the run cannot separate the feed-forward kinds.`,
  );
  const ms = (ffn: string) => meanOf(rows, { variant: ffn, metric: 'ms_per_step' });
  const gluSlowdown = mean(glus.map(ms)) / ms(bestPlain) - 1;
  paragraph.push(
    `Shazeer's gaps were measured after 65,536 steps of a T5-base-sized model on C4; a ${sizes.nLayer}-layer, ${sizes.nEmbd}-wide character model trained for ${sizes.steps} steps is far from that regime.`,
    `At equal parameters the GLUs took ${Math.abs(100 * gluSlowdown).toFixed(0)}% ${gluSlowdown >= 0 ? 'more' : 'less'} time per step than ${bestPlain} here (median step, mean over seeds; three smaller matrices instead of two larger ones, and timings on a shared machine are noisy).`,
  );
  const command = `npx wasmformer lab ffn --seeds ${ctx.seeds.length}${ctx.quick ? ' --quick' : ''}`;
  const report = `# ffn: GELU MLP vs gated linear units

**Command:** \`${command}\`

**What ran.** A character-level GPT on tinyshakespeare (90% train / 10% validation): ${sizes.nLayer} layers, ${sizes.nEmbd} wide,
${sizes.nHead} heads, block ${sizes.blockSize}, pre-LayerNorm, learned positions; batch ${sizes.batchSize}, ${sizes.steps} steps of AdamW at
lr ${sizes.lr} (10% warm-up, cosine to lr/10, β2 0.99, weight decay 0.1); the validation loss is the mean over ${sizes.evalBatches}
random validation batches at the end (the same batches for every variant of a seed). Feed-forward kinds: ${FFNS.join(', ')}, each at
the library's default width (MLP F = 4C; GLU F = 8C/3 rounded up to a multiple of 8: three matrices instead of two, so the parameter
count stays within ${paramGap(rows)}% of the MLP's). Seeds ${ctx.seeds.join(', ')}. Same settings for every variant; nothing tuned.

${table}
![validation loss](val-loss.svg)

![validation curves](curves.svg)

**The literature.** Shazeer 2020, "GLU Variants Improve Transformer" (arXiv:2002.05202), Table 1: a T5-base-sized model
pre-trained for 65,536 steps on C4, with the GLUs' hidden width cut to 2/3 so that parameters and computation match. Held-out
log-perplexity: FFN_ReLU 1.997, FFN_GELU 1.983, FFN_GEGLU 1.942, FFN_SwiGLU 1.944 — the GEGLU and SwiGLU models ≈ 0.04–0.05
nats ahead of the ReLU MLP, ReGLU close behind them. SwiGLU is the feed-forward of Llama, PaLM and most recent models.

**This run.** ${paragraph.join(' ')}
`;
  ctx.writeFile('report.md', report);
}

/** Per seed: loss(plain) − loss(glu) (> 0: the GLU is better), over the seeds both have. */
function pairedDeltas(rows: ReturnType<LabContext['rows']>, plain: string, glu: string): number[] {
  const seeds = [...new Set(rows.filter((r) => r.variant === glu && r.metric === 'val_loss').map((r) => r.seed))];
  return seeds
    .map(
      (seed) =>
        (valuesOf(rows, { variant: plain, seed, metric: 'val_loss' })[0] ?? Number.NaN) -
        (valuesOf(rows, { variant: glu, seed, metric: 'val_loss' })[0] ?? Number.NaN),
    )
    .filter(Number.isFinite);
}

/** The largest relative difference in parameter count between any feed-forward kind and the first one, in percent. */
function paramGap(rows: ReturnType<LabContext['rows']>): string {
  const base = meanOf(rows, { variant: FFNS[0] as string, metric: 'params' });
  return Math.max(...FFNS.map((f) => Math.abs(meanOf(rows, { variant: f, metric: 'params' }) / base - 1) * 100)).toFixed(1);
}

/** The best (lowest mean validation loss) plain MLP among the rows. */
function bestPlainOf(rows: ReturnType<LabContext['rows']>): string {
  const present = FFNS.filter((f) => PLAIN.has(f));
  return present.reduce((a, b) =>
    meanOf(rows, { variant: a, metric: 'val_loss' }) <= meanOf(rows, { variant: b, metric: 'val_loss' }) ? a : b,
  );
}

/** The `ffn` experiment. */
export const ffn: Experiment = {
  name: 'ffn',
  title: 'GELU (and ReLU) MLP vs SwiGLU, GEGLU, ReGLU at equal parameter count',
  run,
};
