// Native reference: numpy's float32 matmul through its BLAS (OpenBLAS on Debian and in PyPI
// wheels), 1 and 2 threads (OPENBLAS_NUM_THREADS, one python3 process per count), on the
// matmul shapes of the suite (bench/peers/numpy-matmul.py). Nothing is installed here: without
// numpy this prints "numpy not available: skipped" and exits 0 with no rows.
// Usage: node bench/peers/numpy.bench.mjs <threads,…> [suite]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [threadList = '1,2', suite = 'quick'] = process.argv.slice(2);
const script = fileURLToPath(new URL('./numpy-matmul.py', import.meta.url));

const probe = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
if (probe.status !== 0) {
  console.error(`[numpy] numpy not available${probe.error ? ` (${probe.error.message})` : ''}: skipped`);
  process.exit(0);
}
for (const threads of threadList.split(',')) {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  const result = spawnSync('python3', [script, suite], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`numpy-matmul.py (${threads} threads) exited with ${result.status ?? result.signal}`);
  process.stdout.write(result.stdout);
}
