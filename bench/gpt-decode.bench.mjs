// Decoding speed with the KV cache, GPT-2 small sized (124M, random weights): a 128-token
// prompt then 128 greedy new tokens, on 1 and 2 threads, against transformers.js on the same
// architecture (ONNX exported by scripts/fixtures/export_gpt2_onnx.py) in its wasm
// configuration (onnxruntime-web, 1 and 2 threads) and its Node default (onnxruntime-node,
// native), there on 2 threads (ONNX Runtime's default, one per physical core, made explicit so
// the results say it). Also the cost of one decoding step at position ~1024 against position ~64.
// Each thread count times the float32 model and an int8 copy of it (`gpt.quantize({ weights:
// 'int8' })`, same seed so the same weights) one after the other in the same run; the int8 row
// reports its speed as a ratio to that float32 row. `--no-int8` skips it. The peers run with
// fp32 weights and, as the int8 row's peer, with transformers.js's 8-bit `dtype: 'q8'` (ONNX
// Runtime's dynamic quantisation of the same export); `--no-q8-peers` skips those.
// `node [--experimental-wasm-relaxed-simd on Node 20] bench/gpt-decode.bench.mjs [--new 128] [--no-peers]`
// Writes bench/results/gpt-decode.jsonl.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT, init, runtimeInfo, setThreadLimit } from '../dist/index.node.js';
import { peerRuns, peersOf } from './peer-runs.mjs';
import { measurements, transformersJsImpl, wasmformerImpl, writeResults } from './results.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const PROMPT = 128;
const NEW = Number(arg('new', 128));
const peerModel = join(root, 'bench', '.cache', 'gpt2-random-onnx');
const rows = [];
const record = (row) => rows.push(row);
/** A row in the shared results format (bench/results.mjs). */
const toMeasurements = (r) => {
  const impl = r.impl === 'wasmformer' ? wasmformerImpl(r.variant) : transformersJsImpl(r.device);
  const what = { impl, threads: r.threads, variant: r.variant, model: 'gpt2-small-random', dtype: r.dtype ?? 'float32' };
  return [
    ...measurements(
      'gpt-decode',
      { case: `decode-prompt${r.prompt}-new${r.newTokens}`, ...what },
      { tokens_per_s: r.decodeTokensPerSec, prefill_ms: r.prefillMs, total_ms: r.totalMs },
    ),
    ...measurements('gpt-decode', { case: 'step-at-64', ...what }, { ms_per_token: r.stepMsAt64 }),
    ...measurements('gpt-decode', { case: 'step-at-1024', ...what }, { ms_per_token: r.stepMsAt1024 }),
  ];
};

await init();
const info = runtimeInfo();
const config = { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 };
const gpt = GPT.create(config);
const models = [{ dtype: 'float32', gpt }];
if (!process.argv.includes('--no-int8')) {
  models.push({ dtype: 'int8', gpt: GPT.create(config).quantize({ weights: 'int8' }) });
}
const prompt = Array.from({ length: PROMPT }, (_, i) => (i * 7919) % 50257);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms of one decoding step of `model` with `len` tokens already in the cache. */
function stepMs(model, len, steps = 12) {
  const handle = model._wasm();
  handle.decodeStart({ slots: 1, capacity: len + steps });
  handle.decodeFeed(
    Uint32Array.from({ length: len }, (_, i) => (i * 31) % 50257),
    Uint32Array.of(len),
  );
  const times = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    handle.decodeFeed(Uint32Array.of((s * 17) % 50257), Uint32Array.of(1));
    times.push(performance.now() - t0);
  }
  handle.decodeEnd();
  return median(times);
}

for (const threads of [1, 2].filter((t) => t <= info.threads)) {
  setThreadLimit(threads);
  for (const { dtype, gpt } of models) measure(gpt, dtype, threads);
}

/** Times `gpt` on `threads` threads and records a row. */
function measure(gpt, dtype, threads) {
  gpt.generate(prompt.slice(0, 8), { maxNewTokens: 4, temperature: 0 }); // warm-up
  let t0 = performance.now();
  gpt.generate(prompt, { maxNewTokens: 1, temperature: 0 });
  const prefillMs = performance.now() - t0;
  t0 = performance.now();
  const out = gpt.generate(prompt, { maxNewTokens: NEW, temperature: 0 });
  const totalMs = performance.now() - t0;
  const decodeTokensPerSec = (NEW - 1) / ((totalMs - prefillMs) / 1000);
  const at64 = stepMs(gpt, 63);
  const at1024 = stepMs(gpt, 1023 - 12);
  record({
    impl: 'wasmformer',
    variant: info.variant,
    dtype,
    threads,
    prompt: PROMPT,
    newTokens: NEW,
    prefillMs,
    totalMs,
    decodeTokensPerSec,
    stepMsAt64: at64,
    stepMsAt1024: at1024,
    tokens: Array.from(out.subarray(PROMPT, PROMPT + 16)),
  });
  console.error(
    `[gpt-decode] wasmformer ${info.variant} ${dtype} ${threads}t: prefill ${prefillMs.toFixed(0)} ms, ` +
      `decode ${decodeTokensPerSec.toFixed(1)} tok/s; step at 64: ${at64.toFixed(1)} ms, at ~1024: ${at1024.toFixed(1)} ms (×${(at1024 / at64).toFixed(2)})`,
  );
}
setThreadLimit(info.threads);
for (const m of models) m.gpt.dispose();

if (process.argv.includes('--no-peers')) {
  console.error('[gpt-decode] peers skipped (--no-peers)');
} else if (!existsSync(join(peerModel, 'config.json'))) {
  console.error(
    `[gpt-decode] transformers.js skipped: no exported model in ${peerModel} ` +
      '(make it with scripts/fixtures/export_gpt2_onnx.py, see scripts/fixtures/README.md)',
  );
} else {
  for (const [device, threads, dtype] of peerRuns(peerModel, 'gpt-decode')) {
    const peer = spawnSync(
      'node',
      [
        join(root, 'bench', 'peers', 'transformersjs-decode.mjs'),
        '--device',
        device,
        '--threads',
        String(threads),
        '--dtype',
        dtype,
        '--prompt',
        String(PROMPT),
        '--new',
        String(NEW),
        '--model',
        peerModel,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60 * 1000 },
    );
    const line = peer.stdout.trim().split('\n').at(-1) ?? '';
    if (peer.status !== 0 || !line.startsWith('{')) {
      console.error(`[gpt-decode] transformers.js ${device}/${threads}t ${dtype} failed (exit ${peer.status})`);
      continue;
    }
    const result = JSON.parse(line);
    record({ ...result, impl: 'transformers.js', variant: device === 'cpu' ? 'onnxruntime-node' : 'onnxruntime-web' });
  }
}

const ours = rows.filter((r) => r.impl === 'wasmformer');
const peers = rows.filter((r) => r.impl !== 'wasmformer');
console.log(`\nGPT-2 small (124M, random weights), prompt ${PROMPT} → ${NEW} new tokens, greedy. Decode tokens/s (prefill ms):`);
for (const r of rows) {
  const label = `${r.impl} ${r.variant}${r.dtype ? ` ${r.dtype}` : ''}${r.threads ? ` ${r.threads}t` : ''}`.padEnd(48);
  const float32 = ours.find((o) => o.dtype === 'float32' && o.threads === r.threads);
  const vsFloat32 =
    r.dtype === 'int8' && float32 ? [`${(r.decodeTokensPerSec / float32.decodeTokensPerSec).toFixed(2)}× float32 ${r.threads}t`] : [];
  const ratios =
    r.impl === 'wasmformer'
      ? [
          ...vsFloat32,
          ...peersOf(r, peers).map(
            (p) =>
              `${(r.decodeTokensPerSec / p.decodeTokensPerSec).toFixed(2)}× ${p.variant} ${p.dtype}${p.threads ? ` ${p.threads}t` : ''}`,
          ),
        ].join(', ')
      : '';
  console.log(`  ${label} ${r.decodeTokensPerSec.toFixed(1).padStart(7)} tok/s  (${r.prefillMs.toFixed(0)} ms)  ${ratios}`);
}
for (const r of ours) {
  const float32 = ours.find((o) => o.dtype === 'float32' && o.threads === r.threads);
  const speedup =
    r.dtype === 'int8' && float32
      ? `; ${(float32.stepMsAt64 / r.stepMsAt64).toFixed(2)}× / ${(float32.stepMsAt1024 / r.stepMsAt1024).toFixed(2)}× float32's speed`
      : '';
  console.log(
    `  wasmformer ${r.dtype} ${r.threads}t one step: ${r.stepMsAt64.toFixed(1)} ms at position 64, ${r.stepMsAt1024.toFixed(1)} ms at ~1024 (×${(r.stepMsAt1024 / r.stepMsAt64).toFixed(2)}; target < 2${speedup})`,
  );
}
writeResults('gpt-decode', rows.flatMap(toMeasurements));
