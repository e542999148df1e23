// bench/results/<suite>.jsonl, the format every benchmark suite writes (README, "Benchmark
// results"). Each run rewrites its suite's file: first one line that describes the run (machine,
// versions, date), then one line per measurement:
//   { suite, case, impl, threads, metric, value, unit, ...details }
// `case` is the shape or task (matmul: `MxKxN`, with `-abt` / `-atb` for the transposed forms),
// `impl` what ran it (`wasmformer-<build>`, `tfjs-wasm`, `ort-web`, `native`, `numpy`, `peak-<isa>`,
// `tile-<isa>` (the microkernel's loop alone, case `tile-loop`),
// `pytorch-cpu`, `transformersjs-wasm`, `transformersjs-native`), `metric` one of METRICS.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Metric name → unit. A name outside this table is a mistake in a bench script. */
export const METRICS = {
  gflops: 'GFLOP/s',
  fraction_of_peak: 'fraction',
  ratio_to_plain: 'ratio',
  speedup_over_1t: 'ratio',
  tokens_per_s: 'tokens/s',
  embeddings_per_s: 'embeddings/s',
  ms_per_step: 'ms',
  ms_per_token: 'ms',
  prefill_ms: 'ms',
  total_ms: 'ms',
  seconds: 's',
  val_loss: 'nats/token',
  val_loss_se: 'nats/token',
  loss: 'nats/token',
  accuracy: 'fraction',
  planned_bytes: 'bytes',
  memory_bytes: 'bytes',
};

/** The `impl` of a wasmformer build: `wasmformer-simd`, `wasmformer-threads-relaxed`, … */
export const wasmformerImpl = (variant) => `wasmformer-${variant}`;

/** The `impl` of a transformers.js peer run on `device` (`'cpu'`: onnxruntime-node). */
export const transformersJsImpl = (device) => (device === 'cpu' ? 'transformersjs-native' : 'transformersjs-wasm');

/**
 * One measurement per defined entry of `metrics` (`{ gflops: 12.5, … }`; undefined and
 * non-finite values are left out), each carrying `what`: `{ case, impl, threads, ...details }`.
 */
export function measurements(suite, what, metrics) {
  const { case: caseName, impl, threads } = what;
  if (typeof caseName !== 'string' || typeof impl !== 'string' || !Number.isInteger(threads)) {
    throw new Error(`results: a measurement needs case, impl and threads, got ${JSON.stringify(what)}`);
  }
  return Object.entries(metrics)
    .filter(([, value]) => typeof value === 'number' && Number.isFinite(value))
    .map(([metric, value]) => {
      const unit = METRICS[metric];
      if (!unit) throw new Error(`results: unknown metric "${metric}"; expected one of ${Object.keys(METRICS).join(', ')}`);
      return { suite, ...what, metric, value, unit };
    });
}

/**
 * A row of `npm run bench` (bench/matmul.bench.mjs, bench/attention.bench.mjs, the peers:
 * `{ op, impl, variant, threads, shape, form | pass, seconds, gflops }`) as measurements of the
 * `kernels` suite; `shapes` is the shape set (quick, full).
 */
export function kernelMeasurements(r, shapes) {
  const impl =
    r.impl === 'wasmformer' ? wasmformerImpl(r.variant) : r.impl === 'peak' || r.impl === 'tile' ? `${r.impl}-${r.variant}` : r.impl;
  const details = { op: r.op, variant: r.variant, seconds: r.seconds, shapes };
  let name;
  if (r.op === 'peak') {
    name = 'peak-loop';
  } else if (r.op === 'tile') {
    name = 'tile-loop';
    details.build = r.build;
  } else if (r.op === 'matmul') {
    const { m, k, n } = r.shape;
    name = `${m}x${k}x${n}${r.form === 'ab' ? '' : `-${r.form}`}`;
    Object.assign(details, { form: r.form }, r.blas_core ? { blasCore: r.blas_core } : {});
  } else {
    const { b, h, t, d } = r.shape;
    name = `attention-b${b}-h${h}-t${t}-d${d}-${r.causal ? 'causal' : 'full'}-${r.pass === 'forward' ? 'fwd' : 'fwd+bwd'}`;
    details.pass = r.pass;
  }
  if (r.peakVariant) details.peakVariant = r.peakVariant;
  return measurements(
    'kernels',
    { case: name, impl, threads: r.threads, ...details },
    {
      gflops: r.gflops,
      fraction_of_peak: r.fractionOfPeak,
      ratio_to_plain: r.ratioToPlain,
      speedup_over_1t: r.speedupOverOneThread,
    },
  );
}

function versions(extra) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const dependency = (name) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return undefined;
    }
  };
  const peers = Object.fromEntries(
    ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-web', '@huggingface/transformers']
      .map((name) => [name, dependency(name)])
      .filter(([, version]) => version),
  );
  return { wasmformer: pkg.version, node: process.versions.node, v8: process.versions.v8, ...peers, ...extra };
}

/**
 * Rewrites bench/results/<suite>.jsonl: the run's description (machine, `versions` plus
 * `extraVersions`, date), then `rows` (from {@link measurements}). Returns the file's path.
 */
export function writeResults(suite, rows, extraVersions = {}) {
  const cpu = cpus();
  const header = {
    suite,
    run: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()} ${arch()}`,
    },
    versions: versions(extraVersions),
  };
  const file = join(ROOT, 'bench', 'results', `${suite}.jsonl`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${[header, ...rows].map((r) => JSON.stringify(r)).join('\n')}\n`);
  return file;
}
