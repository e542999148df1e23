// A page's worker using the threaded build: 2 pool threads (nested Web Workers) doing real work.
import { GPT, Trainer, WasmArray, init, matmul } from '/dist/index.browser.js';
import { poolSmoke } from '/dist/internals.browser.js';

try {
  const info = await init({ threads: 2 });
  const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
  // The same product with a and the result in (shared) module memory; toArray copies out.
  const [a, out] = [WasmArray.from(new Float32Array([1, 2, 3, 4])), WasmArray.zeros(4)];
  matmul(a, new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2, out });
  const residentC = out.toArray();
  const resident = { c: Array.from(residentC), shared: residentC.buffer instanceof SharedArrayBuffer };
  postMessage({ info, c: Array.from(c), resident, pool: poolSmoke(4000), abort: await abortInWorker() });
} catch (error) {
  postMessage({ error: `${error.name}: ${error.message}` });
}

/** fit({ signal }) and stream({ signal }) stop on an AbortSignal in a worker; the model stays usable. */
async function abortInWorker() {
  const gpt = GPT.create({ vocabSize: 16, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: 1 });
  const train = Int32Array.from({ length: 400 }, (_, i) => (i % 12) + 1);
  const trainer = new Trainer(gpt, { train }, { batchSize: 2, seqLen: 16, lr: 1e-3, maxSteps: 1000, evalInterval: 0 });
  const controller = new AbortController();
  trainer.on('step', (e) => e.step === 2 && controller.abort());
  const fit = await trainer.fit({ signal: controller.signal });
  const chars = 'abcdefghijklmnop';
  const tokenizer = { encode: (t) => Array.from(t, (c) => chars.indexOf(c)), decode: (ids) => Array.from(ids, (i) => chars[i]).join('') };
  const streamAbort = new AbortController();
  let pieces = 0;
  for await (const _ of gpt.stream(tokenizer, 'ab', { maxNewTokens: 20, temperature: 0, signal: streamAbort.signal })) {
    if (++pieces === 2) streamAbort.abort();
  }
  const after = await gpt.generateText(tokenizer, 'ab', { maxNewTokens: 5, temperature: 0 });
  gpt.dispose();
  return { fitSteps: fit.steps, pieces, after: after.length };
}
