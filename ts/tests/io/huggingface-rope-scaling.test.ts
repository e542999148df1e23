// Llama RoPE scaling and Hugging Face transformers. The fixture ts/tests/fixtures/hf/llama-rope-linear/
// was written by scripts/fixtures/make_hf_fixtures.py: a tiny random LlamaForCausalLM with
// rope_parameters { rope_type: 'linear', factor: 4 } and max_position_embeddings 16, whose
// recorded logits (T = 40) and greedy generations (up to 27 tokens) run past that context.
// 'linear' and 'yarn' (huggingface-rope-yarn.test.ts) are the scalings both sides compute the
// same way; every other rope_type, and our static 'ntk' on save, is refused with
// UnsupportedConfigError naming the field.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  type TransformerConfigInput,
} from '../../../dist/index.node.js';
import { type CausalLMExpected, maxAbsDiff, readJson, tensorBytes } from './hf-helpers.js';
import { ROOT } from '../helpers/node.js';

const DIR = join(ROOT, 'ts/tests/fixtures/hf/llama-rope-linear');

type Expected = CausalLMExpected;

let tmp: string;
let hfConfig: HuggingFaceConfig;
let expected: Expected;

beforeAll(async () => {
  await init();
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-hf-rope-'));
  hfConfig = await readJson<HuggingFaceConfig>(join(DIR, 'config.json'));
  expected = await readJson<Expected>(join(DIR, 'expected.json'));
});

afterAll(async () => {
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

describe('Hugging Face Llama with linear rope_scaling (llama-rope-linear fixture)', () => {
  let gpt: GPT;

  beforeAll(async () => {
    const loaded = await loadHuggingFace(DIR);
    if (!(loaded instanceof GPT)) throw new Error('llama-rope-linear: expected a GPT');
    gpt = loaded;
  });

  afterAll(() => gpt.dispose());

  it("maps rope_parameters { rope_type: 'linear', factor } to ropeScaling", () => {
    expect(hfConfig.rope_parameters).toEqual({ rope_type: 'linear', factor: 4, rope_theta: 10000 });
    expect(gpt.config).toMatchObject({ positional: 'rope', ropeBase: 10000, ropeScaling: { type: 'linear', factor: 4 }, blockSize: 16 });
  });

  it('reads the transformers 4 spellings (rope_scaling with type or rope_type) as the same config', () => {
    for (const scaling of [
      { type: 'linear', factor: 4 },
      { rope_type: 'linear', factor: 4 },
      { type: 'linear', rope_type: 'linear', factor: 4 },
    ]) {
      expect(configFromHuggingFace(transformers4(scaling)), JSON.stringify(scaling)).toEqual(configFromHuggingFace(hfConfig));
    }
    // 'default' (and none) is plain RoPE, in either field.
    expect(configFromHuggingFace(transformers4({ rope_type: 'default' }))).toMatchObject({ ropeScaling: null, ropeBase: 10000 });
    expect(configFromHuggingFace({ ...hfConfig, rope_parameters: { rope_type: 'default', rope_theta: 500 } })).toMatchObject({
      ropeScaling: null,
      ropeBase: 500,
    });
    // transformers 5 reads a non-empty rope_scaling before rope_parameters, with the rope_theta
    // beside it (checked: LlamaConfig.from_pretrained gives factor 2, rope_theta 300 here).
    expect(configFromHuggingFace({ ...hfConfig, rope_scaling: { type: 'linear', factor: 2 }, rope_theta: 300 })).toMatchObject({
      ropeScaling: { type: 'linear', factor: 2 },
      ropeBase: 300,
    });
    expect(configFromHuggingFace({ ...hfConfig, rope_scaling: {} })).toMatchObject({ ropeScaling: { type: 'linear', factor: 4 } });
  });

  it('computes the logits of transformers within 1e-4, 40 tokens past a 16-token max_position_embeddings', () => {
    expect(expected.seqLen).toBeGreaterThan(gpt.config.blockSize);
    const logits = gpt.logits(expected.ids, expected.batchSize, expected.seqLen);
    const diff = maxAbsDiff(logits, expected.logits);
    console.log(`llama-rope-linear: max |logit - HF logit| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('computes the loss of transformers (1e-5 relative)', () => {
    const { loss } = gpt.gradients(expected.ids, expected.targets, expected.batchSize, expected.seqLen);
    expect(Math.abs(loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
  });

  it('depends on the factor: the same weights without the scaling are far from these logits', async () => {
    using plain = await loadHuggingFace(
      await withConfig('unscaled', { ...hfConfig, rope_parameters: { rope_type: 'default', rope_theta: 10000 } }),
    );
    expect(plain.config.ropeScaling).toBeNull();
    expect(maxAbsDiff(plain.logits(expected.ids, expected.batchSize, expected.seqLen), expected.logits)).toBeGreaterThan(0.1);
  });

  it('generates the same greedy tokens as transformers, past max_position_embeddings', () => {
    for (const g of expected.generations) {
      expect(g.tokens.length).toBeGreaterThan(gpt.config.blockSize);
      const tokens = gpt.generate(g.prompt, { maxNewTokens: 20, temperature: 0 });
      expect(Array.from(tokens)).toEqual(g.tokens);
    }
  });

  it('saves rope_parameters as transformers 5 writes it (and rope_scaling for transformers 4); loads back the same model', async () => {
    const out = join(tmp, 'roundtrip');
    await saveHuggingFace(gpt, out);
    const saved = await readJson<HuggingFaceConfig>(join(out, 'config.json'));
    expect(saved.rope_parameters).toEqual({ rope_type: 'linear', factor: 4, rope_theta: 10000 });
    expect(saved.rope_scaling).toEqual({ rope_type: 'linear', factor: 4 });
    expect(saved.rope_theta).toBe(10000);
    const original = tensorBytes(await readFile(join(DIR, 'model.safetensors')));
    const again = tensorBytes(await readFile(join(out, 'model.safetensors')));
    expect([...again.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [k, t] of original) expect(again.get(k)?.bytes.equals(t.bytes), `${k} is bit-identical`).toBe(true);
    using back = await loadHuggingFace(out);
    expect(back.config).toEqual(gpt.config);
    expect(back.config.ropeScaling).toEqual({ type: 'linear', factor: 4 });
    // Each spelling alone carries the scaling.
    for (const drop of ['rope_scaling', 'rope_parameters'] as const) {
      const { [drop]: _dropped, ...one } = saved;
      expect(configFromHuggingFace(one).ropeScaling, `without ${drop}`).toEqual({ type: 'linear', factor: 4 });
    }
  });
});

describe('RoPE scaling wasmformer and transformers compute differently is refused', () => {
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

  it('refuses dynamic, llama3 and longrope in config.json, naming the field (yarn: huggingface-rope-yarn.test.ts)', () => {
    const cases: Array<[HuggingFaceConfig, string, string]> = [
      [{ ...hfConfig, rope_parameters: { rope_type: 'dynamic', factor: 4, rope_theta: 10000 } }, 'rope_parameters.rope_type', 'dynamic'],
      [transformers4({ type: 'dynamic', factor: 4 }), 'rope_scaling.type', 'dynamic'],
      [
        transformers4({ rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 }),
        'rope_scaling.rope_type',
        'llama3',
      ],
      [transformers4({ type: 'longrope', long_factor: [1, 2], short_factor: [1, 1] }), 'rope_scaling.type', 'longrope'],
    ];
    for (const [config, field, type] of cases) {
      const error = refusal(() => configFromHuggingFace(config));
      expect(error.field, type).toBe(field);
      expect(error.value).toBe(type);
      expect(error.message).toContain(field);
      expect(error.message).toContain("only 'default', 'linear' and 'yarn' are mapped");
    }
    // 'dynamic' is refused because it is another rule, not a missing feature: the message says how.
    expect(refusal(() => configFromHuggingFace(transformers4({ type: 'dynamic', factor: 4 }))).message).toMatch(
      /current length T.*'ntk' is one fixed base/,
    );
  });

  it("refuses a 'linear' entry transformers would compute differently (bad factor, partial rotation)", () => {
    expect(refusal(() => configFromHuggingFace(transformers4({ type: 'linear', factor: '4' }))).field).toBe('rope_scaling.factor');
    expect(refusal(() => configFromHuggingFace(transformers4({ type: 'linear' }))).field).toBe('rope_scaling.factor');
    expect(
      refusal(() => configFromHuggingFace({ ...hfConfig, rope_parameters: { rope_type: 'linear', factor: 0, rope_theta: 10000 } })).field,
    ).toBe('rope_parameters.factor');
    expect(refusal(() => configFromHuggingFace({ ...hfConfig, partial_rotary_factor: 0.5 })).field).toBe('partial_rotary_factor');
    expect(refusal(() => configFromHuggingFace(transformers4({ type: 'linear', factor: 4, partial_rotary_factor: 0.5 }))).field).toBe(
      'rope_scaling.partial_rotary_factor',
    );
    expect(refusal(() => configFromHuggingFace({ ...hfConfig, rope_scaling: 'linear' })).field).toBe('rope_scaling');
  });

  it("refuses to save our static 'ntk' scaling (Hugging Face's 'dynamic' is another rule) and scaling on GPT-2", async () => {
    const base: TransformerConfigInput = { vocabSize: 20, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 };
    const llama: TransformerConfigInput = { ...base, positional: 'rope', norm: 'rmsnorm', ffn: 'swiglu', bias: false };
    using ntk = GPT.create({ ...llama, ropeScaling: { type: 'ntk', factor: 4 } });
    const error = await saveHuggingFace(ntk, join(tmp, 'ntk')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedConfigError);
    expect(error).toMatchObject({ field: 'ropeScaling', value: { type: 'ntk', factor: 4 } });
    expect((error as Error).message).toMatch(/'dynamic'.*computes differently/);
    using learned = GPT.create({ ...base, ropeScaling: { type: 'linear', factor: 2 } });
    await expect(saveHuggingFace(learned, join(tmp, 'gpt2-scaled'))).rejects.toMatchObject({
      name: 'UnsupportedConfigError',
      field: 'ropeScaling',
    });
  });
});
