/**
 * What the {@link Trainer} trains on: a source of batches. A GPT trains on random windows of a
 * token array ({@link TokenDataset}); a BERT on masked sentences or pairs
 * ({@link MaskedLMDataset}) or labelled examples ({@link ClassificationDataset}). Every source
 * fills the same {@link ModelBatch}.
 */
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

/** Concatenates micro-batches of equal size (`[accum·B·T]` buffers, `labels: [accum·B]`). */
export function concatBatches(parts: readonly ModelBatch[]): ModelBatch {
  const first = parts[0];
  if (!first) throw new Error('concatBatches: no batches');
  const join = <A extends Uint32Array | Int32Array | Uint8Array>(pick: (b: ModelBatch) => A | undefined, make: (n: number) => A): A | undefined => {
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
    ids: join((b) => b.ids, (n) => new Uint32Array(n)) as Uint32Array,
    batchSize: parts.reduce((n, b) => n + b.batchSize, 0),
  };
  const targets = join((b) => b.targets, (n) => new Int32Array(n));
  const typeIds = join((b) => b.typeIds, (n) => new Uint32Array(n));
  const attentionMask = join((b) => b.attentionMask, (n) => new Uint8Array(n));
  const labels = join((b) => b.labels, (n) => new Int32Array(n));
  if (targets) out.targets = targets;
  if (typeIds) out.typeIds = typeIds;
  if (attentionMask) out.attentionMask = attentionMask;
  if (labels) out.labels = labels;
  return out;
}
