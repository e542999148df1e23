/**
 * `order`: attention without positions cannot see word order.
 *
 * (a) Exact: a bidirectional encoder with `positional: 'none'` maps a permuted input to the
 *     same permutation of its outputs (to float tolerance); with positions, or with a causal
 *     mask, it does not.
 * (b) Learned: "the dog chased the cat" vs "the cat chased the dog". Every sentence of the task
 *     has a twin with the two noun phrases swapped and the other answer, so the bag of words
 *     says nothing: a NoPE BERT must stay at chance, a BERT with any positional encoding can
 *     solve it, and a NoPE GPT can too, because the causal mask leaks order (Haviv et al. 2022).
 *
 * Both models answer the same way: the sequence `[CLS] sentence [SEP] [Q]` and a target only at
 * `[Q]`: the answer token. A BERT predicts it at `[Q]` (its masked-LM head), a GPT as the next
 * token after `[Q]` — the same batch trains both.
 */
import {
  BERT,
  GPT,
  GRAMMAR_WORDS,
  type ModelBatch,
  Rng,
  Trainer,
  type TransformerConfigInput,
  grammarVocabulary,
} from '../../index.node.js';
import type { Experiment, LabContext } from '../lab.js';
import { barChart } from '../plot.js';
import { markdownTable, mean, meanOf, meanSd, sd, valuesOf } from '../stats.js';

const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[Q]', '[AGENT_FIRST]', '[AGENT_SECOND]'] as const;
const WORDS = [...SPECIALS, ...grammarVocabulary()];
const ID = new Map(WORDS.map((w, i) => [w, i]));
const BLOCK = 16;

/** The id of a word of {@link WORDS}. */
function id(word: string): number {
  const found = ID.get(word);
  if (found === undefined) throw new Error(`order: '${word}' is not in the vocabulary`);
  return found;
}

/** One task example: the sentence's words and whether the agent is the earlier animate of the word list. */
interface Example {
  words: string[];
  label: 0 | 1;
}

/** A noun phrase of the grammar: determiner, optional adjective, noun (animates only). */
function nounPhrase(rng: Rng, noun: string): string[] {
  const adjectives = [...GRAMMAR_WORDS.adjectives, ...GRAMMAR_WORDS.animateAdjectives];
  const adjective = rng.nextFloat() < 0.35 ? adjectives[rng.nextInt(adjectives.length)] : undefined;
  const first = adjective ?? noun;
  const det = rng.nextFloat() < 0.6 ? 'the' : 'aeiou'.includes(first[0] ?? '') ? 'an' : 'a';
  return adjective ? [det, adjective, noun] : [det, noun];
}

/**
 * `count` examples in twins: "NP(x) verb NP(y) [pp]" and "NP(y) verb NP(x) [pp]" with the same
 * phrases, labelled by whether the agent is the one of x, y listed first in the grammar's animates.
 */
function makeTask(count: number, seed: number): Example[] {
  const rng = new Rng(seed);
  const animates = GRAMMAR_WORDS.animates;
  const verbs = Object.entries(GRAMMAR_WORDS.transitive)
    .filter(([, classes]) => classes.includes('animates'))
    .map(([verb]) => verb);
  const out: Example[] = [];
  while (out.length < count) {
    const i = rng.nextInt(animates.length);
    let j = rng.nextInt(animates.length - 1);
    if (j >= i) j += 1;
    const [x, y] = [animates[i] as string, animates[j] as string];
    const [px, py] = [nounPhrase(rng, x), nounPhrase(rng, y)];
    const verb = verbs[rng.nextInt(verbs.length)] as string;
    const pp: string[] =
      rng.nextFloat() < 0.3
        ? [
            GRAMMAR_WORDS.prepositions[rng.nextInt(GRAMMAR_WORDS.prepositions.length)] as string,
            'the',
            GRAMMAR_WORDS.places[rng.nextInt(5)] as string,
          ]
        : [];
    const xFirstInList = i < j ? 1 : 0;
    out.push({ words: [...px, verb, ...py, ...pp], label: xFirstInList as 0 | 1 });
    out.push({ words: [...py, verb, ...px, ...pp], label: (1 - xFirstInList) as 0 | 1 });
  }
  return out;
}

/** `[B, T]` batch of examples: `[CLS] words [SEP] [Q]` padded to T, target (the answer token) at `[Q]` only. */
function toBatch(examples: readonly Example[]): { batch: ModelBatch; answerAt: number[] } {
  const b = examples.length;
  const batch: ModelBatch = {
    ids: new Uint32Array(b * BLOCK).fill(id('[PAD]')),
    targets: new Int32Array(b * BLOCK).fill(-100),
    attentionMask: new Uint8Array(b * BLOCK),
    batchSize: b,
  };
  const answerAt: number[] = [];
  examples.forEach((e, r) => {
    const seq = ['[CLS]', ...e.words, '[SEP]', '[Q]'].map(id);
    if (seq.length > BLOCK) throw new Error(`order: a sentence of ${seq.length} tokens exceeds ${BLOCK}`);
    batch.ids.set(seq, r * BLOCK);
    batch.attentionMask!.fill(1, r * BLOCK, r * BLOCK + seq.length);
    const at = r * BLOCK + seq.length - 1;
    batch.targets![at] = id(e.label === 1 ? '[AGENT_FIRST]' : '[AGENT_SECOND]');
    answerAt.push(at);
  });
  return { batch, answerAt };
}

/** Accuracy of the answer at `[Q]`: the larger of the two answer logits. */
function accuracy(model: BERT | GPT, examples: readonly Example[]): number {
  let correct = 0;
  const v = model.config.vocabSize;
  for (let start = 0; start < examples.length; start += 64) {
    const part = examples.slice(start, start + 64);
    const { batch, answerAt } = toBatch(part);
    const logits = model.batchOutputs(batch, BLOCK, 'logits');
    part.forEach((e, r) => {
      const at = answerAt[r] as number;
      const first = logits[at * v + id('[AGENT_FIRST]')] as number;
      const second = logits[at * v + id('[AGENT_SECOND]')] as number;
      correct += (first > second ? 1 : 0) === e.label ? 1 : 0;
    });
  }
  return correct / examples.length;
}

/** A variant of (b): model family × positional encoding. */
interface Variant {
  name: string;
  family: 'bert' | 'gpt';
  positional: NonNullable<TransformerConfigInput['positional']>;
  /**
   * A diagnostic, not a positional option: the T5 bias table re-drawn from N(0, σ²) after
   * creation (the library draws N(0, 0.02²)). Shown in the table, left out of the verdict.
   */
  relativeInitStd?: number;
}

/**
 * σ of the diagnostic re-initialisations of the relative-bias table: Hugging Face T5's
 * N(0, 1/d_model) at the full run's width 64, and a larger one.
 */
const RELATIVE_DIAGNOSTIC_STDS = [0.125, 0.5] as const;

/** The variants of (b). */
const VARIANTS: readonly Variant[] = [
  { name: 'BERT none', family: 'bert', positional: 'none' },
  { name: 'BERT learned', family: 'bert', positional: 'learned' },
  { name: 'BERT sinusoidal', family: 'bert', positional: 'sinusoidal' },
  { name: 'BERT relative', family: 'bert', positional: 'relative' },
  { name: 'BERT rope', family: 'bert', positional: 'rope' },
  { name: 'BERT alibi', family: 'bert', positional: 'alibi' },
  ...RELATIVE_DIAGNOSTIC_STDS.map(
    (std): Variant => ({ name: `BERT relative σ ${std}`, family: 'bert', positional: 'relative', relativeInitStd: std }),
  ),
  { name: 'GPT none', family: 'gpt', positional: 'none' },
  { name: 'GPT rope', family: 'gpt', positional: 'rope' },
];

/** Sizes of one run. */
interface Sizes {
  nLayer: number;
  nEmbd: number;
  nHead: number;
  steps: number;
  batchSize: number;
  lr: number;
  train: number;
  test: number;
}

/**
 * The encoder is the decoder's transformer without the causal mask: BERT's bidirectional
 * attention with the GPT's pre-norm blocks and plain tied LM head, and without BERT's
 * segment embeddings and embedding norm, so that the two families differ only in the mask.
 */
function createModel(family: 'bert' | 'gpt', config: TransformerConfigInput, seed: number): BERT | GPT {
  if (family === 'gpt') return GPT.create(config, { seed });
  return BERT.create({ ...config, normPlacement: 'pre', lmHead: 'plain', embeddingNorm: false, typeVocabSize: 0 }, { seed });
}

/** Re-draws every relative-bias table of `model` from N(0, std²) (Box–Muller on `rng`), through the public weights API. */
function reinitRelativeBias(model: BERT | GPT, std: number, rng: Rng): void {
  const weights = model.getWeights();
  for (const [name, tensor] of weights) {
    if (!name.includes('rel_bias')) continue;
    for (let i = 0; i < tensor.data.length; i++) {
      const u = Math.max(rng.nextFloat(), Number.MIN_VALUE);
      tensor.data[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
    }
  }
  model.setWeights(weights);
}

/** (a) Max |f(πx) − π f(x)| of the final hidden states `[T, C]` for one random model and permutation. */
function permutationGap(family: 'bert' | 'gpt', positional: 'none' | 'learned', seed: number): number {
  const rng = new Rng(1000 + seed);
  const t = 12;
  const model = createModel(family, { vocabSize: WORDS.length, blockSize: BLOCK, nLayer: 2, nHead: 2, nEmbd: 32, positional }, seed);
  try {
    const ids = Array.from({ length: t }, () => SPECIALS.length + rng.nextInt(WORDS.length - SPECIALS.length));
    const perm = Array.from({ length: t }, (_, i) => i);
    for (let i = t - 1; i > 0; i--) {
      const k = rng.nextInt(i + 1);
      [perm[i], perm[k]] = [perm[k] as number, perm[i] as number];
    }
    const hidden = (x: number[]) => model.batchOutputs({ ids: Uint32Array.from(x), batchSize: 1 }, t, 'hidden');
    const h = hidden(ids);
    const hp = hidden(perm.map((p) => ids[p] as number));
    const c = model.config.nEmbd;
    let gap = 0;
    let scale = 0;
    for (let i = 0; i < t; i++) {
      for (let k = 0; k < c; k++) {
        const want = h[(perm[i] as number) * c + k] as number;
        gap = Math.max(gap, Math.abs((hp[i * c + k] as number) - want));
        scale = Math.max(scale, Math.abs(want));
      }
    }
    return gap / Math.max(scale, 1e-30);
  } finally {
    model.dispose();
  }
}

async function run(ctx: LabContext): Promise<void> {
  const sizes: Sizes = ctx.quick
    ? { nLayer: 1, nEmbd: 32, nHead: 2, steps: 60, batchSize: 32, lr: 3e-3, train: 1000, test: 200 }
    : { nLayer: 2, nEmbd: 64, nHead: 4, steps: 500, batchSize: 32, lr: 2e-3, train: 8000, test: 2000 };

  // (a) exact permutation check.
  const exact = [
    { name: 'BERT none', family: 'bert', positional: 'none' },
    { name: 'BERT learned', family: 'bert', positional: 'learned' },
    { name: 'GPT none', family: 'gpt', positional: 'none' },
  ] as const;
  for (const v of exact) {
    for (const seed of ctx.seeds)
      ctx.record({ variant: v.name, seed, metric: 'permutation_gap', value: permutationGap(v.family, v.positional, seed), part: 'a' });
  }

  // (b) learned: who chased whom.
  const bar = ctx.progress('train', VARIANTS.length * ctx.seeds.length * sizes.steps);
  for (const seed of ctx.seeds) {
    const train = makeTask(sizes.train, 10 * seed);
    const test = makeTask(sizes.test, 10 * seed + 1);
    const source = {
      sample(rng: Rng, batchSize: number): ModelBatch {
        return toBatch(Array.from({ length: batchSize }, () => train[rng.nextInt(train.length)] as Example)).batch;
      },
    };
    for (const v of VARIANTS) {
      const model = createModel(
        v.family,
        {
          vocabSize: WORDS.length,
          blockSize: BLOCK,
          nLayer: sizes.nLayer,
          nHead: sizes.nHead,
          nEmbd: sizes.nEmbd,
          positional: v.positional,
        },
        seed,
      );
      try {
        if (v.relativeInitStd !== undefined) reinitRelativeBias(model, v.relativeInitStd, new Rng(2000 + seed));
        const trainer = new Trainer(
          model,
          { train: source },
          {
            batchSize: sizes.batchSize,
            maxSteps: sizes.steps,
            lr: sizes.lr,
            warmupSteps: Math.round(sizes.steps / 10),
            weightDecay: 0.01,
            seed,
          },
        );
        trainer.on('step', () => bar.tick());
        await trainer.fit();
        ctx.record({ variant: v.name, seed, metric: 'test_accuracy', value: accuracy(model, test), part: 'b', steps: sizes.steps });
        ctx.record({ variant: v.name, seed, metric: 'train_accuracy', value: accuracy(model, train.slice(0, sizes.test)), part: 'b' });
      } finally {
        model.dispose();
      }
    }
  }
  bar.done();
  writeReport(ctx, sizes);
}

/** Known reasons why an encoding learns this task slowly, for the variants that did not solve it. */
function slowNotes(unsolved: readonly string[]): string[] {
  const notes: string[] = [];
  if (unsolved.includes('BERT relative')) {
    notes.push(
      ' The T5 relative bias starts near 0 and enters only the attention logits (values carry no position), so a head becomes positional only once its bucket biases have grown by several units, and AdamW moves each by about the learning rate per step.',
    );
  }
  return notes;
}

/** The 95% band of a coin's accuracy on `n` examples: 0.5 ± 1.96·√(0.25/n). */
function chanceBand(n: number): number {
  return 1.96 * Math.sqrt(0.25 / n);
}

function writeReport(ctx: LabContext, sizes: Sizes): void {
  const rows = ctx.rows();
  const band = chanceBand(sizes.test);
  const acc = (variant: string) => meanOf(rows, { variant, metric: 'test_accuracy' });
  const solved = 0.9;
  const nopeBert = acc('BERT none');
  const positionalBert = VARIANTS.filter((v) => v.family === 'bert' && v.positional !== 'none' && v.relativeInitStd === undefined).map(
    (v) => ({
      name: v.name,
      acc: acc(v.name),
    }),
  );
  const nopeGpt = acc('GPT none');
  const seedsSolved = (variant: string) => valuesOf(rows, { variant, metric: 'test_accuracy' }).filter((a) => a >= solved).length;
  const gapNone = Math.max(...valuesOf(rows, { variant: 'BERT none', metric: 'permutation_gap' }));
  const gapOthers = Math.min(
    ...valuesOf(rows, { variant: 'BERT learned', metric: 'permutation_gap' }),
    ...valuesOf(rows, { variant: 'GPT none', metric: 'permutation_gap' }),
  );

  const checks: string[] = [];
  checks.push(
    gapNone < 1e-4
      ? `The exact check holds: permuting the input of a NoPE BERT permutes its outputs to a relative error of at most ${gapNone.toExponential(1)} (float32 rounding), while with learned positions or a causal mask the smallest gap was ${gapOthers.toExponential(1)}.`
      : `The exact check FAILED: a NoPE BERT's outputs moved by a relative ${gapNone.toExponential(1)} under permutation — something in the encoder sees positions.`,
  );
  checks.push(
    Math.abs(nopeBert - 0.5) <= band
      ? `The NoPE BERT stayed at chance (${(100 * nopeBert).toFixed(1)}%, inside 50 ± ${(100 * band).toFixed(1)}%), as it must: each test sentence's bag of words occurs with both answers.`
      : `The NoPE BERT scored ${(100 * nopeBert).toFixed(1)}%, outside the chance band 50 ± ${(100 * band).toFixed(1)}% — that would contradict the exact check, so look for a leak of order (padding, a mask) before believing it.`,
  );
  const unsolved = positionalBert.filter((p) => !(p.acc >= solved));
  checks.push(
    unsolved.length === 0
      ? `Every BERT with a positional encoding solved the task (≥ ${100 * solved}%; lowest ${(100 * Math.min(...positionalBert.map((p) => p.acc))).toFixed(1)}%).`
      : `Not every positional encoding solved the task in ${sizes.steps} steps: ${unsolved.map((p) => `${p.name} ${(100 * p.acc).toFixed(1)}% (${seedsSolved(p.name)} of ${ctx.seeds.length} seeds solved)`).join(', ')} stayed below ${100 * solved}% on average. At this size that is a statement about speed of learning, not capacity: more steps or a larger model may close it.${slowNotes(unsolved.map((p) => p.name)).join('')}`,
  );
  const diagnostics = VARIANTS.filter((v) => v.relativeInitStd !== undefined);
  if (diagnostics.length > 0 && unsolved.some((p) => p.name === 'BERT relative')) {
    const results = diagnostics.map((v) => ({ std: v.relativeInitStd as number, acc: acc(v.name), solvedSeeds: seedsSolved(v.name) }));
    const anySolved = results.some((r) => r.solvedSeeds > 0);
    checks.push(
      `Diagnostic: the same relative-bias BERT with its bias table re-drawn after creation (the library draws N(0, 0.02²)): ${results
        .map((r) => `σ ${r.std}: ${(100 * r.acc).toFixed(1)}% (${r.solvedSeeds} of ${ctx.seeds.length} seeds solved)`)
        .join('; ')} (Hugging Face's T5 draws N(0, 1/d_model), σ = ${(1 / Math.sqrt(sizes.nEmbd)).toFixed(3)} at width ${sizes.nEmbd}). ${
        anySolved
          ? 'So the default fails by where it starts, not by what it can learn. A likely reason: near a zero table the twins of a pair give almost opposite bias gradients, a saddle that a table starting large enough can leave (not in every seed). The bias gradient itself is right: the core checks it against finite differences on bidirectional, padded batches (crates/core/tests/model_gradcheck.rs).'
          : 'A larger starting table alone did not rescue it at this budget either.'
      }`,
    );
  }
  checks.push(
    nopeGpt >= solved
      ? `The NoPE GPT solved it too (${(100 * nopeGpt).toFixed(1)}%): the causal mask lets each position count how many tokens precede it, which is enough to recover order, as Haviv et al. (2022) found for language modelling.`
      : nopeGpt > 0.5 + band
        ? `The NoPE GPT learned some order (${(100 * nopeGpt).toFixed(1)}%, above chance) but did not reach ${100 * solved}% in ${sizes.steps} steps: the mask leaks order, but recovering it is slower to learn than reading a positional encoding.`
        : `The NoPE GPT stayed near chance (${(100 * nopeGpt).toFixed(1)}%) in ${sizes.steps} steps — this run does not show the leak Haviv et al. (2022) describe; it may need more steps or layers than this budget.`,
  );

  const exactTable = markdownTable(
    ['model', 'max relative |f(πx) − π f(x)|', 'seeds'],
    ['BERT none', 'BERT learned', 'GPT none'].map((v) => {
      const values = valuesOf(rows, { variant: v, metric: 'permutation_gap' });
      return [v, Math.max(...values).toExponential(2), String(values.length)];
    }),
  );
  const accTable = markdownTable(
    ['model, positions', 'test accuracy', 'train accuracy', `seeds solved (test ≥ ${100 * solved}%)`],
    VARIANTS.map((v) => {
      const test = valuesOf(rows, { variant: v.name, metric: 'test_accuracy' });
      return [
        v.name,
        meanSd(test, { percent: true }),
        meanSd(valuesOf(rows, { variant: v.name, metric: 'train_accuracy' }), { percent: true }),
        `${test.filter((a) => a >= solved).length} of ${test.length}`,
      ];
    }),
  );
  ctx.writeFile(
    'accuracy.svg',
    barChart({
      title: 'Who chased whom? Test accuracy (mean ± sd over seeds)',
      yLabel: 'test accuracy',
      seriesNames: ['test accuracy'],
      groups: VARIANTS.map((v) => {
        const values = valuesOf(rows, { variant: v.name, metric: 'test_accuracy' });
        return { label: v.name.replace(' ', '\u00a0'), values: [{ mean: mean(values), sd: sd(values) }] };
      }),
      hLines: [{ y: 0.5, label: 'chance' }],
      yDomain: [0, 1],
      width: 900,
    }),
  );
  const command = `npx wasmformer lab order --seeds ${ctx.seeds.length}${ctx.quick ? ' --quick' : ''}`;
  const report = `# order: attention without positions is a bag of words

**Command:** \`${command}\`

**What ran.** (a) For each seed, a randomly initialised 2-layer, 32-wide encoder (BERT, pre-norm) and decoder (GPT) on 12 random
tokens and a random permutation of them; the number is max |f(πx) − π f(x)| over the final hidden states, relative to max |f(x)|.
(b) The task: sentences of the built-in grammar's transitive clauses between two animates ("the small dog chased a cat near the
barn"); each comes with its twin with the two noun phrases swapped ("a cat chased the small dog near the barn") and the other
answer. The answer (a token after \`[Q]\`) says whether the agent is the animate listed earlier in the grammar's word list, so
only word order carries it. Models: ${sizes.nLayer} layer(s), ${sizes.nEmbd} wide, ${sizes.nHead} heads, block ${BLOCK}; AdamW
lr ${sizes.lr} (10% warm-up, cosine), batch ${sizes.batchSize}, ${sizes.steps} steps, ${sizes.train} training and ${sizes.test} test
sentences (test sentences drawn with another seed); seeds ${ctx.seeds.join(', ')}. Same settings for every variant; nothing tuned.
The rows "BERT relative σ …" are diagnostics, not options: they re-draw the T5 bias table from N(0, σ²) after creation, to tell a
slow start from a broken gradient; they are left out of the verdict on positional encodings.
"BERT" here is the GPT's transformer without the causal mask (pre-norm, plain tied LM head, no segment embeddings and no
embedding norm), so the families differ only in the mask. With the library's BERT defaults (post-norm, masked-LM head, embedding
LayerNorm) the encoders learned this task much more slowly: in a run at these sizes (500 steps, lr 0.002), 5 of the 9 learned /
RoPE / ALiBi encoder runs were still at chance, while this encoder solved all 4 runs of a trial (learned and RoPE, seeds 2 and 3).

## (a) Exact check

${exactTable}
## (b) Who chased whom

${accTable}
![test accuracy](accuracy.svg)

**The literature.** Self-attention is permutation-equivariant (Vaswani et al. 2017, §3.5: "since our model contains no recurrence
and no convolution, in order for the model to make use of the order of the sequence, we must inject some information about the
relative or absolute position"). Haviv et al. 2022, "Transformer Language Models without Positional Encodings Still Learn
Positional Information": causal (decoder) models without positions still learn order, because the mask lets a token count its
predecessors; bidirectional ones cannot.

**This run.** ${checks.join(' ')}
`;
  ctx.writeFile('report.md', report);
}

/** The `order` experiment. */
export const order: Experiment = {
  name: 'order',
  title: 'attention without positions is permutation-invariant; the causal mask leaks order',
  run,
};
