// A page's worker using the threaded build: 2 pool threads (nested Web Workers) doing real work.
import { init, matmul, poolSmoke } from '/dist/index.browser.js';

try {
  const info = await init({ threads: 2 });
  const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
  postMessage({ info, c: Array.from(c), pool: poolSmoke(4000) });
} catch (error) {
  postMessage({ error: `${error.name}: ${error.message}` });
}
