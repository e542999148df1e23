// The npm package as users get it: `npm pack`, install the tarball into an empty project,
// use it from ESM and from CommonJS without any configuration; and the package is ready to
// publish: `npm publish --dry-run` is clean and the tarball stays within its size budget.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/node.js';

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

let work: string;
let packed: { filename: string; files: { path: string }[]; size: number; unpackedSize: number };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'wasmformer-pack-'));
  packed = (JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT)) as (typeof packed)[])[0]!;
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // --engine-strict: the Node running the tests (20, and 24 in npm test's second run) must be
  // one package.json's `engines` admits.
  npm(['install', '--engine-strict', join(work, packed.filename)], work);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships every .wasm build, both entries, the workers and the types', () => {
    const files = packed.files.map((f) => f.path);
    for (const variant of ['simd', 'relaxed', 'threads', 'threads-relaxed']) {
      expect(files).toContain(`dist/wasm/${variant}.wasm`);
    }
    for (const file of [
      'dist/index.node.js',
      'dist/index.node.cjs',
      'dist/index.node.d.ts',
      'dist/index.node.d.cts',
      'dist/index.browser.js',
      'dist/index.browser.d.ts',
      'dist/worker.node.js',
      'dist/worker.browser.js',
      'dist/internals.node.js',
      'dist/internals.node.cjs',
      'dist/internals.node.d.ts',
      'dist/internals.node.d.cts',
      'dist/internals.browser.js',
      'dist/internals.browser.d.ts',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.some((f) => f.startsWith('ts/') || f.startsWith('crates/'))).toBe(false);
  });

  // `load` binds `w` (the package) and `internals` (wasmformer/internals), which must share
  // the instance `w.init` starts: `poolSmoke` runs on its pool, and its errors are w's classes.
  const script = (load: string): string => `${load}
(async () => {
  const info = await w.init({ threads: 2 });
  const c = w.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
  const pool = internals.poolSmoke(4000);
  let sameErrors = false;
  try { internals.poolSmoke(-1); } catch (e) { sameErrors = e instanceof w.InvalidArgumentError; }
  const internal = ['HF_TABLE', 'bertHeadsOf', 'resolveConfig', 'poolSmoke', 'attentionTrainingPass'];
  const split = internal.every((k) => k in internals && !(k in w));
  console.log(JSON.stringify({ variant: info.variant, threads: info.threads, c: Array.from(c), pool: pool.itemsPerThread, sameErrors, split }));
})();`;

  const run = (
    file: string,
    source: string,
  ): { variant: string; threads: number; c: number[]; pool: number[]; sameErrors: boolean; split: boolean } => {
    writeFileSync(join(work, file), source);
    const out = execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(out.trim().split('\n').pop()!);
  };

  it('works from an ES module', () => {
    const result = run('esm.mjs', script("import * as w from 'wasmformer';\nimport * as internals from 'wasmformer/internals';"));
    expect(result.variant).toMatch(/^threads/);
    expect(result.threads).toBe(2);
    expect(result.c).toEqual([19, 22, 43, 50]);
    expect(result.pool.every((n) => n > 0)).toBe(true);
    expect(result.sameErrors).toBe(true);
    expect(result.split).toBe(true);
  });

  it('installs the wasmformer CLI, which trains and saves a checkpoint', () => {
    const bin = join(work, 'node_modules', '.bin', 'wasmformer');
    expect(execFileSync(bin, ['--help'], { cwd: work, encoding: 'utf8' })).toMatch(/wasmformer train/);
    const out = execFileSync(
      bin,
      [
        'train',
        '--steps',
        '3',
        '--n-layer',
        '1',
        '--n-embd',
        '32',
        '--block-size',
        '16',
        '--batch-size',
        '4',
        '--eval-interval',
        '3',
        '--eval-batches',
        '2',
        '--out',
        'run',
        '--sample-tokens',
        '10',
      ],
      { cwd: work, encoding: 'utf8', timeout: 120_000 },
    );
    expect(out).toMatch(/done: 3 steps/);
    expect(out).toMatch(/saved: run\//);
    const bad = spawnSync(bin, ['train', '--n-head', '3'], { cwd: work, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/must be divisible by config.nHead \(3\)/);
  });

  it('runs the lab from the install: the text experiments find the shipped tinyshakespeare', () => {
    const bin = join(work, 'node_modules', '.bin', 'wasmformer');
    const out = execFileSync(bin, ['lab', 'ffn', '--quick', '--seeds', '1', '--out', 'lab'], {
      cwd: work,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(out).toMatch(/report/);
    const report = readFileSync(join(work, 'lab', 'ffn', 'report.md'), 'utf8');
    expect(report).toMatch(/tinyshakespeare/);
  });

  it('works from CommonJS', () => {
    const result = run('cjs.cjs', script("const w = require('wasmformer');\nconst internals = require('wasmformer/internals');"));
    expect(result.variant).toMatch(/^threads/);
    expect(result.c).toEqual([19, 22, 43, 50]);
    expect(result.pool.every((n) => n > 0)).toBe(true);
    expect(result.sameErrors).toBe(true);
    expect(result.split).toBe(true);
  });

  it('types both entries for TypeScript (node16 resolution through the exports map)', () => {
    writeFileSync(
      join(work, 'types.mts'),
      `import { GPT, type TransformerConfig } from 'wasmformer';
import { resolveConfig, type PoolSmokeReport } from 'wasmformer/internals';
const config: TransformerConfig = resolveConfig({ vocabSize: 8, blockSize: 4 });
const logits: Float32Array = GPT.create(config).logits([1, 2, 3]);
const report: PoolSmokeReport | undefined = undefined;
export { logits, report };
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--target',
        'es2022',
        '--lib',
        'es2022,dom,esnext.disposable',
        '--types',
        'node',
        '--typeRoots',
        join(ROOT, 'node_modules', '@types'),
        'types.mts',
      ],
      { cwd: work, encoding: 'utf8' },
    );
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });
});

// The tarball measured 2.2 MB (9.6 MB unpacked) in December 2026: the four .wasm builds (3.0 MB
// unpacked), the bundled entries and their source maps; tinyshakespeare (1.1 MB unpacked, about
// 0.4 MB packed) ships too, because `wasmformer lab` trains on it. The budget leaves about 30%
// for growth; passing it means something is shipped that should not be (a fixture, a debug build).
const TARBALL_BUDGET = 3_400_000;
const UNPACKED_BUDGET = 14_000_000;
/** Files shipped outside dist/: the manifest, the docs npm shows, and the lab's corpus. */
const SHIPPED = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'data/README.md', 'data/tinyshakespeare.txt'];

describe('ready to publish', () => {
  it(`packs within the size budget (${TARBALL_BUDGET / 1e6} MB tarball, ${UNPACKED_BUDGET / 1e6} MB unpacked)`, () => {
    expect(packed.size).toBeLessThan(TARBALL_BUDGET);
    expect(packed.unpackedSize).toBeLessThan(UNPACKED_BUDGET);
    const files = packed.files.map((f) => f.path);
    for (const file of SHIPPED) expect(files).toContain(file);
    expect(files.filter((f) => !f.startsWith('dist/') && !SHIPPED.includes(f))).toEqual([]);
  });

  it('has the metadata npm shows: licence file, repository, homepage, bugs, keywords, engines', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} The wasmformer authors\n/);
    expect(pkg.repository).toEqual({ type: 'git', url: 'git+https://github.com/wasmformer/wasmformer.git' });
    expect(pkg.homepage).toBe('https://github.com/wasmformer/wasmformer#readme');
    expect(pkg.bugs).toEqual({ url: 'https://github.com/wasmformer/wasmformer/issues' });
    expect((pkg.keywords as string[]).length).toBeGreaterThanOrEqual(5);
    // Which Node versions: the install above runs with --engine-strict under each tested Node.
    expect(typeof (pkg.engines as { node?: unknown }).node).toBe('string');
    expect(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')).toContain(`## [${pkg.version as string}]`);
  });

  it('npm publish --dry-run passes without a warning, a login or the registry', () => {
    // npm 11's dry run packs, validates package.json (printing a warning for each field it would
    // correct), checks for a login, and asks the registry whether the version exists. The
    // registry given is a closed local port, so nothing can be published whatever happens; the
    // token is a placeholder for it that satisfies the login check without a real account.
    const npmrc = join(work, 'publish.npmrc');
    writeFileSync(npmrc, '//127.0.0.1:9/:_authToken=placeholder-for-dry-run\n');
    const result = spawnSync(
      'npm',
      ['publish', '--dry-run', '--registry=http://127.0.0.1:9/', `--userconfig=${npmrc}`, '--fetch-retries=0', '--no-audit', '--no-fund'],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).toContain('Publishing to http://127.0.0.1:9/ with tag latest and default access (dry-run)');
    expect(
      output.split('\n').filter((line) => /^npm (warn|error|WARN|ERR)/.test(line)),
      output,
    ).toEqual([]);
  });
});
