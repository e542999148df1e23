// Llama YaRN scaling and Hugging Face transformers. The fixture ts/tests/fixtures/hf/llama-rope-yarn/
// was written by scripts/fixtures/make_hf_fixtures.py: a tiny random LlamaForCausalLM (head dim
// 16) with rope_parameters { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64,
// beta_fast: 32, beta_slow: 1 }, whose recorded logits (T = 80) and greedy generations run past
// the original context. transformers' frequencies and attention factor are checked separately
// in crates/core/src/kernels/rope/frequencies.rs (yarn_matches_transformers).
import { mkdir, mkdtemp, readFile, rm, copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GPT,
  UnsupportedConfigError,
  configFromHuggingFace,
  init,
  loadHuggingFace,
  saveHuggingFace,
  type HuggingFaceConfig,
  type TransformerConfig,
} from '../../../dist/index.node.js';
import { type CausalLMExpected, maxAbsDiff, readJson, tensorBytes } from './hf-helpers.js';
import { ROOT } from '../helpers/node.js';

const DIR = join(ROOT, 'ts/tests/fixtures/hf/llama-rope-yarn');
const YARN = { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 64, betaFast: 32, betaSlow: 1 } as const;

let tmp: string;
let hfConfig: HuggingFaceConfig;
let expected: CausalLMExpected;
let gpt: GPT;

beforeAll(async () => {
  await init();
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-hf-yarn-'));
  hfConfig = await readJson<HuggingFaceConfig>(join(DIR, 'config.json'));
  expected = await readJson<CausalLMExpected>(join(DIR, 'expected.json'));
  const loaded = await loadHuggingFace(DIR);
  if (!(loaded instanceof GPT)) throw new Error('llama-rope-yarn: expected a GPT');
  gpt = loaded;
});

afterAll(async () => {
  gpt.dispose();
  await rm(tmp, { recursive: true, force: true });
});

/** The fixture's weights with `config` as config.json, in a new directory. */
async function withConfig(name: string, config: HuggingFaceConfig): Promise<string> {
  const out = join(tmp, name);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'config.json'), JSON.stringify(config));
  await copyFile(join(DIR, 'model.safetensors'), join(out, 'model.safetensors'));
  return out;
}

/** A transformers 4 config.json: `rope_scaling` and `rope_theta`, no `rope_parameters`. */
function transformers4(scaling: Record<string, unknown>): HuggingFaceConfig {
  const { rope_parameters: _params, ...rest } = hfConfig;
  return { ...rest, rope_theta: 10000, rope_scaling: scaling };
}

/** The UnsupportedConfigError `fn` throws. */
function refusal(fn: () => unknown): UnsupportedConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedConfigError);
    return error as UnsupportedConfigError;
  }
  throw new Error('expected an UnsupportedConfigError, nothing was thrown');
}

describe('Hugging Face Llama with YaRN (llama-rope-yarn fixture)', () => {
  it("maps rope_parameters { rope_type: 'yarn', … } to ropeScaling", () => {
    expect(gpt.config).toMatchObject({ positional: 'rope', ropeBase: 10000, ropeScaling: YARN, blockSize: 256 });
  });

  it('computes the logits of transformers within 1e-4, 80 tokens past a 64-token original context', () => {
    expect(expected.seqLen).toBeGreaterThan(YARN.originalMaxPositionEmbeddings);
    const diff = maxAbsDiff(gpt.logits(expected.ids, expected.batchSize, expected.seqLen), expected.logits);
    console.log(`llama-rope-yarn: max |logit - HF logit| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('computes the loss of transformers (1e-5 relative)', () => {
    const { loss } = gpt.gradients(expected.ids, expected.targets, expected.batchSize, expected.seqLen);
    expect(Math.abs(loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
  });

  it('depends on the scaling and on the attention factor: without either, the logits are far off', async () => {
    using plain = await loadHuggingFace(
      await withConfig('plain', { ...hfConfig, rope_parameters: { rope_type: 'default', rope_theta: 10000 } }),
    );
    expect(maxAbsDiff(plain.logits(expected.ids, expected.batchSize, expected.seqLen), expected.logits)).toBeGreaterThan(0.1);
    const unscaled = { ...(hfConfig.rope_parameters as Record<string, unknown>), attention_factor: 1 };
    using noFactor = await loadHuggingFace(await withConfig('factor-1', { ...hfConfig, rope_parameters: unscaled }));
    expect(noFactor.config.ropeScaling).toEqual({ ...YARN, attentionFactor: 1 });
    expect(maxAbsDiff(noFactor.logits(expected.ids, expected.batchSize, expected.seqLen), expected.logits)).toBeGreaterThan(0.01);
  });

  it('generates the same greedy tokens as transformers (the KV cache uses the same YaRN table)', () => {
    for (const g of expected.generations) {
      const tokens = gpt.generate(g.prompt, { maxNewTokens: 20, temperature: 0 });
      expect(Array.from(tokens)).toEqual(g.tokens);
    }
  });

  it('saves rope_parameters and rope_scaling with every YaRN key; loads back the same model', async () => {
    const out = join(tmp, 'roundtrip');
    await saveHuggingFace(gpt, out);
    const saved = await readJson<HuggingFaceConfig>(join(out, 'config.json'));
    const dict = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64, beta_fast: 32, beta_slow: 1 };
    expect(saved.rope_parameters).toEqual({ ...dict, rope_theta: 10000 });
    expect(saved.rope_scaling).toEqual(dict);
    const original = tensorBytes(await readFile(join(DIR, 'model.safetensors')));
    const again = tensorBytes(await readFile(join(out, 'model.safetensors')));
    for (const [k, t] of original) expect(again.get(k)?.bytes.equals(t.bytes), `${k} is bit-identical`).toBe(true);
    using back = await loadHuggingFace(out);
    expect(back.config).toEqual(gpt.config);
    for (const drop of ['rope_scaling', 'rope_parameters'] as const) {
      const { [drop]: _dropped, ...one } = saved;
      expect(configFromHuggingFace(one).ropeScaling, `without ${drop}`).toEqual(YARN);
    }
    // An explicit attention factor is written and read back.
    using withFactor = GPT.create({ ...gpt.config, ropeScaling: { ...YARN, attentionFactor: 1.25 } });
    const out2 = join(tmp, 'roundtrip-factor');
    await saveHuggingFace(withFactor, out2);
    const saved2 = await readJson<HuggingFaceConfig>(join(out2, 'config.json'));
    expect(saved2.rope_parameters).toMatchObject({ attention_factor: 1.25 });
    expect(configFromHuggingFace(saved2).ropeScaling).toEqual({ ...YARN, attentionFactor: 1.25 });
  });

  it('reads the transformers 4 and DeepSeek spellings as transformers 5 does', () => {
    const base = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 };
    // beta_fast / beta_slow absent, null or 0 → 32 / 1.
    expect(configFromHuggingFace(transformers4(base)).ropeScaling).toEqual(YARN);
    expect(configFromHuggingFace(transformers4({ ...base, beta_fast: null, beta_slow: 0 })).ropeScaling).toEqual(YARN);
    // No original_max_position_embeddings: max_position_embeddings (256); a top-level one wins.
    const { original_max_position_embeddings: _o, ...noOriginal } = base;
    expect(configFromHuggingFace(transformers4(noOriginal)).ropeScaling).toMatchObject({ originalMaxPositionEmbeddings: 256 });
    expect(configFromHuggingFace({ ...transformers4(base), original_max_position_embeddings: 32 }).ropeScaling).toMatchObject({
      originalMaxPositionEmbeddings: 32,
    });
    // factor null: max_position_embeddings / original.
    expect(configFromHuggingFace(transformers4({ ...base, factor: null })).ropeScaling).toMatchObject({ factor: 4 });
    // mscale and mscale_all_dim (DeepSeek) give the attention factor get_mscale(f, m) / get_mscale(f, m_all).
    const deepseek = configFromHuggingFace(transformers4({ ...base, mscale: 0.6, mscale_all_dim: 1 })).ropeScaling;
    const m = (s: number, k: number) => 0.1 * k * Math.log(s) + 1;
    expect(deepseek).toMatchObject({ attentionFactor: m(4, 0.6) / m(4, 1) });
  });

  it('refuses a YaRN entry transformers would compute differently, naming the field', () => {
    const base = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 };
    for (const [scaling, field] of [
      [{ ...base, truncate: false }, 'rope_scaling.truncate'],
      [{ ...base, factor: -1 }, 'rope_scaling.factor'],
      [{ ...base, original_max_position_embeddings: 0 }, 'rope_scaling.original_max_position_embeddings'],
      [{ ...base, beta_fast: 1, beta_slow: 2 }, 'rope_scaling.beta_slow'],
      [{ ...base, attention_factor: 'big' }, 'rope_scaling.attention_factor'],
      [{ ...base, partial_rotary_factor: 0.5 }, 'rope_scaling.partial_rotary_factor'],
    ] as const) {
      expect(refusal(() => configFromHuggingFace(transformers4(scaling))).field, JSON.stringify(scaling)).toBe(field);
    }
  });

  // Layers without positions are saved as SmolLM3 (no_rope_layers): huggingface-smollm3.test.ts.
  it('refuses to save partial RoPE and p-RoPE as a Llama', async () => {
    const base = { ...gpt.config, ropeScaling: null };
    const cases: [Partial<TransformerConfig>, string][] = [
      [{ ropeFraction: 0.5 }, 'ropeFraction'],
      [{ ropeKeepFrequencies: 0.5 }, 'ropeKeepFrequencies'],
    ];
    for (const [extra, field] of cases) {
      using model = GPT.create({ ...base, ...extra });
      await expect(saveHuggingFace(model, join(tmp, `refused-${field}`))).rejects.toThrow(UnsupportedConfigError);
      await expect(saveHuggingFace(model, join(tmp, `refused-${field}`))).rejects.toThrow(`config.${field}`);
    }
  });
});
