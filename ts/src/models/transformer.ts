/**
 * The TS handle of a transformer living in WebAssembly memory: configuration, parameter
 * layout, weights in and out, memory planning, batch validation and `dispose()`. GPT (and
 * later BERT) build on it. Rust owns every large buffer; TS only holds copies it asks for.
 */
import { DisposedError, InvalidArgumentError, ShapeError, callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
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
}
