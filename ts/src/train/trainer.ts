/**
 * The trainer: nanoGPT's loop around a model whose whole step (forward, loss, backward,
 * clipping, AdamW) is one WebAssembly call. Batches from any {@link BatchSource} (random
 * windows of a token array, masked or labelled sentences), warm-up + cosine learning rate,
 * gradient accumulation, weight-decay groups, periodic evaluation, early stopping, step/eval
 * callbacks, and a state that checkpoints restore exactly. It only calls the model's methods.
 */
import { InvalidArgumentError, NumericalError } from '../errors.js';
import type { TransformerModel, MemoryPlan } from '../models/transformer.js';
import { type BatchSource, batchSeqLen, concatBatches, type ModelBatch } from './batches.js';
import { TokenDataset } from './dataset.js';
import { Rng } from './rng.js';
import { type LrScheduleKind, learningRateAt, validateSchedule } from './schedule.js';

/** Trainer settings (nanoGPT names in camelCase). */
export interface TrainerOptions {
  /** Sequences per micro-batch (B). */
  batchSize: number;
  /** Tokens per sequence (T); default the model's blockSize. */
  seqLen?: number;
  /** Optimizer steps to run. */
  maxSteps: number;
  /** Peak learning rate (default 6e-4). */
  lr?: number;
  /** Final learning rate (default lr / 10). */
  minLr?: number;
  /** Linear warm-up steps (default 0). */
  warmupSteps?: number;
  /** Step where the decay reaches minLr (default maxSteps). */
  decaySteps?: number;
  /** Learning-rate shape after warm-up (default 'cosine'). */
  schedule?: LrScheduleKind;
  /** Decoupled weight decay on linear weights (default 0.1). */
  weightDecay?: number;
  /** Also decay embeddings (default false; norms and biases never). */
  decayEmbeddings?: boolean;
  /** AdamW β1 (default 0.9). */
  beta1?: number;
  /** AdamW β2 (default 0.95). */
  beta2?: number;
  /** AdamW ε (default 1e-8). */
  eps?: number;
  /** Global-norm clipping threshold; 0 disables (default 1). */
  gradClip?: number;
  /** Micro-batches per step (default 1). */
  gradAccumSteps?: number;
  /** Evaluate every this many steps; 0 = never (default 0). */
  evalInterval?: number;
  /** Batches per evaluation (default 20). */
  evalBatches?: number;
  /** Seed of data sampling and dropout (default 1337). */
  seed?: number;
  /** Stop when the validation loss has not improved by `minDelta` for `patience` evaluations. */
  earlyStopping?: EarlyStopping;
}

/** {@link TrainerOptions.earlyStopping}: when to stop on a validation loss that stopped improving. */
export interface EarlyStopping {
  /** Evaluations without an improvement before stopping (an integer >= 1). */
  patience: number;
  /** How much lower than the best so far a loss must be to count as an improvement (default 0). */
  minDelta?: number;
}

/** Emitted after every step. */
export interface StepEvent {
  /** 1-based count of steps done. */
  step: number;
  /** Training loss of this step (mean over its micro-batches). */
  loss: number;
  /** Learning rate this step used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens per second of this step. */
  tokensPerSec: number;
  /** Milliseconds of this step. */
  stepMs: number;
}

/** Emitted after every evaluation. */
export interface EvalEvent {
  /** Steps done when the evaluation ran. */
  step: number;
  /** Mean loss on `evalBatches` random training batches. */
  trainLoss: number;
  /** Mean loss on the validation data (undefined without validation data). */
  valLoss: number | undefined;
  /** Lowest validation loss so far (early stopping compares with it). */
  bestValLoss: number | undefined;
  /** Classification accuracy on the validation data (models with a classifier, labelled data). */
  valAccuracy?: number;
}

/** The result of {@link Trainer.evaluateMetrics}. */
export interface EvalMetrics {
  /** Mean loss (the sum of the token and class losses). */
  loss: number;
  /** Fraction of labelled sequences whose most likely class is the label (classifiers only). */
  accuracy?: number;
}

/** Random windows of a token array, as a {@link BatchSource}. */
function tokenSource(tokens: Int32Array, seqLen: number, batchSize: number): BatchSource {
  const dataset = new TokenDataset(tokens, { blockSize: seqLen, batchSize });
  return {
    sample(rng: Rng): ModelBatch {
      const b = dataset.sampleBatch(rng);
      return { ids: Uint32Array.from(b.inputs), targets: Int32Array.from(b.targets), batchSize };
    },
  };
}

/** What `fit` returns. */
export interface FitResult {
  /** Steps done in total (also those before this call). */
  steps: number;
  /** Whether early stopping ended training before `maxSteps`. */
  stoppedEarly: boolean;
  /** Training loss of the last step (NaN if this call ran none). */
  finalLoss: number;
  /** Lowest validation loss seen (undefined without evaluations on validation data). */
  bestValLoss: number | undefined;
  /** Mean milliseconds per training step (evaluation excluded). */
  msPerStep: number;
}

/** One recorded loss. */
export interface LossRecord {
  /** Steps done when it was measured. */
  step: number;
  /** The loss. */
  loss: number;
}

/** The losses a trainer recorded. */
export interface TrainingHistory {
  /** The training loss of every step. */
  train: LossRecord[];
  /** The validation loss of every evaluation. */
  val: LossRecord[];
}

/** Everything needed to resume exactly (JSON-safe). */
export interface TrainerState {
  /** Steps done. */
  step: number;
  /** State of the data-sampling random stream ({@link Rng.getState}). */
  dataRng: number[];
  /** Lowest validation loss so far (null before the first evaluation). */
  bestValLoss: number | null;
  /** Evaluations since the validation loss last improved (early stopping). */
  evalsWithoutImprovement: number;
  /** Losses recorded so far. */
  history: TrainingHistory;
}

/** {@link TrainerOptions} with every default filled in ({@link Trainer.options}). */
export type ResolvedTrainerOptions = Required<Omit<TrainerOptions, 'earlyStopping'>> & {
  /** As given, with `minDelta` filled in; absent: no early stopping. */
  earlyStopping?: Required<EarlyStopping>;
};

function resolve(options: TrainerOptions, blockSize: number): ResolvedTrainerOptions {
  const lr = options.lr ?? 6e-4;
  const r: ResolvedTrainerOptions = {
    batchSize: options.batchSize,
    seqLen: options.seqLen ?? blockSize,
    maxSteps: options.maxSteps,
    lr,
    minLr: options.minLr ?? lr / 10,
    warmupSteps: options.warmupSteps ?? 0,
    decaySteps: options.decaySteps ?? options.maxSteps,
    schedule: options.schedule ?? 'cosine',
    weightDecay: options.weightDecay ?? 0.1,
    decayEmbeddings: options.decayEmbeddings ?? false,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.95,
    eps: options.eps ?? 1e-8,
    gradClip: options.gradClip ?? 1,
    gradAccumSteps: options.gradAccumSteps ?? 1,
    evalInterval: options.evalInterval ?? 0,
    evalBatches: options.evalBatches ?? 20,
    seed: options.seed ?? 1337,
  };
  if (options.earlyStopping) r.earlyStopping = { patience: options.earlyStopping.patience, minDelta: options.earlyStopping.minDelta ?? 0 };
  for (const key of ['batchSize', 'seqLen', 'maxSteps', 'gradAccumSteps', 'evalBatches'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 1) throw new InvalidArgumentError(`trainer: ${key} must be an integer >= 1, got ${r[key]}`);
  }
  if (!Number.isInteger(r.evalInterval) || r.evalInterval < 0)
    throw new InvalidArgumentError(`trainer: evalInterval must be an integer >= 0, got ${r.evalInterval}`);
  if (!Number.isSafeInteger(r.seed)) throw new InvalidArgumentError(`trainer: seed must be a safe integer, got ${r.seed}`);
  for (const [key, v] of [
    ['weightDecay', r.weightDecay],
    ['gradClip', r.gradClip],
  ] as const) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`trainer: ${key} must be a finite number >= 0, got ${v}`);
  }
  for (const [key, v] of [
    ['beta1', r.beta1],
    ['beta2', r.beta2],
  ] as const) {
    if (!(v >= 0 && v < 1)) throw new InvalidArgumentError(`trainer: ${key} must be in [0, 1), got ${v}`);
  }
  if (!(r.eps > 0)) throw new InvalidArgumentError(`trainer: eps must be > 0, got ${r.eps}`);
  if (r.seqLen > blockSize) throw new InvalidArgumentError(`trainer: seqLen ${r.seqLen} exceeds the model's blockSize ${blockSize}`);
  if (r.earlyStopping && (!Number.isInteger(r.earlyStopping.patience) || r.earlyStopping.patience < 1)) {
    throw new InvalidArgumentError(`trainer: earlyStopping.patience must be an integer >= 1`);
  }
  validateSchedule({ lr: r.lr, minLr: r.minLr, warmupSteps: r.warmupSteps, decaySteps: r.decaySteps, schedule: r.schedule });
  return r;
}

/** Trains a GPT or BERT on a token array or any {@link BatchSource}. */
export class Trainer {
  /** The options, with every default filled in. */
  readonly options: Readonly<ResolvedTrainerOptions>;
  /** Bytes planned for training (parameters, gradients, AdamW, activations). */
  readonly memory: MemoryPlan;
  readonly #model: TransformerModel;
  readonly #train: BatchSource;
  readonly #val: BatchSource | undefined;
  #state: TrainerState;
  #rng: Rng;
  readonly #listeners = { step: new Set<(e: StepEvent) => void>(), eval: new Set<(e: EvalEvent) => void>() };

  /**
   * @param model - a GPT, or a BERT (with a {@link MaskedLMDataset} or {@link ClassificationDataset})
   * @param data - `train` (and optional `val`): int32 token arrays (random next-token
   *   windows, nanoGPT style) or {@link BatchSource}s
   * @example
   * ```ts
   * const trainer = new Trainer(gpt, { train, val }, { batchSize: 12, maxSteps: 2000, lr: 1e-3 });
   * trainer.on('step', (e) => console.log(e.step, e.loss));
   * await trainer.fit();
   * ```
   */
  constructor(model: TransformerModel, data: { train: Int32Array | BatchSource; val?: Int32Array | BatchSource }, options: TrainerOptions) {
    if ((model as { quantization?: unknown }).quantization != null) {
      throw new InvalidArgumentError('trainer: this model is quantised (quantize); training needs a float32 model');
    }
    this.#model = model;
    this.options = resolve(options, model.config.blockSize);
    const { seqLen, batchSize } = this.options;
    const source = (d: Int32Array | BatchSource): BatchSource => (d instanceof Int32Array ? tokenSource(d, seqLen, batchSize) : d);
    if (!(data.train instanceof Int32Array) && typeof data.train?.sample !== 'function') {
      throw new InvalidArgumentError('trainer: data.train must be an Int32Array of token ids or a BatchSource');
    }
    this.#train = source(data.train);
    this.#val = data.val ? source(data.val) : undefined;
    this.#rng = new Rng(this.options.seed);
    this.#state = {
      step: 0,
      dataRng: this.#rng.getState(),
      bestValLoss: null,
      evalsWithoutImprovement: 0,
      history: { train: [], val: [] },
    };
    this.memory = model.plan(batchSize, seqLen, true);
  }

  /** Steps done so far. */
  get step(): number {
    return this.#state.step;
  }

  /** Subscribes to `'step'` or `'eval'` events; returns the unsubscribe function. */
  on<K extends 'step' | 'eval'>(event: K, listener: K extends 'step' ? (e: StepEvent) => void : (e: EvalEvent) => void): () => void {
    const set = this.#listeners[event] as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** The learning rate at `step` (0-based). */
  lrAt(step: number): number {
    const { lr, minLr, warmupSteps, decaySteps, schedule } = this.options;
    return learningRateAt(step, { lr, minLr, warmupSteps, decaySteps, schedule });
  }

  /**
   * One optimizer step (all micro-batches in one WebAssembly call).
   * @throws NumericalError if the loss or gradient is not finite (parameters unchanged).
   */
  trainStep(): StepEvent {
    const { batchSize, seqLen, gradAccumSteps, weightDecay, decayEmbeddings, beta1, beta2, eps, gradClip, seed } = this.options;
    const parts: ModelBatch[] = [];
    for (let micro = 0; micro < gradAccumSteps; micro++) {
      const part = this.#train.sample(this.#rng, batchSize, seqLen);
      if (part.batchSize !== batchSize)
        throw new InvalidArgumentError(`trainer: the batch source gave ${part.batchSize} sequences, expected ${batchSize}`);
      parts.push(part);
    }
    const batch = concatBatches(parts, seqLen);
    const batchLen = batch.seqLen ?? seqLen;
    const lr = this.lrAt(this.#state.step);
    const dropoutSeed = (seed * 1_000_003 + this.#state.step) % 2 ** 52;
    const start = performance.now();
    const { loss, gradNorm, applied } = this.#model._trainStepBatch(batch, {
      accum: gradAccumSteps,
      seqLen: batchLen,
      lr,
      weightDecay,
      decayEmbeddings,
      beta1,
      beta2,
      eps,
      gradClip,
      dropoutSeed,
    });
    const n = batchSize * batchLen;
    const stepMs = performance.now() - start;
    if (!applied) {
      throw new NumericalError(
        `training step ${this.#state.step + 1}: loss ${loss} / gradient norm ${gradNorm} is not finite; ` +
          'the parameters were left unchanged (lower the learning rate or enable gradClip)',
      );
    }
    this.#state.step += 1;
    this.#state.dataRng = this.#rng.getState();
    this.#state.history.train.push({ step: this.#state.step, loss });
    const event: StepEvent = { step: this.#state.step, loss, lr, gradNorm, stepMs, tokensPerSec: (gradAccumSteps * n) / (stepMs / 1000) };
    for (const fn of this.#listeners.step) fn(event);
    return event;
  }

  /**
   * Mean loss of a split (default the validation split, else train): over every example
   * when it is the validation split of a finite source (it has `batches`), else over
   * `batches` random batches drawn
   * from a stream of their own (deterministic per step), so evaluation never disturbs the
   * training data order.
   */
  evaluate(split: 'train' | 'val' = 'val', batches = this.options.evalBatches): number {
    return this.evaluateMetrics(split, batches).loss;
  }

  /** {@link Trainer.evaluate} plus classification accuracy when the model has a classifier. */
  evaluateMetrics(split: 'train' | 'val' = 'val', batches = this.options.evalBatches): EvalMetrics {
    const data = split === 'val' ? this.#val : this.#train;
    if (!data) throw new InvalidArgumentError('evaluate: no validation data was given');
    const { batchSize, seqLen } = this.options;
    const rng = new Rng(this.options.seed + 7919 * (this.#state.step + 1));
    // The validation split of a finite source is evaluated in full; training data by sample.
    const all: Iterable<ModelBatch> =
      data.batches && split === 'val'
        ? data.batches(batchSize, seqLen)
        : Array.from({ length: batches }, () => data.sample(rng, batchSize, seqLen));
    const classify = this.#model.config.nClasses > 0;
    let [loss, weight, correct, labelled] = [0, 0, 0, 0];
    for (const b of all) {
      const batchLen = batchSeqLen(b, seqLen);
      // A labelled batch gives its loss and its class logits from one forward.
      let logits: Float32Array | undefined;
      if (classify && b.labels) {
        const evaluated = this.#model.evaluateBatchWithClassLogits(b, batchLen);
        loss += evaluated.losses.total * b.batchSize;
        logits = evaluated.classLogits;
      } else {
        loss += this.#model.evaluateBatch(b, batchLen).total * b.batchSize;
      }
      weight += b.batchSize;
      if (classify && b.labels) {
        const classLogits = logits ?? this.#model.batchOutputs(b, batchLen, 'classLogits');
        const k = this.#model.config.nClasses;
        b.labels.forEach((label, i) => {
          if (label === -100) return;
          let best = 0;
          for (let c = 1; c < k; c++) if ((classLogits[i * k + c] as number) > (classLogits[i * k + best] as number)) best = c;
          correct += best === label ? 1 : 0;
          labelled += 1;
        });
      }
    }
    const metrics: EvalMetrics = { loss: loss / Math.max(weight, 1) };
    if (labelled > 0) metrics.accuracy = correct / labelled;
    return metrics;
  }

  /** Evaluates train (and val) loss, records them, updates early-stopping state. */
  runEvaluation(): EvalEvent {
    const trainLoss = this.evaluate('train');
    const valMetrics = this.#val ? this.evaluateMetrics('val') : undefined;
    const valLoss = valMetrics?.loss;
    const s = this.#state;
    if (valLoss !== undefined) {
      s.history.val.push({ step: s.step, loss: valLoss });
      const delta = this.options.earlyStopping?.minDelta ?? 0;
      if (s.bestValLoss === null || valLoss < s.bestValLoss - delta) {
        s.bestValLoss = valLoss;
        s.evalsWithoutImprovement = 0;
      } else {
        s.evalsWithoutImprovement += 1;
      }
    }
    const event: EvalEvent = { step: s.step, trainLoss, valLoss, bestValLoss: s.bestValLoss ?? undefined };
    if (valMetrics?.accuracy !== undefined) event.valAccuracy = valMetrics.accuracy;
    for (const fn of this.#listeners.eval) fn(event);
    return event;
  }

  /**
   * Trains until `maxSteps` (or early stopping, or `signal` aborts), evaluating every
   * `evalInterval` steps and at the end. Yields to the event loop between steps, so
   * progress output and pages stay responsive. `steps` runs at most that many steps now
   * (the schedule still spans `maxSteps`); `signal` stops after the current step.
   */
  async fit(options: { signal?: AbortSignal; steps?: number } = {}): Promise<FitResult> {
    const { evalInterval } = this.options;
    const maxSteps = Math.min(this.options.maxSteps, this.#state.step + (options.steps ?? Infinity));
    let stoppedEarly = false;
    let trainMs = 0;
    let stepsRun = 0;
    let last = NaN;
    while (this.#state.step < maxSteps && !options.signal?.aborted) {
      const e = this.trainStep();
      trainMs += e.stepMs;
      stepsRun += 1;
      last = e.loss;
      const atEnd = this.#state.step === this.options.maxSteps;
      if (evalInterval > 0 && (this.#state.step % evalInterval === 0 || atEnd)) {
        this.runEvaluation();
        const es = this.options.earlyStopping;
        if (es && this.#state.evalsWithoutImprovement >= es.patience) {
          stoppedEarly = true;
          break;
        }
      }
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    return {
      steps: this.#state.step,
      stoppedEarly,
      finalLoss: last,
      bestValLoss: this.#state.bestValLoss ?? undefined,
      msPerStep: stepsRun > 0 ? trainMs / stepsRun : 0,
    };
  }

  /** A JSON-safe copy of the trainer's state (with the model and optimizer, resumes exactly). */
  getState(): TrainerState {
    return structuredClone(this.#state);
  }

  /** Restores a state from {@link getState}. */
  setState(state: TrainerState): void {
    this.#rng = Rng.fromState(state.dataRng);
    this.#state = structuredClone(state);
  }

  /** Losses recorded so far. */
  get history(): TrainingHistory {
    return this.#state.history;
  }
}
