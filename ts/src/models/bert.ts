/**
 * BERT: the shared transformer without a causal mask, with segment embeddings, an embedding
 * LayerNorm, post-LayerNorm blocks and exact GELU (Devlin et al. / Hugging Face `BertModel`),
 * and its heads: masked-LM (tied to the input embedding), the tanh pooler on [CLS] with a
 * classifier (next-sentence prediction is 2 classes), and sequence classification. Every
 * positional option is available; learned absolute positions are the default.
 *
 * Pretraining and fine-tuning go through {@link Trainer} with a {@link MaskedLMDataset} or a
 * {@link ClassificationDataset}; this class adds creation, `withClassifier`, the uses:
 * `embed`, `fillMask`, `predict`, and `quantize`, which switches them to int8 weights.
 */
import { callWasm, InvalidArgumentError } from '../errors.js';
import type { ModelBatch } from '../train/batches.js';
import type { TransformerConfig, TransformerConfigInput } from './config.js';
import type { QuantizeOptions } from './quantize.js';
import { type MemoryPlan, TransformerModel } from './transformer.js';

/** BERT configuration input: `vocabSize` and `blockSize` are required. */
export type BERTConfigInput = TransformerConfigInput;

/** What BERT needs of a tokenizer (the WordPiece tokenizer has it). */
export interface BertTokenizerLike {
  /** Encodes a text (or a pair) with [CLS]/[SEP], segment ids and an attention mask. */
  encode(
    text: string,
    pair?: string,
    options?: { maxLength?: number; truncation?: 'longest_first' | false; padding?: false; addSpecialTokens?: boolean },
  ): BertEncoding;
  /** The token string of an id. */
  idToToken(id: number): string | undefined;
  /** Id of `[CLS]`, the first token, whose state the pooler reads. */
  readonly clsId: number;
  /** Id of `[SEP]`, which ends each segment. */
  readonly sepId: number;
  /** Id of `[PAD]`, which fills short sequences of a batch. */
  readonly padId: number;
  /** Id of `[MASK]`, the position {@link BERT.fillMask} predicts. */
  readonly maskId: number;
}

/** One encoded text (or pair), as {@link BertTokenizerLike.encode} returns it: `[T]` each. */
export interface BertEncoding {
  /** `[T]` token ids, [CLS] and [SEP] included. */
  inputIds: ArrayLike<number>;
  /** `[T]` segment ids: 0 for the first text, 1 for the pair. */
  tokenTypeIds: ArrayLike<number>;
  /** `[T]` 1 for real tokens (0 for padding). */
  attentionMask: ArrayLike<number>;
}

/** A tokenized batch and its sequence length ({@link BERT.encodeBatch}). */
export interface EncodedBatch {
  /** `ids`, `typeIds` (when the model has segments), `attentionMask`: `[B, T]`, padded with `padId`. */
  batch: ModelBatch;
  /** T: the longest sequence of the batch. */
  seqLen: number;
}

/** One candidate of {@link BERT.fillMask}. */
export interface FillMaskCandidate {
  /** The token id. */
  id: number;
  /** The token string (`[id]` when the tokenizer has none). */
  token: string;
  /** Softmax probability at the masked position. */
  score: number;
}

/** One result of {@link BERT.predict}. */
export interface Prediction {
  /** The most likely class. */
  label: number;
  /** `[K]` class probabilities. */
  probs: Float32Array;
}

/** Options of {@link BERT.embed}. */
export interface EmbedOptions {
  /** `'mean'` over real tokens (sentence-transformers) or the `'cls'` token's state. Default 'mean'. */
  pooling?: 'mean' | 'cls';
  /** Scale each vector to unit length (default false). */
  normalize?: boolean;
  /** Longest input in tokens, special tokens included (default blockSize). */
  maxLength?: number;
  /** Texts per forward pass (default 32). */
  batchSize?: number;
}

const BERT_DEFAULTS: Partial<TransformerConfig> = {
  nLayer: 12,
  nHead: 12,
  nEmbd: 768,
  positional: 'learned',
  norm: 'layernorm',
  normPlacement: 'post',
  ffn: 'gelu',
  geluExact: true,
  causal: false,
  typeVocabSize: 2,
  embeddingNorm: true,
  normEps: 1e-12,
  lmHead: 'mlm',
  nClasses: 0,
  tieEmbeddings: true,
  bias: true,
};

/** An encoder-only transformer. */
export class BERT extends TransformerModel {
  private constructor(config: TransformerConfig, seed: number) {
    super(config, seed);
  }

  /**
   * Quantises inference to int8: every block's linear weights (`c_attn`, `c_proj`, `c_fc`,
   * `mlp.c_proj`: `[N, K]`), the masked-LM head's transform (`[C, C]`) and decoder (`[V, C]`,
   * the tied `wte` included), the pooler (`[C, C]`) and the classifier (`[K, C]`) are packed
   * once as int8 with per-output-channel scales (or one per `blockSize` weights along K), and
   * `embed`, `fillMask`, `predict`, `logits`
   * and `batchOutputs` then run them on the W8A16 kernels (activations quantised per row to
   * int16). Embedding tables, norms, attention softmax and biases stay float32. The float32
   * weights are kept (`getWeights` still returns them), so this adds about a quarter of the
   * linear weights' bytes.
   *
   * A quantised model is for inference only: the float32 paths (`loss`, `gradients`,
   * `evaluateBatch`, `batchGradients`, `attentionWeights`), loading weights and training
   * (`Trainer`) throw {@link InvalidArgumentError} rather than mix the two.
   *
   * @example
   * ```ts
   * const model = await loadHuggingFace('all-MiniLM-L6-v2'); // a BERT for a BERT config.json
   * if (model instanceof BERT) {
   *   model.quantize({ weights: 'int8' });
   *   const [vector] = model.embed(tokenizer, ['a dog runs'], { normalize: true });
   * }
   * ```
   * @returns this model (for chaining)
   * @throws InvalidArgumentError for bad options, an already quantised model, or a
   * non-finite weight; DisposedError after `dispose()`
   */
  quantize(options: QuantizeOptions): this {
    this.quantizeWeights(options);
    return this;
  }

  /** {@link TransformerModel.float32Only}'s wording: what a quantised BERT runs on int8. */
  protected override int8Paths(): string {
    return 'embed, fillMask, predict, logits and batchOutputs';
  }

  /**
   * {@link TransformerModel.batchOutputs}: on a quantised model every linear layer runs on its
   * int8 copy ({@link BERT.quantize}); `embed`, `fillMask`, `predict` and `logits` go through it.
   *
   * @param batch - `ids`, `typeIds`, `attentionMask`: `[B, T]`
   * @param seqLen - T
   * @param what - `'logits'`: LM logits `[B, T, V]`; `'classLogits'`: `[B, K]`; `'hidden'`:
   * the final hidden states `[B, T, C]` (no head runs)
   * @returns float32, row-major (a JS-owned copy)
   * @throws InvalidArgumentError when the model lacks the head asked for, or for a bad value;
   * ShapeError on a wrong length
   */
  override batchOutputs(batch: ModelBatch, seqLen: number, what: 'logits' | 'classLogits' | 'hidden'): Float32Array {
    if (this.quantization === null) return super.batchOutputs(batch, seqLen, what);
    const c = this.checkBatch({ ...batch, targets: undefined, labels: undefined }, seqLen);
    if (what === 'logits' && this.config.lmHead === 'none')
      throw new InvalidArgumentError("logits: the model has no LM head (lmHead 'none')");
    if (what === 'classLogits' && this.config.nClasses === 0)
      throw new InvalidArgumentError('classLogits: the model has no classifier (nClasses 0)');
    const handle = this.handle;
    return callWasm(() => handle.outputsBatchInt8(c.ids, c.typeIds, c.attentionMask, { batchSize: batch.batchSize, seqLen, output: what }));
  }

  /**
   * A new BERT (BERT-base defaults: 12 layers, 12 heads, 768 wide, 2 segments, post-LayerNorm
   * eps 1e-12, exact GELU, masked-LM head tied to the embedding). `nClasses: 2` adds the
   * next-sentence head for pretraining; `lmHead: 'none'` with `nClasses` is a classifier.
   *
   * @example
   * ```ts
   * const bert = BERT.create({ vocabSize: tokenizer.vocabSize, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 128 });
   * ```
   * @throws InvalidArgumentError for a bad option (and for `causal: true`).
   */
  static create(config: BERTConfigInput, options: { seed?: number } = {}): BERT {
    const resolved = TransformerModel.resolve(config, BERT_DEFAULTS);
    if (resolved.causal) throw new InvalidArgumentError('BERT is bidirectional: config.causal must be false');
    return new BERT(resolved, options.seed ?? 0);
  }

  /** Bytes a BERT of `config` would plan for training at `batchSize × seqLen`. */
  static estimate(config: BERTConfigInput, batchSize: number, seqLen: number): MemoryPlan {
    return TransformerModel.estimateMemory(TransformerModel.resolve(config, BERT_DEFAULTS), batchSize, seqLen, true);
  }

  /**
   * A sequence classifier with this model's encoder (and pooler, if it has one) and a new
   * classifier head of `nClasses`; no LM head. The float32 weights are copied (this model is
   * unchanged; the new one is float32 even when this one is quantised).
   *
   * @example
   * ```ts
   * const classifier = pretrained.withClassifier(2);
   * ```
   */
  withClassifier(nClasses: number, options: { seed?: number } = {}): BERT {
    if (!Number.isInteger(nClasses) || nClasses < 1)
      throw new InvalidArgumentError(`withClassifier: nClasses must be an integer >= 1, got ${nClasses}`);
    const config: TransformerConfig = { ...this.config, lmHead: 'none', nClasses };
    const classifier = new BERT(config, options.seed ?? 0);
    const mine = this.getWeights();
    const theirs = classifier.getWeights();
    for (const [name, tensor] of theirs) {
      const source = mine.get(name);
      if (source && source.data.length === tensor.data.length && !name.startsWith('classifier.')) tensor.data.set(source.data);
    }
    classifier.setWeights(theirs);
    return classifier;
  }

  /**
   * Tokenizes texts (or pairs) and pads them to the longest, as one batch.
   * @returns the batch and its sequence length
   */
  encodeBatch(
    tokenizer: BertTokenizerLike,
    inputs: readonly (string | readonly [string, string])[],
    maxLength = this.config.blockSize,
  ): EncodedBatch {
    if (!Array.isArray(inputs) || inputs.length === 0)
      throw new InvalidArgumentError('expected a non-empty array of texts or [text, pair] tuples');
    if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > this.config.blockSize) {
      throw new InvalidArgumentError(`maxLength must be an integer in [2, blockSize ${this.config.blockSize}], got ${maxLength}`);
    }
    const encoded = inputs.map((input, i) => {
      if (typeof input === 'string') return tokenizer.encode(input, undefined, { maxLength, truncation: 'longest_first' });
      if (Array.isArray(input) && input.length === 2 && typeof input[0] === 'string' && typeof input[1] === 'string') {
        return tokenizer.encode(input[0], input[1], { maxLength, truncation: 'longest_first' });
      }
      throw new InvalidArgumentError(`input ${i} must be a string or a [text, pair] tuple of strings`);
    });
    const seqLen = Math.max(...encoded.map((e) => e.inputIds.length));
    const b = encoded.length;
    const batch: ModelBatch = {
      ids: new Uint32Array(b * seqLen).fill(tokenizer.padId),
      typeIds: new Uint32Array(b * seqLen),
      attentionMask: new Uint8Array(b * seqLen),
      batchSize: b,
    };
    encoded.forEach((e, i) => {
      batch.ids.set(Array.from(e.inputIds), i * seqLen);
      batch.typeIds?.set(
        Array.from(e.tokenTypeIds, (x) => (this.config.typeVocabSize > 0 ? x : 0)),
        i * seqLen,
      );
      batch.attentionMask?.set(Array.from(e.attentionMask), i * seqLen);
    });
    if (this.config.typeVocabSize === 0) delete batch.typeIds;
    return { batch, seqLen };
  }

  /**
   * One vector per text: the final hidden states pooled over the real tokens (`'mean'`, as
   * sentence-transformers) or the [CLS] state (`'cls'`), optionally unit length.
   *
   * @example
   * ```ts
   * const [a, b] = bert.embed(tokenizer, ['a dog runs', 'a puppy is running'], { normalize: true });
   * ```
   * @returns `[C]` float32 per text
   */
  embed(tokenizer: BertTokenizerLike, texts: readonly string[], options: EmbedOptions = {}): Float32Array[] {
    const { pooling = 'mean', normalize = false, maxLength = this.config.blockSize, batchSize = 32 } = options;
    if (pooling !== 'mean' && pooling !== 'cls')
      throw new InvalidArgumentError(`embed: pooling must be 'mean' or 'cls', got ${JSON.stringify(pooling)}`);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new InvalidArgumentError(`embed: batchSize must be an integer >= 1, got ${batchSize}`);
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string'))
      throw new InvalidArgumentError('embed: texts must be an array of strings');
    const c = this.config.nEmbd;
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const { batch, seqLen } = this.encodeBatch(tokenizer, texts.slice(start, start + batchSize), maxLength);
      const hidden = this.batchOutputs(batch, seqLen, 'hidden');
      for (let i = 0; i < batch.batchSize; i++) {
        const v = new Float32Array(c);
        if (pooling === 'cls') {
          v.set(hidden.subarray(i * seqLen * c, i * seqLen * c + c));
        } else {
          let count = 0;
          for (let t = 0; t < seqLen; t++) {
            if (batch.attentionMask?.[i * seqLen + t] !== 1) continue;
            const row = hidden.subarray((i * seqLen + t) * c, (i * seqLen + t + 1) * c);
            for (let j = 0; j < c; j++) v[j] = (v[j] as number) + (row[j] as number);
            count++;
          }
          for (let j = 0; j < c; j++) v[j] = (v[j] as number) / Math.max(count, 1);
        }
        if (normalize) {
          const norm = Math.hypot(...v) || 1;
          for (let j = 0; j < c; j++) v[j] = (v[j] as number) / norm;
        }
        out.push(v);
      }
    }
    return out;
  }

  /**
   * The `topK` most likely tokens at each `[MASK]` of `text` (masked-LM head).
   *
   * @example
   * ```ts
   * bert.fillMask(tokenizer, 'the [MASK] chased the cat')[0]; // [{ token: 'dog', id, score }, …]
   * ```
   * @returns one candidate list per `[MASK]`, in order
   * @throws InvalidArgumentError if the text has no `[MASK]` or the model has no LM head
   */
  fillMask(tokenizer: BertTokenizerLike, text: string, options: { topK?: number } = {}): FillMaskCandidate[][] {
    const { topK = 5 } = options;
    if (!Number.isInteger(topK) || topK < 1) throw new InvalidArgumentError(`fillMask: topK must be an integer >= 1, got ${topK}`);
    if (this.config.lmHead === 'none') throw new InvalidArgumentError("fillMask: the model has no LM head (lmHead 'none')");
    const { batch, seqLen } = this.encodeBatch(tokenizer, [text]);
    const positions: number[] = [];
    batch.ids.forEach((id, t) => {
      if (id === tokenizer.maskId) positions.push(t);
    });
    if (positions.length === 0) throw new InvalidArgumentError(`fillMask: the text has no mask token (id ${tokenizer.maskId})`);
    const logits = this.batchOutputs(batch, seqLen, 'logits');
    const v = this.config.vocabSize;
    return positions.map((t) => {
      const row = logits.subarray(t * v, (t + 1) * v);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let total = 0;
      for (const x of row) total += Math.exp(x - max);
      const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => (row[b] as number) - (row[a] as number) || a - b);
      return order
        .slice(0, topK)
        .map((id) => ({ id, token: tokenizer.idToToken(id) ?? `[${id}]`, score: Math.exp((row[id] as number) - max) / total }));
    });
  }

  /**
   * Class probabilities and the most likely class for each text or `[text, pair]`.
   * @throws InvalidArgumentError if the model has no classifier
   */
  predict(
    tokenizer: BertTokenizerLike,
    inputs: readonly (string | readonly [string, string])[],
    options: { maxLength?: number; batchSize?: number } = {},
  ): Prediction[] {
    const k = this.config.nClasses;
    if (k === 0) throw new InvalidArgumentError('predict: the model has no classifier (nClasses 0); see withClassifier');
    const { maxLength = this.config.blockSize, batchSize = 32 } = options;
    const out: Prediction[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      const { batch, seqLen } = this.encodeBatch(tokenizer, inputs.slice(start, start + batchSize), maxLength);
      const logits = this.batchOutputs(batch, seqLen, 'classLogits');
      for (let i = 0; i < batch.batchSize; i++) {
        const row = logits.subarray(i * k, (i + 1) * k);
        const max = Math.max(...row);
        const exps = Float32Array.from(row, (x) => Math.exp(x - max));
        const total = exps.reduce((a, b) => a + b, 0);
        const probs = exps.map((x) => x / total);
        let label = 0;
        for (let c = 1; c < k; c++) if ((probs[c] as number) > (probs[label] as number)) label = c;
        out.push({ label, probs });
      }
    }
    return out;
  }
}
