/**
 * The TS handle of a transformer living in WebAssembly memory: configuration, parameter
 * layout, weights in and out, memory planning, batch validation and `dispose()`. GPT and BERT
 * build on it. Rust owns every large buffer; TS only holds copies it asks for.
 *
 * Every forward goes through one batch path (`evaluateBatch`, `batchGradients`,
 * `batchOutputs`, `_trainStepBatch`); the token-array methods (`loss`, `gradients`, `logits`)
 * build a {@link ModelBatch} and call it.
 */
import { DisposedError, InvalidArgumentError, ShapeError, callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import type { ModelBatch } from '../train/batches.js';
import { type AttentionWeights, type AttentionWeightsOptions, attentionWeightsOf } from './attention.js';
import {
  type BatchArrays,
  type CheckedBatch,
  checkBatch,
  checkDims,
  checkTargets,
  checkTokens,
  seqLenOf,
  tokenShape,
} from './batch-check.js';
import { type TransformerConfig, type TransformerConfigInput, resolveConfig, toCoreConfig } from './config.js';
import { type QuantizeOptions, quantizeModel } from './quantize.js';

/** Bytes of a planned model state ({@link TransformerModel.plan}). */
export interface MemoryPlan {
  /** The parameters (float32). */
  params: number;
  /** Their gradients (training plans only, else 0). */
  grads: number;
  /** AdamW's two moments (training plans only, else 0). */
  optimizer: number;
  /** Activations and scratch for one `B × T` forward (and backward, when training). */
  activations: number;
  /** The sum: the WebAssembly memory the model needs. */
  total: number;
}

/** One named parameter tensor. */
export interface ParamSpec {
  /** nanoGPT-style name, e.g. `transformer.h.0.attn.c_attn.weight`. */
  name: string;
  /** Row-major shape; linear weights are `[out, in]`. */
  shape: number[];
  /** Offset in the flat parameter vector. */
  offset: number;
  /** AdamW group: `Matrix` (decayed), `Embedding`, `Vector` (never decayed). */
  group: 'Matrix' | 'Embedding' | 'Vector';
}

/** A named float32 tensor (a JS-owned copy). */
export interface NamedTensor {
  /** Row-major shape, e.g. `[V, C]`. */
  shape: number[];
  /** `shape.reduce((a, b) => a * b)` values, row-major. */
  data: Float32Array;
}

/** What {@link TransformerModel.gradients} returns. */
export interface Gradients {
  /** The mean loss. */
  loss: number;
  /** One gradient per parameter, named and shaped as {@link TransformerModel.paramSpecs}. */
  grads: Map<string, NamedTensor>;
}

/** What {@link TransformerModel.batchGradients} returns. */
export interface BatchGradients {
  /** The batch's losses; the gradient is that of their sum. */
  losses: BatchLosses;
  /** One gradient per parameter, named and shaped as {@link TransformerModel.paramSpecs}. */
  grads: Map<string, NamedTensor>;
}

/** What {@link TransformerModel.evaluateBatchWithClassLogits} returns. */
export interface BatchEvaluation {
  /** The batch's losses. */
  losses: BatchLosses;
  /** `[B, K]` float32 class logits of the same forward. */
  classLogits: Float32Array;
}

type WasmModelHandle = InstanceType<ReturnType<typeof wasm>['WasmModel']>;

/** The shared transformer handle. */
export class TransformerModel {
  /** The resolved configuration. */
  readonly config: TransformerConfig;
  #handle: WasmModelHandle | undefined;
  #specs: ParamSpec[];

  protected constructor(config: TransformerConfig, seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgumentError(`seed must be a non-negative integer, got ${seed}`);
    this.config = config;
    const glue = wasm();
    this.#handle = callWasm(() => new glue.WasmModel(toCoreConfig(config), seed));
    this.#specs = JSON.parse(this.#handle.specsJson()) as ParamSpec[];
  }

  /** Resolves a config input against defaults (exposed for subclasses). */
  protected static resolve(input: TransformerConfigInput, defaults: Partial<TransformerConfig>): TransformerConfig {
    return resolveConfig(input, defaults);
  }

  /** The underlying wasm object; throws {@link DisposedError} after `dispose()`. */
  protected get handle(): WasmModelHandle {
    if (!this.#handle) throw new DisposedError('this model was disposed');
    return this.#handle;
  }

  /** True once {@link TransformerModel.dispose} ran. */
  get disposed(): boolean {
    return this.#handle === undefined;
  }

  #quantization: 'int8' | null = null;
  #quantizedBytes = 0;

  /** `'int8'` after `quantize` ({@link GPT.quantize}, {@link BERT.quantize}), else `null` (float32). */
  get quantization(): 'int8' | null {
    return this.#quantization;
  }

  /** Bytes of the int8 weights and their scales (0 before `quantize`). */
  get quantizedBytes(): number {
    return this.#quantizedBytes;
  }

  /** The body of the subclasses' `quantize`: validates `options`, then packs the int8 copies. */
  protected quantizeWeights(options: QuantizeOptions): void {
    this.#quantizedBytes = quantizeModel(options, () => this.handle, this.#quantization);
    this.#quantization = 'int8';
  }

  /** What a quantised model of this kind runs on int8 (named in the refusals). */
  protected int8Paths(): string {
    return 'generation';
  }

  /** Throws {@link InvalidArgumentError} when quantised: `what` would run the float32 weights. */
  protected float32Only(what: string): void {
    if (this.#quantization !== null) {
      throw new InvalidArgumentError(`${what}: this model is quantised to int8 (only ${this.int8Paths()}); use a float32 model`);
    }
  }

  /**
   * The wasm object itself, for benchmarks that time one core call (bench/); the library,
   * the Trainer and checkpoints go through the model's methods.
   * @internal
   */
  _wasm(): WasmModelHandle {
    return this.handle;
  }

  /** Number of parameters. */
  get numParams(): number {
    return this.handle.numParams();
  }

  /** Every parameter tensor: name, shape, offset, AdamW group. */
  get paramSpecs(): readonly ParamSpec[] {
    return this.#specs;
  }

  /**
   * Allocates (once) activations for batches of `batchSize × seqLen` tokens; `training`
   * adds gradients, AdamW moments and backward scratch. Returns the planned bytes.
   * @throws OutOfMemoryError when the plan exceeds what WebAssembly can address (4 GiB),
   * before allocating anything.
   */
  plan(batchSize: number, seqLen: number, training = true): MemoryPlan {
    this.checkDims(batchSize, seqLen);
    return callWasm(() => this.handle.plan({ batchSize, seqLen, training })) as MemoryPlan;
  }

  /** The bytes {@link TransformerModel.plan} would take, without creating a model. */
  static estimateMemory(config: TransformerConfig, batchSize: number, seqLen: number, training = true): MemoryPlan {
    const glue = wasm();
    return callWasm(() => glue.WasmModel.estimate(toCoreConfig(config), { batchSize, seqLen, training })) as MemoryPlan;
  }

  /** The flat parameter vector (a copy), laid out by {@link paramSpecs}. */
  getFlatParams(): Float32Array {
    return this.handle.getParams();
  }

  /** Replaces every parameter from a flat vector. */
  setFlatParams(data: Float32Array): void {
    this.float32Only('setFlatParams'); // the int8 copies would go stale
    if (!(data instanceof Float32Array) || data.length !== this.numParams) {
      throw new ShapeError(`parameters: expected a Float32Array of ${this.numParams}`, `${this.numParams}`, `${data?.length}`);
    }
    callWasm(() => this.handle.setParams(data));
  }

  /** Every parameter as a named tensor (copies), named and shaped as {@link paramSpecs}. */
  getWeights(): Map<string, NamedTensor> {
    return this.#byParam(this.getFlatParams());
  }

  /**
   * Loads named tensors; every parameter must be present with its exact shape.
   * @throws ShapeError / InvalidArgumentError naming the tensor.
   */
  setWeights(weights: ReadonlyMap<string, NamedTensor>): void {
    const flat = new Float32Array(this.numParams);
    for (const s of this.#specs) {
      const w = weights.get(s.name);
      if (!w) throw new InvalidArgumentError(`weights: missing tensor '${s.name}'`);
      const want = s.shape.join('×');
      if (w.shape.join('×') !== want)
        throw new ShapeError(`weights: '${s.name}' has shape [${w.shape}], expected [${s.shape}]`, want, w.shape.join('×'));
      flat.set(w.data, s.offset);
    }
    const extra = [...weights.keys()].filter((k) => !this.#specs.some((s) => s.name === k));
    if (extra.length > 0) throw new InvalidArgumentError(`weights: unexpected tensors ${extra.slice(0, 5).join(', ')}`);
    this.setFlatParams(flat);
  }

  /** Checks `B, T` against the config (integers >= 1, `T <= blockSize` for absolute positions). */
  protected checkDims(batchSize: number, seqLen: number): void {
    checkDims(this.config, batchSize, seqLen);
  }

  /** Validates `ids: [count]` token ids into the Uint32Array the core takes. */
  protected checkTokens(ids: ArrayLike<number>, count: number, what = 'ids'): Uint32Array {
    return checkTokens(this.config, ids, count, what);
  }

  /** Validates `targets: [count]` (`-100` = ignored) into an Int32Array. */
  protected checkTargets(targets: ArrayLike<number>, count: number): Int32Array {
    return checkTargets(this.config, targets, count);
  }

  /** Validates a batch of `batch.batchSize × seqLen` into the arrays the core takes (empty = not given). */
  protected checkBatch(batch: BatchArrays, seqLen: number): CheckedBatch {
    return checkBatch(this.config, batch, seqLen);
  }

  /** A validated {@link ModelBatch} of token arrays (the token-array methods' input). */
  private tokenBatch(
    what: string,
    ids: ArrayLike<number>,
    targets: ArrayLike<number> | undefined,
    batchSize?: number,
    seqLen?: number,
  ): { batch: ModelBatch; seqLen: number } {
    const [b, t] = tokenShape(this.config, what, ids, batchSize, seqLen);
    const batch: ModelBatch = { ids: this.checkTokens(ids, b * t), batchSize: b };
    if (targets !== undefined) batch.targets = this.checkTargets(targets, b * t);
    return { batch, seqLen: t };
  }

  /**
   * Mean cross-entropy of `targets` given `ids`, no gradients (dropout off). Without
   * `batchSize` and `seqLen`, `ids` is one sequence.
   *
   * @example
   * ```ts
   * gpt.loss(ids, targets);          // one sequence: ids, targets: [T]
   * gpt.loss(ids, targets, 4, 64);   // a batch: ids, targets: [4, 64] row-major
   * ```
   * @param ids - `[T]` or `[B, T]` int token ids in `[0, vocabSize)`
   * @param targets - same shape as `ids`: the next tokens, `-100` ignored (the mean is over the others)
   * @param batchSize - B (with `seqLen`; omit both for one sequence)
   * @param seqLen - T (with `batchSize`)
   * @returns the mean loss
   * @throws ShapeError when `ids` or `targets` is not `B·T` long; InvalidArgumentError for a bad
   * id, target or dimension, or a sequence longer than `blockSize` with learned or sinusoidal positions
   */
  loss(ids: ArrayLike<number>, targets: ArrayLike<number>, batchSize?: number, seqLen?: number): number {
    const { batch, seqLen: t } = this.tokenBatch('loss', ids, targets, batchSize, seqLen);
    return this.evaluateBatch(batch, t).total;
  }

  /**
   * The language-model logits at every position. Without `batchSize` and `seqLen`, `ids` is
   * one sequence.
   *
   * @example
   * ```ts
   * const logits = gpt.logits(ids);   // ids: [T] → logits: [T, V]
   * const batch = gpt.logits(ids, 2, 8); // ids: [2, 8] → logits: [2, 8, V]
   * ```
   * @param ids - `[T]` or `[B, T]` int token ids in `[0, vocabSize)`
   * @param batchSize - B (with `seqLen`; omit both for one sequence)
   * @param seqLen - T (with `batchSize`)
   * @returns `[T, V]` (one sequence) or `[B, T, V]` float32, row-major (a JS-owned copy)
   * @throws ShapeError when `ids` is not `B·T` long; InvalidArgumentError for a bad id or
   * dimension, or a model without an LM head
   */
  logits(ids: ArrayLike<number>, batchSize?: number, seqLen?: number): Float32Array {
    const { batch, seqLen: t } = this.tokenBatch('logits', ids, undefined, batchSize, seqLen);
    return this.batchOutputs(batch, t, 'logits');
  }

  /**
   * The softmax attention probabilities of every layer and head for ONE sequence, exactly as
   * the forward computes them (dropout off): `softmax(q·kᵀ/√D + bias + mask)` with q, k after
   * RoPE, the ALiBi or relative-position bias, the causal mask (GPT) and the key-padding mask
   * (`attentionMask`, BERT). Runs one forward pass; the model stays usable after an error.
   *
   * @example
   * ```ts
   * const att = gpt.attentionWeights(tokenizer.encode('the dog sat'));
   * const map = att.at(0, 1); // layer 0, head 1: [T, T], row = query token, column = key token
   * ```
   * @param ids - `[T]` int token ids in `[0, vocabSize)`, `1 <= T` (`<= blockSize` with learned or sinusoidal positions)
   * @param options - `typeIds: [T]` segment ids, `attentionMask: [T]` 0/1
   * @returns `weights: [L, H, T, T]` float32 (a JS-owned copy) and `at(layer, head)`: a `[T, T]` view
   * @throws InvalidArgumentError for a bad id, segment id, mask value or length; ShapeError when
   * `typeIds` or `attentionMask` is not `[T]`
   */
  attentionWeights(ids: ArrayLike<number>, options: AttentionWeightsOptions = {}): AttentionWeights {
    this.float32Only('attentionWeights');
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new InvalidArgumentError('attentionWeights: ids must be an array of token ids');
    }
    const t = ids.length;
    if (t < 1) throw new InvalidArgumentError('attentionWeights: ids is empty; it needs at least one token');
    const { typeIds, attentionMask } = options;
    const c = this.checkBatch({ batchSize: 1, ids, typeIds, attentionMask }, t);
    const weights = callWasm(() => this.handle.attentionProbs(c.ids, c.typeIds, c.attentionMask, { seqLen: t }));
    return attentionWeightsOf(weights, this.config.nLayer, this.config.nHead, t);
  }

  /** Frees the wasm memory. Idempotent; later calls throw {@link DisposedError}. */
  dispose(): void {
    this.#handle?.free();
    this.#handle = undefined;
  }

  /** `using model = GPT.create(…)` disposes at scope end. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * The mean cross-entropy of `targets` given `ids` and its gradient with respect to every
   * parameter (dropout off), without changing the parameters or the optimizer. Plans the
   * training buffers for `B × T` if needed. Without `batchSize` and `seqLen`, `ids` is one
   * sequence.
   *
   * @example
   * ```ts
   * const { loss, grads } = gpt.gradients(ids, targets);   // one sequence [T]
   * grads.get('lm_head.weight'); // { shape: [V, C], data }
   * ```
   * @param ids - `[T]` or `[B, T]` int token ids in `[0, vocabSize)`
   * @param targets - same shape as `ids`: the next tokens, `-100` ignored (the mean is over the others)
   * @param batchSize - B (with `seqLen`; omit both for one sequence)
   * @param seqLen - T (with `batchSize`)
   * @returns the loss and one gradient tensor per parameter, named and shaped as {@link paramSpecs}
   * @throws ShapeError when `ids` or `targets` is not `B·T` long; InvalidArgumentError for a bad
   * id, target or dimension
   */
  gradients(ids: ArrayLike<number>, targets: ArrayLike<number>, batchSize?: number, seqLen?: number): Gradients {
    const { batch, seqLen: t } = this.tokenBatch('gradients', ids, targets, batchSize, seqLen);
    const { losses, grads } = this.batchGradients(batch, t);
    return { loss: losses.total, grads };
  }

  /**
   * {@link TransformerModel.checkBatch} for a loss: the batch must have targets or labels.
   * `seqLen` defaults to `batch.seqLen`, else `ids.length / batchSize`.
   */
  private checkLossBatch(what: string, batch: ModelBatch, seqLen: number | undefined): { c: CheckedBatch; t: number } {
    const t = seqLenOf(what, batch, seqLen);
    const c = this.checkBatch(batch, t);
    if (c.targets.length === 0 && c.labels.length === 0)
      throw new InvalidArgumentError(`${what}: the batch has neither targets nor labels`);
    return { c, t };
  }

  /**
   * One optimizer step over a batch of `accum` micro-batches of `batch.batchSize / accum`
   * sequences each (forward, loss, backward, clipping, AdamW: one WebAssembly call). The
   * Trainer's step; use {@link Trainer} instead.
   *
   * `batch`: `ids`, `targets`, `typeIds`, `attentionMask`: `[accum·B, T]`, `labels: [accum·B]`.
   * @returns the mean loss over the micro-batches, the gradient norm before clipping, and
   * whether the update was applied (false: a non-finite loss or gradient, parameters unchanged)
   * @internal
   */
  _trainStepBatch(batch: ModelBatch, options: TrainStepOptions): TrainStepResult {
    this.float32Only('training');
    const { accum, seqLen } = options;
    if (!Number.isInteger(accum) || accum < 1 || batch.batchSize % accum !== 0) {
      throw new InvalidArgumentError(`train step: accum must be an integer >= 1 dividing batchSize ${batch.batchSize}, got ${accum}`);
    }
    const { c, t } = this.checkLossBatch('train step', batch, seqLen);
    // The hyper-parameters go through as they are; Rust reads and checks each field.
    const [loss = NaN, gradNorm = NaN, applied = 0] = callWasm(() =>
      this.handle.trainStepBatch(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, {
        ...options,
        batchSize: batch.batchSize / accum,
        seqLen: t,
      }),
    );
    return { loss, gradNorm, applied: applied === 1 };
  }

  /**
   * The AdamW moments (`m`, `v`: `[numParams]` float32 copies, empty before the first
   * training plan) and step count, for checkpoints.
   * @internal
   */
  _optimizerState(): OptimizerState {
    const h = this.handle;
    return { m: h.getOptimizerM(), v: h.getOptimizerV(), step: h.optimizerStep() };
  }

  /**
   * Restores AdamW moments (`[numParams]` each) and the step count saved by
   * {@link TransformerModel._optimizerState}.
   * @internal
   */
  _setOptimizerState(state: OptimizerState): void {
    callWasm(() => this.handle.setOptimizer(state.m, state.v, { step: state.step }));
  }

  /**
   * The losses of a batch without gradients (dropout off): the token loss (when it has
   * targets), the class loss (when it has labels) and their sum.
   *
   * @param batch - `ids`, `targets`, `typeIds`, `attentionMask`: `[B, T]`; `labels: [B]`
   * @param seqLen - T; default `batch.seqLen`, else `ids.length / batchSize`
   * @throws ShapeError on a wrong length; InvalidArgumentError on a bad value, or a batch with
   * neither targets nor labels
   */
  evaluateBatch(batch: ModelBatch, seqLen?: number): BatchLosses {
    this.float32Only('evaluateBatch');
    const { c, t } = this.checkLossBatch('evaluateBatch', batch, seqLen);
    const [token = NaN, cls = NaN] = callWasm(() =>
      this.handle.evalBatch(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, { batchSize: batch.batchSize, seqLen: t }),
    );
    return lossesOf(token, cls);
  }

  /**
   * {@link TransformerModel.evaluateBatch} and the class logits `[B, K]` of the same forward
   * (one pass where `evaluateBatch` and then `batchOutputs(…, 'classLogits')` would take two):
   * what evaluating a classifier's loss and accuracy needs.
   *
   * @param batch - `ids`, `targets`, `typeIds`, `attentionMask`: `[B, T]`; `labels: [B]`
   * @param seqLen - T; default `batch.seqLen`, else `ids.length / batchSize`
   * @returns the losses and `classLogits: [B, K]` float32
   * @throws InvalidArgumentError if the model has no classifier, or the batch neither targets nor labels
   */
  evaluateBatchWithClassLogits(batch: ModelBatch, seqLen?: number): BatchEvaluation {
    this.float32Only('evaluateBatchWithClassLogits');
    if (this.config.nClasses === 0)
      throw new InvalidArgumentError('evaluateBatchWithClassLogits: the model has no classifier (nClasses 0)');
    const { c, t } = this.checkLossBatch('evaluateBatchWithClassLogits', batch, seqLen);
    const out = callWasm(() =>
      this.handle.evalBatchWithClassLogits(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, {
        batchSize: batch.batchSize,
        seqLen: t,
      }),
    );
    const [token = NaN, cls = NaN] = out;
    return { losses: lossesOf(token, cls), classLogits: Float32Array.from(out.subarray(2)) };
  }

  /**
   * {@link TransformerModel.gradients} for any batch: the losses and the gradient of their
   * sum with respect to every parameter (dropout off), parameters and optimizer unchanged.
   *
   * @param batch - `ids`, `targets`, `typeIds`, `attentionMask`: `[B, T]`; `labels: [B]`
   * @param seqLen - T; default `batch.seqLen`, else `ids.length / batchSize`
   * @returns the losses and one gradient tensor per parameter, named and shaped as {@link paramSpecs}
   * @throws ShapeError on a wrong length; InvalidArgumentError on a bad value, or a batch with
   * neither targets nor labels
   */
  batchGradients(batch: ModelBatch, seqLen?: number): BatchGradients {
    this.float32Only('batchGradients');
    const { c, t } = this.checkLossBatch('batchGradients', batch, seqLen);
    const [token = NaN, cls = NaN] = callWasm(() =>
      this.handle.lossAndGradsBatch(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, { batchSize: batch.batchSize, seqLen: t }),
    );
    return { losses: lossesOf(token, cls), grads: this.#byParam(this.handle.getGrads()) };
  }

  /** A flat `[numParams]` vector cut into named tensors laid out by {@link paramSpecs}. */
  #byParam(flat: Float32Array): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const s of this.#specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      out.set(s.name, { shape: [...s.shape], data: flat.slice(s.offset, s.offset + size) });
    }
    return out;
  }

  /**
   * The model's outputs for a batch (its targets and labels are not used).
   *
   * @param batch - `ids`, `typeIds`, `attentionMask`: `[B, T]`
   * @param seqLen - T
   * @param what - `'logits'`: LM logits `[B, T, V]`; `'classLogits'`: `[B, K]`; `'hidden'`:
   * the final hidden states `[B, T, C]` (no head runs)
   * @returns float32, row-major (a JS-owned copy)
   * @throws InvalidArgumentError when the model lacks the head asked for, or for a bad value;
   * ShapeError on a wrong length
   */
  batchOutputs(batch: ModelBatch, seqLen: number, what: 'logits' | 'classLogits' | 'hidden'): Float32Array {
    const c = this.checkBatch({ ...batch, targets: undefined, labels: undefined }, seqLen);
    if (what === 'logits' && this.config.lmHead === 'none')
      throw new InvalidArgumentError("logits: the model has no LM head (lmHead 'none')");
    if (what === 'classLogits' && this.config.nClasses === 0)
      throw new InvalidArgumentError('classLogits: the model has no classifier (nClasses 0)');
    return callWasm(() =>
      this.handle.outputsBatch(c.ids, c.typeIds, c.attentionMask, { batchSize: batch.batchSize, seqLen, output: what }),
    );
  }
}

/**
 * Hyper-parameters of one optimizer step ({@link TransformerModel._trainStepBatch}).
 * @internal
 */
export interface TrainStepOptions {
  /** Micro-batches in the batch (gradient accumulation). */
  accum: number;
  /** T of every sequence. */
  seqLen: number;
  /** Learning rate of this step. */
  lr: number;
  /** Decoupled weight decay of linear weights. */
  weightDecay: number;
  /** Also decay embeddings. */
  decayEmbeddings: boolean;
  /** AdamW β1. */
  beta1: number;
  /** AdamW β2. */
  beta2: number;
  /** AdamW ε. */
  eps: number;
  /** Global gradient-norm clip; 0 = none. */
  gradClip: number;
  /** Seed of this step's dropout masks. */
  dropoutSeed: number;
}

/**
 * What one optimizer step reports.
 * @internal
 */
export interface TrainStepResult {
  /** Mean loss over the micro-batches. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the loss or gradient was not finite (parameters unchanged). */
  applied: boolean;
}

/**
 * AdamW state, for checkpoints.
 * @internal
 */
export interface OptimizerState {
  /** `[numParams]` first moments. */
  m: Float32Array;
  /** `[numParams]` second moments. */
  v: Float32Array;
  /** Steps taken (bias correction). */
  step: number;
}

/** The losses of one batch. */
export interface BatchLosses {
  /** Token (next-token or masked-token) cross-entropy, when the batch has targets. */
  token: number | undefined;
  /** Sequence-classification cross-entropy, when the batch has labels. */
  class: number | undefined;
  /** The sum of the present losses (the training objective). */
  total: number;
}

function lossesOf(token: number, cls: number): BatchLosses {
  const t = Number.isNaN(token) ? undefined : token;
  const c = Number.isNaN(cls) ? undefined : cls;
  return { token: t, class: c, total: (t ?? 0) + (c ?? 0) };
}
