/**
 * `recent`: the lecture's "most recent positional encodings", in the two settings where
 * positions matter most — length generalisation (as `length`) and train-short-test-long (as
 * `long-text`):
 *
 * - partial RoPE: rotate only a quarter of each head's dimensions (GPT-NeoX's `rotary_pct`,
 *   GPT-J, Phi); the rest attend by content alone;
 * - p-RoPE (Barbero et al. 2024, "Round and round we go"): drop the lowest quarter of RoPE's
 *   frequencies, which carry almost no positional signal over a short context but act as
 *   fixed, position-free "semantic channels" that become misaligned at long range;
 * - a RoPE/NoPE interleave: the last layer sees no positions (Llama 4 and SmolLM3 leave every
 *   fourth layer without RoPE; with two layers here, one of two);
 * - KERPLE (Chi et al. 2022): a learned logarithmic distance penalty per head, a
 *   learned-bias relative of ALiBi;
 * - YaRN (Peng et al. 2023): the RoPE model stretched to 8× its training context without
 *   retraining (long-text only: scaling does not change the short-context tasks).
 *
 * RoPE and no positions at all (NoPE) are the reference rows. Every variant has the same
 * model, data, steps and learning rate; nothing is tuned per variant.
 */
import { Rng, type TransformerConfigInput } from '../../index.node.js';
import type { Experiment, LabContext, LabRow } from '../lab.js';
import { lineChart } from '../plot.js';
import { markdownTable, meanOf, meanSd, sd, valuesOf } from '../stats.js';
import {
  type AlgorithmicTask,
  type TaskExample,
  type TaskTrainingSizes,
  makeExample,
  scoreModel,
  trainTaskModel,
} from '../tasks/algorithmic.js';
import { CHAR_LM_QUICK, CHAR_LM_SIZES, type CharLmSizes, loadShakespeare, perplexity, trainCharModel, withRope } from '../tasks/char-lm.js';

/** The variants: a name and the configuration that differs from plain RoPE. */
const VARIANTS: readonly { name: string; config: Partial<TransformerConfigInput> }[] = [
  { name: 'rope', config: { positional: 'rope' } },
  { name: 'partial rope 25%', config: { positional: 'rope', ropeFraction: 0.25 } },
  { name: 'p-rope 75%', config: { positional: 'rope', ropeKeepFrequencies: 0.75 } },
  { name: 'rope, last layer nope', config: { positional: 'rope', noPositionLayers: [1] } },
  { name: 'kerple', config: { positional: 'kerple' } },
  { name: 'none', config: { positional: 'none' } },
];
const YARN = 'rope+YaRN ×8 (0-shot)';

const TASKS: readonly AlgorithmicTask[] = ['copy', 'addition'];
const TRAIN_MAX = 16;
const BUCKETS = [
  { lo: 1, hi: 16 },
  { lo: 17, hi: 32 },
  { lo: 33, hi: 48 },
  { lo: 49, hi: 64 },
] as const;
const TEST_MAX = 64;
const LENGTHS = [64, 128, 256, 512] as const;
const LONGEST = 512;

/** Sizes of both parts (the model has two layers in both, so "last layer" is one of two). */
interface Sizes {
  task: TaskTrainingSizes & { perBucket: number };
  char: CharLmSizes & { valChars: number };
}
const DEFAULT: Sizes = {
  task: { nLayer: 2, nHead: 4, nEmbd: 32, batchSize: 32, steps: 400, lr: 5e-3, warmup: 40, perBucket: 48 },
  char: { ...CHAR_LM_SIZES, valChars: 8_192 },
};
const QUICK: Sizes = {
  task: { nLayer: 2, nHead: 4, nEmbd: 32, batchSize: 16, steps: 12, lr: 5e-3, warmup: 2, perBucket: 4 },
  char: { ...CHAR_LM_QUICK, valChars: 2_048 },
};

const bucketName = (b: { lo: number; hi: number }): string => `${b.lo}-${b.hi}`;

/** `perBucket` test examples per bucket, the same for every variant and seed. */
function testSet(task: AlgorithmicTask, perBucket: number, rng: Rng): TaskExample[][] {
  return BUCKETS.map((b) => Array.from({ length: perBucket }, () => makeExample(task, b.lo + rng.nextInt(b.hi - b.lo + 1), rng)));
}

/** Part 1: each variant learns `task` at lengths 1–16; exact match per length bucket up to 64. */
async function lengthPart(ctx: LabContext, sizes: Sizes['task'], tick: () => void): Promise<void> {
  for (const task of TASKS) {
    const tests = testSet(task, sizes.perBucket, new Rng(70_001 + TASKS.indexOf(task)));
    for (const seed of ctx.seeds) {
      for (const variant of VARIANTS) {
        const { model } = await trainTaskModel({ task, config: variant.config, sizes, trainMax: TRAIN_MAX, testMax: TEST_MAX, seed });
        using trained = model;
        BUCKETS.forEach((bucket, i) => {
          const value = scoreModel(trained, tests[i] as TaskExample[]).exact;
          ctx.record({ variant: variant.name, seed, metric: 'exact_match', value, task, bucket: bucketName(bucket) });
        });
        tick();
      }
    }
  }
}

/** Part 2: each variant as a character model trained at 64; held-out perplexity at 64–512. */
async function longTextPart(ctx: LabContext, sizes: Sizes['char'], tick: () => void): Promise<void> {
  const corpus = loadShakespeare(sizes.valChars);
  for (const seed of ctx.seeds) {
    for (const variant of VARIANTS) {
      const { model } = await trainCharModel({ corpus, sizes, config: variant.config, seed, onStep: () => {} });
      using trained = model;
      for (const len of LENGTHS) {
        ctx.record({ variant: variant.name, seed, metric: 'ppl', value: perplexity(trained, corpus.val, { len, mode: 'chunks' }), len });
      }
      if (variant.name === 'rope') {
        using yarn = withRope(trained, {
          ropeScaling: { type: 'yarn', factor: LONGEST / sizes.trainLen, originalMaxPositionEmbeddings: sizes.trainLen },
        });
        for (const len of LENGTHS)
          ctx.record({ variant: YARN, seed, metric: 'ppl', value: perplexity(yarn, corpus.val, { len, mode: 'chunks' }), len });
      }
      tick();
    }
  }
}

/**
 * YaRN at 512 against plain RoPE, the same trained weights: a difference counts when it clears
 * 1% of RoPE's perplexity and twice RoPE's spread over seeds.
 */
function yarnVerdict(rows: readonly LabRow[]): string {
  const at = (variant: string, len: number) => meanOf(rows, { variant, metric: 'ppl', len });
  const [yarn, rope] = [at(YARN, LONGEST), at('rope', LONGEST)];
  const spread = valuesOf(rows, { variant: 'rope', metric: 'ppl', len: LONGEST });
  const noise = Math.max(0.01 * rope, spread.length > 1 ? 2 * sd(spread) : 0);
  const both = `(${yarn.toFixed(2)} against ${rope.toFixed(2)}; at 64: ${at(YARN, 64).toFixed(2)} against ${at('rope', 64).toFixed(2)})`;
  if (Math.abs(yarn - rope) <= noise) {
    return `YaRN, applied to the trained RoPE model without retraining, changes perplexity at 512 by less than the noise ${both}: at a training context of 64 the low frequencies YaRN interpolates have barely turned, so there is little for it to rescale. Peng et al. report its zero-shot gains on models trained at 2–4k tokens.`;
  }
  return yarn < rope
    ? `YaRN, applied to the trained RoPE model without retraining, lowers perplexity at 512 ${both}, as Peng et al. report for much larger models.`
    : `YaRN, applied to the trained RoPE model without retraining, raises perplexity at 512 ${both}; Peng et al. report zero-shot gains on models trained at 2–4k tokens, where the low frequencies it interpolates have turned enough to be learned, which at a training context of 64 they have not.`;
}

/** Mean exact match over tasks in the buckets past the training length. */
function beyond(rows: readonly LabRow[], variant: string): number {
  const values = TASKS.flatMap((task) =>
    BUCKETS.slice(1).map((b) => meanOf(rows, { variant, metric: 'exact_match', task, bucket: bucketName(b) })),
  );
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function writeReport(ctx: LabContext, sizes: Sizes): void {
  const rows = ctx.rows();
  const names = VARIANTS.map((v) => v.name);
  const lengthTable = markdownTable(
    ['variant', ...TASKS.flatMap((task) => BUCKETS.map((b) => `${task} ${bucketName(b)}`))],
    names.map((variant) => [
      variant,
      ...TASKS.flatMap((task) =>
        BUCKETS.map((b) =>
          meanSd(valuesOf(rows, { variant, metric: 'exact_match', task, bucket: bucketName(b) }), { percent: true, digits: 2 }),
        ),
      ),
    ]),
  );
  const pplNames = [...names, YARN];
  const pplTable = markdownTable(
    ['variant', ...LENGTHS.map((len) => `ppl @ ${len}`)],
    pplNames.map((variant) => [variant, ...LENGTHS.map((len) => meanSd(valuesOf(rows, { variant, metric: 'ppl', len }), { digits: 2 }))]),
  );
  ctx.writeFile(
    'length.svg',
    lineChart({
      title: 'Exact match by input length (trained on 1–16), mean over copy and addition',
      xLabel: 'input digits (bucket upper end)',
      yLabel: 'exact match',
      series: names.map((variant) => ({
        name: variant,
        points: BUCKETS.map((b) => ({
          x: b.hi,
          y:
            TASKS.map((task) => meanOf(rows, { variant, metric: 'exact_match', task, bucket: bucketName(b) })).reduce((a, c) => a + c, 0) /
            TASKS.length,
        })),
      })),
      hLines: [{ y: 0, label: '' }],
    }),
  );
  ctx.writeFile(
    'long-text.svg',
    lineChart({
      title: `Held-out perplexity by context length (trained at ${sizes.char.trainLen})`,
      xLabel: 'context length (characters)',
      yLabel: 'perplexity',
      logX: true,
      logY: true,
      series: pplNames.map((variant) => ({
        name: variant,
        dashed: variant === YARN,
        points: LENGTHS.map((len) => ({ x: len, y: meanOf(rows, { variant, metric: 'ppl', len }) })),
      })),
    }),
  );

  // Verdicts computed from the numbers.
  const ranked = [...names].sort((a, b) => beyond(rows, b) - beyond(rows, a));
  const ppl512 = (variant: string) => meanOf(rows, { variant, metric: 'ppl', len: LONGEST });
  const ppl64 = (variant: string) => meanOf(rows, { variant, metric: 'ppl', len: 64 });
  const growth = (variant: string) => ppl512(variant) / ppl64(variant);
  const steadiest = [...pplNames].sort((a, b) => growth(a) - growth(b));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lengthVerdict = `Past the training length (buckets 17–64, mean over copy and addition), exact match ranks ${ranked.map((v) => `${v} (${pct(beyond(rows, v))})`).join(' > ')}. ${
    ranked.every((v) => beyond(rows, v) < 0.05)
      ? 'No variant generalises to longer inputs at this size: exact match of a whole long output is a hard criterion, and these two-layer models trained for a few hundred steps do not learn the length-independent algorithm. The ranking is then one of near-zero numbers and says little.'
      : 'Differences of a few points are within the spread over seeds (see the table).'
  }`;
  const textVerdict = `From 64 to 512 characters of context, perplexity grows least for ${steadiest
    .slice(0, 3)
    .map((v) => `${v} (×${growth(v).toFixed(2)})`)
    .join(', ')} and most for ${steadiest
    .slice(-2)
    .map((v) => `${v} (×${growth(v).toFixed(2)})`)
    .join(' and ')}. ${yarnVerdict(rows)}`;
  const n = ctx.seeds.length;
  const report = `# recent — recent positional encodings: partial RoPE, p-RoPE, a RoPE/NoPE interleave, KERPLE, YaRN

**Run:** \`wasmformer lab recent${ctx.quick ? ' --quick' : ''} --seeds ${n}\`. Mean ± standard deviation over ${n} seed${n === 1 ? '' : 's'}; every variant has the same model, data, steps and learning rate.

- **partial rope 25%**: \`ropeFraction: 0.25\` — a quarter of each head's dimensions rotate (GPT-NeoX, GPT-J, Phi).
- **p-rope 75%**: \`ropeKeepFrequencies: 0.75\` — the lowest quarter of RoPE's frequencies dropped (Barbero et al. 2024).
- **rope, last layer nope**: \`noPositionLayers: [1]\` — the second of two layers sees no positions (the interleave of Llama 4 and SmolLM3, every fourth layer there).
- **kerple**: \`positional: 'kerple'\` — a learned logarithmic distance penalty per head (Chi et al. 2022).
- **${YARN}**: the trained \`rope\` model with \`ropeScaling: { type: 'yarn', factor: 8, originalMaxPositionEmbeddings: ${sizes.char.trainLen} }\` (Peng et al. 2023), no retraining.

## Length generalisation

Two-layer GPTs (${sizes.task.nEmbd} wide) learn copy and addition (digits least significant first) on inputs of 1–${TRAIN_MAX} digits for ${sizes.task.steps} steps, and are scored on ${sizes.task.perBucket} inputs per bucket up to ${TEST_MAX} digits: exact match of the greedy output (as the \`length\` experiment).

${lengthTable}
![exact match by length](length.svg)

${lengthVerdict}

## Train short, test long

Character GPTs (${sizes.char.nLayer} layers, ${sizes.char.nEmbd} wide) trained at ${sizes.char.trainLen} characters for ${sizes.char.steps} steps on Tiny Shakespeare; held-out perplexity on non-overlapping windows of each length (as the \`long-text\` experiment).

${pplTable}
![perplexity by context length](long-text.svg)

${textVerdict}

## What the literature says, and why this run may differ

- Partial RoPE: GPT-NeoX and GPT-J rotate 25% of dimensions with no loss in quality; the unrotated dimensions attend by content at any distance.
- p-RoPE (Barbero et al. 2024): removing the lowest frequencies improves Gemma-scale models, because those frequencies are used as position-free channels that drift at long range.
- RoPE/NoPE interleaves (Yang et al. 2025, "Rope to Nope and back again"): NoPE layers help long-context retrieval while RoPE layers keep local order.
- KERPLE (Chi et al. 2022): its logarithmic variant extrapolates better than ALiBi and T5 buckets on language modelling past the training length.
- YaRN (Peng et al. 2023): extends Llama 2's context 16–32× with little fine-tuning, and helps zero-shot.

These results come from models of hundreds of millions of parameters, trained at 2–8k tokens. Here the models have two layers and 25–110 thousand parameters, and train for minutes at 16 digits or 64 characters, so most of RoPE's low frequencies never complete a turn during training — the regime these methods are designed for is not reached. Read these tables as what each option does to a small model in the same budget, not as a replication.
`;
  ctx.writeFile('report.md', report);
}

async function run(ctx: LabContext): Promise<void> {
  const sizes = ctx.quick ? QUICK : DEFAULT;
  const bar = ctx.progress('recent', ctx.seeds.length * VARIANTS.length * (TASKS.length + 1));
  await lengthPart(ctx, sizes.task, () => bar.tick());
  await longTextPart(ctx, sizes.char, () => bar.tick());
  bar.done();
  writeReport(ctx, sizes);
}

/** The `recent` experiment. */
export const recent: Experiment = {
  name: 'recent',
  title: 'Recent positional encodings (partial RoPE, p-RoPE, RoPE/NoPE interleave, KERPLE, YaRN) in length and long-text',
  run,
};
