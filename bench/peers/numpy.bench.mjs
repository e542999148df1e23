// Native reference: numpy's float32 matmul through its BLAS (Debian's python3-numpy with
// OpenBLAS, which `npm run bench` installs when missing), 1 and 2 threads (OPENBLAS_NUM_THREADS,
// one process per count), on the matmul shapes of the suite (bench/peers/numpy-matmul.py).
// Runs /usr/bin/python3 (Debian's numpy) when there is one, else python3 from PATH, with
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset: set machine-wide here, they halve OpenBLAS's
// speed on this CPU. Without numpy this prints "numpy not available: skipped" and exits 0.
// Usage: node bench/peers/numpy.bench.mjs <threads,…> [suite]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [threadList = '1,2', suite = 'quick'] = process.argv.slice(2);
const script = fileURLToPath(new URL('./numpy-matmul.py', import.meta.url));

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const baseEnv = { ...process.env };
delete baseEnv.OPENBLAS_CORETYPE;
delete baseEnv.OPENBLAS_L2_SIZE;
const probe = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore', env: baseEnv });
if (probe.status !== 0) {
  console.error(`[numpy] numpy not available${probe.error ? ` (${probe.error.message})` : ''}: skipped`);
  process.exit(0);
}
for (const threads of threadList.split(',')) {
  const env = { ...baseEnv, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  const result = spawnSync(python, [script, suite], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`numpy-matmul.py (${threads} threads) exited with ${result.status ?? result.signal}`);
  process.stdout.write(result.stdout);
}
