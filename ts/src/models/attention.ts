/**
 * Attention maps: the result type of {@link TransformerModel.attentionWeights}, a flat
 * `[L, H, T, T]` float32 copy of every layer's and head's softmax attention probabilities
 * with a `[T, T]` view per (layer, head).
 */
import { InvalidArgumentError } from '../errors.js';

/** Options of {@link TransformerModel.attentionWeights}. */
export interface AttentionWeightsOptions {
  /** `[T]` segment ids (models with segment embeddings, e.g. BERT); default all 0. */
  typeIds?: ArrayLike<number>;
  /** `[T]` 1 = real token, 0 = padding (masked as a key: its column is 0); default all 1. */
  attentionMask?: ArrayLike<number>;
}

/** The attention probabilities of one sequence, every layer and head. */
export interface AttentionWeights {
  /** `L`, layers. */
  readonly nLayer: number;
  /** `H`, heads per layer. */
  readonly nHead: number;
  /** `T`, tokens of the sequence. */
  readonly seqLen: number;
  /**
   * `[L, H, T, T]` float32: `weights[((l·H + h)·T + i)·T + j]` is how much query token `i`
   * attends to key token `j` in layer `l`, head `h`. Each row sums to 1 (0 if every key of
   * the row is masked); causal models have zeros above the diagonal, padded keys zero columns.
   */
  readonly weights: Float32Array;
  /**
   * The `[T, T]` map of one layer and head: a view into {@link AttentionWeights.weights}
   * (row `i` = query token, column `j` = key token).
   * @throws InvalidArgumentError if `layer` is not in `[0, L)` or `head` not in `[0, H)`
   */
  at(layer: number, head: number): Float32Array;
}

/**
 * Wraps `weights: [L, H, T, T]` float32.
 * @internal
 */
export function attentionWeightsOf(weights: Float32Array, nLayer: number, nHead: number, seqLen: number): AttentionWeights {
  const size = seqLen * seqLen;
  return {
    nLayer,
    nHead,
    seqLen,
    weights,
    at(layer: number, head: number): Float32Array {
      if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer)
        throw new InvalidArgumentError(`attentionWeights.at: layer ${layer} is not in [0, ${nLayer})`);
      if (!Number.isInteger(head) || head < 0 || head >= nHead)
        throw new InvalidArgumentError(`attentionWeights.at: head ${head} is not in [0, ${nHead})`);
      const start = (layer * nHead + head) * size;
      return weights.subarray(start, start + size);
    },
  };
}
