// `npm run bench:decode`: builds, then runs bench/gpt-decode.bench.mjs (KV-cache decoding of a
// GPT-2-small-sized model vs transformers.js wasm and native, when its exported model exists).
import { relaxedSimdFlags, run, setupToolchain } from './toolchain.mjs';

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
// The relaxed-SIMD builds are the fastest; Node 20 needs the flag to run them (Node 22 does not).
run('node', [...relaxedSimdFlags(), 'bench/gpt-decode.bench.mjs', ...process.argv.slice(2)]);
