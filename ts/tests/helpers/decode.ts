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
