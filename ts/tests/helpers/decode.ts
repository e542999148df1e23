// One decoding call's logits, through the model's wasm handle: what `generate` computes for its
// next token, as numbers (the tests compare int8 decoding with float32 on them).
import type { GPT } from '../../../dist/index.node.js';

/** Logits `[V]` of the last token of `prompt` from one decoding call (a fresh 1-slot cache). */
export function decodeLogits(gpt: GPT, prompt: Uint32Array): Float32Array {
  const handle = gpt._wasm();
  handle.decodeStart({ slots: 1, capacity: prompt.length });
  try {
    return handle.decodeFeed(prompt, Uint32Array.of(prompt.length));
  } finally {
    handle.decodeEnd();
  }
}

/** Largest |got − want| over the largest |want|. */
export function maxDiffOverScale(got: Float32Array, want: Float32Array): number {
  const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const diff = got.reduce((m, x, j) => Math.max(m, Math.abs(x - (want[j] as number))), 0);
  return diff / scale;
}

/**
 * Mean next-token cross-entropy (nats) of `ids` through the decoding path, one token per call
 * (the path `generate` takes, so int8 weights are in use on a quantised GPT), in
 * non-overlapping windows of the model's `blockSize` tokens, each on a fresh cache.
 */
export function decodeLoss(gpt: GPT, ids: ArrayLike<number>): number {
  const handle = gpt._wasm();
  const window = gpt.config.blockSize;
  let total = 0;
  let count = 0;
  for (let start = 0; start + 1 < ids.length; start += window) {
    const end = Math.min(start + window, ids.length);
    handle.decodeStart({ slots: 1, capacity: end - start });
    try {
      for (let t = start; t + 1 < end; t++) {
        const logits = handle.decodeFeed(Uint32Array.of(ids[t] as number), Uint32Array.of(1));
        const max = logits.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);
        const logSum = Math.log(logits.reduce((sum, x) => sum + Math.exp(x - max), 0)) + max;
        total += logSum - (logits[ids[t + 1] as number] as number);
        count++;
      }
    } finally {
      handle.decodeEnd();
    }
  }
  return total / count;
}
