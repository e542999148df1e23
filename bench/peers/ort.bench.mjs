// Peer: onnxruntime-web, wasm execution provider, on a one-node model per shape built here with
// bench/peers/onnx.mjs (MatMul for ab; Gemm with transA/transB for atb/abt). Usage: node bench/peers/ort.bench.mjs <threads> [suite]
import * as ort from 'onnxruntime-web';
import { loadShapes, operandShapes, random, row, timeAsync } from '../common.mjs';
import { intAttr, model, node } from './onnx.mjs';

const [threadList = '1', suite = 'quick'] = process.argv.slice(2);

function matmulModel({ m, n, form }, s) {
  const mm =
    form === 'ab'
      ? node(['A', 'B'], ['C'], 'mm', 'MatMul')
      : node(['A', 'B'], ['C'], 'gemm', 'Gemm', [intAttr('transA', form === 'atb' ? 1 : 0), intAttr('transB', form === 'abt' ? 1 : 0)]);
  return model({
    nodes: [mm],
    inputs: [
      ['A', s.a],
      ['B', s.b],
    ],
    outputs: [['C', [m, n]]],
  });
}

// numThreads is fixed when the wasm runtime first initialises: one thread count per process.
const threads = Number(threadList.split(',')[0]);
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;
for (const { m, k, n, form } of loadShapes(suite)) {
  const s = operandShapes({ m, k, n, form });
  const session = await ort.InferenceSession.create(matmulModel({ m, n, form }, s), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const feeds = { A: new ort.Tensor('float32', random(m * k, 1), s.a), B: new ort.Tensor('float32', random(k * n, 2), s.b) };
  const seconds = await timeAsync(async () => {
    const out = await session.run(feeds);
    out.C.dispose?.();
  });
  await session.release();
  console.log(row({ impl: 'ort-web', variant: 'simd-threaded', threads, m, k, n, form, seconds }));
}
