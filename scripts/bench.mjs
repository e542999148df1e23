// `npm run bench`: sets up and builds what is missing, then measures matmul GFLOP/s for every
// wasm build (1 and 2 threads for the threaded ones) and natively, in one run on one machine.
// Prints a table with ratios to the simd build and appends JSON lines to bench/results/kernels.jsonl.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT, run, setupToolchain } from './toolchain.mjs';

const suite = process.argv[2] ?? 'quick';
setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);

const RELAXED_FLAG = ['--experimental-wasm-relaxed-simd'];
const runs = [
  { variant: 'simd', threads: '1', nodeArgs: [] },
  { variant: 'relaxed', threads: '1', nodeArgs: RELAXED_FLAG },
  { variant: 'threads', threads: '1,2', nodeArgs: [] },
  { variant: 'threads-relaxed', threads: '1,2', nodeArgs: RELAXED_FLAG },
];

const rows = [];
for (const { variant, threads, nodeArgs } of runs) {
  console.error(`[bench] ${variant} (threads ${threads})`);
  const out = execFileSync(process.execPath, [...nodeArgs, 'bench/matmul.bench.mjs', variant, threads, suite], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  rows.push(...out.trim().split('\n').map((line) => JSON.parse(line)));
}

console.error('[bench] native (scalar lanes, autovectorised; 1 and 2 threads)');
const shapeArgs = JSON.parse(readFileSync(join(ROOT, 'bench/shapes.json'), 'utf8'))[suite].matmul
  .flatMap(({ m, k, n, form }) => [m, k, n, form].map(String));
const native = execFileSync('cargo', ['run', '-q', '--release', '-p', 'wasmformer-core', '--example', 'bench_matmul', '--', ...shapeArgs], {
  cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
});
rows.push(...native.trim().split('\n').filter((l) => l.startsWith('{')).map((line) => JSON.parse(line)));

const key = (r) => `${r.shape.m}x${r.shape.k}x${r.shape.n} ${r.form}`;
const columns = [...new Set(rows.map((r) => `${r.impl === 'native' ? 'native' : r.variant}/${r.threads}t`))];
const byShape = new Map();
for (const r of rows) {
  const col = `${r.impl === 'native' ? 'native' : r.variant}/${r.threads}t`;
  if (!byShape.has(key(r))) byShape.set(key(r), {});
  byShape.get(key(r))[col] = r.gflops;
}
const pad = (s, n) => String(s).padStart(n);
console.log(`\nmatmul GFLOP/s (${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores); in brackets: ratio to simd/1t`);
console.log(pad('shape', 22) + columns.map((c) => pad(c, 22)).join(''));
for (const [shape, cols] of byShape) {
  const base = cols['simd/1t'];
  console.log(pad(shape, 22) + columns.map((c) => {
    const v = cols[c];
    return pad(v === undefined ? '-' : `${v.toFixed(1)} (${base ? (v / base).toFixed(2) : '-'}×)`, 22);
  }).join(''));
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const stamp = new Date().toISOString();
appendFileSync(join(ROOT, 'bench/results/kernels.jsonl'), rows.map((r) => JSON.stringify({ ...r, at: stamp })).join('\n') + '\n');
console.log('\nappended to bench/results/kernels.jsonl');
