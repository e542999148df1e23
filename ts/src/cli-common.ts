/**
 * What the `wasmformer` commands share: flag readers, the model and trainer flags, and the
 * progress bar (`cli-progress`).
 */
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Trainer, TrainerOptions, TransformerConfigInput } from './index.node.js';

/** Parsed flags (`util.parseArgs` values). */
export type Flags = Record<string, string | boolean | string[] | undefined>;

/** A bad or missing flag: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

/** Flags of the model options, for `util.parseArgs`. */
export const MODEL_FLAGS = {
  'n-layer': { type: 'string' },
  'n-head': { type: 'string' },
  'n-embd': { type: 'string' },
  'block-size': { type: 'string' },
  positional: { type: 'string' },
  norm: { type: 'string' },
  'norm-placement': { type: 'string' },
  ffn: { type: 'string' },
  'norm-eps': { type: 'string' },
  'relative-buckets': { type: 'string' },
  'relative-max-distance': { type: 'string' },
  dropout: { type: 'string' },
  'no-bias': { type: 'boolean' },
  'no-tie': { type: 'boolean' },
  'rope-base': { type: 'string' },
  'rope-fraction': { type: 'string' },
  'rope-keep-frequencies': { type: 'string' },
  'no-position-layers': { type: 'string' },
  'nope-every': { type: 'string' },
} as const;

/** Flags of the trainer options, for `util.parseArgs`. */
export const TRAINER_FLAGS = {
  'seq-len': { type: 'string' },
  schedule: { type: 'string' },
  eps: { type: 'string' },
  'decay-embeddings': { type: 'boolean' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'min-lr': { type: 'string' },
  warmup: { type: 'string' },
  'decay-steps': { type: 'string' },
  'weight-decay': { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  'grad-clip': { type: 'string' },
  'grad-accum': { type: 'string' },
  'eval-interval': { type: 'string' },
  'eval-batches': { type: 'string' },
  patience: { type: 'string' },
  seed: { type: 'string' },
} as const;

/** The number in `--name` (or `fallback`). */
export function num(flags: Flags, name: string, fallback: number): number;
export function num(flags: Flags, name: string, fallback?: number): number | undefined;
export function num(flags: Flags, name: string, fallback?: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} must be a number, got '${String(raw)}'`);
  return value;
}

/** The string in `--name`, if given. */
export function str(flags: Flags, name: string): string | undefined {
  const raw = flags[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** The UTF-8 text of a file named by `--name`. */
export function readFlagFile(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --${name} ${path}: ${(error as Error).message}`);
  }
}

/**
 * The layers without positions: `--no-position-layers 3,7` (0-based indices) or
 * `--nope-every 4` (layers 3, 7, … of `nLayer`); neither: the config's default.
 */
function noPositionLayersFromFlags(flags: Flags, nLayer: number): number[] | undefined {
  const list = str(flags, 'no-position-layers');
  const every = num(flags, 'nope-every');
  if (list !== undefined && every !== undefined) throw new UsageError('give --no-position-layers or --nope-every, not both');
  if (every !== undefined) {
    if (!Number.isInteger(every) || every < 1) throw new UsageError(`--nope-every must be an integer >= 1, got '${every}'`);
    return Array.from({ length: Math.floor(nLayer / every) }, (_, i) => (i + 1) * every - 1);
  }
  if (list === undefined) return undefined;
  return list.split(',').map((part) => {
    const layer = Number(part);
    if (part.trim() === '' || !Number.isInteger(layer))
      throw new UsageError(`--no-position-layers must be layer indices like 3,7, got '${list}'`);
    return layer;
  });
}

/** The model options given by flags (defaults: 4 layers, 4 heads, 128 wide, block 64). */
export function modelConfigFromFlags(flags: Flags, vocabSize: number): TransformerConfigInput {
  const nLayer = num(flags, 'n-layer', 4);
  return {
    vocabSize,
    blockSize: num(flags, 'block-size', 64),
    nLayer,
    nHead: num(flags, 'n-head', 4),
    nEmbd: num(flags, 'n-embd', 128),
    positional: str(flags, 'positional') as TransformerConfigInput['positional'],
    norm: str(flags, 'norm') as TransformerConfigInput['norm'],
    normPlacement: str(flags, 'norm-placement') as TransformerConfigInput['normPlacement'],
    ffn: str(flags, 'ffn') as TransformerConfigInput['ffn'],
    dropout: num(flags, 'dropout'),
    bias: flags['no-bias'] ? false : undefined,
    tieEmbeddings: flags['no-tie'] ? false : undefined,
    ropeBase: num(flags, 'rope-base'),
    normEps: num(flags, 'norm-eps'),
    relativeBuckets: num(flags, 'relative-buckets'),
    relativeMaxDistance: num(flags, 'relative-max-distance'),
    ropeFraction: num(flags, 'rope-fraction'),
    ropeKeepFrequencies: num(flags, 'rope-keep-frequencies'),
    noPositionLayers: noPositionLayersFromFlags(flags, nLayer),
  };
}

/** Defaults of a command's training flags (nanoGPT's for GPT, BERT's for BERT). */
export interface TrainerDefaults {
  steps: number;
  batchSize: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  beta2: number;
  evalInterval: number;
  evalBatches: number;
  seed: number;
}

/** The trainer options given by flags over `defaults`. */
export function trainerOptionsFromFlags(flags: Flags, defaults: TrainerDefaults): TrainerOptions {
  const steps = num(flags, 'steps', defaults.steps);
  const lr = num(flags, 'lr', defaults.lr);
  const patience = num(flags, 'patience');
  return {
    batchSize: num(flags, 'batch-size', defaults.batchSize),
    seqLen: num(flags, 'seq-len'),
    maxSteps: steps,
    schedule: str(flags, 'schedule') as TrainerOptions['schedule'],
    eps: num(flags, 'eps'),
    decayEmbeddings: flags['decay-embeddings'] === true,
    lr,
    minLr: num(flags, 'min-lr', lr / 10),
    warmupSteps: Math.min(num(flags, 'warmup', defaults.warmup), steps),
    decaySteps: num(flags, 'decay-steps', steps),
    weightDecay: num(flags, 'weight-decay', defaults.weightDecay),
    beta1: num(flags, 'beta1', 0.9),
    beta2: num(flags, 'beta2', defaults.beta2),
    gradClip: num(flags, 'grad-clip', 1),
    gradAccumSteps: num(flags, 'grad-accum', 1),
    evalInterval: num(flags, 'eval-interval', defaults.evalInterval),
    evalBatches: num(flags, 'eval-batches', defaults.evalBatches),
    seed: num(flags, 'seed', defaults.seed),
    ...(patience !== undefined ? { earlyStopping: { patience } } : {}),
  };
}

/**
 * Shows a progress bar (step, loss, validation figure, tokens/s, ETA) for `trainer` until
 * the returned function is called. In logs (no terminal) the line is printed every 10 s.
 * @param valLabel - what the validation column shows: the loss or the accuracy.
 */
export function showProgress(trainer: Trainer, label: string, valLabel: 'val' | 'acc' = 'val'): () => void {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} steps | loss {loss} | ${valLabel} {val} | {tps} tok/s | ETA {eta_formatted}`,
      hideCursor: true,
      noTTYOutput: !process.stdout.isTTY,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(trainer.options.maxSteps, trainer.step, { loss: '-', val: '-', tps: '-' });
  const offStep = trainer.on('step', (e) =>
    bar.update(e.step, { loss: e.loss.toFixed(4), tps: Math.round(e.tokensPerSec).toLocaleString() }),
  );
  const offEval = trainer.on('eval', (e) => {
    const shown =
      valLabel === 'acc' ? (e.valAccuracy !== undefined ? `${(100 * e.valAccuracy).toFixed(1)}%` : '-') : (e.valLoss?.toFixed(4) ?? '-');
    bar.update({ val: shown });
  });
  return () => {
    offStep();
    offEval();
    bar.stop();
  };
}
