// Peer: TF.js with its WebAssembly backend (XNNPACK), tf.matMul on the shapes of bench/shapes.json.
// Usage: node bench/peers/tfjs.bench.mjs <threads,…> [suite]   (one JSON line per shape and thread count)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadShapes, operandShapes, random, row, time } from '../common.mjs';

const [threadList = '1', suite = 'quick'] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const dist = `${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`;
setWasmPaths(dist);

const threadCounts = threadList.split(',').map(Number);
setThreadsCount(Math.max(...threadCounts));
await tf.setBackend('wasm');
await tf.ready();
// In Node the backend loads its threaded build only where its multithread probe passes.
const threadedBuild = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
for (const threads of threadCounts) {
  if (getThreadsCount() !== threads) {
    console.error(
      `[tfjs] ${threads} threads not available: the backend runs ${getThreadsCount()} thread(s) ` +
        `(WASM_HAS_MULTITHREAD_SUPPORT=${threadedBuild}, build ${threadedBuild ? 'threaded-simd' : 'simd'}); skipped`,
    );
    continue;
  }
  for (const { m, k, n, form } of loadShapes(suite)) {
    const s = operandShapes({ m, k, n, form });
    const a = tf.tensor(random(m * k, 1), s.a);
    const b = tf.tensor(random(k * n, 2), s.b);
    const seconds = time(() => {
      const c = tf.matMul(a, b, form === 'atb', form === 'abt');
      c.dataSync();
      c.dispose();
    });
    a.dispose();
    b.dispose();
    console.log(row({ impl: 'tfjs-wasm', variant: threadedBuild ? 'threaded-simd' : 'simd', threads, m, k, n, form, seconds }));
  }
}
