// Builds every WebAssembly variant of crates/wasm and its wasm-bindgen glue:
//   target/wasm/<variant>/…/wasmformer_wasm.wasm   (cargo, std built for wasm32 from source)
//   ts/src/wasm/gen/<variant>/wasmformer.{js,d.ts} + wasmformer_bg.wasm   (wasm-bindgen --target web)
// Usage: node scripts/build-wasm.mjs [variant…]   (default: all four)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, setupToolchain, wasmCargoEnv } from './toolchain.mjs';
import { VARIANTS, rustflags } from './wasm-variants.mjs';

const requested = process.argv.slice(2);
const variants = requested.length > 0 ? requested : Object.keys(VARIANTS);
for (const variant of variants) {
  if (!VARIANTS[variant]) {
    console.error(`unknown variant "${variant}"; expected one of ${Object.keys(VARIANTS).join(', ')}`);
    process.exit(2);
  }
}

setupToolchain();

for (const variant of variants) {
  const started = Date.now();
  const targetDir = join(ROOT, 'target/wasm', variant);
  const cargoArgs = [
    'build',
    '-p',
    'wasmformer-wasm',
    '--lib',
    '--release',
    '--target',
    'wasm32-unknown-unknown',
    // std must be compiled with the same target features (atomics above all) as our code.
    '-Zbuild-std=std,panic_abort',
    '--target-dir',
    targetDir,
  ];
  if (VARIANTS[variant].threads) cargoArgs.push('--features', 'threads');
  run('cargo', cargoArgs, { env: wasmCargoEnv(rustflags(variant)) });

  const wasm = join(targetDir, 'wasm32-unknown-unknown/release/wasmformer_wasm.wasm');
  if (!existsSync(wasm)) throw new Error(`cargo did not produce ${wasm}`);
  run('wasm-bindgen', ['--target', 'web', '--out-dir', join(ROOT, 'ts/src/wasm/gen', variant), '--out-name', 'wasmformer', wasm]);
  console.error(`[build-wasm] ${variant}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
