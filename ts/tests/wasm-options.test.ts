// The WebAssembly boundary's options objects: every model entry point takes its typed arrays
// plus one options object, read field by field in Rust (crates/wasm/src/options.rs). A call
// with good options gives what the TS API gives; a missing or ill-typed field is an
// InvalidArgumentError that names the entry point and the field, and the model stays usable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT, init } from '../../dist/index.node.js';

beforeAll(async () => {
  await init();
});

const config = { vocabSize: 16, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 };
const T = 8;
const ids = Uint32Array.from({ length: 2 * T }, (_, i) => (i * 5) % 16);
const targets = Int32Array.from({ length: 2 * T }, (_, i) => (i * 3 + 1) % 16);
const none = { u32: new Uint32Array(0), u8: new Uint8Array(0), i32: new Int32Array(0) };
const hyper = { lr: 1e-3, weightDecay: 0.1, decayEmbeddings: false, beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1, dropoutSeed: 3 };

/** The error `call` throws, for its name and message. */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe('options objects at the WebAssembly boundary', () => {
  let gpt: GPT;
  beforeAll(() => {
    gpt = GPT.create(config, { seed: 1 });
  });
  afterAll(() => gpt.dispose());

  it('give the same results as the TS API they serve', () => {
    const h = gpt._wasm();
    const viaApi = gpt.batchOutputs({ ids, batchSize: 2 }, T, 'logits');
    const raw = h.outputsBatch(ids, none.u32, none.u8, { batchSize: 2, seqLen: T, output: 'logits' });
    expect(Array.from(raw)).toEqual(Array.from(viaApi));
    const hidden = h.outputsBatch(ids, none.u32, none.u8, { batchSize: 2, seqLen: T, output: 'hidden' });
    expect(hidden.length).toBe(2 * T * config.nEmbd);
    const [token] = h.evalBatch(ids, targets, none.u32, none.u8, none.i32, { batchSize: 2, seqLen: T });
    expect(token).toBeCloseTo(gpt.evaluateBatch({ ids, targets, batchSize: 2 }).total, 6);
  });

  it('run a training step with the hyper-parameters of the options object', () => {
    const twin = GPT.create(config, { seed: 1 });
    const h = twin._wasm();
    const [loss, gradNorm, applied] = h.trainStepBatch(ids, targets, none.u32, none.u8, none.i32, {
      accum: 2,
      batchSize: 1,
      seqLen: T,
      ...hyper,
    });
    const viaApi = gpt._trainStepBatch({ ids, targets, batchSize: 2 }, { accum: 2, seqLen: T, ...hyper });
    expect(loss).toBe(viaApi.loss);
    expect(gradNorm).toBe(viaApi.gradNorm);
    expect(applied).toBe(1);
    expect(Array.from(twin.batchOutputs({ ids, batchSize: 2 }, T, 'logits'))).toEqual(
      Array.from(gpt.batchOutputs({ ids, batchSize: 2 }, T, 'logits')),
    );
    twin.dispose();
  });

  it('reject a missing or ill-typed field by name, with a typed error', () => {
    const h = gpt._wasm();
    const step = { accum: 1, batchSize: 2, seqLen: T, ...hyper };
    const cases: [string, () => unknown, RegExp][] = [
      [
        'options not an object',
        () => h.evalBatch(ids, targets, none.u32, none.u8, none.i32, 2),
        /^evalBatch: options must be an object, got 2$/,
      ],
      [
        'missing seqLen',
        () => h.lossAndGradsBatch(ids, targets, none.u32, none.u8, none.i32, { batchSize: 2 }),
        /^lossAndGradsBatch: seqLen is required$/,
      ],
      [
        'fractional batchSize',
        () => h.evalBatchWithClassLogits(ids, targets, none.u32, none.u8, none.i32, { batchSize: 1.5, seqLen: T }),
        /^evalBatchWithClassLogits: batchSize must be an integer/,
      ],
      [
        'lr as a string',
        () => h.trainStepBatch(ids, targets, none.u32, none.u8, none.i32, { ...step, lr: '0.1' }),
        /^trainStepBatch: lr must be a finite number, got "0\.1"$/,
      ],
      [
        'NaN eps',
        () => h.trainStepBatch(ids, targets, none.u32, none.u8, none.i32, { ...step, eps: NaN }),
        /^trainStepBatch: eps must be a finite number, got NaN$/,
      ],
      [
        'negative gradClip',
        () => h.trainStepBatch(ids, targets, none.u32, none.u8, none.i32, { ...step, gradClip: -1 }),
        /^trainStepBatch: gradClip must be >= 0/,
      ],
      [
        'decayEmbeddings not a boolean',
        () => h.trainStepBatch(ids, targets, none.u32, none.u8, none.i32, { ...step, decayEmbeddings: 1 }),
        /^trainStepBatch: decayEmbeddings must be a boolean, got 1$/,
      ],
      [
        'unknown output',
        () => h.outputsBatch(ids, none.u32, none.u8, { batchSize: 2, seqLen: T, output: 'probs' }),
        /^outputsBatch: output must be one of "logits", "classLogits", "hidden", got "probs"$/,
      ],
      ['missing training', () => h.plan({ batchSize: 2, seqLen: T }), /^plan: training is required$/],
      ['slots as a string', () => h.decodeStart({ slots: '1', capacity: 4 }), /^decodeStart: slots must be an integer/],
      [
        'negative step',
        () => h.setOptimizer(new Float32Array(0), new Float32Array(0), { step: -1 }),
        /^setOptimizer: step must be an integer/,
      ],
    ];
    for (const [what, call, message] of cases) {
      const error = thrown(call);
      expect(error.name, what).toBe('InvalidArgumentError');
      expect(error.message, what).toMatch(message);
    }
    // The model is unchanged and usable after every refusal.
    expect(Array.from(h.outputsBatch(ids, none.u32, none.u8, { batchSize: 2, seqLen: T, output: 'logits' }))).toEqual(
      Array.from(gpt.batchOutputs({ ids, batchSize: 2 }, T, 'logits')),
    );
  });
});
