// Peer for bench/gpt-decode.bench.mjs: KV-cache greedy decoding of a GPT-2-small-sized model
// (random weights) in transformers.js, from the ONNX export that
// scripts/fixtures/export_gpt2_onnx.py writes to bench/.cache/gpt2-random-onnx/ (not committed).
//
// Usage: node bench/peers/transformersjs-decode.mjs --device wasm|cpu --threads N [--dtype fp32|q8]
//          [--prompt 128] [--new 128] [--repeats 3] [--model bench/.cache/gpt2-random-onnx]
// Prints ONE JSON line on stdout (logs go to stderr):
//   { impl, device, threads, prompt, newTokens, prefillMs, decodeTokensPerSec, totalMs, tokens,
//     firstTokenMsInRun, decodeTokensPerSecInRun, dtype, repeats, transformersJs, ort, referenceMatch }
// After one untimed full run, `repeats` times: generate() with max_new_tokens 1, then with exactly
// `new` tokens. prefillMs: median of the 1-token calls (time to first token); totalMs: median of
// the full calls; decodeTokensPerSec: (new − 1) / (totalMs − prefillMs). The *InRun fields time
// the same from inside each full call (a streamer stamps every token): first token, then
// (new − 1) / (last − first); medians. tokens: the first 16 generated ids. referenceMatch:
// whether they equal PyTorch's greedy tokens in <model>/reference.json (null if not available;
// with q8 weights a difference is expected, and only logged).
// Exit code 2 with a message on stderr when the exported model is missing; 3 when the medians
// make no sense (prefill ≥ total, a machine busy with other work).
//
// dtype: 'fp32' loads onnx/model.onnx; 'q8' loads onnx/model_quantized.onnx, transformers.js's
// 8-bit default on WebAssembly (ONNX Runtime's dynamic quantisation: int8 weights, uint8
// activations quantised per call, MatMulInteger), which the same export script writes.
// Devices (@huggingface/transformers 4.3):
// - cpu: transformers.js's Node default, onnxruntime-node (native, MLAS). --threads N > 0 sets
//   the session's intraOpNumThreads; 0 leaves ONNX Runtime's default (one per physical core).
// - wasm: transformers.js in Node always picks onnxruntime-node and accepts no 'wasm' device, so
//   this script hands it onnxruntime-web (the copy transformers.js itself depends on, the one its
//   browser build bundles) through its documented override, globalThis[Symbol.for('onnxruntime')],
//   before importing it; sessions then use the wasm execution provider with
//   env.backends.onnx.wasm.numThreads = N. In Node onnxruntime-web loads its plain
//   simd-threaded build (the browser build of transformers.js loads the asyncify one, same kernels).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadTransformersJs } from './transformersjs-setup.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '1' },
    prompt: { type: 'string', default: '128' },
    new: { type: 'string', default: '128' },
    dtype: { type: 'string', default: 'fp32' },
    repeats: { type: 'string', default: '3' },
    model: { type: 'string', default: join(root, 'bench', '.cache', 'gpt2-random-onnx') },
  },
});
const device = values.device;
const dtype = values.dtype;
const threads = Number(values.threads);
const promptLen = Number(values.prompt);
const newTokens = Number(values.new);
const repeats = Number(values.repeats);
const modelDir = resolve(values.model);
const log = (msg) => console.error(`[transformers.js ${device}] ${msg}`);

if (device !== 'wasm' && device !== 'cpu') throw new Error(`--device must be wasm or cpu, got "${device}"`);
if (dtype !== 'fp32' && dtype !== 'q8') throw new Error(`--dtype must be fp32 or q8, got "${dtype}"`);
const graph = dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx';
if (!(Number.isInteger(threads) && threads >= 0)) throw new Error('--threads must be an integer ≥ 0');
if (device === 'wasm' && threads < 1) throw new Error('--threads must be ≥ 1 for device wasm');
if (!(promptLen >= 1 && newTokens >= 2 && repeats >= 1)) throw new Error('need --prompt ≥ 1, --new ≥ 2, --repeats ≥ 1');
if (!existsSync(join(modelDir, 'onnx', graph)) || !existsSync(join(modelDir, 'config.json'))) {
  console.error(
    `[transformers.js] no exported model in ${modelDir} (onnx/${graph}, config.json); make it with ` +
      '`python scripts/fixtures/export_gpt2_onnx.py` (requirements: scripts/fixtures/requirements-onnx.txt)',
  );
  process.exit(2);
}

const { tjs, loadOptions, tjsVersion, ortVersion } = await loadTransformersJs(device, threads, modelDir);
const { AutoModelForCausalLM, Tensor } = tjs;

let t0 = performance.now();
const model = await AutoModelForCausalLM.from_pretrained(basename(modelDir), { ...loadOptions, dtype });
log(`${ortVersion} ${dtype}, threads ${threads || 'default'}: loaded in ${(performance.now() - t0).toFixed(0)} ms`);
const vocab = model.config.vocab_size;
const ids = BigInt64Array.from({ length: promptLen }, (_, i) => BigInt((i * 7919) % vocab));
const inputs = {
  input_ids: new Tensor('int64', ids, [1, promptLen]),
  attention_mask: new Tensor('int64', new BigInt64Array(promptLen).fill(1n), [1, promptLen]),
};

/**
 * Greedy generation of exactly n tokens (min = max, so EOS cannot end it). Returns the wall time
 * of the call, the new ids and `stamps`: ms from the start of the call at which each new token
 * reached the streamer (transformers.js calls put() once with the prompt, then once per token).
 */
async function generate(n) {
  const stamps = [];
  let start = 0;
  const streamer = { put: () => stamps.push(performance.now() - start), end: () => {} };
  start = performance.now();
  const out = await model.generate({
    ...inputs,
    do_sample: false,
    max_new_tokens: n,
    min_new_tokens: n,
    pad_token_id: model.config.eos_token_id,
    streamer,
  });
  const ms = performance.now() - start;
  const all = Array.from(out.data, Number);
  out.dispose?.();
  if (all.length !== promptLen + n) throw new Error(`generated ${all.length - promptLen} tokens, expected ${n}`);
  return { ms, tokens: all.slice(promptLen), stamps: stamps.slice(1) };
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

t0 = performance.now();
await generate(newTokens); // warm-up: first-run allocations and kernel selection
log(`warm-up (${newTokens} tokens) ${(performance.now() - t0).toFixed(0)} ms`);
const prefill = [];
const total = [];
const inRun = []; // from the streamer, inside each full run: [first token ms, decode tokens/s]
let tokens = [];
for (let r = 0; r < repeats; r++) {
  prefill.push((await generate(1)).ms);
  const run = await generate(newTokens);
  total.push(run.ms);
  const first = run.stamps[0];
  inRun.push([first, (newTokens - 1) / ((run.stamps[newTokens - 1] - first) / 1000)]);
  if (r > 0 && run.tokens.join() !== tokens.join()) throw new Error('greedy generation differed between runs');
  tokens = run.tokens;
  log(
    `run ${r + 1}/${repeats}: prefill ${prefill.at(-1).toFixed(0)} ms, ${newTokens} tokens ${run.ms.toFixed(0)} ms ` +
      `(in that run: first token at ${first.toFixed(0)} ms, then ${inRun.at(-1)[1].toFixed(2)} tok/s)`,
  );
}
await model.dispose();

const prefillMs = median(prefill);
const totalMs = median(total);
// A machine busy with other work can make the 1-token runs slower than the full ones: no rate then.
if (!(totalMs > prefillMs)) {
  log(`median prefill ${prefillMs.toFixed(0)} ms ≥ median total ${totalMs.toFixed(0)} ms: timings unusable (busy machine?)`);
  process.exit(3);
}
const decodeTokensPerSec = (newTokens - 1) / ((totalMs - prefillMs) / 1000);
const first16 = tokens.slice(0, 16);
let referenceMatch = null;
const referencePath = join(modelDir, 'reference.json');
if (existsSync(referencePath) && promptLen === 128) {
  const reference = JSON.parse(readFileSync(referencePath, 'utf8')).tokens;
  referenceMatch = reference.slice(0, first16.length).join() === first16.join();
  if (!referenceMatch) log(`${dtype}: tokens differ from PyTorch's (reference.json): ${reference.join(',')}`);
}
console.log(
  JSON.stringify({
    impl: 'transformers.js',
    device,
    threads,
    prompt: promptLen,
    newTokens,
    prefillMs,
    decodeTokensPerSec,
    totalMs,
    tokens: first16,
    firstTokenMsInRun: median(inRun.map((x) => x[0])),
    decodeTokensPerSecInRun: median(inRun.map((x) => x[1])),
    dtype,
    repeats,
    transformersJs: tjsVersion,
    ort: ortVersion,
    referenceMatch,
  }),
);
