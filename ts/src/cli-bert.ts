/**
 * `wasmformer bert …`: pretrain a BERT with masked-LM (and optional NSP), fine-tune it (or a
 * Hugging Face BERT) as a classifier on TSV files, and use it (`predict`, `fill-mask`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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
import {
  BERT,
  ClassificationDataset,
  MaskedLMDataset,
  Trainer,
  WordPieceTokenizer,
  grammarCorpus,
  loadBertCheckpoint,
  loadHuggingFace,
  lossCurveSvg,
  runtimeInfo,
  saveCheckpoint,
} from './index.node.js';

const HELP = `wasmformer bert — BERT pretraining, fine-tuning and use

Usage:
  wasmformer bert pretrain  [--data corpus.txt] [--out runs/bert] [options]
      masked-LM pretraining; corpus: one sentence per line, a blank line between documents.
      Without --data, the built-in grammar corpus. --nsp adds next-sentence prediction.
  wasmformer bert finetune  --checkpoint dir --train train.tsv [--dev dev.tsv] [--out runs/bert-classifier]
      a sequence classifier on TSV files with a header row: --label-column label (integers 0..K-1),
      --text-column <first other column>, --pair-column <none>. dir: a wasmformer BERT checkpoint
      or a Hugging Face BERT directory (config.json, model.safetensors, vocab.txt or tokenizer.json).
  wasmformer bert predict   --checkpoint dir (--text "…"… | --data file.txt)   class and probabilities per text
  wasmformer bert fill-mask --checkpoint dir --text "the [MASK] chased the cat" [--top-k 5]

Tokenizer (pretrain): --vocab-size 8000 (WordPiece trained on the data) | --vocab vocab.txt | --tokenizer-file tokenizer.json
           --cased (keep case; default lower-case)
Model (pretrain): --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --positional learned|sinusoidal|none|relative|rope|alibi|kerple
           --norm layernorm|rmsnorm --norm-placement post|pre --ffn gelu|relu|swiglu|geglu|reglu --dropout 0.1 ...
           --mask-probability 0.15 --nsp --val-fraction 0.05 --resume (continue from --out)
Training:  --steps (pretrain 2000; finetune one epoch, or --epochs N) --batch-size 32 --seq-len <block-size>
           --lr (pretrain 1e-3; finetune 5e-5) --min-lr <lr/10> --warmup (pretrain 100; finetune 10%)
           --weight-decay 0.01 --beta2 0.999 --grad-clip 1 --grad-accum 1 --eval-interval --eval-batches 20
           --patience <evals> --seed 1 --threads <n> --max-length 128 (finetune, predict)
`;

const OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  checkpoint: { type: 'string' },
  text: { type: 'string', multiple: true },
  train: { type: 'string' },
  dev: { type: 'string' },
  'label-column': { type: 'string' },
  'text-column': { type: 'string' },
  'pair-column': { type: 'string' },
  'max-length': { type: 'string' },
  epochs: { type: 'string' },
  'top-k': { type: 'string' },
  'vocab-size': { type: 'string' },
  vocab: { type: 'string' },
  'tokenizer-file': { type: 'string' },
  cased: { type: 'boolean' },
  'mask-probability': { type: 'string' },
  nsp: { type: 'boolean' },
  'val-fraction': { type: 'string' },
  resume: { type: 'boolean' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...MODEL_FLAGS,
  ...TRAINER_FLAGS,
} as const;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** A WordPiece tokenizer from `--tokenizer-file`, `--vocab`, or trained on `sentences`. */
function pretrainTokenizer(flags: Flags, sentences: readonly string[]): WordPieceTokenizer {
  const lowercase = flags.cased !== true;
  const file = str(flags, 'tokenizer-file');
  if (file) return WordPieceTokenizer.fromHuggingFace(parseJson(readFlagFile(file, 'tokenizer-file'), file));
  const vocab = str(flags, 'vocab');
  if (vocab) return WordPieceTokenizer.fromVocabTxt(readFlagFile(vocab, 'vocab'), { lowercase });
  const started = performance.now();
  const tokenizer = WordPieceTokenizer.train(sentences, { vocabSize: num(flags, 'vocab-size', 8000), lowercase });
  console.log(
    `WordPiece: ${tokenizer.vocabSize.toLocaleString()} tokens trained in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return tokenizer;
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON (${(error as Error).message})`);
  }
}

/** Documents of sentences: one sentence per line, blank lines between documents. */
function documentsOf(text: string): string[][] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((doc) =>
      doc
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean),
    )
    .filter((doc) => doc.length > 0);
}

async function pretrain(flags: Flags): Promise<void> {
  const out = str(flags, 'out') ?? 'runs/bert';
  const path = str(flags, 'data');
  const text = path ? readFlagFile(path, 'data') : grammarCorpus({ sentences: 20_000, seed: 1 });
  const source = path ?? 'built-in grammar corpus (20,000 sentences)';
  const documents = documentsOf(text);
  const sentences = documents.flat();
  if (sentences.length < 2)
    throw new UsageError(`${source} has ${sentences.length} sentence(s); pretraining needs at least 2 (one per line)`);
  const resumed = flags.resume ? await loadBertCheckpoint(out) : undefined;
  if (resumed && !(resumed.tokenizer instanceof WordPieceTokenizer))
    throw new UsageError(`${out} has no WordPiece tokenizer to resume with`);
  const tokenizer = resumed?.tokenizer instanceof WordPieceTokenizer ? resumed.tokenizer : pretrainTokenizer(flags, sentences);
  const nsp = flags.nsp === true;
  const encode = (s: string): number[] => Array.from(tokenizer.encode(s, undefined, { addSpecialTokens: false }).inputIds);
  // The last --val-fraction of the sentences (whole documents where possible) are held out.
  const valCount = Math.max(1, Math.round(sentences.length * num(flags, 'val-fraction', 0.05)));
  const split = (docs: string[][], keepFirst: number): [string[][], string[][]] => {
    const first: string[][] = [];
    const rest: string[][] = [];
    let seen = 0;
    for (const doc of docs) {
      const take = Math.max(0, Math.min(doc.length, keepFirst - seen));
      if (take > 0) first.push(doc.slice(0, take));
      if (take < doc.length) rest.push(doc.slice(take));
      seen += doc.length;
    }
    return [first, rest];
  };
  const [trainDocs, valDocs] = split(documents, sentences.length - valCount);
  const specials = {
    clsId: tokenizer.clsId,
    sepId: tokenizer.sepId,
    padId: tokenizer.padId,
    maskId: tokenizer.maskId,
    vocabSize: tokenizer.vocabSize,
  };
  const dataOptions = { nsp, maskProbability: num(flags, 'mask-probability', 0.15) };
  // Without NSP each sequence is one sentence: batches of similar lengths waste little padding.
  const train = new MaskedLMDataset(
    trainDocs.map((d) => d.map(encode)),
    specials,
    { ...dataOptions, groupByLength: !nsp },
  );
  const val = new MaskedLMDataset(
    valDocs.map((d) => d.map(encode)),
    specials,
    dataOptions,
  );
  const config = {
    ...modelConfigFromFlags(flags, tokenizer.vocabSize),
    dropout: num(flags, 'dropout', 0.1),
    ...(nsp ? { nClasses: 2 } : {}),
  };
  const model = resumed?.model ?? BERT.create(config, { seed: num(flags, 'seed', 1) });
  const trainer = new Trainer(
    model,
    { train, val },
    trainerOptionsFromFlags(flags, {
      steps: 2000,
      batchSize: 32,
      lr: 1e-3,
      warmup: 100,
      weightDecay: 0.01,
      beta2: 0.999,
      evalInterval: 200,
      evalBatches: 20,
      seed: 1,
    }),
  );
  if (resumed) resumed.restore(trainer);
  const info = runtimeInfo();
  console.log(
    `data: ${source} — ${sentences.length.toLocaleString()} sentences in ${documents.length.toLocaleString()} document(s), ${valCount.toLocaleString()} held out`,
  );
  console.log(
    `model: BERT, ${model.numParams.toLocaleString()} parameters (${model.config.nLayer} layers, ${model.config.nHead} heads, ${model.config.nEmbd} wide, ${model.config.positional} positions); masked-LM${nsp ? ' + NSP' : ''}`,
  );
  console.log(`wasm: ${info.variant} build, ${info.threads} thread(s); planned memory ${mib(trainer.memory.total)}`);
  const stopProgress = showProgress(trainer, 'pretrain');
  const result = await trainer.fit();
  stopProgress();
  console.log(
    `done: ${result.steps} steps, ${result.msPerStep.toFixed(1)} ms/step, best val loss ${result.bestValLoss?.toFixed(4) ?? '-'}`,
  );
  mkdirSync(out, { recursive: true });
  await saveCheckpoint(out, { model, trainer, tokenizer });
  writeFileSync(
    join(out, 'loss.svg'),
    lossCurveSvg(
      [
        { name: 'train', points: trainer.history.train },
        { name: 'val', points: trainer.history.val },
      ],
      { title: `${source}: masked-LM loss` },
    ),
  );
  console.log(`saved: ${out}/ (model.safetensors, optimizer.safetensors, checkpoint.json, loss.svg)`);
  // A masked sentence from the held-out data shows what the model learned.
  const words = (valDocs[0]?.[0] ?? sentences[0] ?? '').split(' ');
  if (words.length > 2) {
    const at = Math.floor(words.length / 2);
    const probe = [...words.slice(0, at), tokenizer.idToToken(tokenizer.maskId) ?? '[MASK]', ...words.slice(at + 1)].join(' ');
    const top = model.fillMask(tokenizer, probe, { topK: 5 })[0] ?? [];
    console.log(`\nfill-mask: ${probe}\n  ${top.map((c) => `${c.token} ${(100 * c.score).toFixed(1)}%`).join(', ')}  (was: ${words[at]})`);
  }
  model.dispose();
}

/** A BERT and its tokenizer from a wasmformer checkpoint or a Hugging Face directory. */
async function loadBert(dir: string, nClasses?: number): Promise<{ model: BERT; tokenizer: WordPieceTokenizer }> {
  if (!existsSync(join(dir, 'checkpoint.json')) && existsSync(join(dir, 'config.json'))) {
    const model = await loadHuggingFace(dir, { ...(nClasses !== undefined ? { nClasses } : {}), dropout: 0.1 });
    if (!(model instanceof BERT)) {
      model.dispose();
      throw new UsageError(`${dir} holds a decoder (GPT); the bert commands need a BERT checkpoint`);
    }
    return { model, tokenizer: huggingFaceTokenizer(dir) };
  }
  const loaded = await loadBertCheckpoint(dir);
  if (!(loaded.tokenizer instanceof WordPieceTokenizer)) {
    loaded.model.dispose();
    throw new UsageError(`${dir} holds no WordPiece tokenizer`);
  }
  return { model: loaded.model, tokenizer: loaded.tokenizer };
}

/** `tokenizer.json`, else `vocab.txt` with `tokenizer_config.json`'s `do_lower_case` (default true). */
function huggingFaceTokenizer(dir: string): WordPieceTokenizer {
  const json = join(dir, 'tokenizer.json');
  if (existsSync(json)) return WordPieceTokenizer.fromHuggingFace(parseJson(readFileSync(json, 'utf8'), json));
  const vocab = join(dir, 'vocab.txt');
  if (!existsSync(vocab)) throw new UsageError(`${dir} has neither tokenizer.json nor vocab.txt`);
  const configPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(configPath) ? (parseJson(readFileSync(configPath, 'utf8'), configPath) as { do_lower_case?: unknown }) : {};
  return WordPieceTokenizer.fromVocabTxt(readFileSync(vocab, 'utf8'), { lowercase: config.do_lower_case !== false });
}

/** Rows of a TSV file with a header: the text (and pair) and the integer label. */
function readLabelled(path: string, flags: Flags): { inputs: (string | [string, string])[]; labels: number[] } {
  const lines = readFlagFile(path, path === str(flags, 'dev') ? 'dev' : 'train')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  const header = (lines[0] ?? '').split('\t');
  const column = (name: string | undefined, what: string): number => {
    const at = name === undefined ? -1 : header.indexOf(name);
    if (name !== undefined && at < 0)
      throw new UsageError(`${path}: no column '${name}' for ${what} (the header has: ${header.join(', ')})`);
    return at;
  };
  const labelAt = column(str(flags, 'label-column') ?? 'label', 'the labels');
  const textName = str(flags, 'text-column');
  const textAt = textName !== undefined ? column(textName, 'the text') : header.findIndex((_, i) => i !== labelAt);
  if (textAt < 0) throw new UsageError(`${path}: no text column besides the label column`);
  const pairAt = column(str(flags, 'pair-column'), 'the pair');
  const inputs: (string | [string, string])[] = [];
  const labels: number[] = [];
  lines.slice(1).forEach((line, i) => {
    const cells = line.split('\t');
    const label = Number(cells[labelAt]);
    if (!Number.isInteger(label) || label < 0)
      throw new UsageError(`${path} line ${i + 2}: label '${cells[labelAt] ?? ''}' is not an integer >= 0`);
    const textCell = cells[textAt] ?? '';
    inputs.push(pairAt >= 0 ? [textCell, cells[pairAt] ?? ''] : textCell);
    labels.push(label);
  });
  if (inputs.length === 0) throw new UsageError(`${path} has no rows after its header`);
  return { inputs, labels };
}

async function finetune(flags: Flags): Promise<void> {
  const dir = str(flags, 'checkpoint');
  const trainPath = str(flags, 'train');
  if (!dir || !trainPath) throw new UsageError('finetune needs --checkpoint dir and --train train.tsv');
  const out = str(flags, 'out') ?? 'runs/bert-classifier';
  const trainRows = readLabelled(trainPath, flags);
  const devPath = str(flags, 'dev');
  const devRows = devPath ? readLabelled(devPath, flags) : undefined;
  const nClasses = Math.max(...trainRows.labels, ...(devRows?.labels ?? [])) + 1;
  const loaded = await loadBert(dir, nClasses);
  let model = loaded.model;
  if (model.config.lmHead !== 'none' || model.config.nClasses !== nClasses) {
    // A pretrained encoder (or a classifier of another task) gets a new head of nClasses.
    const classifier = model.withClassifier(nClasses, { seed: num(flags, 'seed', 1) });
    model.dispose();
    model = classifier;
  }
  const { tokenizer } = loaded;
  const maxLength = Math.min(num(flags, 'max-length', 128), model.config.blockSize);
  const train = ClassificationDataset.fromTexts(tokenizer, trainRows.inputs, trainRows.labels, { maxLength, groupByLength: true });
  const dev = devRows ? ClassificationDataset.fromTexts(tokenizer, devRows.inputs, devRows.labels, { maxLength }) : undefined;
  const batchSize = num(flags, 'batch-size', 32);
  const epochSteps = Math.ceil(train.size / batchSize);
  const steps = num(flags, 'steps', Math.round(num(flags, 'epochs', 1) * epochSteps));
  const trainer = new Trainer(
    model,
    { train, ...(dev ? { val: dev } : {}) },
    trainerOptionsFromFlags(
      { ...flags, 'seq-len': flags['seq-len'] ?? String(maxLength) },
      {
        steps,
        batchSize,
        lr: 5e-5,
        warmup: Math.round(steps / 10),
        weightDecay: 0.01,
        beta2: 0.999,
        evalInterval: dev ? Math.max(1, Math.round(steps / 4)) : 0,
        evalBatches: 20,
        seed: 1,
      },
    ),
  );
  const info = runtimeInfo();
  console.log(
    `data: ${trainPath} — ${train.size.toLocaleString()} examples, ${nClasses} classes${dev ? `; dev ${devPath} — ${dev.size.toLocaleString()}` : ''}`,
  );
  console.log(
    `model: ${dir} — ${model.numParams.toLocaleString()} parameters; ${steps} steps of ${batchSize} (${(steps / epochSteps).toFixed(2)} epochs), sequences up to ${maxLength} tokens`,
  );
  console.log(`wasm: ${info.variant} build, ${info.threads} thread(s); planned memory ${mib(trainer.memory.total)}`);
  const stopProgress = showProgress(trainer, 'finetune', 'acc');
  const result = await trainer.fit();
  stopProgress();
  const final = dev ? trainer.evaluateMetrics('val') : undefined;
  console.log(
    `done: ${result.steps} steps, ${result.msPerStep.toFixed(1)} ms/step${final ? `; dev loss ${final.loss.toFixed(4)}, dev accuracy ${(100 * (final.accuracy ?? NaN)).toFixed(2)}%` : ''}`,
  );
  mkdirSync(out, { recursive: true });
  await saveCheckpoint(out, { model, trainer, tokenizer });
  console.log(`saved: ${out}/`);
  model.dispose();
}

/** The texts of `--text` (repeatable) or of `--data` (one per line). */
function textsOf(flags: Flags): string[] {
  const given = flags.text;
  if (Array.isArray(given) && given.length > 0) return given;
  const path = str(flags, 'data');
  if (path)
    return readFlagFile(path, 'data')
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '');
  throw new UsageError('give the input with --text "…" (repeatable) or --data file.txt (one text per line)');
}

async function predict(flags: Flags): Promise<void> {
  const dir = str(flags, 'checkpoint');
  if (!dir) throw new UsageError('predict needs --checkpoint dir');
  const texts = textsOf(flags);
  const { model, tokenizer } = await loadBert(dir);
  if (model.config.nClasses === 0) {
    model.dispose();
    throw new UsageError(`${dir} has no classifier; fine-tune it first (wasmformer bert finetune)`);
  }
  const maxLength = Math.min(num(flags, 'max-length', 128), model.config.blockSize);
  const predictions = model.predict(tokenizer, texts, { maxLength });
  console.log('label\tprobabilities\ttext');
  predictions.forEach((p, i) => console.log(`${p.label}\t${Array.from(p.probs, (v) => v.toFixed(4)).join(',')}\t${texts[i] ?? ''}`));
  model.dispose();
}

async function fillMask(flags: Flags): Promise<void> {
  const dir = str(flags, 'checkpoint');
  if (!dir) throw new UsageError('fill-mask needs --checkpoint dir');
  const texts = textsOf(flags);
  const { model, tokenizer } = await loadBert(dir);
  const topK = num(flags, 'top-k', 5);
  for (const text of texts) {
    console.log(text);
    model.fillMask(tokenizer, text, { topK }).forEach((candidates, i) => {
      console.log(`  [MASK] ${i + 1}: ${candidates.map((c) => `${c.token} ${(100 * c.score).toFixed(1)}%`).join(', ')}`);
    });
  }
  model.dispose();
}

/**
 * Runs `wasmformer bert <args>`.
 * @param argv - the arguments after `bert`.
 * @param ready - starts WebAssembly with `--threads` (when the flags are valid).
 * @returns the process exit code.
 */
export async function bertCommand(argv: string[], ready: (threads: number | undefined) => Promise<unknown>): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.log(HELP);
    return values.help ? 0 : 1;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1] ?? ''}'`);
  const commands: Record<string, (flags: Flags) => Promise<void>> = { pretrain, finetune, predict, 'fill-mask': fillMask };
  const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!run) throw new UsageError(`unknown bert command '${command}' (pretrain, finetune, predict, fill-mask)`);
  await ready(num(values, 'threads'));
  await run(values);
  return 0;
}
