#!/usr/bin/env node
/**
 * `wasmformer` command line (Node): `train` a GPT (character-level or BPE) on a text file (or on the
 * built-in grammar corpus), `eval` a checkpoint, `generate` from one (streamed). Flags use node's own
 * `util.parseArgs`; the progress bar is `cli-progress`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bertCommand } from './cli-bert.js';
import {
  type Flags,
  MODEL_FLAGS,
  TRAINER_FLAGS,
  UsageError,
  modelConfigFromFlags,
  num,
  readFlagFile,
  showProgress,
  str,
  trainerOptionsFromFlags,
} from './cli-common.js';
import { tokenizerCommand } from './cli-tokenizer.js';
import { labCommand } from './lab/cli-lab.js';
import {
  BpeTokenizer,
  CharTokenizer,
  GPT,
  TokenDataset,
  Trainer,
  WasmformerError,
  grammarCorpus,
  init,
  loadBpeTokenizer,
  loadCheckpoint,
  loadHuggingFace,
  lossCurveSvg,
  runtimeInfo,
  saveCheckpoint,
  wasmMemoryBytes,
  WordPieceTokenizer,
  type CheckpointTokenizer,
} from './index.node.js';

const HELP = `wasmformer — train and run transformers in WebAssembly

Usage:
  wasmformer train  [--data file.txt] [--out dir] [options]   train a GPT (char-level or BPE)
  wasmformer eval   --checkpoint dir --data file.txt          validation loss of a checkpoint
  wasmformer generate --checkpoint dir [--prompt text]        stream a continuation (alias: sample);
                                                              dir: a checkpoint or a Hugging Face GPT-2/Llama/GPT-NeoX directory
  wasmformer tokenizer train --data file.txt --vocab-size N --out dir   train a byte-level BPE tokenizer
  wasmformer bert pretrain|finetune|predict|fill-mask ...    BERT commands (wasmformer bert --help)
  wasmformer lab <name|all|list> [--seeds N] [--quick]       the lecture lab: seeded experiments with reports and plots
                                                              in runs/lab/ (wasmformer lab --help)

Tokenizer: --tokenizer char|bpe (bpe: trained on the data) --vocab-size 2048 --tokenizer-file tokenizer.json
Model:     --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --positional learned|sinusoidal|none|relative|rope|alibi|kerple
           --norm layernorm|rmsnorm --norm-placement pre|post --ffn gelu|relu|swiglu|geglu|reglu
           --dropout 0 --no-bias --no-tie --rope-base 10000 --norm-eps 1e-5
           --relative-buckets 32 --relative-max-distance 128 (positional relative)
           --rope-fraction 1 --rope-keep-frequencies 1 (positional rope) --no-position-layers 3,7 | --nope-every 4
Training:  --steps 2000 --batch-size 12 --seq-len <block-size> --lr 1e-3 --min-lr <lr/10> --warmup 100
           --decay-steps <steps> --schedule cosine|linear|constant --weight-decay 0.1 --decay-embeddings
           --beta1 0.9 --beta2 0.99 --eps 1e-8 --grad-clip 1 (0 = off) --grad-accum 1
           --eval-interval 250 --eval-batches 20 --patience <evals> --val-fraction 0.1 --seed 1337
           --resume (continue from --out)  --threads <n>  --sample-tokens 200
Generation: --max-tokens 300 --temperature 0.8 (0 = greedy) --top-k <k> --top-p <p> --repetition-penalty 1
           --stop <text> (repeatable) --seed 0
Without --data, trains on a corpus of sentences from a small built-in grammar.
`;

const OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  checkpoint: { type: 'string' },
  prompt: { type: 'string' },
  ...MODEL_FLAGS,
  ...TRAINER_FLAGS,
  'val-fraction': { type: 'string' },
  resume: { type: 'boolean' },
  tokenizer: { type: 'string' },
  'vocab-size': { type: 'string' },
  'tokenizer-file': { type: 'string' },
  threads: { type: 'string' },
  'sample-tokens': { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  stop: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

function loadText(flags: Flags): { text: string; source: string } {
  const path = str(flags, 'data');
  if (!path) return { text: grammarCorpus({ sentences: 20_000, seed: 1 }), source: 'built-in grammar corpus (20,000 sentences)' };
  return { text: readFlagFile(path, 'data'), source: path };
}

async function train(flags: Flags): Promise<void> {
  const out = str(flags, 'out') ?? 'runs/gpt';
  const { text, source } = loadText(flags);
  const resumed = flags.resume ? await loadCheckpoint(out) : undefined;
  const tokenizer = gptTokenizer(resumed?.tokenizer, out) ?? (await makeTokenizer(flags, text));
  const tokens = tokenizer.encode(text);
  const { train: trainTokens, val } = TokenDataset.split(tokens, num(flags, 'val-fraction', 0.1));
  const config = modelConfigFromFlags(flags, tokenizer.vocabSize);
  const model = resumed?.model ?? GPT.create(config, { seed: num(flags, 'seed', 1337) });
  const trainer = new Trainer(
    model,
    { train: trainTokens, val },
    trainerOptionsFromFlags(flags, {
      steps: 2000,
      batchSize: 12,
      lr: 1e-3,
      warmup: 100,
      weightDecay: 0.1,
      beta2: 0.99,
      evalInterval: 250,
      evalBatches: 20,
      seed: 1337,
    }),
  );
  if (resumed) resumed.restore(trainer);
  const info = runtimeInfo();
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(`data: ${source} — ${tokens.length.toLocaleString()} tokens, vocabulary ${tokenizer.vocabSize}`);
  console.log(
    `model: ${model.numParams.toLocaleString()} parameters (${model.config.nLayer} layers, ${model.config.nHead} heads, ${model.config.nEmbd} wide, ${model.config.positional} positions, ${model.config.normPlacement}-${model.config.norm}, ${model.config.ffn})`,
  );
  console.log(
    `wasm: ${info.variant} build, ${info.threads} thread(s); planned memory ${mib(trainer.memory.total)} (activations ${mib(trainer.memory.activations)})`,
  );
  const stopProgress = showProgress(trainer, 'train');
  const result = await trainer.fit();
  stopProgress();
  console.log(
    `done: ${result.steps} steps, ${result.msPerStep.toFixed(1)} ms/step, best val loss ${result.bestValLoss?.toFixed(4) ?? '-'}${result.stoppedEarly ? ' (stopped early)' : ''}; WebAssembly memory ${mib(wasmMemoryBytes())}`,
  );
  mkdirSync(out, { recursive: true });
  await saveCheckpoint(out, { model, trainer, tokenizer });
  const svg = lossCurveSvg(
    [
      { name: 'train', points: trainer.history.train },
      { name: 'val', points: trainer.history.val },
    ],
    { title: `${source}: loss` },
  );
  writeFileSync(join(out, 'loss.svg'), svg);
  console.log(`saved: ${out}/ (model.safetensors, optimizer.safetensors, checkpoint.json, loss.svg)`);
  const sampleTokens = num(flags, 'sample-tokens', 200);
  if (sampleTokens > 0) {
    const prompt = tokenizer.encode(str(flags, 'prompt') ?? text.slice(0, 1));
    const sample = model.generate(prompt, { maxNewTokens: sampleTokens, temperature: 0.8, seed: 1, contextOverflow: 'slide' });
    console.log(`\nsample:\n${tokenizer.decode(sample)}`);
  }
  model.dispose();
}

/** A checkpoint's tokenizer if a GPT can use it (a WordPiece tokenizer belongs to a BERT). */
function gptTokenizer(tokenizer: CheckpointTokenizer | undefined, dir: string): CharTokenizer | BpeTokenizer | undefined {
  if (tokenizer instanceof WordPieceTokenizer)
    throw new UsageError(`${dir} holds a WordPiece (BERT) tokenizer; the GPT commands need a char or BPE one`);
  return tokenizer;
}

/** `--tokenizer char` (default), `bpe` (trained on the data, `--vocab-size`), or a file. */
async function makeTokenizer(flags: Flags, text: string): Promise<CharTokenizer | BpeTokenizer> {
  const file = str(flags, 'tokenizer-file');
  if (file) return loadBpeTokenizer(file);
  const kind = str(flags, 'tokenizer') ?? 'char';
  if (kind === 'char') return CharTokenizer.fromText(text);
  if (kind !== 'bpe') throw new UsageError(`--tokenizer must be 'char' or 'bpe', got '${kind}'`);
  const vocabSize = num(flags, 'vocab-size', 2048);
  const started = performance.now();
  const tokenizer = BpeTokenizer.train(text, { vocabSize, specialTokens: ['<|endoftext|>'] });
  console.log(`byte-level BPE: ${tokenizer.vocabSize} tokens trained in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return tokenizer;
}

async function evaluate(flags: Flags): Promise<void> {
  const dir = str(flags, 'checkpoint');
  if (!dir) throw new UsageError('eval needs --checkpoint dir');
  const loaded = await loadCheckpoint(dir);
  const tokenizer = gptTokenizer(loaded.tokenizer, dir);
  if (!tokenizer) throw new UsageError(`${dir} has no tokenizer`);
  const { text, source } = loadText(flags);
  const { val } = TokenDataset.split(tokenizer.encode(text), num(flags, 'val-fraction', 0.1));
  const trainer = new Trainer(
    loaded.model,
    { train: val, val },
    {
      batchSize: num(flags, 'batch-size', 12),
      maxSteps: 1,
      evalBatches: num(flags, 'eval-batches', 50),
    },
  );
  console.log(`${source}: validation loss ${trainer.evaluate('val').toFixed(4)}`);
  loaded.model.dispose();
}

/**
 * A GPT and its tokenizer from a wasmformer checkpoint (`checkpoint.json`) or a Hugging Face
 * directory (`config.json` + `model.safetensors` + `tokenizer.json`).
 */
async function loadGenerator(dir: string): Promise<{ model: GPT; tokenizer: CharTokenizer | BpeTokenizer }> {
  if (!existsSync(join(dir, 'checkpoint.json')) && existsSync(join(dir, 'config.json'))) {
    const model = await loadHuggingFace(dir);
    if (!(model instanceof GPT)) {
      model.dispose();
      throw new UsageError(`${dir} holds an encoder (BERT); generate needs a GPT-2 or Llama checkpoint`);
    }
    if (!existsSync(join(dir, 'tokenizer.json')))
      throw new UsageError(`${dir} has no tokenizer.json (a BPE tokenizer: GPT-2, Llama-3 or SentencePiece-style)`);
    return { model, tokenizer: await loadBpeTokenizer(join(dir, 'tokenizer.json')) };
  }
  const loaded = await loadCheckpoint(dir);
  const tokenizer = gptTokenizer(loaded.tokenizer, dir);
  if (!tokenizer) throw new UsageError(`${dir} has no tokenizer`);
  return { model: loaded.model, tokenizer };
}

async function generate(flags: Flags): Promise<void> {
  const dir = str(flags, 'checkpoint');
  if (!dir) throw new UsageError('generate needs --checkpoint dir');
  const loaded = await loadGenerator(dir);
  const tokenizer = loaded.tokenizer;
  const optional = (name: string, key: string): Record<string, number> => {
    const value = num(flags, name);
    return value !== undefined ? { [key]: value } : {};
  };
  const stop = flags.stop;
  const prompt = str(flags, 'prompt') ?? '\n';
  process.stdout.write(prompt);
  const pieces = loaded.model.stream(tokenizer, prompt, {
    maxNewTokens: num(flags, 'max-tokens', 300),
    temperature: num(flags, 'temperature', 0.8),
    seed: num(flags, 'seed', 0),
    contextOverflow: 'slide',
    ...optional('top-k', 'topK'),
    ...optional('top-p', 'topP'),
    ...optional('repetition-penalty', 'repetitionPenalty'),
    ...(Array.isArray(stop) ? { stop } : {}),
  });
  for await (const piece of pieces) process.stdout.write(piece);
  process.stdout.write('\n');
  loaded.model.dispose();
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'tokenizer') return tokenizerCommand(argv.slice(1));
  if (argv[0] === 'lab') return labCommand(argv.slice(1), (threads) => init(threads !== undefined ? { threads } : {}));
  if (argv[0] === 'bert') return bertCommand(argv.slice(1), (threads) => init(threads !== undefined ? { threads } : {}));
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 1;
  }
  const threads = num(values, 'threads');
  await init(threads !== undefined ? { threads } : {});
  if (command === 'train') await train(values);
  else if (command === 'eval') await evaluate(values);
  else if (command === 'generate' || command === 'sample') await generate(values);
  else throw new UsageError(`unknown command '${command}' (train, eval, generate)`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known =
      error instanceof UsageError || error instanceof WasmformerError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`wasmformer: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
    const sub = process.argv[2] === 'bert' || process.argv[2] === 'lab' ? `${process.argv[2]} ` : '';
    if (error instanceof UsageError) console.error(`run \`wasmformer ${sub}--help\` for the options`);
    process.exit(known ? 2 : 1);
  },
);
