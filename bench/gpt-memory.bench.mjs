// GPT-2 small (124M parameters) planned and trained at B=4, T=256 inside wasm32's 4 GiB:
// reports the planned bytes against the wasm memory actually used, and the step time: the
// fastest of --steps steps (default 3: the VMs slow down for stretches; see
// docs/design/benchmark-notes.md).
// `node bench/gpt-memory.bench.mjs [--steps N]`
import { GPT, init, runtimeInfo, wasmMemoryBytes } from '../dist/index.node.js';
import { measurements, wasmformerImpl, writeResults } from './results.mjs';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 3;
await init();
const config = { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 };
const gpt = GPT.create(config);
const plan = gpt.plan(4, 256, true);
const gib = (b) => `${(b / 2 ** 30).toFixed(2)} GiB`;
console.error(
  `[gpt-memory] ${gpt.numParams} parameters; planned ${gib(plan.total)} (params ${gib(plan.params)}, grads ${gib(plan.grads)}, AdamW ${gib(plan.optimizer)}, activations ${gib(plan.activations)})`,
);
const n = 4 * 256;
const ids = new Uint32Array(n).map((_, i) => (i * 7919) % 50257);
const targets = new Int32Array(n).map((_, i) => (i * 104729) % 50257);
const times = [];
let loss = NaN;
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  ({ loss } = gpt._trainStepBatch(
    { ids, targets, batchSize: 4 },
    {
      accum: 1,
      seqLen: 256,
      lr: 6e-4,
      weightDecay: 0.1,
      decayEmbeddings: false,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      gradClip: 1,
      dropoutSeed: s,
    },
  ));
  times.push(performance.now() - t0);
}
const used = wasmMemoryBytes();
const msPerStep = Math.min(...times);
const info = runtimeInfo();
writeResults(
  'gpt-memory',
  measurements(
    'gpt-memory',
    { case: 'gpt2-small-b4-t256', impl: wasmformerImpl(info.variant), threads: info.threads, params: gpt.numParams, steps },
    { planned_bytes: plan.total, memory_bytes: used, ms_per_step: msPerStep, loss },
  ),
);
console.log(
  `GPT-2 small B=4 T=256: planned ${gib(plan.total)}, wasm memory in use ${gib(used)}, ${(msPerStep / 1000).toFixed(1)} s/step, loss ${loss.toFixed(3)} (ln V = ${Math.log(50257).toFixed(3)})`,
);
gpt.dispose();
