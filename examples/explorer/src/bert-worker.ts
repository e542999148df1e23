/**
 * The BERT view's worker (one thread): (1) a small BERT trained with masked-LM on the corpus
 * of the Train view, word-level (a WordPiece vocabulary of the grammar's words), for fill-mask;
 * (2) the order demonstration: a BERT without positions (NoPE) and one with learned positions,
 * both trained on "who chased whom" twins; the NoPE encoder cannot tell them apart.
 */
import { BERT, grammarVocabulary, init, MaskedLMDataset, type Rng, Trainer, WordPieceTokenizer } from 'wasmformer';
import { BLOCK, type Example, makeTask, toBatch, WORDS, wordId } from './order-task';
import type { BertFromWorker, BertToWorker } from './protocol';

const ready = init({ threads: 1 });
let mlm: { bert: BERT; tokenizer: WordPieceTokenizer } | undefined;
/** Masked-LM steps done. */
let mlmSteps = 0;

function post(message: BertFromWorker): void {
  postMessage(message);
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function trainMlm(text: string, steps: number, fill: string): Promise<void> {
  mlm?.bert.dispose();
  const tokenizer = WordPieceTokenizer.fromVocabTxt(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...grammarVocabulary()].join('\n'));
  const sentences = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) =>
      Array.from(tokenizer.encode(line, undefined, { addSpecialTokens: false, maxLength: 30, truncation: 'longest_first' }).inputIds),
    );
  const data = new MaskedLMDataset(sentences, {
    clsId: tokenizer.clsId,
    sepId: tokenizer.sepId,
    padId: tokenizer.padId,
    maskId: tokenizer.maskId,
    vocabSize: tokenizer.vocabSize,
  });
  const bert = BERT.create({ vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64 }, { seed: 1 });
  mlm = { bert, tokenizer };
  mlmSteps = 0;
  const trainer = new Trainer(
    bert,
    { train: data },
    { batchSize: 32, maxSteps: steps, lr: 2e-3, warmupSteps: Math.min(20, steps), seed: 1 },
  );
  for (let step = 1; step <= steps; step++) {
    const e = trainer.trainStep();
    mlmSteps = e.step;
    post({ type: 'mlm-step', step: e.step, loss: e.loss });
    if (step % 25 === 0 || step === steps) fillMask(fill);
    await nextTask();
  }
}

function fillMask(text: string): void {
  if (!mlm) return;
  const { bert, tokenizer } = mlm;
  const candidates = bert.fillMask(tokenizer, text, { topK: 5 })[0] ?? [];
  // The same sentence's attention: bidirectional, every token sees every other.
  const encoded = tokenizer.encode(text);
  const att = bert.attentionWeights(encoded.inputIds, { typeIds: encoded.tokenTypeIds, attentionMask: encoded.attentionMask });
  const tokens = Array.from(encoded.inputIds, (id) => tokenizer.idToToken(id) ?? `[${id}]`);
  const attention = { step: mlmSteps, tokens, nLayer: att.nLayer, nHead: att.nHead, causal: bert.config.causal, weights: att.weights };
  post({ type: 'fill', text, candidates: candidates.map((c) => ({ token: c.token, score: c.score })), attention });
}

/** Accuracy of the answer at `[Q]` over `examples`: the larger of the two answer logits. */
function accuracy(model: BERT, examples: readonly Example[]): number {
  const { batch, answerAt } = toBatch(examples);
  const logits = model.batchOutputs(batch, BLOCK, 'logits');
  const v = model.config.vocabSize;
  let correct = 0;
  examples.forEach((e, r) => {
    const at = answerAt[r]!;
    const first = logits[at * v + wordId('[AGENT_FIRST]')]!;
    const second = logits[at * v + wordId('[AGENT_SECOND]')]!;
    correct += (first > second ? 1 : 0) === e.label ? 1 : 0;
  });
  return correct / examples.length;
}

/** `[C]` final hidden state at `[Q]` for `words`: what the answer is read from. */
function stateAtQ(model: BERT, words: string[]): Float32Array {
  const ids = Uint32Array.from(['[CLS]', ...words, '[SEP]', '[Q]'].map(wordId));
  const hidden = model.batchOutputs({ ids, batchSize: 1 }, ids.length, 'hidden');
  const c = model.config.nEmbd;
  return hidden.slice((ids.length - 1) * c, ids.length * c);
}

async function order(steps: number): Promise<void> {
  const train = makeTask(8000, 10);
  const test = makeTask(400, 11);
  const source = { sample: (rng: Rng, b: number) => toBatch(Array.from({ length: b }, () => train[rng.nextInt(train.length)]!)).batch };
  const positionals = ['none', 'learned'] as const;
  // The lab's encoder and sizes (docs/lab/order): BERT's bidirectional attention with pre-norm
  // blocks and a plain head, no segments; 2 layers, 64 wide, 4 heads, lr 0.002.
  const models = positionals.map((positional) =>
    BERT.create(
      {
        vocabSize: WORDS.length,
        blockSize: BLOCK,
        nLayer: 2,
        nHead: 4,
        nEmbd: 64,
        positional,
        normPlacement: 'pre',
        lmHead: 'plain',
        embeddingNorm: false,
        typeVocabSize: 0,
      },
      { seed: 1 },
    ),
  );
  try {
    const a = 'the dog chased the cat'.split(' ');
    const b = 'the cat chased the dog'.split(' ');
    positionals.forEach((positional, i) => {
      const [sa, sb] = [stateAtQ(models[i]!, a), stateAtQ(models[i]!, b)];
      let gap = 0;
      let scale = 0;
      sa.forEach((x, k) => {
        gap = Math.max(gap, Math.abs(x - sb[k]!));
        scale = Math.max(scale, Math.abs(x));
      });
      post({ type: 'order-gap', positional, gap: gap / (scale || 1) });
    });
    const trainers = models.map(
      (model) =>
        new Trainer(model, { train: source }, { batchSize: 32, maxSteps: steps, lr: 2e-3, warmupSteps: Math.ceil(steps / 10), seed: 1 }),
    );
    for (let step = 1; step <= steps; step++) {
      trainers.forEach((trainer) => trainer.trainStep());
      if (step % 10 === 0 || step === steps) {
        post({ type: 'order-accuracy', step, accuracy: models.map((m) => accuracy(m, test)) });
      }
      await nextTask();
    }
  } finally {
    for (const m of models) m.dispose();
  }
}

async function handle(message: BertToWorker): Promise<void> {
  await ready;
  if (message.type === 'mlm') await trainMlm(message.text, message.steps, message.fill);
  else if (message.type === 'fill') fillMask(message.text);
  else await order(message.steps);
  post({ type: 'done', what: message.type });
}

self.onmessage = (event: MessageEvent<BertToWorker>) => {
  handle(event.data).catch((error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'error', message: `${e.name}: ${e.message}` });
  });
};
