/**
 * The TS handle of a transformer living in WebAssembly memory: configuration, parameter
 * layout, weights in and out, memory planning, batch validation and `dispose()`. GPT (and
 * later BERT) build on it. Rust owns every large buffer; TS only holds copies it asks for.
 */
import { DisposedError, InvalidArgumentError, ShapeError, callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import type { ModelBatch } from '../train/batches.js';
import { type AttentionWeights, type AttentionWeightsOptions, attentionWeightsOf } from './attention.js';
import { type TransformerConfig, type TransformerConfigInput, resolveConfig, toCoreConfig } from './config.js';

/** Bytes of a planned model state. */
export interface MemoryPlan {
  params: number;
  grads: number;
  optimizer: number;
  activations: number;
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
  shape: number[];
  data: Float32Array;
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

  /** @internal The wasm handle, for the trainer. */
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
    return callWasm(() => this.handle.plan(batchSize, seqLen, training)) as MemoryPlan;
  }

  /** The bytes {@link TransformerModel.plan} would take, without creating a model. */
  static estimateMemory(config: TransformerConfig, batchSize: number, seqLen: number, training = true): MemoryPlan {
    const glue = wasm();
    return callWasm(() => glue.WasmModel.estimate(toCoreConfig(config), batchSize, seqLen, training)) as MemoryPlan;
  }

  /** The flat parameter vector (a copy), laid out by {@link paramSpecs}. */
  getFlatParams(): Float32Array {
    return this.handle.getParams();
  }

  /** Replaces every parameter from a flat vector. */
  setFlatParams(data: Float32Array): void {
    if (!(data instanceof Float32Array) || data.length !== this.numParams) {
      throw new ShapeError(`parameters: expected a Float32Array of ${this.numParams}`, `${this.numParams}`, `${data?.length}`);
    }
    callWasm(() => this.handle.setParams(data));
  }

  /** Every parameter as a named tensor (copies). */
  getWeights(): Map<string, NamedTensor> {
    const flat = this.getFlatParams();
    const out = new Map<string, NamedTensor>();
    for (const s of this.#specs) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      out.set(s.name, { shape: [...s.shape], data: flat.slice(s.offset, s.offset + n) });
    }
    return out;
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
      if (w.shape.join('×') !== want) throw new ShapeError(`weights: '${s.name}' has shape [${w.shape}], expected [${s.shape}]`, want, w.shape.join('×'));
      flat.set(w.data, s.offset);
    }
    const extra = [...weights.keys()].filter((k) => !this.#specs.some((s) => s.name === k));
    if (extra.length > 0) throw new InvalidArgumentError(`weights: unexpected tensors ${extra.slice(0, 5).join(', ')}`);
    this.setFlatParams(flat);
  }

  /** Checks `B, T` against the config. */
  protected checkDims(batchSize: number, seqLen: number): void {
    for (const [name, v] of [['batchSize', batchSize], ['seqLen', seqLen]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1, got ${v}`);
    }
    const absolute = this.config.positional === 'learned' || this.config.positional === 'sinusoidal';
    if (absolute && seqLen > this.config.blockSize) {
      throw new InvalidArgumentError(
        `sequence length ${seqLen} exceeds blockSize ${this.config.blockSize} (positional '${this.config.positional}' has no positions beyond it)`,
      );
    }
  }

  /**
   * Validates `ids: [count]` int32 token ids (and `targets`, where `-100` means ignore) and
   * returns the Uint32Array the core takes.
   */
  protected checkTokens(ids: ArrayLike<number>, count: number, what = 'ids'): Uint32Array {
    if (ids.length !== count) throw new ShapeError(`${what}: expected ${count} token ids, got ${ids.length}`, `${count}`, `${ids.length}`);
    const out = new Uint32Array(count);
    const v = this.config.vocabSize;
    for (let i = 0; i < count; i++) {
      const id = ids[i] as number;
      if (!Number.isInteger(id) || id < 0 || id >= v) {
        throw new InvalidArgumentError(`${what}[${i}] = ${id} is not a token id in [0, ${v})`);
      }
      out[i] = id;
    }
    return out;
  }

  /** Validates targets (`-100` = ignored) into an Int32Array. */
  protected checkTargets(targets: ArrayLike<number>, count: number): Int32Array {
    if (targets.length !== count) throw new ShapeError(`targets: expected ${count}, got ${targets.length}`, `${count}`, `${targets.length}`);
    const out = new Int32Array(count);
    const v = this.config.vocabSize;
    for (let i = 0; i < count; i++) {
      const t = targets[i] as number;
      if (!Number.isInteger(t) || (t !== -100 && (t < 0 || t >= v))) {
        throw new InvalidArgumentError(`targets[${i}] = ${t} is not a token id in [0, ${v}) or -100 (ignored)`);
      }
      out[i] = t;
    }
    return out;
  }

  /**
   * Mean cross-entropy of `targets` given `ids` (`[B, T]` each), no gradients.
   * @param ids - `[B, T]` int token ids
   * @param targets - `[B, T]` next tokens, `-100` ignored
   */
  loss(ids: ArrayLike<number>, targets: ArrayLike<number>, batchSize: number, seqLen: number): number {
    this.checkDims(batchSize, seqLen);
    const n = batchSize * seqLen;
    const i = this.checkTokens(ids, n);
    const t = this.checkTargets(targets, n);
    return callWasm(() => this.handle.evalLoss(i, t, batchSize, seqLen));
  }

  /**
   * Logits for every position.
   * @param ids - `[B, T]` token ids
   * @returns `[B, T, V]` float32
   */
  logits(ids: ArrayLike<number>, batchSize: number, seqLen: number): Float32Array {
    this.checkDims(batchSize, seqLen);
    const i = this.checkTokens(ids, batchSize * seqLen);
    return callWasm(() => this.handle.logits(i, batchSize, seqLen));
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
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new InvalidArgumentError('attentionWeights: ids must be an array of token ids');
    }
    const t = ids.length;
    if (t < 1) throw new InvalidArgumentError('attentionWeights: ids is empty; it needs at least one token');
    const { typeIds, attentionMask } = options;
    const c = this.checkBatch({ batchSize: 1, ids, typeIds, attentionMask } as unknown as ModelBatch, t);
    const weights = callWasm(() => this.handle.attentionProbs(c.ids, c.typeIds, c.attentionMask, t));
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
   * training buffers for `batchSize × seqLen` if needed.
   * @param ids - `[B, T]` int token ids
   * @param targets - `[B, T]` next tokens, `-100` ignored (the mean is over the others)
   * @returns the loss and one gradient tensor per parameter, named and shaped as {@link paramSpecs}
   */
  gradients(ids: ArrayLike<number>, targets: ArrayLike<number>, batchSize: number, seqLen: number): { loss: number; grads: Map<string, NamedTensor> } {
    this.checkDims(batchSize, seqLen);
    const n = batchSize * seqLen;
    const i = this.checkTokens(ids, n);
    const t = this.checkTargets(targets, n);
    const loss = callWasm(() => this.handle.lossAndGrads(i, t, batchSize, seqLen));
    const flat = this.handle.getGrads();
    const grads = new Map<string, NamedTensor>();
    for (const s of this.#specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      grads.set(s.name, { shape: [...s.shape], data: flat.slice(s.offset, s.offset + size) });
    }
    return { loss, grads };
  }

  /**
   * Validates a {@link ModelBatch} of `batch.batchSize × seqLen` against the config (ids and
   * targets as in {@link TransformerModel.loss}, segment ids below `typeVocabSize`, a 0/1
   * mask, labels in `[0, nClasses)` or -100) and returns the arrays the core takes (empty =
   * not given).
   * @throws ShapeError on a wrong length, InvalidArgumentError on a bad value
   */
  protected checkBatch(batch: ModelBatch, seqLen: number): CheckedBatch {
    const b = batch.batchSize;
    this.checkDims(b, seqLen);
    const n = b * seqLen;
    const out: CheckedBatch = {
      ids: this.checkTokens(batch.ids, n),
      targets: batch.targets ? this.checkTargets(batch.targets, n) : new Int32Array(0),
      typeIds: new Uint32Array(0),
      attentionMask: new Uint8Array(0),
      labels: new Int32Array(0),
    };
    const { typeVocabSize, nClasses } = this.config;
    if (batch.typeIds) {
      if (typeVocabSize === 0) throw new InvalidArgumentError('typeIds given but the model has no segment embeddings (typeVocabSize 0)');
      out.typeIds = checkInts(batch.typeIds, n, 'typeIds', (x) => x >= 0 && x < typeVocabSize, `a segment id in [0, ${typeVocabSize})`) as Uint32Array;
    }
    if (batch.attentionMask) {
      out.attentionMask = Uint8Array.from(checkInts(batch.attentionMask, n, 'attentionMask', (x) => x === 0 || x === 1, '0 or 1'));
    }
    if (batch.labels) {
      if (nClasses === 0) throw new InvalidArgumentError('labels given but the model has no classifier (nClasses 0)');
      out.labels = Int32Array.from(checkInts(batch.labels, b, 'labels', (x) => x === -100 || (x >= 0 && x < nClasses), `a class in [0, ${nClasses}) or -100`));
    }
    if (batch.targets && this.config.lmHead === 'none') throw new InvalidArgumentError("targets given but the model has no LM head (lmHead 'none')");
    return out;
  }

  /**
   * One optimizer step over a validated batch of `accum` micro-batches (the trainer's call):
   * returns `[loss, gradNorm, applied]`. `hyper` is `[lr, weightDecay, decayEmbeddings,
   * beta1, beta2, eps, gradClip, dropoutSeed]`.
   * @internal
   */
  _trainStepBatch(batch: ModelBatch, accum: number, seqLen: number, hyper: readonly [number, number, boolean, number, number, number, number, number]): Float64Array {
    const b = batch.batchSize / accum;
    const c = this.checkBatch(batch, seqLen);
    if (c.targets.length === 0 && c.labels.length === 0) throw new InvalidArgumentError('train step: the batch has neither targets nor labels');
    return callWasm(() => this.handle.trainStepBatch(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, accum, b, seqLen, ...hyper));
  }

  /**
   * The losses of a batch without gradients: the token loss (when it has targets), the class
   * loss (when it has labels) and their sum.
   */
  evaluateBatch(batch: ModelBatch, seqLen: number): BatchLosses {
    const c = this.checkBatch(batch, seqLen);
    if (c.targets.length === 0 && c.labels.length === 0) throw new InvalidArgumentError('evaluateBatch: the batch has neither targets nor labels');
    const [token = NaN, cls = NaN] = callWasm(() => this.handle.evalBatch(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, batch.batchSize, seqLen));
    return lossesOf(token, cls);
  }

  /**
   * {@link TransformerModel.evaluateBatch} and the class logits `[B, K]` of the same forward
   * (one pass where `evaluateBatch` and then `batchOutputs(…, 'classLogits')` would take two):
   * what evaluating a classifier's loss and accuracy needs.
   * @throws InvalidArgumentError if the model has no classifier, or the batch neither targets nor labels
   */
  evaluateBatchWithClassLogits(batch: ModelBatch, seqLen: number): { losses: BatchLosses; classLogits: Float32Array } {
    const c = this.checkBatch(batch, seqLen);
    if (this.config.nClasses === 0) throw new InvalidArgumentError('evaluateBatchWithClassLogits: the model has no classifier (nClasses 0)');
    if (c.targets.length === 0 && c.labels.length === 0) throw new InvalidArgumentError('evaluateBatchWithClassLogits: the batch has neither targets nor labels');
    const out = callWasm(() => this.handle.evalBatchWithClassLogits(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, batch.batchSize, seqLen));
    const [token = NaN, cls = NaN] = out;
    return { losses: lossesOf(token, cls), classLogits: Float32Array.from(out.subarray(2)) };
  }

  /**
   * {@link TransformerModel.gradients} for any batch: the losses and the gradient of their
   * sum with respect to every parameter (dropout off), parameters unchanged.
   */
  batchGradients(batch: ModelBatch, seqLen: number): { losses: BatchLosses; grads: Map<string, NamedTensor> } {
    const c = this.checkBatch(batch, seqLen);
    if (c.targets.length === 0 && c.labels.length === 0) throw new InvalidArgumentError('batchGradients: the batch has neither targets nor labels');
    const [token = NaN, cls = NaN] = callWasm(() => this.handle.lossAndGradsBatch(c.ids, c.targets, c.typeIds, c.attentionMask, c.labels, batch.batchSize, seqLen));
    const flat = this.handle.getGrads();
    const grads = new Map<string, NamedTensor>();
    for (const s of this.#specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      grads.set(s.name, { shape: [...s.shape], data: flat.slice(s.offset, s.offset + size) });
    }
    return { losses: lossesOf(token, cls), grads };
  }

  /**
   * The model's outputs for a batch (its targets and labels are not used): `'logits'` LM
   * logits `[B, T, V]`, `'classLogits'` `[B, K]`, `'hidden'` the final hidden states
   * `[B, T, C]` (no head runs).
   */
  batchOutputs(batch: ModelBatch, seqLen: number, what: 'logits' | 'classLogits' | 'hidden'): Float32Array {
    const c = this.checkBatch({ ...batch, targets: undefined, labels: undefined } as ModelBatch, seqLen);
    if (what === 'logits' && this.config.lmHead === 'none') throw new InvalidArgumentError("logits: the model has no LM head (lmHead 'none')");
    if (what === 'classLogits' && this.config.nClasses === 0) throw new InvalidArgumentError('classLogits: the model has no classifier (nClasses 0)');
    const which = what === 'logits' ? 0 : what === 'classLogits' ? 1 : 2;
    return callWasm(() => this.handle.outputsBatch(c.ids, c.typeIds, c.attentionMask, which, batch.batchSize, seqLen));
  }
}

/** Arrays of a validated batch (empty = not given). */
interface CheckedBatch {
  ids: Uint32Array;
  targets: Int32Array;
  typeIds: Uint32Array;
  attentionMask: Uint8Array;
  labels: Int32Array;
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

function checkInts(values: ArrayLike<number>, count: number, what: string, ok: (x: number) => boolean, expected: string): Uint32Array | Int32Array {
  if (values.length !== count) throw new ShapeError(`${what}: expected ${count} values, got ${values.length}`, `${count}`, `${values.length}`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const x = values[i] as number;
    if (!Number.isInteger(x) || !ok(x)) throw new InvalidArgumentError(`${what}[${i}] = ${x} is not ${expected}`);
    out[i] = x;
  }
  return what === 'typeIds' ? new Uint32Array(out.buffer) : out;
}
