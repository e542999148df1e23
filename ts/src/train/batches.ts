/**
 * What the {@link Trainer} trains on: a source of batches. A GPT trains on random windows of a
 * token array ({@link TokenDataset}); a BERT on masked sentences or pairs
 * ({@link MaskedLMDataset}) or labelled examples ({@link ClassificationDataset}). Every source
 * fills the same {@link ModelBatch}.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Rng } from './rng.js';

/**
 * One batch of `B` sequences of `T` tokens. Only `ids` is required; a loss needs `targets`
 * (per token, `-100` = ignored) or `labels` (per sequence, `-100` = ignored).
 */
export interface ModelBatch {
  /** `[B·T]` token ids. */
  ids: Uint32Array;
  /** `[B·T]` next-token or masked-token targets. */
  targets?: Int32Array;
  /** `[B·T]` segment ids. */
  typeIds?: Uint32Array;
  /** `[B·T]` 1 = real token, 0 = padding. */
  attentionMask?: Uint8Array;
  /** `[B]` class labels. */
  labels?: Int32Array;
  /** `B`: may be below the trainer's batch size for the last batch of a full pass. */
  batchSize: number;
  /**
   * `T` of this batch when a source pads to the longest sequence in the batch instead of the
   * `seqLen` it was asked for (never above it); default the `seqLen` asked for.
   */
  seqLen?: number;
}

/** A source of batches for the {@link Trainer}. */
export interface BatchSource {
  /** Draws `batchSize` random sequences of `seqLen` tokens using `rng` (and nothing else). */
  sample(rng: Rng, batchSize: number, seqLen: number): ModelBatch;
  /**
   * Every example once, in order, in batches of at most `batchSize` (finite sources, for
   * exact evaluation and accuracy). Sources without it are evaluated on random batches.
   */
  batches?(batchSize: number, seqLen: number): Iterable<ModelBatch>;
}

/**
 * The `T` of `batch` (its `seqLen`, else `asked`), checked against its buffers and `asked`.
 * @throws InvalidArgumentError if the batch is longer than asked or its ids do not fill `B × T`.
 */
export function batchSeqLen(batch: ModelBatch, asked: number): number {
  const seqLen = batch.seqLen ?? asked;
  if (!Number.isInteger(seqLen) || seqLen < 1 || seqLen > asked) {
    throw new InvalidArgumentError(`batch: seqLen ${seqLen} must be an integer in [1, ${asked}] (the sequence length asked of the source)`);
  }
  if (batch.ids.length !== batch.batchSize * seqLen) {
    throw new InvalidArgumentError(`batch: ${batch.ids.length} ids for batchSize ${batch.batchSize} × seqLen ${seqLen}`);
  }
  return seqLen;
}

/**
 * `batch` (`[B, from]`) padded on the right to `[B, to]` sequences: id 0 and segment 0 in the
 * new columns, which the attention mask hides and targets ignore (-100).
 * @throws InvalidArgumentError if the batch has no attention mask (padding would be read).
 */
export function padBatch(batch: ModelBatch, from: number, to: number): ModelBatch {
  if (from === to) return batch;
  if (!batch.attentionMask)
    throw new InvalidArgumentError(`batch: cannot pad sequences of ${from} tokens to ${to} without an attention mask`);
  const rows = batch.batchSize;
  const widen = <A extends Uint32Array | Int32Array | Uint8Array>(a: A, fill: number, make: (n: number) => A): A => {
    const out = make(rows * to);
    out.fill(fill);
    for (let r = 0; r < rows; r++) out.set(a.subarray(r * from, (r + 1) * from), r * to);
    return out;
  };
  const out: ModelBatch = {
    ...batch,
    seqLen: to,
    ids: widen(batch.ids, 0, (n) => new Uint32Array(n)),
    attentionMask: widen(batch.attentionMask, 0, (n) => new Uint8Array(n)),
  };
  if (batch.targets) out.targets = widen(batch.targets, -100, (n) => new Int32Array(n));
  if (batch.typeIds) out.typeIds = widen(batch.typeIds, 0, (n) => new Uint32Array(n));
  return out;
}

/**
 * Concatenates micro-batches (`[accum·B·T]` buffers, `labels: [accum·B]`); parts padded to
 * the longest part's `T` when they differ (each part's `T` is its `seqLen`, else `asked`).
 */
export function concatBatches(input: readonly ModelBatch[], asked: number): ModelBatch {
  const lengths = input.map((b) => batchSeqLen(b, asked));
  const longest = Math.max(...lengths);
  const parts = input.map((b, i) => padBatch(b, lengths[i] as number, longest));
  const first = parts[0];
  if (!first) throw new Error('concatBatches: no batches');
  const join = <A extends Uint32Array | Int32Array | Uint8Array>(
    pick: (b: ModelBatch) => A | undefined,
    make: (n: number) => A,
  ): A | undefined => {
    const arrays = parts.map(pick);
    if (arrays.some((a) => a === undefined)) return undefined;
    const out = make(arrays.reduce((n, a) => n + (a as A).length, 0));
    let at = 0;
    for (const a of arrays as A[]) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const out: ModelBatch = {
    ids: join(
      (b) => b.ids,
      (n) => new Uint32Array(n),
    ) as Uint32Array,
    batchSize: parts.reduce((n, b) => n + b.batchSize, 0),
  };
  if (longest !== asked) out.seqLen = longest;
  const targets = join(
    (b) => b.targets,
    (n) => new Int32Array(n),
  );
  const typeIds = join(
    (b) => b.typeIds,
    (n) => new Uint32Array(n),
  );
  const attentionMask = join(
    (b) => b.attentionMask,
    (n) => new Uint8Array(n),
  );
  const labels = join(
    (b) => b.labels,
    (n) => new Int32Array(n),
  );
  if (targets) out.targets = targets;
  if (typeIds) out.typeIds = typeIds;
  if (attentionMask) out.attentionMask = attentionMask;
  if (labels) out.labels = labels;
  return out;
}
