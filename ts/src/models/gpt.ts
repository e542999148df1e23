/**
 * GPT: the transformer with a causal mask and a language-model head (nanoGPT / GPT-2).
 * Training goes through {@link Trainer}; this class adds creation with GPT defaults and
 * generation over a KV cache (`generate`, `generateBatch`, `stream`), which `quantize` can
 * switch to int8 weights.
 */
import { InvalidArgumentError, callWasm } from '../errors.js';
import type { ModelBatch } from '../train/batches.js';
import type { TransformerConfig, TransformerConfigInput } from './config.js';
import { type DecodeHandle, decodeSteps, type GenerateOptions, generationSettings } from './generate.js';
import type { QuantizeOptions } from './quantize.js';
import { type MemoryPlan, TransformerModel } from './transformer.js';

export type { GenerateOptions } from './generate.js';
export type { QuantizeOptions } from './quantize.js';

/** GPT configuration input: `vocabSize` and `blockSize` are required. */
export type GPTConfigInput = TransformerConfigInput;

/** A decoder-only transformer. */
export class GPT extends TransformerModel {
  private constructor(config: TransformerConfig, seed: number) {
    super(config, seed);
  }

  /**
   * Quantises the decoding path to int8: every block's linear weights (`c_attn`, `c_proj`,
   * `c_fc`, `c_up`, `mlp.c_proj`: `[N, K]`) and the LM head (`[V, C]`) are packed once as int8
   * with per-output-channel scales (or one per `blockSize` weights along K; `blockSize: 32`
   * keeps a GGUF `Q8_0` file's values exactly), and `generate`, `generateBatch` and `stream` then run
   * them on the W8A16 kernels (activations quantised per row to int16). Embeddings, norms,
   * attention and biases stay float32. The float32 weights are kept (`getWeights` still
   * returns them), so this adds about a quarter of the linear weights' bytes.
   *
   * A quantised model is for generation only: the float32 forward paths (`logits`, `loss`,
   * `gradients`, `evaluateBatch`, `batchOutputs`, `attentionWeights`), loading weights and
   * training (`Trainer`) throw {@link InvalidArgumentError} rather than mix the two.
   *
   * @example
   * ```ts
   * const gpt = GPT.create(config).quantize({ weights: 'int8' });
   * gpt.generate(prompt, { maxNewTokens: 20, temperature: 0 });
   * ```
   * @returns this model (for chaining)
   * @throws InvalidArgumentError for bad options, an already quantised model, or a
   * non-finite weight; DisposedError after `dispose()`
   */
  quantize(options: QuantizeOptions): this {
    this.quantizeWeights(options);
    return this;
  }

  /** {@link TransformerModel.float32Only}'s wording: what a quantised GPT runs on int8. */
  protected override int8Paths(): string {
    return 'generate, generateBatch and stream';
  }

  /** {@link TransformerModel.batchOutputs}; refused on a quantised model. */
  override batchOutputs(batch: ModelBatch, seqLen: number, what: 'logits' | 'classLogits' | 'hidden'): Float32Array {
    this.float32Only('batchOutputs');
    return super.batchOutputs(batch, seqLen, what);
  }

  /**
   * A new GPT with GPT-2 initialisation. Defaults are nanoGPT's GPT-2 (12 layers, 12
   * heads, 768 wide, learned positions, pre-LayerNorm, GELU, biases, tied embeddings).
   *
   * @example
   * ```ts
   * await init();
   * const gpt = GPT.create({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 });
   * console.log(gpt.numParams);
   * ```
   * @throws InvalidArgumentError for a bad option, naming it.
   */
  static create(config: GPTConfigInput, options: { seed?: number } = {}): GPT {
    const resolved = TransformerModel.resolve(config, { causal: true });
    if (!resolved.causal) throw new InvalidArgumentError('GPT is causal: config.causal must be true');
    return new GPT(resolved, options.seed ?? 0);
  }

  /** Bytes a GPT of `config` would plan for training at `batchSize × seqLen`. */
  static estimate(config: GPTConfigInput, batchSize: number, seqLen: number): MemoryPlan {
    return TransformerModel.estimateMemory(TransformerModel.resolve(config, { causal: true }), batchSize, seqLen, true);
  }

  /**
   * Continues `prompt` one token at a time over a KV cache (greedy with `temperature: 0`,
   * otherwise sampled with temperature, top-k, top-p and repetition penalty; seeded).
   *
   * @example
   * ```ts
   * const ids = gpt.generate(tokenizer.encode('the dog '), { maxNewTokens: 20, temperature: 0.8, topK: 40, seed: 1 });
   * console.log(tokenizer.decode(ids));
   * ```
   * @param prompt - int token ids (at least one)
   * @returns the prompt followed by the new tokens (stop tokens included)
   * @throws InvalidArgumentError for bad ids or options, or past `blockSize` with learned positions
   * (unless `contextOverflow: 'slide'`)
   */
  generate(prompt: ArrayLike<number>, options: GenerateOptions = {}): Int32Array {
    const [out] = this.generateBatch([prompt], options);
    return out as Int32Array;
  }

  /**
   * {@link GPT.generate} for several prompts at once (of any lengths): one cache slot each,
   * decoded together so each step reads the weights once for all of them. Tokens are drawn
   * in prompt order from one seeded stream, so results depend on the batch's composition.
   *
   * @returns one `Int32Array` per prompt: the prompt followed by its new tokens
   */
  generateBatch(prompts: readonly ArrayLike<number>[], options: GenerateOptions = {}): Int32Array[] {
    const ids = this.checkPrompts(prompts);
    const settings = generationSettings(options, this.config);
    const outs = ids.map((p) => Array.from(p));
    for (const step of decodeSteps(this.decodeHandle(), this.config, ids, settings)) {
      for (const { sequence, token } of step) (outs[sequence] as number[]).push(token);
    }
    return outs.map((o) => Int32Array.from(o));
  }

  /**
   * Streams the continuation of a text prompt as text pieces, as they are generated. Pieces
   * never split a character (a byte-level token that ends inside one is held back), and
   * generation ends at any `stop` string, which is not included in the output.
   *
   * @example
   * ```ts
   * for await (const piece of gpt.stream(tokenizer, 'the dog ', { maxNewTokens: 50, stop: ['.'] })) {
   *   process.stdout.write(piece);
   * }
   * ```
   * @param tokenizer - anything with `encode(text)` and `decode(ids)` (CharTokenizer, BpeTokenizer)
   */
  async *stream(tokenizer: TextTokenizer, prompt: string, options: StreamOptions = {}): AsyncGenerator<string, void, undefined> {
    const stop = options.stop ?? [];
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new InvalidArgumentError('stream: stop must be an array of non-empty strings');
    }
    if (options.signal !== undefined && typeof options.signal?.aborted !== 'boolean') {
      throw new InvalidArgumentError('stream: signal must be an AbortSignal');
    }
    const ids = this.checkPrompts([tokenizer.encode(prompt)]);
    const settings = generationSettings(options, this.config);
    const text = new StopText(stop);
    const produced: number[] = [];
    const steps = decodeSteps(this.decodeHandle(), this.config, ids, settings);
    try {
      for (const [generated] of steps) {
        if (generated === undefined || options.signal?.aborted) break;
        produced.push(generated.token);
        const piece = text.update(tokenizer.decode(produced), generated.done);
        if (piece.length > 0) yield piece;
        if (text.stopped) break;
        await nextTask();
        if (options.signal?.aborted) break;
      }
      const rest = text.update(tokenizer.decode(produced), true);
      if (rest.length > 0) yield rest;
    } finally {
      steps.return(undefined);
    }
  }

  /** {@link GPT.stream}, collected: the continuation of `prompt` as one string. */
  async generateText(tokenizer: TextTokenizer, prompt: string, options: StreamOptions = {}): Promise<string> {
    let out = '';
    for await (const piece of this.stream(tokenizer, prompt, options)) out += piece;
    return out;
  }

  private checkPrompts(prompts: readonly ArrayLike<number>[]): Uint32Array[] {
    if (!Array.isArray(prompts) || prompts.length === 0)
      throw new InvalidArgumentError('generate: prompts must be a non-empty array of token-id arrays');
    return prompts.map((p, i) => {
      if (p === null || typeof p !== 'object' || typeof p.length !== 'number') {
        throw new InvalidArgumentError(`generate: prompt ${i} must be an array of token ids`);
      }
      if (p.length < 1) throw new InvalidArgumentError(`generate: prompt ${i} is empty; it needs at least one token`);
      return this.checkTokens(p, p.length, `prompt ${i}`);
    });
  }

  /**
   * The decoder calls, each through {@link TransformerModel.handle}, so that a model disposed
   * while a {@link GPT.stream} is suspended throws {@link DisposedError} on the next step instead
   * of reaching freed wasm memory. Ending a disposed model's decoder does nothing: its state
   * was freed with the model.
   */
  private decodeHandle(): DecodeHandle {
    return {
      decodeStart: (slots, capacity) => callWasm(() => this.handle.decodeStart({ slots, capacity })),
      decodeFeed: (tokens, counts) => callWasm(() => this.handle.decodeFeed(tokens, counts)),
      decodeReset: (slot) => callWasm(() => this.handle.decodeReset(slot)),
      decodeEnd: () => {
        if (!this.disposed) this.handle.decodeEnd();
      },
    };
  }
}

/** What {@link GPT.stream} needs of a tokenizer. */
export interface TextTokenizer {
  /** Text to `[T]` token ids. */
  encode(text: string): ArrayLike<number>;
  /** Token ids back to text. */
  decode(ids: ArrayLike<number>): string;
}

/** Options of {@link GPT.stream}: generation options plus stop strings. */
export interface StreamOptions extends GenerateOptions {
  /** Strings that end generation; the text is cut before the first one found. */
  stop?: readonly string[];
  /**
   * Ends the stream before the next token once aborted (checked between tokens); the text
   * generated so far has been yielded and the model stays usable.
   */
  signal?: AbortSignal;
}

/**
 * Turns the growing decoded text into new pieces: holds back a trailing U+FFFD (a character
 * whose bytes are not all generated yet) and any tail that could be the start of a stop
 * string, and cuts at the first stop string.
 */
class StopText {
  private emitted = 0;
  stopped = false;

  constructor(private readonly stop: readonly string[]) {}

  update(text: string, final: boolean): string {
    if (this.stopped) return '';
    let end = text.length;
    let cut = -1;
    for (const s of this.stop) {
      const at = text.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      end = cut;
      this.stopped = true;
    } else if (!final) {
      if (text.endsWith('\uFFFD')) end--;
      for (const s of this.stop) {
        for (let k = Math.min(s.length - 1, end); k > 0; k--) {
          if (text.slice(end - k, end) === s.slice(0, k)) {
            end = Math.min(end, text.length - k);
            break;
          }
        }
      }
    }
    if (end <= this.emitted) return '';
    const piece = text.slice(this.emitted, end);
    this.emitted = end;
    return piece;
  }
}

/** Lets the event loop run (rendering, I/O) between tokens. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
