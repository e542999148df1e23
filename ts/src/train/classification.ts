/**
 * Labelled sequences for fine-tuning a classifier (SST-2, pairs for NLI-style tasks): each
 * example is already encoded with its special tokens (`[CLS] A [SEP] (B [SEP])`), cut to the
 * trainer's `T` (a cut keeps the final [SEP]) and padded to the longest sequence of its batch
 * (or to `T`). Random batches can be drawn from examples of similar length, so that short
 * sentences do not pay for padding.
 */
import { InvalidArgumentError } from '../errors.js';
import type { BertEncoding } from '../models/bert.js';
import type { BatchSource, ModelBatch } from './batches.js';
import { drawLengthGroup, sortByLength } from './length-groups.js';
import type { Rng } from './rng.js';

/** One labelled, encoded example. */
export interface ClassificationExample {
  /** Token ids with the special tokens. */
  ids: ArrayLike<number>;
  /** Segment ids (default all 0). */
  typeIds?: ArrayLike<number>;
  /** The class, an integer >= 0. */
  label: number;
}

/** What {@link ClassificationDataset.fromTexts} needs of a tokenizer. */
export interface ClassificationTokenizer {
  /**
   * Encodes a text or a pair with the special tokens: `inputIds` and `tokenTypeIds`, `[T]`
   * each (the WordPiece tokenizer's `encode`).
   */
  encode(
    text: string,
    pair?: string,
    options?: { maxLength?: number; truncation?: 'longest_first' | false },
  ): Pick<BertEncoding, 'inputIds' | 'tokenTypeIds'>;
  /** Id of the padding token. */
  readonly padId: number;
  /** Id of the separator token (kept last when a sequence is cut). */
  readonly sepId: number;
}

/** How a {@link ClassificationDataset} pads and groups its batches. */
export interface ClassificationBatchOptions {
  /**
   * `'longest'` (default, as Hugging Face's `DataCollatorWithPadding`): pad each batch to its
   * longest sequence, so the batch's `T` can be below the trainer's; `'max'`: always pad to
   * the trainer's `T`.
   */
  padding?: 'longest' | 'max';
  /**
   * Draw each random batch from a group of examples of similar length (examples sorted by
   * length, cut into groups of `groupSize`), like Hugging Face's `group_by_length`. Every
   * example stays equally likely. Default false.
   */
  groupByLength?: boolean;
  /** Examples per length group (default 8 × the batch size). */
  groupSize?: number;
}

/** Labelled examples as a {@link BatchSource}: random batches to train, every example in order to evaluate. */
export class ClassificationDataset implements BatchSource {
  private readonly examples: { ids: number[]; typeIds: number[]; label: number }[];
  private readonly padId: number;
  private readonly sepId: number;
  private readonly padding: 'longest' | 'max';
  private readonly groupByLength: boolean;
  private readonly groupSize: number | undefined;
  /** Example indices sorted by length (then index), built on first grouped draw. */
  private byLength: number[] | undefined;

  /**
   * @param examples - encoded examples (ids with special tokens)
   * @param specials - the padding id and the separator kept at the end when an example is cut
   * @param options - padding and length grouping
   */
  constructor(
    examples: readonly ClassificationExample[],
    specials: { padId: number; sepId: number },
    options: ClassificationBatchOptions = {},
  ) {
    if (!Array.isArray(examples) || examples.length === 0)
      throw new InvalidArgumentError('ClassificationDataset: examples must be a non-empty array');
    this.examples = examples.map((e, i) => {
      const ids: number[] = Array.from(e.ids ?? []);
      if (ids.length < 1) throw new InvalidArgumentError(`ClassificationDataset: example ${i} has no tokens`);
      if (!Number.isInteger(e.label) || e.label < 0)
        throw new InvalidArgumentError(`ClassificationDataset: example ${i} has label ${e.label}, expected an integer >= 0`);
      const typeIds: number[] = e.typeIds ? Array.from(e.typeIds) : ids.map(() => 0);
      if (typeIds.length !== ids.length)
        throw new InvalidArgumentError(`ClassificationDataset: example ${i} has ${typeIds.length} segment ids for ${ids.length} tokens`);
      return { ids, typeIds, label: e.label };
    });
    this.padId = specials.padId;
    this.sepId = specials.sepId;
    const { padding = 'longest', groupByLength = false, groupSize } = options;
    if (padding !== 'longest' && padding !== 'max')
      throw new InvalidArgumentError(`ClassificationDataset: padding must be 'longest' or 'max', got ${String(padding)}`);
    if (typeof groupByLength !== 'boolean')
      throw new InvalidArgumentError(`ClassificationDataset: groupByLength must be a boolean, got ${String(groupByLength)}`);
    if (groupSize !== undefined && (!Number.isInteger(groupSize) || groupSize < 1)) {
      throw new InvalidArgumentError(`ClassificationDataset: groupSize must be a positive integer, got ${String(groupSize)}`);
    }
    this.padding = padding;
    this.groupByLength = groupByLength;
    this.groupSize = groupSize;
  }

  /**
   * Encodes `inputs` (texts or `[text, pair]`) with `tokenizer` (truncated to `maxLength`).
   * @example
   * ```ts
   * const train = ClassificationDataset.fromTexts(tokenizer, sentences, labels, { maxLength: 64 });
   * ```
   */
  static fromTexts(
    tokenizer: ClassificationTokenizer,
    inputs: readonly (string | readonly [string, string])[],
    labels: readonly number[],
    options: { maxLength?: number } & ClassificationBatchOptions = {},
  ): ClassificationDataset {
    if (!Array.isArray(inputs) || inputs.length !== labels.length) {
      throw new InvalidArgumentError(`ClassificationDataset.fromTexts: ${inputs.length} inputs but ${labels.length} labels`);
    }
    const examples = inputs.map((input, i) => {
      const encoded =
        typeof input === 'string'
          ? tokenizer.encode(input, undefined, {
              ...(options.maxLength ? { maxLength: options.maxLength, truncation: 'longest_first' as const } : {}),
            })
          : tokenizer.encode(input[0], input[1], {
              ...(options.maxLength ? { maxLength: options.maxLength, truncation: 'longest_first' as const } : {}),
            });
      return { ids: encoded.inputIds, typeIds: encoded.tokenTypeIds, label: labels[i] as number };
    });
    const { maxLength: _, ...batching } = options;
    return new ClassificationDataset(examples, { padId: tokenizer.padId, sepId: tokenizer.sepId }, batching);
  }

  /** Number of examples. */
  get size(): number {
    return this.examples.length;
  }

  /** The labels, in order. */
  get labels(): number[] {
    return this.examples.map((e) => e.label);
  }

  /** `batchSize` random examples (from one length group when `groupByLength`). */
  sample(rng: Rng, batchSize: number, seqLen: number): ModelBatch {
    const n = this.examples.length;
    if (!this.groupByLength)
      return this.build(
        Array.from({ length: batchSize }, () => rng.nextInt(n)),
        seqLen,
      );
    this.byLength ??= sortByLength(this.examples.map((e) => e.ids.length));
    const order = this.byLength;
    return this.build(drawLengthGroup(rng, order, batchSize, this.groupSize ?? 8 * batchSize), seqLen);
  }

  /** Every example once, in order. */
  *batches(batchSize: number, seqLen: number): Iterable<ModelBatch> {
    for (let start = 0; start < this.examples.length; start += batchSize) {
      const end = Math.min(start + batchSize, this.examples.length);
      yield this.build(
        Array.from({ length: end - start }, (_, i) => start + i),
        seqLen,
      );
    }
  }

  private build(indices: number[], maxLen: number): ModelBatch {
    const seqLen =
      this.padding === 'max'
        ? maxLen
        : Math.min(maxLen, Math.max(...indices.map((i) => (this.examples[i] as { ids: number[] }).ids.length)));
    const n = indices.length * seqLen;
    const batch: ModelBatch = {
      ids: new Uint32Array(n).fill(this.padId),
      typeIds: new Uint32Array(n),
      attentionMask: new Uint8Array(n),
      labels: new Int32Array(indices.length),
      batchSize: indices.length,
    };
    if (seqLen !== maxLen) batch.seqLen = seqLen;
    indices.forEach((index, i) => {
      const e = this.examples[index] as { ids: number[]; typeIds: number[]; label: number };
      let ids = e.ids;
      let types = e.typeIds;
      if (ids.length > seqLen) {
        ids = [...ids.slice(0, seqLen - 1), this.sepId];
        types = [...types.slice(0, seqLen - 1), types[types.length - 1] as number];
      }
      batch.ids.set(ids, i * seqLen);
      batch.typeIds!.set(types, i * seqLen);
      batch.attentionMask!.fill(1, i * seqLen, i * seqLen + ids.length);
      batch.labels![i] = e.label;
    });
    return batch;
  }
}
