// A page's worker using the threaded build: 2 pool threads (nested Web Workers) doing real work.
import { WasmArray, init, matmul, poolSmoke } from '/dist/index.browser.js';

try {
  const info = await init({ threads: 2 });
  const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
  // The same product with a and the result in (shared) module memory; toArray copies out.
  const [a, out] = [WasmArray.from(new Float32Array([1, 2, 3, 4])), WasmArray.zeros(4)];
  matmul(a, new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2, out });
  const residentC = out.toArray();
  const resident = { c: Array.from(residentC), shared: residentC.buffer instanceof SharedArrayBuffer };
  postMessage({ info, c: Array.from(c), resident, pool: poolSmoke(4000) });
} catch (error) {
  postMessage({ error: `${error.name}: ${error.message}` });
}
