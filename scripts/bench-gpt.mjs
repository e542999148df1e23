// `npm run bench:gpt`: builds, then runs bench/gpt-shakespeare.bench.mjs (the reference
// recipe vs TF.js) and bench/gpt-memory.bench.mjs (GPT-2 small at B=4, T=256).
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { SHAKESPEARE } from '../bench/data.mjs';
import { ROOT, relaxedSimdFlags, run, setupToolchain } from './toolchain.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const size = statSync(SHAKESPEARE, { throwIfNoEntry: false })?.size;
  console.log(`npm run bench:gpt [-- options]   nanoGPT's Shakespeare CPU recipe (wasmformer, TF.js, PyTorch if present),
then GPT-2 small's memory and step time. Builds first. Options of bench/gpt-shakespeare.bench.mjs:
  --data file.txt      training text (default ${relative(ROOT, SHAKESPEARE)}, shipped${size === undefined ? ': MISSING' : `: ${size} bytes`})
  --steps N            training steps (2000)            --tfjs-steps N   timed TF.js steps (10)
  --threads N          wasm threads (all cores)         --seed N         seed (1337)
  --gelu tanh|exact    GELU form (tanh)                 --eval-batches N validation batches (2000)
  --python PATH        Python for the PyTorch peer (python3; skipped unless it imports torch)`);
  process.exit(size === undefined ? 1 : 0);
}

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
// The relaxed-SIMD builds are the fastest; Node 20 needs a flag to run them (Node 22+ does not).
const RELAXED = relaxedSimdFlags();
run('node', [...RELAXED, 'bench/gpt-shakespeare.bench.mjs', ...process.argv.slice(2)]);
run('node', [...RELAXED, 'bench/gpt-memory.bench.mjs']);
