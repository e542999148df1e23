/**
 * Checkpoints (Node): a directory with `model.safetensors` (the weights, nanoGPT names),
 * `optimizer.safetensors` (AdamW moments) and `checkpoint.json` (config, tokenizer, optimizer
 * step, trainer options and state — data RNG, history — and the SHA-256 of both weight files).
 *
 * Saves are atomic: the new checkpoint is written and fsynced in `<dir>.saving`, the old one
 * is moved to `<dir>.previous`, the new one renamed into place, and only then the previous one
 * removed. Loading an interrupted save finds either the new or the previous checkpoint, never a
 * mix; a truncated or altered file fails its checksum and is refused with a CheckpointError.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { BERT } from '../models/bert.js';
import { GPT } from '../models/gpt.js';
import type { TransformerConfig } from '../models/config.js';
import type { TransformerModel } from '../models/transformer.js';
import { BpeTokenizer } from '../tokenizers/bpe.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import type { Trainer, TrainerOptions, TrainerState } from '../train/trainer.js';
import { readFileChecked, writeFileAtomic } from './files.node.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

const FORMAT = 'wasmformer-checkpoint';

interface CheckpointJson {
  format: typeof FORMAT;
  version: 1;
  modelType: 'gpt' | 'bert';
  config: TransformerConfig;
  tokenizer: unknown;
  optimizerStep: number;
  trainer: { options: TrainerOptions; state: TrainerState } | null;
  files: Record<string, { sha256: string; bytes: number }>;
}

/** What {@link loadCheckpoint} (a GPT) and {@link loadBertCheckpoint} (a BERT) return. */
export interface LoadedCheckpoint<M extends TransformerModel = GPT> {
  /** The model, with the saved configuration and weights. */
  model: M;
  /** The tokenizer saved with it, if any. */
  tokenizer: CheckpointTokenizer | undefined;
  /** The trainer options saved with the checkpoint (to build an identical Trainer). */
  trainerOptions: TrainerOptions | undefined;
  /** Restores the optimizer moments and the trainer's state into `trainer` (built on `model`). */
  restore(trainer: Trainer): void;
}

/** The tokenizers a checkpoint can hold (each serialises itself with a `type` field). */
export type CheckpointTokenizer = CharTokenizer | BpeTokenizer | WordPieceTokenizer;

function tokenizerFromJSON(json: unknown, where: string): CheckpointTokenizer {
  const type = (json as { type?: unknown } | null)?.type;
  try {
    if (type === 'char') return CharTokenizer.fromJSON(json);
    if (type === 'bpe') return BpeTokenizer.fromJSON(json);
    if (type === 'wordpiece') return WordPieceTokenizer.fromJSON(json);
  } catch (error) {
    throw new CheckpointError(`${where}: the saved tokenizer is invalid: ${(error as Error).message}`);
  }
  throw new CheckpointError(`${where}: unknown tokenizer type ${JSON.stringify(type)} (expected 'char', 'bpe' or 'wordpiece')`);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Saves `model` (and, if given, the trainer's optimizer and state, and the tokenizer) to `dir`.
 * @example
 * ```ts
 * await saveCheckpoint('runs/shakespeare', { model: gpt, trainer, tokenizer });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  parts: { model: TransformerModel; trainer?: Trainer; tokenizer?: CheckpointTokenizer },
): Promise<void> {
  const { model, trainer, tokenizer } = parts;
  const weights: Array<[string, { dtype: 'F32'; shape: number[]; data: Float32Array }]> = [];
  for (const [name, t] of model.getWeights()) weights.push([name, { dtype: 'F32', ...t }]);
  const files: Record<string, Uint8Array> = { 'model.safetensors': writeSafetensors(weights, { format: 'pt' }) };
  let optimizerStep = 0;
  if (trainer) {
    const { m, v, step } = model._optimizerState();
    optimizerStep = step;
    if (m.length > 0) {
      files['optimizer.safetensors'] = writeSafetensors([
        ['adamw.m', { dtype: 'F32', shape: [m.length], data: m }],
        ['adamw.v', { dtype: 'F32', shape: [v.length], data: v }],
      ]);
    }
  }
  const json: CheckpointJson = {
    format: FORMAT,
    version: 1,
    modelType: model instanceof BERT ? 'bert' : 'gpt',
    config: model.config,
    tokenizer: tokenizer?.toJSON() ?? null,
    optimizerStep,
    trainer: trainer ? { options: { ...trainer.options }, state: trainer.getState() } : null,
    files: Object.fromEntries(Object.entries(files).map(([k, b]) => [k, { sha256: sha256(b), bytes: b.length }])),
  };
  const saving = `${dir}.saving`;
  const previous = `${dir}.previous`;
  await rm(saving, { recursive: true, force: true });
  await mkdir(saving, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFileAtomic(join(saving, name), bytes);
  await writeFileAtomic(join(saving, 'checkpoint.json'), `${JSON.stringify(json, null, 1)}\n`);
  await rm(previous, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, previous);
  await rename(saving, dir);
  await rm(previous, { recursive: true, force: true });
}

async function readVerified(dir: string, name: string, json: CheckpointJson): Promise<Uint8Array> {
  const expected = json.files[name];
  const path = join(dir, name);
  if (!expected) throw new CheckpointError(`${path}: not listed in checkpoint.json`);
  const bytes = await readFileChecked(path, `checkpoint file ${name}`);
  if (bytes.length !== expected.bytes || sha256(bytes) !== expected.sha256) {
    throw new CheckpointError(
      `${path} is truncated or corrupted: ${bytes.length} bytes (expected ${expected.bytes}) and its SHA-256 does not match checkpoint.json`,
    );
  }
  return bytes;
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} (needs `await init()` first). Falls
 * back to `<dir>.previous` when a save was interrupted before the new one was in place.
 * @throws CheckpointError for a missing, truncated or corrupted checkpoint.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint<GPT>> {
  return load(dir, 'gpt', (config) => GPT.create(config));
}

/** {@link loadCheckpoint} for a BERT checkpoint. */
export async function loadBertCheckpoint(dir: string): Promise<LoadedCheckpoint<BERT>> {
  return load(dir, 'bert', (config) => BERT.create(config));
}

async function load<M extends TransformerModel>(
  dir: string,
  modelType: 'gpt' | 'bert',
  create: (config: TransformerConfig) => M,
): Promise<LoadedCheckpoint<M>> {
  const where = !existsSync(dir) && existsSync(`${dir}.previous`) ? `${dir}.previous` : dir;
  const raw = new TextDecoder().decode(await readFileChecked(join(where, 'checkpoint.json'), 'checkpoint.json'));
  let json: CheckpointJson;
  try {
    json = JSON.parse(raw) as CheckpointJson;
  } catch (error) {
    throw new CheckpointError(
      `${join(where, 'checkpoint.json')} is not valid JSON (${(error as Error).message}); the file is truncated or corrupted`,
    );
  }
  if (json?.format !== FORMAT || json.version !== 1 || typeof json.config !== 'object' || typeof json.files !== 'object') {
    throw new CheckpointError(
      `${join(where, 'checkpoint.json')} is not a wasmformer checkpoint (format ${String(json?.format)}, version ${String(json?.version)})`,
    );
  }
  const saved = json.modelType ?? 'gpt';
  if (saved !== modelType) {
    throw new CheckpointError(
      `${where} holds a ${saved === 'bert' ? 'BERT' : 'GPT'}; load it with ${saved === 'bert' ? 'loadBertCheckpoint' : 'loadCheckpoint'}`,
    );
  }
  // The weights file's recorded size bounds the model: a config edited to describe a larger
  // one is refused before anything is allocated.
  const weightBytes = json.files?.['model.safetensors']?.bytes;
  if (typeof weightBytes !== 'number' || !Number.isFinite(weightBytes)) {
    throw new CheckpointError(`${join(where, 'checkpoint.json')}: no size recorded for model.safetensors`);
  }
  const estimate = modelType === 'bert' ? BERT.estimate : GPT.estimate;
  if (estimate(json.config, 1, 1).params > weightBytes) {
    throw new CheckpointError(
      `${join(where, 'checkpoint.json')}: its config describes a larger model than model.safetensors (${weightBytes} bytes) holds`,
    );
  }
  const model = create(json.config);
  try {
    const weights = readSafetensors(await readVerified(where, 'model.safetensors', json), 'model.safetensors');
    model.setWeights(new Map([...weights.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }])));
  } catch (error) {
    model.dispose();
    throw error instanceof CheckpointError
      ? error
      : new CheckpointError(`${where}: weights do not fit the config: ${(error as Error).message}`);
  }
  const tokenizer = json.tokenizer ? tokenizerFromJSON(json.tokenizer, where) : undefined;
  const optimizerBytes = json.files['optimizer.safetensors'] ? await readVerified(where, 'optimizer.safetensors', json) : undefined;
  return {
    model,
    tokenizer,
    trainerOptions: json.trainer?.options,
    restore(trainer: Trainer): void {
      if (!json.trainer) throw new CheckpointError(`${where}: this checkpoint has no trainer state`);
      if (optimizerBytes) {
        const opt = readSafetensors(optimizerBytes, 'optimizer.safetensors').tensors;
        const m = opt.get('adamw.m');
        const v = opt.get('adamw.v');
        if (!m || !v) throw new CheckpointError(`${where}: optimizer.safetensors lacks adamw.m / adamw.v`);
        model._setOptimizerState({ m: m.data, v: v.data, step: json.optimizerStep });
      }
      trainer.setState(json.trainer.state);
    },
  };
}
