// SmolLM3 (per-layer NoPE) and Hugging Face transformers. The fixtures in ts/tests/fixtures/hf/
// were written by scripts/fixtures/make_hf_fixtures.py: `smollm3` a tiny random
// SmolLM3ForCausalLM (4 layers, no_rope_layer_interval 2: no_rope_layers [1, 0, 1, 0], 0 = NoPE;
// H_kv = H, tied head, float32, eager attention). `ours-smollm3*` were saved by wasmformer
// (scripts/fixtures/export-ours.mjs: layer 0 of 2 NoPE, untied head; layer 1 of 3 NoPE with
// YaRN, logits at T = 40, tied) and loaded by transformers (hf_check.json).
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GPT,
  NotInitializedError,
  UnsupportedConfigError,
  configFromHuggingFace,
  configToHuggingFace,
  init,
  loadHuggingFace,
  runtimeInfo,
  saveHuggingFace,
  type HuggingFaceConfig,
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
const DIR = join(FIXTURES, 'smollm3');

type Expected = CausalLMExpectedWithGrads;

let tmp: string;
let hfConfig: HuggingFaceConfig;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-hf-smollm3-'));
  hfConfig = await readJson<HuggingFaceConfig>(join(DIR, 'config.json'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The fixture's weights with `config` as config.json, in a new directory. */
async function variant(name: string, config: HuggingFaceConfig, from = DIR): Promise<string> {
  const out = join(tmp, name);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'config.json'), JSON.stringify(config));
  await copyFile(join(from, 'model.safetensors'), join(out, 'model.safetensors'));
  return out;
}

/** `hf` without `keys`. */
function without(hf: HuggingFaceConfig, ...keys: string[]): HuggingFaceConfig {
  return Object.fromEntries(Object.entries(hf).filter(([k]) => !keys.includes(k)));
}

// First, before init(): a refusal must come before any wasm work (which would throw NotInitializedError).
describe('SmolLM3 configs wasmformer cannot represent (before init)', () => {
  it('refuses each unrepresentable or malformed field on load with a typed error naming it', async () => {
    expect(() => runtimeInfo()).toThrow(NotInitializedError); // no wasm loaded in this process yet
    const cases: Array<[HuggingFaceConfig, string, RegExp]> = [
      [{ ...hfConfig, num_key_value_heads: 2 }, 'num_key_value_heads', /grouped-query attention is not implemented/],
      [{ ...hfConfig, num_key_value_heads: 1 }, 'num_key_value_heads', /grouped-query attention/],
      [{ ...hfConfig, head_dim: 16 }, 'head_dim', /must be hidden_size \/ num_attention_heads = 8/],
      [{ ...hfConfig, hidden_act: 'gelu' }, 'hidden_act', /SwiGLU/],
      [{ ...hfConfig, attention_bias: true }, 'attention_bias', /no biases/],
      [{ ...hfConfig, mlp_bias: true }, 'mlp_bias', /no biases/],
      [{ ...hfConfig, no_rope_layers: [1, 0, 1] }, 'no_rope_layers', /at least num_hidden_layers \(4\)/],
      [{ ...hfConfig, no_rope_layers: [1, 0, 2, 0] }, 'no_rope_layers', /entry 2 is 2/],
      [{ ...hfConfig, no_rope_layers: '1010' }, 'no_rope_layers', /expected a list/],
      [{ ...hfConfig, no_rope_layers: null, no_rope_layer_interval: 0 }, 'no_rope_layer_interval', /integer >= 1/],
      [
        { ...hfConfig, layer_types: ['full_attention', 'sliding_attention', 'full_attention', 'full_attention'] },
        'layer_types',
        /'sliding_attention' layers are not implemented/,
      ],
      [{ ...hfConfig, layer_types: ['full_attention'] }, 'layer_types', /at least num_hidden_layers/],
      // transformers makes the NoPE layers sliding-window layers when both are set and layer_types is absent.
      [
        { ...without(hfConfig, 'layer_types'), use_sliding_window: true, sliding_window: 4 },
        'use_sliding_window',
        /sliding-window attention/,
      ],
      [{ ...hfConfig, rope_parameters: { rope_type: 'dynamic', factor: 2, rope_theta: 10000 } }, 'rope_parameters.rope_type', /dynamic/],
      [
        { ...hfConfig, rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 10000, partial_rotary_factor: 0.5 } },
        'rope_parameters.partial_rotary_factor',
        /rotates every dim/,
      ],
      [{ ...hfConfig, num_hidden_layers: 'four' }, 'num_hidden_layers', /expected a number/],
      [{ ...hfConfig, num_hidden_layers: 2.5 }, 'num_hidden_layers', /must be an integer/],
      [{ ...hfConfig, no_rope_layers: null, num_hidden_layers: 1e12 }, 'num_hidden_layers', /must be an integer in \[1, 65536\]/],
    ];
    for (const [config, field, message] of cases) {
      let error: unknown;
      try {
        configFromHuggingFace(config);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(UnsupportedConfigError);
      expect((error as UnsupportedConfigError).field, field).toBe(field);
      expect((error as Error).message, field).toMatch(message);
      const dir = await variant(`bad-${field}-${cases.findIndex((c) => c[0] === config)}`, config);
      await expect(loadHuggingFace(dir), field).rejects.toMatchObject({ field });
    }
    // SmolLM3Config's default is 4 key/value heads, not H: absent with 2 heads is grouped-query.
    expect(() => configFromHuggingFace({ ...without(hfConfig, 'num_key_value_heads'), num_attention_heads: 2 })).toThrow(
      UnsupportedConfigError,
    );
    expect(() => runtimeInfo()).toThrow(NotInitializedError); // every refusal came before any wasm work
  });
});

describe('SmolLM3 config.json mapping', () => {
  beforeAll(async () => {
    await init();
  });

  it('maps no_rope_layers (0 = NoPE) to noPositionLayers, and reads the rest as transformers 5 does', () => {
    const base = configFromHuggingFace(hfConfig);
    expect(base).toMatchObject({
      positional: 'rope',
      norm: 'rmsnorm',
      ffn: 'swiglu',
      bias: false,
      noPositionLayers: [1, 3],
      ropeBase: 10000,
      ropeScaling: null,
      tieEmbeddings: true,
      nLayer: 4,
      nHead: 4,
      nEmbd: 32,
      ffnHidden: 72,
    });
    const read = (hf: HuggingFaceConfig) => configFromHuggingFace(hf);
    expect(read({ ...hfConfig, no_rope_layers: [0, 1, 1, 0] }).noPositionLayers).toEqual([0, 3]);
    expect(read({ ...hfConfig, no_rope_layers: [1, 1, 1, 1] }).noPositionLayers).toEqual([]);
    expect(read({ ...hfConfig, no_rope_layers: [1, 0, 1, 1, 0, 0] }).noPositionLayers).toEqual([1]); // entries past L unread
    // no_rope_layers null or absent: int((l + 1) % no_rope_layer_interval != 0), default interval 4.
    expect(read({ ...hfConfig, no_rope_layers: null }).noPositionLayers).toEqual([1, 3]);
    expect(read(without(hfConfig, 'no_rope_layers', 'no_rope_layer_interval')).noPositionLayers).toEqual([3]);
    expect(read({ ...without(hfConfig, 'no_rope_layers'), no_rope_layer_interval: 3 }).noPositionLayers).toEqual([2]);
    expect(read({ ...without(hfConfig, 'no_rope_layers'), no_rope_layer_interval: 1 }).noPositionLayers).toEqual([0, 1, 2, 3]);
    // SmolLM3Config's defaults: rope_theta 2e6, tied head; num_key_value_heads null means H.
    expect(read(without(hfConfig, 'rope_parameters', 'tie_word_embeddings'))).toMatchObject({ ropeBase: 2e6, tieEmbeddings: true });
    expect(read({ ...without(hfConfig, 'rope_parameters'), rope_theta: 500 }).ropeBase).toBe(500);
    expect(read({ ...hfConfig, num_key_value_heads: null }).nHead).toBe(4);
    expect(read({ ...without(hfConfig, 'num_key_value_heads') }).nHead).toBe(4); // default 4 = H here
    // use_sliding_window without a sliding_window is full attention in transformers.
    expect(read({ ...without(hfConfig, 'layer_types'), use_sliding_window: true, sliding_window: null })).toEqual(base);
    expect(read({ ...hfConfig, rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 300 } })).toMatchObject({
      ropeBase: 300,
      ropeScaling: { type: 'linear', factor: 2 },
      noPositionLayers: [1, 3],
    });
  });

  it('writes config.json that reads back to the same config; without NoPE layers it stays Llama', () => {
    for (const change of [
      {},
      { tieEmbeddings: false, noPositionLayers: [0] },
      { noPositionLayers: [0, 1, 2, 3] },
      { ropeScaling: { type: 'linear', factor: 4 } },
      { ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 16 }, ropeBase: 500 },
    ] as Array<Partial<TransformerConfigInput>>) {
      using gpt = GPT.create({ ...configFromHuggingFace(hfConfig), ...change });
      const hf = configToHuggingFace(gpt.config);
      expect(hf).toMatchObject({
        model_type: 'smollm3',
        architectures: ['SmolLM3ForCausalLM'],
        num_key_value_heads: 4,
        pad_token_id: null,
      });
      expect(hf.no_rope_layers).toEqual([0, 1, 2, 3].map((l) => (gpt.config.noPositionLayers.includes(l) ? 0 : 1)));
      expect(configFromHuggingFace(hf)).toEqual({ ...configFromHuggingFace(hfConfig), ...change, ropeScaling: gpt.config.ropeScaling });
    }
    using llama = GPT.create({ ...configFromHuggingFace(hfConfig), noPositionLayers: [] });
    const hf = configToHuggingFace(llama.config);
    expect(hf).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'] });
    expect(hf).not.toHaveProperty('no_rope_layers');
  });
});

describe('Hugging Face smollm3 fixture', () => {
  let gpt: GPT;
  let expected: Expected;

  beforeAll(async () => {
    await init();
    expected = await readJson<Expected>(join(DIR, 'expected.json'));
    const loaded = await loadHuggingFace(DIR);
    if (!(loaded instanceof GPT)) throw new Error('smollm3: expected a GPT');
    gpt = loaded;
  });

  afterAll(() => gpt.dispose());

  it('maps config.json to the equivalent wasmformer config', () => {
    expect(gpt.config).toMatchObject({
      vocabSize: 100,
      blockSize: 64,
      nLayer: 4,
      nHead: 4,
      nEmbd: 32,
      ffnHidden: 72,
      positional: 'rope',
      norm: 'rmsnorm',
      normPlacement: 'pre',
      ffn: 'swiglu',
      bias: false,
      normEps: 1e-5,
      ropeBase: 10000,
      ropeScaling: null,
      noPositionLayers: [1, 3],
      tieEmbeddings: true,
      causal: true,
    });
  });

  it('computes the logits of transformers within 1e-4', () => {
    const logits = gpt.logits(expected.ids, expected.batchSize, expected.seqLen);
    const diff = maxAbsDiff(logits, expected.logits);
    console.log(`smollm3: max |logit - HF logit| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('depends on no_rope_layers: the same weights with RoPE in every layer are far from these logits', async () => {
    using all = await loadHuggingFace(await variant('all-rope', { ...hfConfig, no_rope_layers: [1, 1, 1, 1] }));
    expect(all.config.noPositionLayers).toEqual([]);
    expect(maxAbsDiff(all.logits(expected.ids, expected.batchSize, expected.seqLen), expected.logits)).toBeGreaterThan(0.1);
  });

  it('computes the loss and the gradients of transformers (1e-4 relative)', () => {
    expectLossAndGradients(gpt, expected, 'smollm3');
  });

  it('generates the same greedy tokens as transformers', () => {
    expectGreedyGenerations(gpt, expected);
  });

  it('saves tensors identical to the original Hugging Face file, as SmolLM3', async () => {
    const out = join(tmp, 'roundtrip');
    await expectBitIdenticalSave(gpt, DIR, out);
    const config = await readJson<HuggingFaceConfig>(join(out, 'config.json'));
    expect(config).toMatchObject({ model_type: 'smollm3', no_rope_layers: [1, 0, 1, 0] });
  });
});

describe.each([
  ['ours-smollm3', { noPositionLayers: [0], ropeScaling: null }],
  ['ours-smollm3-yarn', { noPositionLayers: [1], ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 16 } }],
] as const)('%s: a checkpoint wasmformer saved, checked in transformers', (name, config) => {
  const dir = join(FIXTURES, name);

  beforeAll(async () => {
    await init();
  });

  it('was loaded by transformers with the same logits (hf_check.json), for these exact files', async () => {
    await expectCheckedByTransformers(dir, 'SmolLM3ForCausalLM');
  });

  it('re-exports byte-identical files from the same weights, with the recorded logits', async () => {
    await expectByteIdenticalReexport(dir, join(tmp, `reexport-${name}`), (loaded) => expect(loaded).toMatchObject(config));
  });
});

describe('saving per-layer NoPE', () => {
  beforeAll(async () => {
    await init();
  });

  it('refuses what SmolLM3 cannot represent, and points per-layer NoPE on other blocks at SmolLM3', async () => {
    const base: TransformerConfigInput = { vocabSize: 20, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, positional: 'rope' };
    const smol: TransformerConfigInput = { ...base, norm: 'rmsnorm', ffn: 'swiglu', bias: false, noPositionLayers: [1] };
    const cases: Array<[TransformerConfigInput, string, RegExp]> = [
      [
        { ...base, norm: 'layernorm', ffn: 'gelu', bias: true, noPositionLayers: [0] },
        'noPositionLayers',
        /GPT-NeoX's attention uses RoPE in every layer \(per-layer NoPE is saved as SmolLM3/,
      ],
      [{ ...smol, ropeFraction: 0.5 }, 'ropeFraction', /SmolLM3 rotates every dim of each head in its RoPE layers/],
      [{ ...smol, ropeKeepFrequencies: 0.5 }, 'ropeKeepFrequencies', /SmolLM3 has no p-RoPE/],
      [{ ...smol, ropeScaling: { type: 'ntk', factor: 2 } }, 'ropeScaling', /no static NTK-aware rule/],
      [{ ...smol, norm: 'layernorm' }, 'norm', /a SmolLM3 checkpoint needs norm = "rmsnorm"/],
      [{ ...smol, bias: true }, 'bias', /a SmolLM3 checkpoint needs bias = false/],
      [{ ...smol, positional: 'alibi' }, 'positional', /only 'learned' \(GPT-2\) and 'rope'/],
    ];
    for (const [config, field, message] of cases) {
      using gpt = GPT.create(config);
      await expect(saveHuggingFace(gpt, join(tmp, 'refused')), field).rejects.toMatchObject({ field });
      await expect(saveHuggingFace(gpt, join(tmp, 'refused')), field).rejects.toThrow(message);
    }
  });
});
