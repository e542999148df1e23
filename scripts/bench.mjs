// `npm run bench [-- suite]` (suites in bench/shapes.json: quick, the default, or full): sets up
// and builds what is missing, then measures, for every wasm build (1 and 2 threads for the
// threaded ones), matmul GFLOP/s (and natively) and multi-head causal attention GFLOP/s, forward
// and forward + backward, in one run on one machine. Then the peers (bench/peers/: TF.js wasm and
// onnxruntime-web for matmul and attention, numpy's BLAS when python3 has numpy, a wasm mul+add
// peak loop), each in a child process. Prints a table per op with ratios to the simd build,
// ratios of the best wasmformer 1-thread column to each peer, and writes bench/results/kernels.jsonl
// (format: bench/results.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT, relaxedSimdFlags, run, setupToolchain } from './toolchain.mjs';
import { kernelMeasurements, writeResults } from '../bench/results.mjs';

const suite = process.argv[2] ?? 'quick';
setupToolchain({ numpy: true });
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);

const RELAXED_FLAG = relaxedSimdFlags(); // Node 20 needs a flag for the relaxed builds
const runs = [
  { variant: 'simd', threads: '1', nodeArgs: [] },
  { variant: 'relaxed', threads: '1', nodeArgs: RELAXED_FLAG },
  { variant: 'threads', threads: '1,2', nodeArgs: [] },
  { variant: 'threads-relaxed', threads: '1,2', nodeArgs: RELAXED_FLAG },
];

const rows = [];
for (const { variant, threads, nodeArgs } of runs) {
  for (const program of ['bench/matmul.bench.mjs', 'bench/attention.bench.mjs']) {
    console.error(`[bench] ${variant} (threads ${threads}): ${program}`);
    const out = execFileSync(process.execPath, [...nodeArgs, program, variant, threads, suite], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    rows.push(
      ...out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((line) => JSON.parse(line)),
    );
  }
}

console.error('[bench] native (scalar lanes, autovectorised; 1 and 2 threads)');
const shapeArgs = JSON.parse(readFileSync(join(ROOT, 'bench/shapes.json'), 'utf8'))[suite].matmul.flatMap(({ m, k, n, form }) =>
  [m, k, n, form].map(String),
);
const native = execFileSync('cargo', ['run', '-q', '--release', '-p', 'wasmformer-core', '--example', 'bench_matmul', '--', ...shapeArgs], {
  cwd: ROOT,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
rows.push(
  ...native
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((line) => JSON.parse(line)),
);

// Peers, each in its own process; one that fails is reported in one line and skipped.
const peers = [
  { name: 'tfjs-wasm (XNNPACK)', args: ['bench/peers/tfjs.bench.mjs', '1,2', suite] },
  { name: 'onnxruntime-web 1 thread', args: ['bench/peers/ort.bench.mjs', '1', suite] },
  { name: 'onnxruntime-web 2 threads', args: ['bench/peers/ort.bench.mjs', '2', suite] },
  { name: 'numpy matmul (BLAS), 1 and 2 threads', args: ['bench/peers/numpy.bench.mjs', '1,2', suite] },
  { name: 'tfjs-wasm attention', args: ['bench/peers/tfjs-attention.bench.mjs', suite] },
  { name: 'onnxruntime-web attention 1 thread', args: ['bench/peers/ort-attention.bench.mjs', '1', suite] },
  { name: 'onnxruntime-web attention 2 threads', args: ['bench/peers/ort-attention.bench.mjs', '2', suite] },
  { name: 'wasm peak loop (mul+add), 1 and 2 threads', args: ['bench/peers/peak.bench.mjs', 'simd', '1,2'] },
  { name: 'wasm peak loop (relaxed_madd), 1 and 2 threads', args: [...RELAXED_FLAG, 'bench/peers/peak.bench.mjs', 'relaxed', '1,2'] },
];
const peakRows = [];
const notes = []; // the peers' skip notes, repeated under the tables
for (const { name, args } of peers) {
  console.error(`[bench] peer: ${name}`);
  const result = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60 * 1000,
  });
  const lines = (result.stdout ?? '').split('\n').filter((l) => l.startsWith('{'));
  const said = (result.stderr ?? '').split('\n').filter((l) => l.startsWith('['));
  if (said.length) process.stderr.write(said.map((l) => `${l}\n`).join(''));
  notes.push(...said.filter((l) => /skipped|failed/.test(l)));
  if (result.status === 0 && lines.length === 0) continue; // nothing to measure (it said why)
  if (result.status !== 0 || lines.length === 0) {
    const why =
      result.error?.message ?? (result.stderr ?? '').split('\n').find((l) => /Error/.test(l)) ?? `exit ${result.status ?? result.signal}`;
    console.error(`[bench] WARNING: peer ${name} failed (${why.trim()}); skipped`);
    continue;
  }
  for (const r of lines.map((l) => JSON.parse(l))) (r.impl === 'peak' ? peakRows : rows).push(r);
}

const colOf = (r) => `${r.impl === 'wasmformer' ? r.variant : r.impl === 'peak' ? `peak-${r.variant}` : r.impl}/${r.threads}t`;
const pad = (s, n) => String(s).padStart(n);

/**
 * One table of GFLOP/s (row = `keyOf(r)`, column = build or peer / threads, ratio to simd/1t in
 * brackets), then the best wasmformer 1-thread column's ratio to each peer column. `everyRow`:
 * rows without a shape (the peak loop), shown with the same value in every row.
 */
function printTable(title, tableRows, keyOf, everyRow = []) {
  if (tableRows.length === 0) return;
  const columns = [...new Set([...tableRows, ...everyRow].map(colOf))];
  const byShape = new Map();
  for (const r of tableRows) {
    if (!byShape.has(keyOf(r))) byShape.set(keyOf(r), {});
    byShape.get(keyOf(r))[colOf(r)] = r.gflops;
  }
  for (const cols of byShape.values()) for (const r of everyRow) cols[colOf(r)] = r.gflops;
  console.log(`\n${title}`);
  console.log(pad('shape', 22) + columns.map((c) => pad(c, 22)).join(''));
  for (const [shape, cols] of byShape) {
    const base = cols['simd/1t'];
    console.log(
      pad(shape, 22) +
        columns
          .map((c) => {
            const v = cols[c];
            return pad(v === undefined ? '-' : `${v.toFixed(1)} (${base ? (v / base).toFixed(2) : '-'}×)`, 22);
          })
          .join(''),
    );
  }

  // Best wasmformer 1-thread column (highest geometric mean over the shapes) against each peer column.
  const wfCols = [...new Set(tableRows.filter((r) => r.impl === 'wasmformer' && r.threads === 1).map(colOf))];
  const geo = (c) => Math.exp([...byShape.values()].reduce((s, cols) => s + Math.log(cols[c] ?? 1e-9), 0) / byShape.size);
  const best = wfCols.sort((x, y) => geo(y) - geo(x))[0];
  // A 1-thread column against the peak loop on more cores says nothing: those are left out.
  const peerCols = columns.filter(
    (c) =>
      !wfCols.includes(c) &&
      [...tableRows, ...everyRow].some(
        (r) => r.impl !== 'wasmformer' && r.impl !== 'native' && !(r.impl === 'peak' && r.threads > 1) && colOf(r) === c,
      ),
  );
  if (best && peerCols.length) {
    console.log(
      `\nbest wasmformer 1-thread column: ${best}; ratio ${best} ÷ peer (> 1: wasmformer faster; vs peak-*: fraction of the ceiling)`,
    );
    console.log(pad('shape', 22) + peerCols.map((c) => pad(c, 18)).join(''));
    for (const [shape, cols] of byShape) {
      console.log(
        pad(shape, 22) + peerCols.map((c) => pad(cols[c] && cols[best] ? `${(cols[best] / cols[c]).toFixed(2)}×` : '-', 18)).join(''),
      );
    }
  }
}

/** One table of a paired measurement: a row per matmul shape and form, a column per build / threads. */
function printPaired(title, pairedRows, format) {
  if (pairedRows.length === 0) return;
  const columns = [...new Set(pairedRows.map(colOf))];
  const byShape = new Map();
  for (const r of pairedRows) {
    const key = `${r.shape.m}x${r.shape.k}x${r.shape.n} ${r.form}`;
    if (!byShape.has(key)) byShape.set(key, {});
    byShape.get(key)[colOf(r)] = format(r);
  }
  console.log(`\n${title}`);
  console.log(pad('shape', 22) + columns.map((c) => pad(c, 24)).join(''));
  for (const [shape, cols] of byShape) console.log(pad(shape, 22) + columns.map((c) => pad(cols[c] ?? '-', 24)).join(''));
}

const machine = `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores`;
const matmulRows = rows.filter((r) => r.op === 'matmul');
printTable(
  `matmul GFLOP/s (${machine}); in brackets: ratio to simd/1t` +
    (peakRows.length ? '; peak-* columns: mul+add loop without memory (n threads: n copies at once, summed), same in every row' : ''),
  matmulRows,
  (r) => `${r.shape.m}x${r.shape.k}x${r.shape.n} ${r.form}`,
  peakRows,
);
// The ratio targets timed in pairs in one process (bench/matmul.bench.mjs).
printPaired(
  "matmul, 1 thread, as a fraction of the peak loop of the build's instruction set (mul+add for simd builds,\n" +
    'relaxed madd for relaxed ones) timed alternately with the product in the same process: product GFLOP/s ÷ peak GFLOP/s (peak)',
  matmulRows.filter((r) => r.fractionOfPeak !== undefined),
  (r) => `${r.fractionOfPeak.toFixed(2)} (${r.peakGflops.toFixed(1)})`,
);
for (const r of rows.filter((t) => t.op === 'tile')) {
  console.log(
    `  ceiling: the microkernel's loop alone (4 × 8 tile, L1 data, no packing; bench/peak-loop.mjs) in the ${r.build} build's process: ` +
      `${r.fractionOfPeak.toFixed(2)} of the ${r.peakVariant} peak loop (${r.gflops.toFixed(1)} GFLOP/s)`,
  );
}
printPaired(
  'matmul, 1 thread: transposed form ÷ plain form of the same dims (speed ratio; the two timed alternately in one process)',
  matmulRows.filter((r) => r.ratioToPlain !== undefined),
  (r) => `${r.ratioToPlain.toFixed(2)}×`,
);
printPaired(
  'matmul: several threads ÷ one thread (speed ratio; setThreadLimit switched between calls timed alternately in one process)',
  matmulRows.filter((r) => r.speedupOverOneThread !== undefined),
  (r) => `${r.speedupOverOneThread.toFixed(2)}×`,
);
for (const r of peakRows.filter((p) => p.speedupOverOneThread !== undefined)) {
  console.log(
    `  ceiling: the ${r.variant} peak loop on ${r.threads} threads at once ÷ on one, alternating rounds: ${r.speedupOverOneThread.toFixed(2)}×`,
  );
}
printTable(
  `attention GFLOP/s, multi-head causal, q, k, v: [B, H, T, D] (${machine}); in brackets: ratio to simd/1t\n` +
    "flops: forward 4·B·H·T²·D over the FULL T×T matrix although causal (FlashAttention's count; the work done is about half),\n" +
    'backward 2.5× forward. wasmformer forward (kernels.attention): 64-query blocks × 128-key tiles, online softmax, no T×T buffer;\n' +
    'wasmformer fwd+bwd: one training pass ([T, T] scores per head task, causal triangle skipped);\n' +
    'tfjs-wasm (1 thread) and ort-web: batched matmuls + masked softmax, [B·H, T, T] scores materialised; ort-web forward only',
  rows.filter((r) => r.op === 'attention'),
  (r) => `${r.shape.b}×${r.shape.h}×${r.shape.t}×${r.shape.d} ${r.pass === 'forward' ? 'fwd' : 'fwd+bwd'}`,
);
if (notes.length) console.log(`\nnotes:\n${notes.join('\n')}`);

const written = writeResults(
  'kernels',
  [...rows, ...peakRows].flatMap((r) => kernelMeasurements(r, suite)),
);
console.log(`\nwrote ${written}`);
