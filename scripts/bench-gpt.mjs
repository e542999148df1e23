// `npm run bench:gpt`: builds, then runs bench/gpt-shakespeare.bench.mjs (the reference
// recipe vs TF.js) and bench/gpt-memory.bench.mjs (GPT-2 small at B=4, T=256).
import { run, setupToolchain } from './toolchain.mjs';

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
// The relaxed-SIMD builds are the fastest; Node 20 needs the flag to run them (Node 22 does not).
const RELAXED = ['--experimental-wasm-relaxed-simd'];
run('node', [...RELAXED, 'bench/gpt-shakespeare.bench.mjs', ...process.argv.slice(2)]);
run('node', [...RELAXED, 'bench/gpt-memory.bench.mjs']);
