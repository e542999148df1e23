// `npm run bench:int8 [-- variant threads]`: builds, then runs bench/int8.bench.mjs: int8
// (W8A16) against float32 linear layers on GPT-2-small's and MiniLM's layer shapes.
import { relaxedSimdFlags, run, setupToolchain } from './toolchain.mjs';

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
// The relaxed-SIMD builds are the fastest; Node 20 needs the flag to run them (Node 22 does not).
run('node', [...relaxedSimdFlags(), 'bench/int8.bench.mjs', ...process.argv.slice(2)]);
