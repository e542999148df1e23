// Peer: onnxruntime-web, wasm execution provider, on a one-node model per shape built here
// (MatMul for ab; Gemm with transA/transB for atb/abt). Usage: node bench/peers/ort.bench.mjs <threads> [suite]
import * as ort from 'onnxruntime-web';
import { loadShapes, operandShapes, random, row, timeAsync } from '../common.mjs';

const [threadList = '1', suite = 'quick'] = process.argv.slice(2);

// Minimal protobuf writer: varint fields, length-delimited fields.
const varint = (v) => { const out = []; let x = BigInt(v); do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; out.push(b); } while (x); return out; };
const fInt = (field, v) => [...varint((field << 3) | 0), ...varint(v)];
const fBytes = (field, bytes) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const fStr = (field, s) => fBytes(field, [...new TextEncoder().encode(s)]);

// ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1 (FLOAT=1), shape=2: {dim=1: {dim_value=1}}}}}
const valueInfo = (name, dims) => [...fStr(1, name), ...fBytes(2, fBytes(1, [...fInt(1, 1),
  ...fBytes(2, dims.flatMap((d) => fBytes(1, fInt(1, d))))]))];
// AttributeProto{name=1, i=3, type=20 (INT=2)}
const intAttr = (name, v) => [...fStr(1, name), ...fInt(3, v), ...fInt(20, 2)];

function model({ m, n, form }, s) {
  const node = form === 'ab'
    ? [...fStr(1, 'A'), ...fStr(1, 'B'), ...fStr(2, 'C'), ...fStr(3, 'mm'), ...fStr(4, 'MatMul')]
    : [...fStr(1, 'A'), ...fStr(1, 'B'), ...fStr(2, 'C'), ...fStr(3, 'gemm'), ...fStr(4, 'Gemm'),
      ...fBytes(5, intAttr('transA', form === 'atb' ? 1 : 0)), ...fBytes(5, intAttr('transB', form === 'abt' ? 1 : 0))];
  const graph = [...fBytes(1, node), ...fStr(2, 'g'), ...fBytes(11, valueInfo('A', s.a)),
    ...fBytes(11, valueInfo('B', s.b)), ...fBytes(12, valueInfo('C', [m, n]))];
  // ModelProto{ir_version=1: 8, producer_name=2, graph=7, opset_import=8: {domain=1 "", version=2: 13}}
  return new Uint8Array([...fInt(1, 8), ...fStr(2, 'wasmformer-bench'), ...fBytes(7, graph), ...fBytes(8, fInt(2, 13))]);
}

// numThreads is fixed when the wasm runtime first initialises: one thread count per process.
const threads = Number(threadList.split(',')[0]);
{
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  for (const { m, k, n, form } of loadShapes(suite)) {
    const s = operandShapes({ m, k, n, form });
    const session = await ort.InferenceSession.create(model({ m, n, form }, s), {
      executionProviders: ['wasm'], graphOptimizationLevel: 'all',
    });
    const feeds = { A: new ort.Tensor('float32', random(m * k, 1), s.a), B: new ort.Tensor('float32', random(k * n, 2), s.b) };
    const seconds = await timeAsync(async () => { const out = await session.run(feeds); out.C.dispose?.(); });
    await session.release();
    console.log(row({ impl: 'ort-web', variant: 'simd-threaded', threads, m, k, n, form, seconds }));
  }
}
