// Runs scripts/setup-toolchain.sh (which installs only what is missing) and returns the
// environment for wasm32 cargo commands: the toolchain that has a wasm32-capable rustc and
// `-Zbuild-std` enabled on a stable compiler.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// `cargo install` puts wasm-bindgen here; make sure every child process finds it.
process.env.PATH = `${join(homedir(), '.cargo/bin')}${delimiter}${process.env.PATH ?? ''}`;

/** Installs what is missing; `browser` adds Chromium, `numpy` Debian's numpy (optional). */
export function setupToolchain({ browser = false, numpy = false } = {}) {
  const args = [join(ROOT, 'scripts/setup-toolchain.sh')];
  if (browser) args.push('--browser');
  if (numpy) args.push('--numpy');
  execFileSync('bash', args, { stdio: 'inherit' });
}

/** Environment for `cargo … --target wasm32-unknown-unknown -Zbuild-std=…`. */
export function wasmCargoEnv(rustflags) {
  const settings = Object.fromEntries(
    readFileSync(join(ROOT, 'target/toolchain.env'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.split('=', 2)),
  );
  const env = { ...process.env, RUSTC_BOOTSTRAP: '1', RUSTFLAGS: rustflags };
  if (settings.WASM_RUSTUP_TOOLCHAIN) env.RUSTUP_TOOLCHAIN = settings.WASM_RUSTUP_TOOLCHAIN;
  return env;
}

/** Runs a command, streaming its output; throws with the command line if it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}
