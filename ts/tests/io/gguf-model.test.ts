// GGUF models as a GPT: logits against transformers on the same files (loaded with
// `from_pretrained(dir, gguf_file=...)`, fixtures by scripts/fixtures/make_gguf_fixtures.py),
// and the features wasmformer refuses, each with a typed error before the model is allocated.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, type GPT, UnsupportedConfigError, init, loadGguf, loadGgufFile, readGguf } from '../../../dist/index.node.js';
import { decodeLogits, maxDiffOverScale } from '../helpers/decode.js';
import { ROOT } from '../helpers/node.js';
import { type GgufSpec, T, V, specOf, writeGguf } from './gguf-helpers.js';

const FIXTURES = join(ROOT, 'ts/tests/fixtures/gguf');

interface Expected {
  batchSize: number;
  seqLen: number;
  ids: number[];
  files: Record<string, { logits: number[] }>;
}

let expected: Expected;
let llama: Uint8Array;

beforeAll(async () => {
  await init();
  expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;
  llama = await readFile(join(FIXTURES, 'llama-q8_0.gguf'));
});

/** Largest |a − b| / max(1, |b|). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const ref = b[i] as number;
    worst = Math.max(worst, Math.abs((a[i] as number) - ref) / Math.max(1, Math.abs(ref)));
  }
  return worst;
}

describe('loadGguf', () => {
  it.each(['llama-f32.gguf', 'llama-f16.gguf', 'llama-q8_0.gguf', 'gpt2-f32.gguf', 'gpt2-q8_0.gguf'])(
    '%s: logits of transformers on the same file within 1e-4',
    async (name) => {
      const gpt = await loadGgufFile(join(FIXTURES, name));
      try {
        const logits = gpt.logits(expected.ids, expected.batchSize, expected.seqLen);
        expect(maxRelDiff(logits, (expected.files[name] as { logits: number[] }).logits)).toBeLessThan(1e-4);
      } finally {
        gpt.dispose();
      }
    },
  );

  // Threshold fixed before the first run: with blockSize 32 the Q8_0 weights are requantised to
  // exactly their own values, so only the int16 activations (1/65534 of each row's largest
  // value) separate int8 decoding from the dequantised float32 model: within 1e-4 of the
  // logits' scale. Per-channel scales requantise the weights, a larger change.
  it('llama-q8_0.gguf with blockSize 32 decodes as its float32 dequantisation, up to the activation rounding', async () => {
    const prompt = Uint32Array.from(expected.ids.slice(0, expected.seqLen));
    const float = await loadGgufFile(join(FIXTURES, 'llama-q8_0.gguf'));
    const want = decodeLogits(float, prompt);
    const blocked = (await loadGgufFile(join(FIXTURES, 'llama-q8_0.gguf'))).quantize({ weights: 'int8', blockSize: 32 });
    const channel = float.quantize({ weights: 'int8' });
    try {
      const exact = maxDiffOverScale(decodeLogits(blocked, prompt), want);
      const requantised = maxDiffOverScale(decodeLogits(channel, prompt), want);
      console.info(`Q8_0 → int8 logits vs float32: blockSize 32 ${exact.toExponential(2)}, per channel ${requantised.toExponential(2)}`);
      expect(exact).toBeLessThanOrEqual(1e-4);
      expect(exact).toBeLessThan(requantised);
    } finally {
      blocked.dispose();
      channel.dispose();
    }
  });

  it('maps the metadata onto the config', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      [
        'llama-q8_0.gguf',
        {
          vocabSize: 64,
          blockSize: 64,
          nLayer: 2,
          nHead: 4,
          nEmbd: 32,
          ffnHidden: 64,
          positional: 'rope',
          norm: 'rmsnorm',
          ffn: 'swiglu',
          bias: false,
          ropeBase: 500,
          tieEmbeddings: false,
        },
      ],
      [
        'gpt2-f32.gguf',
        {
          vocabSize: 64,
          blockSize: 32,
          nLayer: 2,
          nHead: 4,
          nEmbd: 32,
          ffnHidden: 128,
          positional: 'learned',
          norm: 'layernorm',
          ffn: 'gelu',
          bias: true,
          tieEmbeddings: false,
        },
      ],
    ];
    for (const [name, config] of cases) {
      const gpt = await loadGgufFile(join(FIXTURES, name));
      expect(gpt.config).toMatchObject(config);
      expect(gpt.config.normEps).toBeCloseTo(1e-5, 10);
      gpt.dispose();
    }
  });

  it('loads from bytes, and a file without output.weight has tied embeddings', () => {
    const spec = specOf(readGguf(llama));
    spec.tensors = spec.tensors.filter((t) => t.name !== 'output.weight');
    const gpt = loadGguf(writeGguf(spec));
    expect(gpt.config.tieEmbeddings).toBe(true);
    gpt.dispose();
  });

  it('a Q8_0 model can be quantised to int8 and generates', () => {
    const gpt: GPT = loadGguf(llama).quantize({ weights: 'int8' });
    const tokens = gpt.generate([1, 2, 3], { maxNewTokens: 8, temperature: 0 });
    expect(tokens.length).toBeGreaterThanOrEqual(8);
    expect(tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 64)).toBe(true);
    gpt.dispose();
  });

  /** The llama fixture with `change` applied to its metadata/tensors. */
  const changed = (change: (spec: GgufSpec) => void): Uint8Array => {
    const spec = specOf(readGguf(llama));
    change(spec);
    return writeGguf(spec);
  };
  const setKv = (spec: GgufSpec, key: string, type: number, value: unknown): void => {
    spec.kv = spec.kv.filter(([k]) => k !== key);
    spec.kv.push([key, type, value]);
  };
  const refusals: Array<[string, () => Uint8Array, abstract new (...args: never[]) => Error, RegExp, string?]> = [
    [
      'another architecture',
      () => changed((s) => setKv(s, 'general.architecture', V.string, 'qwen2')),
      UnsupportedConfigError,
      /general.architecture = "qwen2"/,
      'general.architecture',
    ],
    [
      'grouped-query attention',
      () => changed((s) => setKv(s, 'llama.attention.head_count_kv', V.u32, 2)),
      UnsupportedConfigError,
      /grouped-query attention/,
      'llama.attention.head_count_kv',
    ],
    [
      'a sliding window',
      () => changed((s) => setKv(s, 'llama.attention.sliding_window', V.u32, 16)),
      UnsupportedConfigError,
      /sliding-window/,
      'llama.attention.sliding_window',
    ],
    [
      'RoPE scaling',
      () => changed((s) => setKv(s, 'llama.rope.scaling.type', V.string, 'linear')),
      UnsupportedConfigError,
      /RoPE scaling/,
      'llama.rope.scaling.type',
    ],
    [
      'per-layer head counts',
      () => changed((s) => setKv(s, 'llama.attention.head_count', V.array, { type: V.u32, items: [4, 4] })),
      UnsupportedConfigError,
      /per-layer values/,
      'llama.attention.head_count',
    ],
    [
      'partial RoPE',
      () => changed((s) => setKv(s, 'llama.rope.dimension_count', V.u32, 4)),
      UnsupportedConfigError,
      /rope.dimension_count = "4"/,
      'llama.rope.dimension_count',
    ],
    [
      'missing metadata',
      () =>
        changed((s) => {
          s.kv = s.kv.filter(([k]) => k !== 'llama.block_count');
        }),
      CheckpointError,
      /missing metadata "llama.block_count"/,
    ],
    [
      'a vocab_size the token list contradicts',
      () => changed((s) => setKv(s, 'llama.vocab_size', V.u32, 65)),
      CheckpointError,
      /vocab_size is 65 but tokenizer.ggml.tokens holds 64/,
    ],
    [
      'a model far larger than its tensors',
      () => changed((s) => setKv(s, 'llama.block_count', V.u32, 100000)),
      CheckpointError,
      /describes a model of \d+ parameters but the tensors hold/,
    ],
    [
      'a ggml type other than F32/F16/Q8_0',
      () =>
        changed((s) => {
          const t = s.tensors.find((x) => x.name === 'blk.0.ffn_down.weight');
          Object.assign(t as object, { dims: [256, 8], type: T.Q4_K, data: new Uint8Array(8 * 144) });
        }),
      UnsupportedConfigError,
      /"blk.0.ffn_down.weight" has ggml type Q4_K/,
      'ggml_type',
    ],
    [
      'Llama 3 RoPE factors',
      () => changed((s) => s.tensors.push({ name: 'rope_freqs.weight', dims: [4], type: T.F32, data: new Uint8Array(16) })),
      CheckpointError,
      /unexpected tensor "rope_freqs.weight".*Llama 3/,
    ],
    [
      'a missing tensor',
      () =>
        changed((s) => {
          s.tensors = s.tensors.filter((t) => t.name !== 'blk.1.ffn_up.weight');
        }),
      CheckpointError,
      /missing tensor 'model.layers.1.mlp.up_proj.weight'/,
    ],
    [
      'a misshapen tensor',
      () =>
        changed((s) => {
          const t = s.tensors.find((x) => x.name === 'output_norm.weight');
          Object.assign(t as object, { dims: [16], data: new Uint8Array(64) });
        }),
      CheckpointError,
      /'model.norm.weight' has shape \[16\], expected \[32\]/,
    ],
  ];

  it.each(refusals)('refuses %s with a typed error, and loads a good file after it', (_, make, Class, message, field) => {
    const bytes = make();
    let error: unknown;
    try {
      loadGguf(bytes).dispose();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Class);
    expect((error as Error).message).toMatch(message);
    if (field !== undefined) expect((error as UnsupportedConfigError).field).toBe(field);
    const gpt = loadGguf(llama);
    expect(gpt.logits(expected.ids, expected.batchSize, expected.seqLen)).toHaveLength(expected.ids.length * 64);
    gpt.dispose();
  });

  it('names a malformed file (from a path) in its error', async () => {
    await expect(loadGgufFile(join(FIXTURES, 'expected.json'))).rejects.toThrow(/GGUF ".*expected.json": bad magic/);
    await expect(loadGgufFile(join(FIXTURES, 'missing.gguf'))).rejects.toThrow(CheckpointError);
  });
});
