// Runs the core's own tests compiled to wasm32 under Node, once per SIMD path, so the
// simd128 and relaxed-simd code itself is exercised (natively the scalar lanes are):
//   cargo test -p wasmformer-core --target wasm32-unknown-unknown, runner = wasm-bindgen-test-runner
// Each path has its own target/wasm-test/<path>, where its std build is cached.
// Usage: node scripts/test-wasm-core.mjs [simd|relaxed]…
import { join } from 'node:path';
import { ROOT, relaxedSimdFlags, run, setupToolchain, wasmCargoEnv } from './toolchain.mjs';
import { rustflags } from './wasm-variants.mjs';

const PATHS = {
  simd: { nodeArgs: '' },
  // Node 20 runs relaxed-simd opcodes only behind a V8 flag (Node 22+ and Chromium 114+ by default).
  relaxed: { nodeArgs: relaxedSimdFlags().join(' ') },
};

const requested = process.argv.slice(2);
const paths = requested.length > 0 ? requested : Object.keys(PATHS);
setupToolchain();
for (const path of paths) {
  if (!PATHS[path]) {
    console.error(`unknown SIMD path "${path}"; expected ${Object.keys(PATHS).join(' or ')}`);
    process.exit(2);
  }
  console.error(`[test-wasm-core] core tests on wasm32 (${path})`);
  run(
    'cargo',
    [
      'test',
      '-p',
      'wasmformer-core',
      '--lib',
      '--tests',
      '--release',
      '--no-default-features',
      '--target',
      'wasm32-unknown-unknown',
      '-Zbuild-std=std,panic_abort',
      // Tests too are built panic=abort (wasm32 cannot unwind); otherwise cargo builds std twice.
      '-Zpanic-abort-tests',
      // Its own target dir: sharing build-std artefacts with the release build of the same flags
      // makes rustc see two copies of core ("duplicate lang item").
      '--target-dir',
      join(ROOT, 'target/wasm-test', path),
    ],
    {
      env: {
        ...wasmCargoEnv(rustflags(path)),
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: 'wasm-bindgen-test-runner',
        NODE_ARGS: PATHS[path].nodeArgs,
      },
    },
  );
}
