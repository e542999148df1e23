/**
 * `nsp`: does a sentence-pair objective help BERT's pretraining?
 *
 * BERT (Devlin et al. 2019, §5.1) pretrained with masked-LM plus next-sentence prediction
 * (NSP: is B the sentence after A, or a random one?) and reported that removing NSP hurt
 * QNLI, MNLI and SQuAD. RoBERTa (Liu et al. 2019, §4.2) found the opposite once the inputs
 * were full-length: dropping NSP matched or improved downstream results. ALBERT (Lan et al.
 * 2020, §4.6) argued NSP is too easy — a random B is usually about another topic — and
 * replaced it with sentence-order prediction (SOP: A and B are consecutive, in order or
 * swapped), which helped its multi-sentence tasks.
 *
 * Here: the same small BERT is pretrained on Tiny Shakespeare's speeches (a speech is a
 * document, its lines the sentences) with masked-LM alone, + NSP, or + SOP, then fine-tuned on
 * (1) a sentence-pair task built from speeches held out of pretraining — does line B follow
 * line A? — and (2) SST-2 sentiment when GLUE's SST-2 is present; a fourth arm fine-tunes
 * the same encoder from random weights, so the report shows whether pretraining helps at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERT, ClassificationDataset, MaskedLMDataset, Rng, Trainer, WordPieceTokenizer } from '../../index.node.js';
import { type Experiment, type LabContext, packageRoot, readDataFile } from '../lab.js';
import { barChart } from '../plot.js';
import { mean, meanOf, sd, summaryTable, valuesOf } from '../stats.js';

/** The pretraining objectives compared, and the no-pretraining baseline. */
const OBJECTIVES = ['none', 'mlm', 'mlm+nsp', 'mlm+sop'] as const;
type Objective = (typeof OBJECTIVES)[number];

/** Sizes of one run (default and `--quick`). */
interface Sizes {
  /** Characters of Tiny Shakespeare read. */
  chars: number;
  vocabSize: number;
  nLayer: number;
  nEmbd: number;
  pretrainSteps: number;
  finetuneSteps: number;
  /** Pairs of the pair task (train; dev is a quarter). */
  pairs: number;
  /** SST-2 training sentences used (dev is the whole dev set in default sizes). */
  sst2Train: number;
  sst2Dev: number;
}

const DEFAULT: Sizes = {
  chars: 1_115_394,
  vocabSize: 2000,
  nLayer: 2,
  nEmbd: 64,
  pretrainSteps: 500,
  finetuneSteps: 150,
  pairs: 3000,
  sst2Train: 4800,
  sst2Dev: 872,
};
const QUICK: Sizes = {
  chars: 120_000,
  vocabSize: 400,
  nLayer: 1,
  nEmbd: 32,
  pretrainSteps: 15,
  finetuneSteps: 10,
  pairs: 200,
  sst2Train: 200,
  sst2Dev: 100,
};
const BLOCK = 64;
const BATCH = 32;

/** A speech: the lines after its speaker's name, lower-cased. */
function speeches(text: string): string[][] {
  return text
    .split(/\n\s*\n/)
    .map((block) =>
      block
        .split('\n')
        .slice(1)
        .map((line) => line.trim().toLowerCase())
        .filter((line) => line.length > 0),
    )
    .filter((lines) => lines.length > 0);
}

/** GLUE SST-2's `train.tsv` and `dev.tsv` from `dir` (a `label` column and a text column), or null when absent. */
function readSst2(dir: string): { train: [string, number][]; dev: [string, number][] } | null {
  const read = (file: string): [string, number][] => {
    const [header = '', ...rows] = readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);
    const columns = header.split('\t');
    const labelAt = columns.indexOf('label');
    const textAt = labelAt === 0 ? 1 : 0;
    return rows.map((row) => {
      const cells = row.split('\t');
      return [cells[textAt] ?? '', Number(cells[labelAt])];
    });
  };
  if (!existsSync(join(dir, 'train.tsv')) || !existsSync(join(dir, 'dev.tsv'))) return null;
  return { train: read('train.tsv'), dev: read('dev.tsv') };
}

/** Where SST-2 is looked for: `$WASMFORMER_SST2_DIR`, else `data/sst2/` of the clone. */
function sst2Dir(): string {
  return process.env.WASMFORMER_SST2_DIR ?? join(packageRoot(), 'data', 'sst2');
}

/**
 * The pair task on held-out speeches: does line B directly follow line A in its speech (label 1),
 * or is B a line of another speech (label 0)? Balanced; speeches are split between train and
 * dev, so dev speeches are unseen.
 */
function pairTask(
  held: readonly string[][],
  count: number,
  seed: number,
): { train: [string, string][]; trainLabels: number[]; dev: [string, string][]; devLabels: number[] } {
  const usable = held.filter((s) => s.length >= 2);
  const cut = Math.floor(usable.length * 0.75);
  const make = (pool: readonly string[][], n: number, rng: Rng) => {
    const inputs: [string, string][] = [];
    const labels: number[] = [];
    while (inputs.length < n) {
      const a = pool[rng.nextInt(pool.length)] as string[];
      const i = rng.nextInt(a.length - 1);
      if (inputs.length % 2 === 0) {
        inputs.push([a[i] as string, a[i + 1] as string]);
        labels.push(1);
      } else {
        let b = pool[rng.nextInt(pool.length)] as string[];
        while (b === a) b = pool[rng.nextInt(pool.length)] as string[];
        inputs.push([a[i] as string, b[rng.nextInt(b.length)] as string]);
        labels.push(0);
      }
    }
    return { inputs, labels };
  };
  const train = make(usable.slice(0, cut), count, new Rng(seed));
  const dev = make(usable.slice(cut), Math.ceil(count / 4), new Rng(seed + 7919));
  return { train: train.inputs, trainLabels: train.labels, dev: dev.inputs, devLabels: dev.labels };
}

/** Accuracy of `model` on `inputs` against `labels`. */
function accuracy(
  model: BERT,
  tokenizer: WordPieceTokenizer,
  inputs: readonly (string | [string, string])[],
  labels: readonly number[],
): number {
  let correct = 0;
  for (let start = 0; start < inputs.length; start += 64) {
    const part = inputs.slice(start, start + 64);
    model.predict(tokenizer, part, { maxLength: BLOCK }).forEach((p, i) => {
      if (p.label === labels[start + i]) correct++;
    });
  }
  return correct / inputs.length;
}

/** Fine-tunes a classifier on `train` and returns its dev accuracy. */
async function finetune(
  encoder: BERT,
  tokenizer: WordPieceTokenizer,
  task: {
    train: readonly (string | [string, string])[];
    trainLabels: readonly number[];
    dev: readonly (string | [string, string])[];
    devLabels: readonly number[];
  },
  steps: number,
  seed: number,
): Promise<number> {
  using classifier = encoder.withClassifier(2, { seed });
  const train = ClassificationDataset.fromTexts(tokenizer, task.train, task.trainLabels, { maxLength: BLOCK });
  await new Trainer(classifier, { train }, { batchSize: BATCH, maxSteps: steps, lr: 1e-3, warmupSteps: Math.ceil(steps / 10), seed }).fit();
  return accuracy(classifier, tokenizer, task.dev, task.devLabels);
}

async function run(ctx: LabContext): Promise<void> {
  const sizes = ctx.quick ? QUICK : DEFAULT;
  const all = speeches(readDataFile('tinyshakespeare.txt').slice(0, sizes.chars));
  // The last 20% of speeches never reach pretraining: the pair task is built from them.
  const split = Math.floor(all.length * 0.8);
  const pretrainSpeeches = all.slice(0, split);
  const held = all.slice(split);
  const tokenizer = WordPieceTokenizer.train(pretrainSpeeches.flat(), { vocabSize: sizes.vocabSize });
  const { clsId, sepId, padId, maskId, vocabSize } = tokenizer;
  const documents = pretrainSpeeches.map((lines) => lines.map((l) => tokenizer.encode(l, undefined, { addSpecialTokens: false }).inputIds));
  const unigram = unigramEntropy(documents.flat(), vocabSize);
  const sst2 = readSst2(sst2Dir());
  if (!sst2) {
    ctx.log(
      `SST-2 not found in ${sst2Dir()}: only the pair task runs. Get GLUE's SST-2 (see data/README.md) and pass its folder as WASMFORMER_SST2_DIR.`,
    );
  }
  const sst2Task = sst2 && {
    train: sst2.train.slice(0, sizes.sst2Train).map(([text]) => text),
    trainLabels: sst2.train.slice(0, sizes.sst2Train).map(([, label]) => label),
    dev: sst2.dev.slice(0, sizes.sst2Dev).map(([text]) => text),
    devLabels: sst2.dev.slice(0, sizes.sst2Dev).map(([, label]) => label),
  };
  const config = { vocabSize, blockSize: BLOCK, nLayer: sizes.nLayer, nHead: 4, nEmbd: sizes.nEmbd, dropout: 0.1 };
  const bar = ctx.progress('nsp', OBJECTIVES.length * ctx.seeds.length);
  for (const seed of ctx.seeds) {
    const pairs = pairTask(held, sizes.pairs, seed);
    for (const objective of OBJECTIVES) {
      const pairObjective = objective === 'mlm+nsp' ? { nsp: true } : objective === 'mlm+sop' ? { sop: true } : {};
      using encoder = BERT.create({ ...config, nClasses: objective === 'mlm' || objective === 'none' ? 0 : 2 }, { seed });
      if (objective !== 'none') {
        const data = new MaskedLMDataset(documents, { clsId, sepId, padId, maskId, vocabSize }, pairObjective);
        const trainer = new Trainer(
          encoder,
          { train: data },
          {
            batchSize: BATCH,
            seqLen: BLOCK,
            maxSteps: sizes.pretrainSteps,
            lr: 2e-3,
            warmupSteps: Math.ceil(sizes.pretrainSteps / 20),
            weightDecay: 0.01,
            seed,
          },
        );
        const result = await trainer.fit();
        ctx.record({ variant: objective, seed, metric: 'pretrain_loss', value: result.finalLoss });
      }
      ctx.record({
        variant: objective,
        seed,
        metric: 'pairs_dev_accuracy',
        value: await finetune(encoder, tokenizer, pairs, sizes.finetuneSteps, seed),
      });
      if (sst2Task) {
        ctx.record({
          variant: objective,
          seed,
          metric: 'sst2_dev_accuracy',
          value: await finetune(encoder, tokenizer, sst2Task, sizes.finetuneSteps, seed),
        });
      }
      bar.tick();
    }
  }
  bar.done();
  writeReport(ctx, sizes, { withSst2: Boolean(sst2Task), unigram, devPairs: Math.ceil(sizes.pairs / 4) });
}

/** Entropy (nats) of the tokens' frequencies: the masked-LM loss of a model that knows only them. */
function unigramEntropy(sentences: readonly ArrayLike<number>[], vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  let total = 0;
  for (const sentence of sentences) {
    for (let i = 0; i < sentence.length; i++) counts[sentence[i] as number] = (counts[sentence[i] as number] ?? 0) + 1;
    total += sentence.length;
  }
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

/** What the report needs besides the rows. */
interface ReportFacts {
  withSst2: boolean;
  /** Unigram entropy of the pretraining tokens (nats). */
  unigram: number;
  /** Dev pairs of the pair task. */
  devPairs: number;
}

function writeReport(ctx: LabContext, sizes: Sizes, facts: ReportFacts): void {
  const { withSst2, unigram, devPairs } = facts;
  const rows = ctx.rows();
  const metrics = ['pairs_dev_accuracy', ...(withSst2 ? ['sst2_dev_accuracy'] : [])];
  const labels: Record<string, string> = {
    pretrain_loss: 'pretraining loss (last step)',
    pairs_dev_accuracy: 'next-line pairs, dev accuracy',
    sst2_dev_accuracy: 'SST-2 dev accuracy',
  };
  const format = { pairs_dev_accuracy: { percent: true }, sst2_dev_accuracy: { percent: true } };
  const chart = barChart({
    title: 'Fine-tuned dev accuracy by pretraining objective',
    yLabel: 'dev accuracy',
    seriesNames: metrics.map((m) => labels[m] as string),
    groups: OBJECTIVES.map((objective) => ({
      label: objective === 'none' ? 'no pretraining' : objective,
      values: metrics.map((metric) => {
        const values = valuesOf(rows, { variant: objective, metric });
        return { mean: mean(values), sd: values.length > 1 ? sd(values) : 0 };
      }),
    })),
    hLines: [{ y: 0.5, label: 'chance' }],
    zeroBased: false,
  });
  ctx.writeFile('accuracy.svg', chart);

  const pairs = (objective: Objective) => meanOf(rows, { variant: objective, metric: 'pairs_dev_accuracy' });
  // The noise a difference must clear: the larger of the spread over seeds and the sampling
  // error of a dev set this size (binomial, at 50%), doubled.
  const seedSpread = mean(
    OBJECTIVES.map((o) => valuesOf(rows, { variant: o, metric: 'pairs_dev_accuracy' })).map((v) => (v.length > 1 ? sd(v) : 0)),
  );
  const noise = 2 * Math.max(seedSpread, Math.sqrt(0.25 / devPairs));
  const pretrained = (['mlm', 'mlm+nsp', 'mlm+sop'] as const).map(pairs);
  const pretrainingGain = Math.max(...pretrained) - pairs('none');
  const nspGain = pairs('mlm+nsp') - pairs('mlm');
  const sopGain = pairs('mlm+sop') - pairs('mlm');
  const mlmLoss = meanOf(rows, { variant: 'mlm', metric: 'pretrain_loss' });
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} points`;
  const n = ctx.seeds.length;
  const comparison =
    pretrainingGain <= noise
      ? `No pretrained arm beats fine-tuning from random weights by more than the noise (±${(100 * noise).toFixed(1)} points: twice the larger of the spread over seeds and the dev set's sampling error): the best is ${pts(pretrainingGain)}. At this scale pretraining did not learn anything that transfers, so the differences between objectives (NSP ${pts(nspGain)}, SOP ${pts(sopGain)} against masked-LM alone) cannot speak for or against BERT, RoBERTa or ALBERT.`
      : [
          `The best pretrained arm is ${pts(pretrainingGain)} against fine-tuning from random weights (noise ±${(100 * noise).toFixed(1)} points).`,
          `Against masked-LM alone, NSP gives ${pts(nspGain)} and SOP ${pts(sopGain)}.`,
          nspGain > noise
            ? "NSP helping is BERT's finding — but this pair task is NSP itself on unseen speeches, so it favours NSP by construction; RoBERTa's and ALBERT's point is that other tasks do not gain from it."
            : sopGain > noise
              ? "SOP helping where NSP does not is ALBERT's finding."
              : 'Neither pair objective moves the result beyond the noise, as RoBERTa found for NSP.',
        ].join(' ');
  const verdict = `${comparison} The masked-LM loss at the end of pretraining is ${mlmLoss.toFixed(2)} nats against ${unigram.toFixed(2)} for a model that knows only how often each token occurs: ${
    mlmLoss > unigram - 0.5
      ? 'the encoder has learned little beyond word frequencies.'
      : 'the encoder has learned context beyond word frequencies.'
  } With ${n} seed${n === 1 ? '' : 's'}, a ${sizes.nLayer}-layer ${sizes.nEmbd}-wide encoder and ${sizes.pretrainSteps} pretraining steps of ${BATCH} lines, that is what fits in this experiment's 10-minute budget on a laptop CPU; the papers pretrain 110M-parameter encoders for hundreds of thousands of steps on billions of words, and the effects they report downstream are a few points or less. Seeing them here would take an encoder pretrained until its masked-LM loss is well below the unigram level — hours on this CPU, or a checkpoint (\`loadHuggingFace\`).`;
  const sst2 = (objective: Objective) => meanOf(rows, { variant: objective, metric: 'sst2_dev_accuracy' });
  const bestSst2 = (['mlm', 'mlm+nsp', 'mlm+sop'] as const).reduce((a, b) => (sst2(b) > sst2(a) ? b : a));
  const sst2Note = withSst2
    ? `SST-2: ${(100 * sst2('none')).toFixed(1)}% without pretraining, ${(100 * sst2(bestSst2)).toFixed(1)}% for the best pretrained arm (${bestSst2}), after ${sizes.finetuneSteps} fine-tuning steps on ${sizes.sst2Train} sentences. Movie-review sentiment is far from Shakespeare: the tokenizer and the pretraining text know nothing of its domain. For scale: trained from scratch on all 67k sentences (\`bench/bert-sst2.bench.mjs\`), this package's BERT reaches about 80%, the level of a bag-of-words model; beating that takes pretraining on in-domain text at scale, or a pretrained checkpoint (\`loadHuggingFace\`).`
    : "SST-2 was not found, so only the pair task ran: get GLUE's SST-2 (see data/README.md) and set `WASMFORMER_SST2_DIR` to its folder to add it.";
  const report = `# nsp — does a sentence-pair objective help pretraining?

**Run:** \`wasmformer lab nsp${ctx.quick ? ' --quick' : ''} --seeds ${n}\`. A ${sizes.nLayer}-layer BERT (${sizes.nEmbd} wide, 4 heads, blocks of ${BLOCK}, WordPiece vocabulary of ${sizes.vocabSize} trained on the pretraining text) pretrained for ${sizes.pretrainSteps} steps of ${BATCH} on ${all(sizes)} of Tiny Shakespeare (a speech is a document, its lines are sentences; the last 20% of speeches are held out), with
- **mlm**: masked-LM on single lines;
- **mlm+nsp**: masked-LM on pairs of lines plus next-sentence prediction (B follows A, or is a random line);
- **mlm+sop**: masked-LM on pairs plus sentence-order prediction (ALBERT: consecutive lines, in order or swapped);
- **none**: no pretraining (the same encoder from random weights).

Each encoder is then fine-tuned (${sizes.finetuneSteps} steps of ${BATCH}, lr 1e-3, the same for every arm) on: **next-line pairs** — does line B directly follow line A, or is it a line of another speech? — built from the held-out speeches (${sizes.pairs} training pairs; dev pairs from other speeches). This is the NSP objective itself on text pretraining never saw, so it favours NSP by construction: it asks whether what NSP learns transfers to unseen text${withSst2 ? `; and **SST-2** (${sizes.sst2Train} training sentences, ${sizes.sst2Dev} dev)` : ''}. Mean ± standard deviation over ${n} seed${n === 1 ? '' : 's'}.

${summaryTable(rows, { metrics, labels, format, variantLabel: 'pretraining' })}
Pretraining loss at its last step (masked-LM + the pair objective's loss where there is one, so the rows are not comparable with each other):

${summaryTable(rows, { metrics: ['pretrain_loss'], labels, variantLabel: 'pretraining' })}
![dev accuracy](accuracy.svg)

## What the literature says

- BERT (Devlin et al. 2019, §5.1, Table 5): removing NSP hurts QNLI (−3.5 points), MNLI (−0.5) and SQuAD 1.1 (−0.6).
- RoBERTa (Liu et al. 2019, §4.2, Table 2): without NSP, with inputs packed to full length, downstream results match or improve.
- ALBERT (Lan et al. 2020, §4.6): a model pretrained with NSP is barely better than chance at SOP, while one pretrained with SOP does NSP well; replacing NSP by SOP improves multi-sentence downstream tasks.

## This run

${verdict}

${sst2Note}
`;
  ctx.writeFile('report.md', report);
}

/** "the first N characters" or "all 1.1 M characters". */
function all(sizes: Sizes): string {
  return sizes.chars >= DEFAULT.chars ? 'all 1.1 M characters' : `the first ${sizes.chars.toLocaleString('en')} characters`;
}

/** The `nsp` experiment. */
export const nsp: Experiment = {
  name: 'nsp',
  title: 'Masked-LM alone vs + next-sentence vs + sentence-order prediction (BERT, RoBERTa, ALBERT)',
  run,
};
