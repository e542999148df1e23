// Which transformers.js peer runs the model benchmarks (gpt-decode, bert-embed) make, and which
// of them each of our rows is compared with.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `[device, threads, dtype]` of the peer runs: its wasm configuration (onnxruntime-web) on 1 and
 * 2 threads and its Node default (onnxruntime-node) on 2, with fp32 weights, then the same with
 * transformers.js's 8-bit `dtype: 'q8'` when `<modelDir>/onnx/model_quantized.onnx` exists and
 * `--no-q8-peers` is not given (the peers of our int8 rows).
 */
export function peerRuns(modelDir, tag) {
  const runs = [
    ['wasm', 1, 'fp32'],
    ['wasm', 2, 'fp32'],
    ['cpu', 2, 'fp32'],
  ];
  if (process.argv.includes('--no-q8-peers')) return runs;
  if (!existsSync(join(modelDir, 'onnx', 'model_quantized.onnx'))) {
    console.error(`[${tag}] transformers.js q8 skipped: no onnx/model_quantized.onnx (re-run the export script)`);
    return runs;
  }
  return [...runs, ['wasm', 1, 'q8'], ['wasm', 2, 'q8'], ['cpu', 2, 'q8']];
}

/** The peers a row of ours is compared with: fp32 for float32; q8 and native fp32 for int8. */
export function peersOf(row, peers) {
  return peers.filter((p) =>
    row.dtype === 'int8' ? p.dtype === 'q8' || (p.variant === 'onnxruntime-node' && p.dtype === 'fp32') : p.dtype === 'fp32',
  );
}
