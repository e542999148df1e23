// `npm run bench:gpt`: builds, then runs bench/gpt-shakespeare.bench.mjs (the reference
// recipe vs TF.js) and bench/gpt-memory.bench.mjs (GPT-2 small at B=4, T=256).
import { run, setupToolchain } from './toolchain.mjs';

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
run('node', ['bench/gpt-shakespeare.bench.mjs', ...process.argv.slice(2)]);
run('node', ['--max-old-space-size=2048', 'bench/gpt-memory.bench.mjs']);
