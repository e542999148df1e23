// Parity with Hugging Face transformers, the reference implementation. The fixtures in
// ts/tests/fixtures/hf/ were written by scripts/fixtures/make_hf_fixtures.py (tiny random
// GPT2LMHeadModel and LlamaForCausalLM, float32) and scripts/fixtures/export-ours.mjs
// (checkpoints wasmformer saved, which the Python script loaded with transformers).
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  GPT,
  UnsupportedConfigError,
  configFromHuggingFace,
  init,
  loadHuggingFace,
  readSafetensors,
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

type Expected = CausalLMExpectedWithGrads;

let tmp: string;

beforeAll(async () => {
  await init();
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-hf-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const EXPECTED_CONFIG: Record<string, Partial<TransformerConfigInput>> = {
  gpt2: {
    vocabSize: 100,
    blockSize: 64,
    nLayer: 2,
    nHead: 4,
    nEmbd: 32,
    ffnHidden: 128,
    positional: 'learned',
    norm: 'layernorm',
    ffn: 'gelu',
    bias: true,
    tieEmbeddings: true,
    normEps: 1e-5,
  },
  llama: {
    vocabSize: 100,
    blockSize: 64,
    nLayer: 2,
    nHead: 4,
    nEmbd: 32,
    ffnHidden: 88,
    positional: 'rope',
    norm: 'rmsnorm',
    ffn: 'swiglu',
    bias: false,
    tieEmbeddings: false,
    ropeBase: 10000,
    normEps: 1e-5,
  },
};

describe.each(['gpt2', 'llama'])('Hugging Face %s fixture', (name) => {
  const dir = join(FIXTURES, name);
  let gpt: GPT;
  let expected: Expected;

  beforeAll(async () => {
    expected = await readJson<Expected>(join(dir, 'expected.json'));
    const loaded = await loadHuggingFace(dir);
    if (!(loaded instanceof GPT)) throw new Error(`${name}: expected a GPT`);
    gpt = loaded;
  });

  afterAll(() => gpt.dispose());

  it('maps config.json to the equivalent wasmformer config', () => {
    expect(gpt.config).toMatchObject({ ...EXPECTED_CONFIG[name], normPlacement: 'pre', causal: true, dropout: 0 });
  });

  it('computes the logits of transformers within 1e-4', () => {
    const logits = gpt.logits(expected.ids, expected.batchSize, expected.seqLen);
    const diff = maxAbsDiff(logits, expected.logits);
    console.log(`${name}: max |logit - HF logit| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('computes the loss and the gradients of transformers (1e-4 relative)', () => {
    const before = gpt.getFlatParams();
    expectLossAndGradients(gpt, expected, name);
    expect(gpt.getFlatParams()).toEqual(before); // gradients() does not update the parameters
  });

  it('generates the same greedy tokens as transformers', () => {
    expectGreedyGenerations(gpt, expected);
  });

  it('saves tensors identical to the original Hugging Face file', async () => {
    await expectBitIdenticalSave(gpt, dir, join(tmp, `roundtrip-${name}`));
  });
});

describe.each(['ours-gpt2', 'ours-llama', 'ours-llama-rope-linear'])(
  '%s: a checkpoint wasmformer saved, checked in transformers',
  (name) => {
    const dir = join(FIXTURES, name);

    it('was loaded by transformers with the same logits (hf_check.json), for these exact files', async () => {
      await expectCheckedByTransformers(dir);
    });

    it('re-exports byte-identical files from the same weights, with the recorded logits', async () => {
      // Fields added since (BERT options) keep their GPT defaults.
      await expectByteIdenticalReexport(dir, join(tmp, `reexport-${name}`), (config) =>
        expect(config).toMatchObject({ typeVocabSize: 0, embeddingNorm: false, geluExact: false, lmHead: 'plain', nClasses: 0 }),
      );
    });
  },
);

describe('Hugging Face checkpoint variants', () => {
  const gpt2Dir = join(FIXTURES, 'gpt2');
  const llamaDir = join(FIXTURES, 'llama');

  async function variant(from: string, to: string, edit: (tensors: Map<string, NamedTensor>) => Map<string, NamedTensor>): Promise<string> {
    const out = join(tmp, to);
    await mkdir(out, { recursive: true });
    await copyFile(join(from, 'config.json'), join(out, 'config.json'));
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

  it('reads base-model names (no transformer. prefix) and ignores the attn.bias mask buffers', async () => {
    const dir = await variant(gpt2Dir, 'gpt2-base-names', (tensors) => {
      const out = new Map([...tensors].map(([k, t]) => [k.replace(/^transformer\./, ''), t]));
      out.set('h.0.attn.bias', { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64).fill(1) });
      return out;
    });
    using a = await loadHuggingFace(dir);
    using b = await loadHuggingFace(gpt2Dir);
    expect(a.getFlatParams()).toEqual(b.getFlatParams());
  });

  it('reads sharded checkpoints (model.safetensors.index.json)', async () => {
    const tensors = readSafetensors(await readFile(join(llamaDir, 'model.safetensors'))).tensors;
    const out = join(tmp, 'llama-sharded');
    await mkdir(out, { recursive: true });
    await copyFile(join(llamaDir, 'config.json'), join(out, 'config.json'));
    const names = [...tensors.keys()];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of [names.slice(0, 7), names.slice(7)].entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(
        join(out, file),
        writeSafetensors(
          Object.fromEntries(
            part.map((k) => [
              k,
              { dtype: 'F32' as const, shape: tensors.get(k)?.shape ?? [], data: tensors.get(k)?.data ?? new Float32Array() },
            ]),
          ),
        ),
      );
      for (const k of part) weightMap[k] = file;
    }
    await writeFile(join(out, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    using a = await loadHuggingFace(out);
    using b = await loadHuggingFace(llamaDir);
    expect(a.getFlatParams()).toEqual(b.getFlatParams());
  });

  it('reads bfloat16 weights', async () => {
    const tensors = readSafetensors(await readFile(join(llamaDir, 'model.safetensors'))).tensors;
    // A BF16 file by hand: the top 16 bits of each float32 (round toward zero).
    const entries = [...tensors];
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const [k, t] of entries) {
      header[k] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + 2 * t.data.length] };
      offset += 2 * t.data.length;
    }
    const json = new TextEncoder().encode(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
    const bytes = new Uint8Array(8 + json.length + offset);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, json.length, true);
    bytes.set(json, 8);
    let at = 8 + json.length;
    const truncated = new Map<string, Float32Array>();
    for (const [k, t] of entries) {
      const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
      for (const b of bits) {
        view.setUint16(at, b >>> 16, true);
        at += 2;
      }
      truncated.set(k, new Float32Array(Uint32Array.from(bits, (b) => (b >>> 16) << 16).buffer));
    }
    const out = join(tmp, 'llama-bf16');
    await mkdir(out, { recursive: true });
    await copyFile(join(llamaDir, 'config.json'), join(out, 'config.json'));
    await writeFile(join(out, 'model.safetensors'), bytes);
    using gpt = await loadHuggingFace(out);
    const hf = new Map(weightsToHuggingFace(gpt.config, gpt.getWeights()));
    for (const [k, want] of truncated) expect(hf.get(k)?.data, k).toEqual(want);
  });

  it('refuses a missing, misshapen or unexpected tensor, naming it', async () => {
    const missing = await variant(llamaDir, 'llama-missing', (t) => {
      t.delete('model.layers.1.self_attn.k_proj.weight');
      return t;
    });
    await expect(loadHuggingFace(missing)).rejects.toThrow(/missing tensor 'model\.layers\.1\.self_attn\.k_proj\.weight'/);
    const misshapen = await variant(gpt2Dir, 'gpt2-misshapen', (t) => {
      t.set('transformer.h.0.mlp.c_fc.weight', { shape: [128, 32], data: new Float32Array(128 * 32) });
      return t;
    });
    await expect(loadHuggingFace(misshapen)).rejects.toThrow(
      /'transformer\.h\.0\.mlp\.c_fc\.weight' has shape \[128,32\], expected \[32,128\]/,
    );
    const extra = await variant(llamaDir, 'llama-extra', (t) =>
      t.set('model.layers.0.self_attn.q_norm.weight', { shape: [8], data: new Float32Array(8) }),
    );
    await expect(loadHuggingFace(extra)).rejects.toThrow(CheckpointError);
    await expect(loadHuggingFace(extra)).rejects.toThrow(/unexpected tensors model\.layers\.0\.self_attn\.q_norm\.weight/);
    await expect(loadHuggingFace(join(tmp, 'nowhere'))).rejects.toThrow(CheckpointError);
  });
});

describe('Hugging Face configs wasmformer cannot represent', () => {
  const unsupported = (hf: HuggingFaceConfig, field: string): void => {
    let error: unknown;
    try {
      configFromHuggingFace(hf);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedConfigError);
    expect((error as UnsupportedConfigError).field).toBe(field);
    expect((error as Error).message).toContain(field);
  };

  it('refuses unsupported config.json fields by name and value', async () => {
    const llama = await readJson<HuggingFaceConfig>(join(FIXTURES, 'llama/config.json'));
    const gpt2 = await readJson<HuggingFaceConfig>(join(FIXTURES, 'gpt2/config.json'));
    unsupported({ ...llama, num_key_value_heads: 2 }, 'num_key_value_heads');
    // RoPE scaling other than 'linear': huggingface-rope-scaling.test.ts.
    unsupported(
      { ...llama, rope_parameters: { rope_type: 'yarn', factor: 2, rope_theta: 10000, truncate: false } },
      'rope_parameters.truncate',
    );
    unsupported(
      { ...llama, rope_parameters: undefined, rope_theta: 10000, rope_scaling: { type: 'dynamic', factor: 2 } },
      'rope_scaling.type',
    );
    unsupported({ ...llama, hidden_act: 'gelu' }, 'hidden_act');
    unsupported({ ...llama, attention_bias: true }, 'attention_bias');
    unsupported({ ...llama, mlp_bias: true }, 'mlp_bias');
    unsupported({ ...llama, head_dim: 16 }, 'head_dim');
    unsupported({ ...gpt2, activation_function: 'gelu' }, 'activation_function');
    unsupported({ ...gpt2, scale_attn_by_inverse_layer_idx: true }, 'scale_attn_by_inverse_layer_idx');
    unsupported({ ...gpt2, n_head: '4' }, 'n_head');
    unsupported({ ...gpt2, model_type: 'roberta' }, 'model_type');
    // Fields config.json may omit take transformers' class defaults.
    const { tie_word_embeddings: _tied, n_inner: _inner, ...sparse } = gpt2;
    expect(configFromHuggingFace(sparse)).toMatchObject({ tieEmbeddings: true, nEmbd: 32 });
    expect(configFromHuggingFace({ ...llama, rope_parameters: undefined, rope_theta: 500 })).toMatchObject({ ropeBase: 500 });
  });

  it('refuses to save configs Hugging Face GPT-2 / Llama cannot represent, naming the field', async () => {
    const base: TransformerConfigInput = { vocabSize: 20, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 };
    const cases: Array<[Partial<TransformerConfigInput>, string]> = [
      [{ positional: 'alibi' }, 'positional'],
      [{ positional: 'relative' }, 'positional'],
      [{ positional: 'sinusoidal' }, 'positional'],
      [{ normPlacement: 'post' }, 'normPlacement'],
      [{ norm: 'rmsnorm' }, 'norm'],
      [{ positional: 'rope', norm: 'rmsnorm', ffn: 'swiglu' }, 'bias'],
      [{ positional: 'rope', norm: 'rmsnorm', ffn: 'geglu', bias: false }, 'ffn'],
    ];
    for (const [change, field] of cases) {
      using gpt = GPT.create({ ...base, ...change });
      const rejection = saveHuggingFace(gpt, join(tmp, 'refused'));
      await expect(rejection).rejects.toThrow(UnsupportedConfigError);
      await expect(saveHuggingFace(gpt, join(tmp, 'refused'))).rejects.toMatchObject({ field });
    }
  });
});
