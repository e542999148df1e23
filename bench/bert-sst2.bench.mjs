// The worked BERT example on GLUE SST-2 (--data <dir>, default data/sst2/: train.tsv 67,349
// sentences, dev.tsv 872; not shipped, bench/data.mjs says where to get it): (a) from
// scratch — train a WordPiece vocabulary and pretrain a small BERT with masked-LM on the
// training sentences, then fine-tune it as a classifier; (b) from the pretrained
// all-MiniLM-L6-v2 (fetched by scripts/fetch-minilm.mjs), fine-tuned. Reports dev accuracy
// and wall time of each and writes bench/results/bert-sst2.jsonl.
//
// node bench/bert-sst2.bench.mjs [--data dir] [--case scratch|pretrained|both]
//   [--pretrain-steps 5000] [--finetune-steps 800] [--pretrained-steps <one epoch>] [--pretrained-examples <all>]
//   [--pretrained-lr 1e-4] [--evals 1]
// (Node 20 runs the faster relaxed-SIMD builds with node --experimental-wasm-relaxed-simd.)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  BERT,
  ClassificationDataset,
  MaskedLMDataset,
  Trainer,
  WordPieceTokenizer,
  init,
  loadHuggingFace,
  runtimeInfo,
} from '../dist/index.node.js';
import { fetchMiniLM } from '../scripts/fetch-minilm.mjs';
import { SST2_DIR, readSst2 } from './data.mjs';
import { measurements, wasmformerImpl, writeResults } from './results.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const which = arg('case', 'both');
const data = arg('data') === undefined ? SST2_DIR : resolve(arg('data'));
const train = readSst2(data, 'train');
const dev = readSst2(data, 'dev');
await init();
const info = runtimeInfo();
console.error(`[bert-sst2] ${train.length} train / ${dev.length} dev sentences; ${info.variant}, ${info.threads} threads`);
const results = [];
/** Prints a case's row and keeps it in the shared results format (bench/results.mjs). */
const record = (row) => {
  console.log(JSON.stringify(row));
  const { case: name, devAccuracy, totalSeconds, msPerFinetuneStep, msPerPretrainStep, mlmLoss, ...details } = row;
  const what = { impl: wasmformerImpl(info.variant), threads: info.threads, ...details };
  results.push(
    ...measurements(
      'bert-sst2',
      { case: `sst2-${name}`, ...what },
      { accuracy: devAccuracy, seconds: totalSeconds, ms_per_step: msPerFinetuneStep },
    ),
  );
  results.push(
    ...measurements('bert-sst2', { case: `sst2-${name}-mlm-pretraining`, ...what }, { ms_per_step: msPerPretrainStep, loss: mlmLoss }),
  );
};

/** Fine-tunes `classifier` and returns the dev accuracy of the last evaluation. */
async function finetune(classifier, tokenizer, examples, steps, options) {
  const seqLen = options.seqLen;
  // Batches are padded to their longest sentence and drawn from sentences of similar length
  // (most SST-2 training phrases are a few words long).
  const trainSet = ClassificationDataset.fromTexts(
    tokenizer,
    examples.map((e) => e.sentence),
    examples.map((e) => e.label),
    { maxLength: seqLen, groupByLength: true },
  );
  const devSet = ClassificationDataset.fromTexts(
    tokenizer,
    dev.map((e) => e.sentence),
    dev.map((e) => e.label),
    { maxLength: seqLen },
  );
  const trainer = new Trainer(
    classifier,
    { train: trainSet, val: devSet },
    {
      batchSize: options.batchSize,
      seqLen,
      maxSteps: steps,
      lr: options.lr,
      minLr: options.lr / 10,
      warmupSteps: Math.round(steps / 10),
      weightDecay: 0.01,
      evalInterval: Math.max(1, Math.round(steps / (options.evals ?? 2))),
      evalBatches: 4,
      seed: 1,
    },
  );
  let accuracy = NaN;
  const t0 = performance.now();
  trainer.on('step', (e) => {
    if (e.step % 100 === 0)
      console.error(
        `[bert-sst2]   fine-tune step ${e.step}: loss ${e.loss.toFixed(3)} (${e.stepMs.toFixed(0)} ms/step, ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
  });
  trainer.on('eval', (e) => {
    accuracy = e.valAccuracy;
    console.error(
      `[bert-sst2]   step ${e.step}: train loss ${e.trainLoss.toFixed(3)}, dev loss ${e.valLoss.toFixed(3)}, dev accuracy ${(100 * e.valAccuracy).toFixed(1)}%`,
    );
  });
  const result = await trainer.fit();
  return { accuracy, msPerStep: result.msPerStep };
}

if (which === 'scratch' || which === 'both') {
  const started = performance.now();
  const sentences = train.map((e) => e.sentence);
  const tokenizer = WordPieceTokenizer.train(sentences, { vocabSize: Number(arg('vocab-size', 8000)), lowercase: true });
  const tokenizerSeconds = (performance.now() - started) / 1000;
  const seqLen = 48;
  const bert = BERT.create(
    { vocabSize: tokenizer.vocabSize, blockSize: seqLen, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0.1 },
    { seed: 1 },
  );
  const docs = sentences.map((s) => tokenizer.encode(s, undefined, { addSpecialTokens: false }).inputIds);
  const specials = {
    clsId: tokenizer.clsId,
    sepId: tokenizer.sepId,
    padId: tokenizer.padId,
    maskId: tokenizer.maskId,
    vocabSize: tokenizer.vocabSize,
  };
  // Masked-LM batches drawn from sentences of similar length (most are a few words long).
  const mlm = new MaskedLMDataset(docs, specials, { groupByLength: true });
  const pretrainSteps = Number(arg('pretrain-steps', 5000));
  const pretrainer = new Trainer(
    bert,
    { train: mlm },
    {
      batchSize: 64,
      seqLen,
      maxSteps: pretrainSteps,
      lr: 1e-3,
      minLr: 1e-4,
      warmupSteps: Math.min(100, Math.round(pretrainSteps / 10)),
      weightDecay: 0.01,
      seed: 1,
    },
  );
  pretrainer.on('step', (e) => {
    if (e.step % 250 === 0)
      console.error(`[bert-sst2] scratch MLM step ${e.step}: loss ${e.loss.toFixed(3)} (${e.stepMs.toFixed(0)} ms/step)`);
  });
  const pre = await pretrainer.fit();
  const pretrainSeconds = (performance.now() - started) / 1000 - tokenizerSeconds;
  const classifier = bert.withClassifier(2, { seed: 2 });
  const finetuneSteps = Number(arg('finetune-steps', 800));
  const ft = await finetune(classifier, tokenizer, train, finetuneSteps, { seqLen, batchSize: 64, lr: 5e-4 });
  const totalSeconds = (performance.now() - started) / 1000;
  record({
    case: 'scratch',
    devAccuracy: ft.accuracy,
    totalSeconds,
    tokenizerSeconds,
    pretrainSeconds,
    pretrainSteps,
    mlmLoss: pre.finalLoss,
    finetuneSteps,
    msPerPretrainStep: pre.msPerStep,
    msPerFinetuneStep: ft.msPerStep,
    params: bert.numParams,
    vocabSize: tokenizer.vocabSize,
  });
  bert.dispose();
  classifier.dispose();
}

if (which === 'pretrained' || which === 'both') {
  const started = performance.now();
  const dir = process.env.WASMFORMER_MINILM_DIR ?? fetchMiniLM();
  const tokenizer = WordPieceTokenizer.fromVocabTxt(readFileSync(join(dir, 'vocab.txt'), 'utf8'), { lowercase: true });
  const classifier = await loadHuggingFace(dir, { nClasses: 2, dropout: 0.1 });
  if (!(classifier instanceof BERT)) throw new Error('expected a BERT');
  const examples = train.slice(0, Number(arg('pretrained-examples', train.length)));
  // One epoch at batch 32 by default.
  const steps = Number(arg('pretrained-steps', Math.ceil(examples.length / 32)));
  const lr = Number(arg('pretrained-lr', 1e-4));
  const ft = await finetune(classifier, tokenizer, examples, steps, { seqLen: 64, batchSize: 32, lr, evals: Number(arg('evals', 1)) });
  record({
    case: 'pretrained',
    model: 'all-MiniLM-L6-v2',
    devAccuracy: ft.accuracy,
    totalSeconds: (performance.now() - started) / 1000,
    finetuneSteps: steps,
    examples: examples.length,
    lr,
    msPerFinetuneStep: ft.msPerStep,
    params: classifier.numParams,
  });
  classifier.dispose();
}
writeResults('bert-sst2', results);
