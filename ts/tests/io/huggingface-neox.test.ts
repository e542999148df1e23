// GPT-NeoX (partial RoPE) and Hugging Face transformers. The fixtures in ts/tests/fixtures/hf/
// were written by scripts/fixtures/make_hf_fixtures.py: `gpt-neox` a tiny random
// GPTNeoXForCausalLM with rotary_pct 0.25 (head dim 16: 4 dims rotate), exact GELU, untied head;
// `gpt-neox-rotary-half` rotary_pct 0.5 (head dim 8), rotary_emb_base 500, tanh GELU, tied head;
// both use_parallel_residual false, float32, eager attention. `ours-gpt-neox*` were saved by
// wasmformer (scripts/fixtures/export-ours.mjs) and loaded by transformers (hf_check.json).
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BERT,
  CheckpointError,
  GPT,
  NotInitializedError,
  UnsupportedConfigError,
  configFromHuggingFace,
  configToHuggingFace,
  init,
  loadHuggingFace,
  readSafetensors,
  runtimeInfo,
  saveHuggingFace,
  weightsToHuggingFace,
  writeSafetensors,
  type HuggingFaceConfig,
  type NamedTensor,
  type TransformerConfigInput,
} from '../../../dist/index.node.js';
import {
  type CausalLMExpectedWithGrads,
  expectBitIdenticalSave,
  expectByteIdenticalReexport,
  expectCheckedByTransformers,
  expectGreedyGenerations,
  expectLossAndGradients,
  maxAbsDiff,
  readJson,
} from './hf-helpers.js';
import { ROOT } from '../helpers/node.js';

const FIXTURES = join(ROOT, 'ts/tests/fixtures/hf');
const NEOX_DIR = join(FIXTURES, 'gpt-neox');

type Expected = CausalLMExpectedWithGrads;

let tmp: string;
let neoxConfig: HuggingFaceConfig;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-hf-neox-'));
  neoxConfig = await readJson<HuggingFaceConfig>(join(NEOX_DIR, 'config.json'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The weights of `from` (default the gpt-neox fixture; optionally edited) with `config` as config.json, in a new directory. */
async function variant(
  name: string,
  config: HuggingFaceConfig,
  edit?: (tensors: Map<string, NamedTensor>) => Map<string, NamedTensor>,
  from = NEOX_DIR,
): Promise<string> {
  const out = join(tmp, name);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'config.json'), JSON.stringify(config));
  if (!edit) {
    await copyFile(join(from, 'model.safetensors'), join(out, 'model.safetensors'));
    return out;
  }
  const tensors = new Map(
    [...readSafetensors(await readFile(join(from, 'model.safetensors'))).tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]),
  );
  const edited = edit(tensors);
  await writeFile(
    join(out, 'model.safetensors'),
    writeSafetensors(Object.fromEntries([...edited].map(([k, t]) => [k, { dtype: 'F32' as const, ...t }]))),
  );
  return out;
}

/** The UnsupportedConfigError `fn` throws; fails unless it names `field`. */
function refusedField(fn: () => unknown, field: string): UnsupportedConfigError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, field).toBeInstanceOf(UnsupportedConfigError);
  expect((error as UnsupportedConfigError).field).toBe(field);
  expect((error as Error).message).toContain(field);
  return error as UnsupportedConfigError;
}

// First, before init(): a refusal must come before any wasm work (which would throw NotInitializedError).
describe('GPT-NeoX configs wasmformer cannot represent (before init)', () => {
  it('refuses use_parallel_residual true (and absent: Pythia default) on load, naming the key', async () => {
    expect(() => runtimeInfo()).toThrow(NotInitializedError); // no wasm loaded in this process yet
    for (const [name, config] of [
      ['parallel', { ...neoxConfig, use_parallel_residual: true }],
      ['parallel-default', Object.fromEntries(Object.entries(neoxConfig).filter(([k]) => k !== 'use_parallel_residual'))],
    ] as const) {
      const rejection = loadHuggingFace(await variant(name, config));
      await expect(rejection).rejects.toThrow(UnsupportedConfigError);
      await expect(loadHuggingFace(join(tmp, name))).rejects.toMatchObject({ field: 'use_parallel_residual' });
      await expect(loadHuggingFace(join(tmp, name))).rejects.toThrow(/no parallel-residual block/);
    }
  });

  it('refuses malformed or unrepresentable fields with a typed error naming them', async () => {
    const cases: Array<[HuggingFaceConfig, string]> = [
      [{ ...neoxConfig, hidden_act: 'relu' }, 'hidden_act'],
      [{ ...neoxConfig, hidden_act: 'gelu_fast' }, 'hidden_act'],
      [{ ...neoxConfig, attention_bias: false }, 'attention_bias'],
      [{ ...neoxConfig, head_dim: 8 }, 'head_dim'],
      [{ ...neoxConfig, num_attention_heads: '2' }, 'num_attention_heads'],
      [{ ...neoxConfig, rope_parameters: [0.25] }, 'rope_parameters'],
      [
        { ...neoxConfig, rope_parameters: { rope_type: 'default', rope_theta: 'big', partial_rotary_factor: 0.25 } },
        'rope_parameters.rope_theta',
      ],
      [
        { ...neoxConfig, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 1.5 } },
        'rope_parameters.partial_rotary_factor',
      ],
      [
        { ...neoxConfig, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0 } },
        'rope_parameters.partial_rotary_factor',
      ],
      // 16 · 0.2 = 3.2 → 3 dims: odd (transformers would rotate 4 with frequencies over 3).
      [
        { ...neoxConfig, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.2 } },
        'rope_parameters.partial_rotary_factor',
      ],
      [
        { ...neoxConfig, rope_parameters: { rope_type: 'dynamic', factor: 2, rope_theta: 10000, partial_rotary_factor: 0.25 } },
        'rope_parameters.rope_type',
      ],
      [{ ...neoxConfig, rope_parameters: undefined, rotary_pct: 0.1 }, 'rotary_pct'],
      [{ ...neoxConfig, rope_parameters: undefined, rotary_emb_base: null }, 'rotary_emb_base'],
      [{ ...neoxConfig, rope_scaling: { type: 'llama3', factor: 8 } }, 'rope_scaling.type'],
    ];
    for (const [config, field] of cases) {
      refusedField(() => configFromHuggingFace(config), field);
      const dir = await variant(`bad-${field}`, config);
      await expect(loadHuggingFace(dir), field).rejects.toMatchObject({ field });
    }
    await mkdir(join(tmp, 'bad-json'));
    await writeFile(join(tmp, 'bad-json', 'config.json'), '[]');
    await expect(loadHuggingFace(join(tmp, 'bad-json'))).rejects.toThrow(CheckpointError);
    expect(() => runtimeInfo()).toThrow(NotInitializedError); // every refusal came before any wasm work
  });
});

describe('GPT-NeoX config.json mapping', () => {
  beforeAll(async () => {
    await init();
  });

  it('reads transformers 5 (rope_parameters) and transformers 4 (rotary_pct, rotary_emb_base) spellings as transformers 5 does', () => {
    const { rope_parameters: _params, ...legacy } = neoxConfig;
    const v5 = configFromHuggingFace(neoxConfig);
    expect(v5).toMatchObject({
      positional: 'rope',
      norm: 'layernorm',
      ffn: 'gelu',
      bias: true,
      geluExact: true,
      ropeFraction: 0.25,
      ropeBase: 10000,
      ropeScaling: null,
      nEmbd: 32,
      nHead: 2,
      ffnHidden: 64,
      tieEmbeddings: false,
    });
    expect(configFromHuggingFace({ ...legacy, rotary_pct: 0.25, rotary_emb_base: 10000 })).toEqual(v5);
    // Absent: rotary_pct 0.25, rotary_emb_base 10000 (GPTNeoXConfig's defaults).
    expect(configFromHuggingFace(legacy)).toEqual(v5);
    // rope_parameters wins over rotary_pct / rotary_emb_base; top-level rope_theta and
    // partial_rotary_factor are not read (checked: AutoConfig.from_pretrained in transformers 5.24).
    expect(
      configFromHuggingFace({ ...neoxConfig, rotary_pct: 0.5, rotary_emb_base: 300, rope_theta: 7, partial_rotary_factor: 0.75 }),
    ).toEqual(v5);
    // A non-empty rope_scaling replaces rope_parameters, with rotary_pct and rotary_emb_base beside it.
    expect(
      configFromHuggingFace({ ...neoxConfig, rotary_pct: 0.5, rotary_emb_base: 300, rope_scaling: { type: 'linear', factor: 2 } }),
    ).toMatchObject({ ropeFraction: 0.5, ropeBase: 300, ropeScaling: { type: 'linear', factor: 2 } });
    expect(configFromHuggingFace({ ...neoxConfig, hidden_act: 'gelu_new' })).toMatchObject({ geluExact: false });
    expect(configFromHuggingFace({ ...neoxConfig, hidden_act: 'gelu_pytorch_tanh' })).toMatchObject({ geluExact: false });
  });

  it('writes config.json that reads back to the same config', () => {
    for (const change of [
      {},
      { ropeFraction: 1 },
      { ropeScaling: { type: 'linear', factor: 4 } },
      { ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 8 }, geluExact: false, tieEmbeddings: true },
    ] as Array<Partial<TransformerConfigInput>>) {
      using gpt = GPT.create({ ...configFromHuggingFace(neoxConfig), ...change });
      const hf = configToHuggingFace(gpt.config);
      expect(hf).toMatchObject({ model_type: 'gpt_neox', architectures: ['GPTNeoXForCausalLM'], use_parallel_residual: false });
      expect(hf.rotary_pct).toBe(gpt.config.ropeFraction);
      expect(configFromHuggingFace(hf)).toEqual({ ...configFromHuggingFace(neoxConfig), ...change, ropeScaling: gpt.config.ropeScaling });
    }
  });
});

describe.each([
  ['gpt-neox', { ropeFraction: 0.25, geluExact: true, tieEmbeddings: false, ropeBase: 10000, nHead: 2 }],
  ['gpt-neox-rotary-half', { ropeFraction: 0.5, geluExact: false, tieEmbeddings: true, ropeBase: 500, nHead: 4 }],
] as const)('Hugging Face %s fixture', (name, config) => {
  const dir = join(FIXTURES, name);
  let gpt: GPT;
  let expected: Expected;

  beforeAll(async () => {
    await init();
    expected = await readJson<Expected>(join(dir, 'expected.json'));
    const loaded = await loadHuggingFace(dir);
    if (!(loaded instanceof GPT)) throw new Error(`${name}: expected a GPT`);
    gpt = loaded;
  });

  afterAll(() => gpt.dispose());

  it('maps config.json to the equivalent wasmformer config', () => {
    expect(gpt.config).toMatchObject({
      ...config,
      vocabSize: 100,
      blockSize: 64,
      nLayer: 2,
      nEmbd: 32,
      ffnHidden: 64,
      positional: 'rope',
      norm: 'layernorm',
      normPlacement: 'pre',
      ffn: 'gelu',
      bias: true,
      normEps: 1e-5,
      ropeScaling: null,
      causal: true,
    });
  });

  it('computes the logits of transformers within 1e-4', () => {
    const logits = gpt.logits(expected.ids, expected.batchSize, expected.seqLen);
    const diff = maxAbsDiff(logits, expected.logits);
    console.log(`${name}: max |logit - HF logit| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('depends on rotary_pct: the same weights rotating every dim are far from these logits', async () => {
    const hf = await readJson<HuggingFaceConfig>(join(dir, 'config.json'));
    const params = hf.rope_parameters as Record<string, unknown>;
    using full = await loadHuggingFace(
      await variant(`${name}-full`, { ...hf, rope_parameters: { ...params, partial_rotary_factor: 1 } }, undefined, dir),
    );
    expect(full.config.ropeFraction).toBe(1);
    expect(maxAbsDiff(full.logits(expected.ids, expected.batchSize, expected.seqLen), expected.logits)).toBeGreaterThan(0.1);
  });

  it('computes the loss and the gradients of transformers (1e-4 relative)', () => {
    expectLossAndGradients(gpt, expected, name);
  });

  it('generates the same greedy tokens as transformers', () => {
    expectGreedyGenerations(gpt, expected);
  });

  it('saves tensors identical to the original Hugging Face file', async () => {
    await expectBitIdenticalSave(gpt, dir, join(tmp, `roundtrip-${name}`));
  });
});

describe.each(['ours-gpt-neox', 'ours-gpt-neox-yarn'])('%s: a checkpoint wasmformer saved, checked in transformers', (name) => {
  const dir = join(FIXTURES, name);

  beforeAll(async () => {
    await init();
  });

  it('was loaded by transformers with the same logits (hf_check.json), for these exact files', async () => {
    await expectCheckedByTransformers(dir, 'GPTNeoXForCausalLM');
  });

  it('re-exports byte-identical files from the same weights, with the recorded logits', async () => {
    await expectByteIdenticalReexport(dir, join(tmp, `reexport-${name}`), (config) => expect(config.ropeFraction).toBeLessThan(1));
  });
});

describe('GPT-NeoX checkpoint variants', () => {
  beforeAll(async () => {
    await init();
  });

  it('reads the head saved as lm_head.weight, base-model names and the old inv_freq / mask buffers', async () => {
    const dir = await variant('neox-names', neoxConfig, (tensors) => {
      const out = new Map([...tensors].map(([k, t]) => [k === 'embed_out.weight' ? 'lm_head.weight' : k.replace(/^gpt_neox\./, ''), t]));
      out.set('gpt_neox.layers.0.attention.rotary_emb.inv_freq', { shape: [2], data: new Float32Array([1, 0.01]) });
      out.set('layers.1.attention.bias', { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64).fill(1) });
      return out;
    });
    using a = await loadHuggingFace(dir);
    using b = await loadHuggingFace(NEOX_DIR);
    expect(a.getFlatParams()).toEqual(b.getFlatParams());
    const both = await variant('neox-both-heads', neoxConfig, (tensors) =>
      tensors.set('lm_head.weight', tensors.get('embed_out.weight') as NamedTensor),
    );
    await expect(loadHuggingFace(both)).rejects.toThrow(/'lm_head\.weight' and 'embed_out\.weight' are the same tensor/);
  });

  it('reorders query_key_value rows per head: swapping two heads in the file changes the model', async () => {
    const dir = await variant('neox-swapped', neoxConfig, (tensors) => {
      const name = 'gpt_neox.layers.0.attention.query_key_value.weight';
      const t = tensors.get(name) as NamedTensor;
      const half = t.data.length / 2; // [H = 2, 3, D, C]: head 1's q, k, v first
      const data = new Float32Array(t.data.length);
      data.set(t.data.subarray(half), 0);
      data.set(t.data.subarray(0, half), half);
      return tensors.set(name, { shape: t.shape, data });
    });
    using swapped = await loadHuggingFace(dir);
    using original = await loadHuggingFace(NEOX_DIR);
    const hfOf = (gpt: GPT | BERT) => new Map(weightsToHuggingFace(gpt.config, gpt.getWeights()));
    const c = 32;
    const a = swapped.getWeights().get('transformer.h.0.attn.c_attn.weight')?.data as Float32Array;
    const b = original.getWeights().get('transformer.h.0.attn.c_attn.weight')?.data as Float32Array;
    // Ours is [3, H, D, C]: q of head 0 in the swapped model is q of head 1 in the original.
    expect(a.subarray(0, 16 * c)).toEqual(b.subarray(16 * c, 32 * c));
    expect(
      hfOf(swapped)
        .get('gpt_neox.layers.0.attention.query_key_value.weight')
        ?.data.subarray(0, 48 * c),
    ).toEqual(
      hfOf(original)
        .get('gpt_neox.layers.0.attention.query_key_value.weight')
        ?.data.subarray(48 * c),
    );
  });

  it('refuses to save configs GPT-NeoX cannot represent, and points partial RoPE on a Llama at GPT-NeoX', async () => {
    const base: TransformerConfigInput = { vocabSize: 20, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, positional: 'rope' };
    const neox: TransformerConfigInput = { ...base, norm: 'layernorm', ffn: 'gelu', bias: true };
    const cases: Array<[TransformerConfigInput, string, RegExp]> = [
      [{ ...base, norm: 'rmsnorm', ffn: 'swiglu', bias: false, ropeFraction: 0.5 }, 'ropeFraction', /saved as GPT-NeoX \(rotary_pct\)/],
      [{ ...neox, ropeKeepFrequencies: 0.5 }, 'ropeKeepFrequencies', /GPT-NeoX has no p-RoPE/],
      [{ ...neox, noPositionLayers: [0] }, 'noPositionLayers', /GPT-NeoX's attention uses RoPE in every layer/],
      [{ ...neox, ropeScaling: { type: 'ntk', factor: 2 } }, 'ropeScaling', /no static NTK-aware rule/],
      [{ ...base, norm: 'layernorm', ffn: 'gelu', bias: false }, 'norm', /saved as GPT-NeoX/],
      [{ ...base, norm: 'rmsnorm', ffn: 'swiglu', bias: false, geluExact: true }, 'geluExact', /GPT-NeoX has hidden_act 'gelu'/],
    ];
    for (const [config, field, message] of cases) {
      using gpt = GPT.create(config);
      await expect(saveHuggingFace(gpt, join(tmp, 'refused')), field).rejects.toMatchObject({ field });
      await expect(saveHuggingFace(gpt, join(tmp, 'refused')), field).rejects.toThrow(message);
    }
  });
});
