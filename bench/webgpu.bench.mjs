// WebGPU matmul GFLOP/s: wasmformer's gpuMatmul (GpuMatmul, ts/src/webgpu/matmul.wgsl) against
// TF.js's WebGPU backend (@tensorflow/tfjs-backend-webgpu) on the SAME device in the same
// process, and the wasm matmul on the CPU for scale. Prints the adapter first; appends the run
// (one line with the adapter, then one per measurement) to bench/results/webgpu.jsonl.
//
//   node bench/webgpu.bench.mjs [suite]     suite of bench/shapes.json: quick (default) or full
//
// Needs a built package (npm run build) and the npm package `webgpu` (Dawn). In Node the device
// comes from Dawn; TF.js's backend is constructed on that device (it requires navigator.gpu to
// exist, so Dawn's GPU object is installed there).
//
// Timing (docs/design/webgpu.md §4.6): operands are uploaded once and stay on the GPU, as TF.js's
// tensors do. One iteration is one product (wasmformer: one dispatch, one submit; TF.js: one
// matMul, submitted in its own batches); a batch of N iterations is closed by one
// `queue.onSubmittedWorkDone()` after flushing TF.js's pending commands. After a warm-up batch,
// N doubles until a batch takes ≥ 0.15 s; then 5 rounds alternate a batch of each, and we report
// the median seconds per product of each and the median of the rounds' ratios.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadShapes, operandShapes, random, time } from './common.mjs';
import { measurements } from './results.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const suite = process.argv[2] ?? 'quick';
const shapes = loadShapes(suite);

// Dawn's GPU object as navigator.gpu (TF.js checks for it), with Dawn's globals.
const { create, globals } = await import('webgpu');
for (const [name, value] of Object.entries(globals)) if (!(name in globalThis)) globalThis[name] = value;
if (!globalThis.navigator?.gpu) {
  if (!globalThis.navigator) globalThis.navigator = {};
  Object.defineProperty(globalThis.navigator, 'gpu', { value: create([]), configurable: true });
}

const { init, matmul } = await import('../dist/index.node.js');
const { GpuMatmul, requestGpu } = await import('../dist/internals.node.js');
await init({ threads: 1 });
const gpu = await requestGpu();
const { adapter } = gpu;
console.log(
  `adapter: ${adapter.vendor} / ${adapter.architecture} / ${adapter.description}${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}`,
);
console.log(
  `limits: ${Object.entries(adapter.limits)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')}`,
);
console.log(`features: ${adapter.features.join(', ')}`);

const tfjs = await tfjsOnDevice();
if (tfjs.skipped) console.log(`TF.js WebGPU: skipped: ${tfjs.skipped}`);

const median = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];

/** Seconds for `iterations` of `enqueue`, closed by one onSubmittedWorkDone. */
async function batch(enqueue, flush, iterations) {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) enqueue();
  flush();
  await gpu.device.queue.onSubmittedWorkDone();
  return (performance.now() - start) / 1000;
}

/** Iterations per batch: after a warm-up, doubled until a batch takes ≥ 0.15 s. */
async function batchSize(enqueue, flush) {
  await batch(enqueue, flush, 1);
  let iterations = 1;
  while ((await batch(enqueue, flush, iterations)) < 0.15) iterations *= 2;
  return iterations;
}

/** The contenders timed in alternation: `{ name: seconds per product }` and ratios to the first. */
async function timeAlternating(contenders) {
  const sizes = [];
  for (const c of contenders) sizes.push(await batchSize(c.enqueue, c.flush));
  const rounds = [];
  for (let r = 0; r < 5; r++) {
    const round = [];
    for (const [i, c] of contenders.entries()) round.push((await batch(c.enqueue, c.flush, sizes[i])) / sizes[i]);
    rounds.push(round);
  }
  return contenders.map((c, i) => ({
    name: c.name,
    seconds: median(rounds.map((round) => round[i])),
    ratio: median(rounds.map((round) => round[i] / round[0])), // the first's speed over this one's: > 1 when the first is faster
  }));
}

const rows = [];
const table = [];
for (const shape of shapes) {
  const { m, k, n, form } = shape;
  const flops = 2 * m * k * n;
  const { a: aShape, b: bShape } = operandShapes(shape);
  const a = random(m * k, 1);
  const b = random(k * n, 2);
  const name = `${m}x${k}x${n}${form === 'ab' ? '' : `-${form}`}`;

  const plan = await GpuMatmul.create(gpu, { m, k, n, form });
  plan.write({ a, b });
  const contenders = [{ name: 'wasmformer-webgpu', enqueue: () => plan.run(), flush: () => {} }];
  let tfA;
  let tfB;
  if (!tfjs.skipped) {
    const { tf, backend } = tfjs;
    tfA = tf.tensor(a, aShape);
    tfB = tf.tensor(b, bShape);
    contenders.push({
      name: 'tfjs-webgpu',
      enqueue: () => tf.matMul(tfA, tfB, form === 'atb', form === 'abt').dispose(),
      flush: () => flushTfjs(backend),
    });
  }
  const timed = await timeAlternating(contenders);
  // Parity check of the two GPU results against the wasm matmul, so that a fast wrong kernel cannot pass.
  const want = matmul(a, b, { m, k, n, form });
  const ours = await plan.read();
  const worst = (got) => got.reduce((w, x, i) => Math.max(w, Math.abs(x - want[i]) / (1 + Math.abs(want[i]))), 0);
  const checks = { 'wasmformer-webgpu': worst(ours) };
  if (tfA) {
    const product = tfjs.tf.matMul(tfA, tfB, form === 'atb', form === 'abt');
    checks['tfjs-webgpu'] = worst(await product.data());
    product.dispose();
    tfA.dispose();
    tfB.dispose();
  }
  plan.dispose();
  // The wasm matmul (1 thread, CPU) for scale, timed as bench/matmul.bench.mjs times it.
  const wasmSeconds = time(() => matmul(a, b, { m, k, n, form }));

  const line = { case: name, gflops: {}, ratio: {} };
  for (const t of timed) {
    rows.push(
      ...measurements(
        'webgpu',
        { case: name, impl: t.name, threads: 0, form, adapter: adapter.description, maxError: checks[t.name] },
        {
          gflops: flops / t.seconds / 1e9,
          seconds: t.seconds,
        },
      ),
    );
    line.gflops[t.name] = flops / t.seconds / 1e9;
    line.ratio[t.name] = t.ratio;
  }
  rows.push(
    ...measurements(
      'webgpu',
      { case: name, impl: 'wasmformer-wasm', threads: 1, form },
      { gflops: flops / wasmSeconds / 1e9, seconds: wasmSeconds },
    ),
  );
  line.gflops['wasmformer-wasm'] = flops / wasmSeconds / 1e9;
  table.push(line);
  console.error(
    `[webgpu] ${name}: ${timed.map((t) => `${t.name} ${(flops / t.seconds / 1e9).toFixed(2)}`).join(', ')} GFLOP/s; max error ${JSON.stringify(checks)}`,
  );
}

console.log(`\nmatmul GFLOP/s on ${adapter.description} (suite ${suite}); ratio = wasmformer-webgpu / TF.js-WebGPU speed, paired rounds`);
console.log('| case | wasmformer WebGPU | TF.js WebGPU | ratio | wasmformer wasm (CPU, 1 thread) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const line of table) {
  const tf = line.gflops['tfjs-webgpu'];
  const ratio = line.ratio['tfjs-webgpu'];
  console.log(
    `| ${line.case} | ${line.gflops['wasmformer-webgpu'].toFixed(2)} | ${tf === undefined ? '—' : tf.toFixed(2)} | ${ratio === undefined ? '—' : `${ratio.toFixed(2)}×`} | ${line.gflops['wasmformer-wasm'].toFixed(2)} |`,
  );
}

const header = {
  suite: 'webgpu',
  run: new Date().toISOString(),
  shapes: suite,
  adapter,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} ${arch()}`,
  },
  versions: {
    wasmformer: version('.'),
    node: process.versions.node,
    webgpu: version('node_modules/webgpu'),
    '@tensorflow/tfjs-core': version('node_modules/@tensorflow/tfjs-core'),
    '@tensorflow/tfjs-backend-webgpu': version('node_modules/@tensorflow/tfjs-backend-webgpu'),
  },
  ...(tfjs.skipped ? { skipped: { 'tfjs-webgpu': tfjs.skipped } } : {}),
};
const file = join(ROOT, 'bench', 'results', 'webgpu.jsonl');
mkdirSync(dirname(file), { recursive: true });
appendFileSync(file, `${[header, ...rows].map((r) => JSON.stringify(r)).join('\n')}\n`);
console.log(`\nappended to ${file}`);
if (tfjs.backend) tfjs.tf.engine().reset();
gpu.dispose();

/** TF.js's WebGPU backend constructed on our device, or `{ skipped }` with the reason. */
async function tfjsOnDevice() {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    // The package registers 'webgpu' with its own adapter and device; its kernels are
    // registered under that name, so the backend is re-registered on our device.
    tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(gpu.device, adapter));
    if (!(await tf.setBackend('webgpu'))) return { skipped: 'setBackend("webgpu") failed' };
    return { tf, backend: tf.backend() };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  }
}

/** Ends TF.js's open compute pass and submits its pending commands, as its own reads do. */
function flushTfjs(backend) {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

function version(dir) {
  try {
    return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}
