// The npm package as users get it: `npm pack`, install the tarball into an empty project,
// use it from ESM and from CommonJS without any configuration.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/node.js';

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

let work: string;
let packed: { filename: string; files: { path: string }[] };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'wasmformer-pack-'));
  packed = (JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT)) as typeof packed[])[0]!;
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  npm(['install', join(work, packed.filename)], work);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships every .wasm build, both entries, the workers and the types', () => {
    const files = packed.files.map((f) => f.path);
    for (const variant of ['simd', 'relaxed', 'threads', 'threads-relaxed']) {
      expect(files).toContain(`dist/wasm/${variant}.wasm`);
    }
    for (const file of ['dist/index.node.js', 'dist/index.node.cjs', 'dist/index.node.d.ts', 'dist/index.node.d.cts',
      'dist/index.browser.js', 'dist/index.browser.d.ts', 'dist/worker.node.js', 'dist/worker.browser.js']) {
      expect(files).toContain(file);
    }
    expect(files.some((f) => f.startsWith('ts/') || f.startsWith('crates/'))).toBe(false);
  });

  const script = (load: string): string => `${load}
(async () => {
  const info = await w.init({ threads: 2 });
  const c = w.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
  const pool = w.poolSmoke(4000);
  console.log(JSON.stringify({ variant: info.variant, threads: info.threads, c: Array.from(c), pool: pool.itemsPerThread }));
})();`;

  const run = (file: string, source: string): { variant: string; threads: number; c: number[]; pool: number[] } => {
    writeFileSync(join(work, file), source);
    const out = execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(out.trim().split('\n').pop()!);
  };

  it('works from an ES module', () => {
    const result = run('esm.mjs', script("import * as w from 'wasmformer';"));
    expect(result.variant).toMatch(/^threads/);
    expect(result.threads).toBe(2);
    expect(result.c).toEqual([19, 22, 43, 50]);
    expect(result.pool.every((n) => n > 0)).toBe(true);
  });

  it('installs the wasmformer CLI, which trains and saves a checkpoint', () => {
    const bin = join(work, 'node_modules', '.bin', 'wasmformer');
    expect(execFileSync(bin, ['--help'], { cwd: work, encoding: 'utf8' })).toMatch(/wasmformer train/);
    const out = execFileSync(bin, ['train', '--steps', '3', '--n-layer', '1', '--n-embd', '32', '--block-size', '16',
      '--batch-size', '4', '--eval-interval', '3', '--eval-batches', '2', '--out', 'run', '--sample-tokens', '10'],
    { cwd: work, encoding: 'utf8', timeout: 120_000 });
    expect(out).toMatch(/done: 3 steps/);
    expect(out).toMatch(/saved: run\//);
    const bad = spawnSync(bin, ['train', '--n-head', '3'], { cwd: work, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/must be divisible by config.nHead \(3\)/);
  });

  it('works from CommonJS', () => {
    const result = run('cjs.cjs', script("const w = require('wasmformer');"));
    expect(result.variant).toMatch(/^threads/);
    expect(result.c).toEqual([19, 22, 43, 50]);
    expect(result.pool.every((n) => n > 0)).toBe(true);
  });
});
