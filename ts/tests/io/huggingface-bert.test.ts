// BERT parity with Hugging Face transformers. The fixtures in ts/tests/fixtures/hf/bert-*/
// were written by scripts/fixtures/make_bert_fixtures.py (tiny random BertForPreTraining and
// BertForSequenceClassification, float32, eager attention) and ours-bert-*/ by
// scripts/fixtures/export-ours-bert.mjs (checkpoints wasmformer saved, which the Python script
// loaded with transformers' Auto classes).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  CheckpointError,
  GPT,
  UnsupportedConfigError,
  configFromHuggingFace,
  init,
  loadHuggingFace,
  readSafetensors,
  saveHuggingFace,
  writeSafetensors,
  type HuggingFaceConfig,
  type ModelBatch,
  type NamedTensor,
  type TransformerConfigInput,
} from '../../../dist/index.node.js';
import { expectGradientSlices, maxAbsDiff, readJson, sha256, tensorBytes } from './hf-helpers.js';
import { ROOT } from '../helpers/node.js';

const FIXTURES = join(ROOT, 'ts/tests/fixtures/hf');

interface Expected {
  batchSize: number;
  seqLen: number;
  ids: number[];
  typeIds: number[];
  attentionMask: number[];
  mlmLabels: number[];
  labels: number[];
  hidden: number[];
  mlmLogits: number[] | null;
  classLogits: number[];
  mlmLoss: number | null;
  classLoss: number;
  grads: Array<{ name: string; shape: number[]; rows: [number, number]; data: number[] }>;
}

async function loadBert(dir: string, options: Parameters<typeof loadHuggingFace>[1] = {}): Promise<BERT> {
  const model = await loadHuggingFace(dir, options);
  if (!(model instanceof BERT)) throw new Error(`${dir}: expected a BERT, got ${model.constructor.name}`);
  return model;
}

function batchOf(e: Pick<Expected, 'ids' | 'typeIds' | 'attentionMask' | 'batchSize'>): ModelBatch {
  return {
    ids: Uint32Array.from(e.ids),
    typeIds: Uint32Array.from(e.typeIds),
    attentionMask: Uint8Array.from(e.attentionMask),
    batchSize: e.batchSize,
  };
}

let tmp: string;

beforeAll(async () => {
  await init();
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-hf-bert-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const SIZES = { vocabSize: 100, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 32, ffnHidden: 64, typeVocabSize: 2, normEps: 1e-12 };
const EXPECTED_CONFIG: Record<string, Partial<TransformerConfigInput>> = {
  'bert-pretraining': { ...SIZES, lmHead: 'mlm', nClasses: 2 },
  'bert-classifier': { ...SIZES, lmHead: 'none', nClasses: 3 },
};

describe.each(['bert-pretraining', 'bert-classifier'])('Hugging Face %s fixture', (name) => {
  const dir = join(FIXTURES, name);
  let bert: BERT;
  let expected: Expected;

  beforeAll(async () => {
    expected = await readJson<Expected>(join(dir, 'expected.json'));
    bert = await loadBert(dir);
  });

  afterAll(() => bert.dispose());

  it('maps config.json and the heads to the equivalent wasmformer config', () => {
    expect(bert.config).toMatchObject({
      ...EXPECTED_CONFIG[name],
      positional: 'learned',
      norm: 'layernorm',
      normPlacement: 'post',
      ffn: 'gelu',
      geluExact: true,
      bias: true,
      causal: false,
      embeddingNorm: true,
      tieEmbeddings: true,
      dropout: 0,
    });
  });

  it('computes the hidden states, MLM logits and class logits of transformers within 1e-4', () => {
    const batch = batchOf(expected);
    const report: string[] = [];
    const hidden = maxAbsDiff(bert.batchOutputs(batch, expected.seqLen, 'hidden'), expected.hidden);
    report.push(`hidden ${hidden.toExponential(2)}`);
    expect(hidden).toBeLessThan(1e-4);
    if (expected.mlmLogits) {
      const mlm = maxAbsDiff(bert.batchOutputs(batch, expected.seqLen, 'logits'), expected.mlmLogits);
      report.push(`MLM logits ${mlm.toExponential(2)}`);
      expect(mlm).toBeLessThan(1e-4);
    }
    const cls = maxAbsDiff(bert.batchOutputs(batch, expected.seqLen, 'classLogits'), expected.classLogits);
    report.push(`class logits ${cls.toExponential(2)}`);
    expect(cls).toBeLessThan(1e-4);
    console.log(`${name}: max |ours - HF|: ${report.join(', ')}`);
  });

  it('computes the losses and the gradients of transformers (1e-5 / 1e-4 relative)', () => {
    const before = bert.getFlatParams();
    const batch: ModelBatch = { ...batchOf(expected), labels: Int32Array.from(expected.labels) };
    if (expected.mlmLabels && bert.config.lmHead === 'mlm') batch.targets = Int32Array.from(expected.mlmLabels);
    const { losses, grads } = bert.batchGradients(batch, expected.seqLen);
    if (expected.mlmLoss !== null) expect(Math.abs((losses.token as number) - expected.mlmLoss) / expected.mlmLoss).toBeLessThan(1e-5);
    else expect(losses.token).toBeUndefined();
    expect(Math.abs((losses.class as number) - expected.classLoss) / expected.classLoss).toBeLessThan(1e-5);
    const evaluated = bert.evaluateBatch(batch, expected.seqLen);
    expect(evaluated.total).toBeCloseTo(losses.total, 6);
    const report = expectGradientSlices(bert.config, grads, expected.grads);
    console.log(`${name}: losses ${losses.token ?? '-'} / ${losses.class}; max |grad diff| / max |HF grad|: ${report.join(', ')}`);
    expect(bert.getFlatParams()).toEqual(before);
  });

  it('saves tensors bit-identical to the original Hugging Face file, and reloads the same model', async () => {
    const out = join(tmp, `roundtrip-${name}`);
    await saveHuggingFace(bert, out);
    const original = tensorBytes(await readFile(join(dir, 'model.safetensors')));
    const saved = tensorBytes(await readFile(join(out, 'model.safetensors')));
    expect([...saved.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [k, t] of original) {
      const s = saved.get(k);
      expect(s?.shape, k).toEqual(t.shape);
      expect(s?.bytes.equals(t.bytes), `${k} is bit-identical`).toBe(true);
    }
    const config = await readJson<HuggingFaceConfig>(join(out, 'config.json'));
    const theirs = await readJson<HuggingFaceConfig>(join(dir, 'config.json'));
    expect(config.architectures).toEqual(theirs.architectures);
    using again = await loadBert(out);
    expect(again.config).toEqual(bert.config);
    expect(again.getFlatParams()).toEqual(bert.getFlatParams());
  });
});

describe.each(['ours-bert-mlm', 'ours-bert-pretraining', 'ours-bert-classifier'])(
  '%s: a BERT wasmformer saved, checked in transformers',
  (name) => {
    const dir = join(FIXTURES, name);

    it('was loaded by transformers with the same logits (hf_check.json), for these exact files', async () => {
      const check = await readJson<{ passed: boolean; maxAbsLogitDiff: number; loadingProblems: object; sha256: Record<string, string> }>(
        join(dir, 'hf_check.json'),
      );
      expect(check.passed).toBe(true);
      expect(check.loadingProblems).toEqual({});
      expect(check.maxAbsLogitDiff).toBeLessThan(1e-4);
      for (const [file, hash] of Object.entries(check.sha256)) expect(sha256(await readFile(join(dir, file))), file).toBe(hash);
    });

    it('re-exports byte-identical files from the same weights, with the recorded logits', async () => {
      const ours = await readJson<{
        config: TransformerConfigInput;
        batchSize: number;
        seqLen: number;
        ids: number[];
        typeIds: number[];
        attentionMask: number[];
        mlmLogits?: number[];
        classLogits?: number[];
      }>(join(dir, 'ours.json'));
      using bert = await loadBert(dir);
      // Fields added since the fixture was written keep their defaults.
      expect(bert.config).toEqual({ ropeFraction: 1, ropeKeepFrequencies: 1, noPositionLayers: [], ...ours.config });
      const batch = batchOf(ours);
      if (ours.mlmLogits) expect(maxAbsDiff(bert.batchOutputs(batch, ours.seqLen, 'logits'), ours.mlmLogits)).toBeLessThan(1e-5);
      if (ours.classLogits) expect(maxAbsDiff(bert.batchOutputs(batch, ours.seqLen, 'classLogits'), ours.classLogits)).toBeLessThan(1e-5);
      const out = join(tmp, `reexport-${name}`);
      await saveHuggingFace(bert, out);
      for (const file of ['model.safetensors', 'config.json']) {
        expect(Buffer.compare(await readFile(join(out, file)), await readFile(join(dir, file))), file).toBe(0);
      }
    });
  },
);

/** Appends an int64 `[1, 64]` tensor 0…63 to a safetensors file (our writer emits F32 only). */
async function appendInt64(file: string, name: string): Promise<void> {
  const bytes = await readFile(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const dataLength = bytes.length - 8 - headerLength;
  const ids = Buffer.alloc(64 * 8);
  for (let i = 0; i < 64; i++) ids.writeBigInt64LE(BigInt(i), i * 8);
  header[name] = { dtype: 'I64', shape: [1, 64], data_offsets: [dataLength, dataLength + ids.length] };
  const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(file, Buffer.concat([length, json, bytes.subarray(8 + headerLength), ids]));
}

describe('Hugging Face BERT checkpoint variants', () => {
  const pretraining = join(FIXTURES, 'bert-pretraining');

  async function variant(to: string, edit: (tensors: Map<string, NamedTensor>, config: HuggingFaceConfig) => void): Promise<string> {
    const out = join(tmp, to);
    await mkdir(out, { recursive: true });
    const config = await readJson<HuggingFaceConfig>(join(pretraining, 'config.json'));
    const tensors = new Map(
      [...readSafetensors(await readFile(join(pretraining, 'model.safetensors'))).tensors].map(([k, t]) => [
        k,
        { shape: t.shape, data: t.data },
      ]),
    );
    edit(tensors, config);
    await writeFile(join(out, 'config.json'), JSON.stringify(config));
    await writeFile(
      join(out, 'model.safetensors'),
      writeSafetensors(Object.fromEntries([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, ...t }]))),
    );
    return out;
  }

  it('loads a bare BertModel (no bert. prefix, int64 position_ids buffer) with the same hidden states', async () => {
    const dir = await variant('bert-model', (tensors, config) => {
      for (const k of [...tensors.keys()]) {
        if (!k.startsWith('bert.')) tensors.delete(k);
        else tensors.set(k.slice('bert.'.length), tensors.get(k) as NamedTensor) && tensors.delete(k);
      }
      config.architectures = ['BertModel'];
    });
    await appendInt64(join(dir, 'model.safetensors'), 'embeddings.position_ids'); // as transformers 4 saved it

    const expected = await readJson<Expected>(join(pretraining, 'expected.json'));
    using bare = await loadBert(dir, { seed: 3 });
    expect(bare.config).toMatchObject({ lmHead: 'mlm', nClasses: 0 }); // a head at its initial values
    expect(maxAbsDiff(bare.batchOutputs(batchOf(expected), expected.seqLen, 'hidden'), expected.hidden)).toBeLessThan(1e-4);
    const weights = bare.getWeights();
    expect(weights.get('mlm.bias')?.data.every((x) => x === 0)).toBe(true); // not read from anywhere
    using classifier = await loadBert(dir, { nClasses: 2 });
    expect(classifier.config).toMatchObject({ lmHead: 'none', nClasses: 2 }); // BertForSequenceClassification.from_pretrained(BertModel)
    using full = await loadBert(pretraining);
    expect(classifier.getWeights().get('pooler.dense.weight')?.data).toEqual(full.getWeights().get('pooler.dense.weight')?.data);
    await expect(loadBert(dir, { nClasses: 3 })).resolves.toMatchObject({ config: { nClasses: 3 } });
  });

  it('refuses an integer tensor that is not a known buffer', async () => {
    const dir = await variant('bert-int-param', () => undefined);
    await appendInt64(join(dir, 'model.safetensors'), 'bert.encoder.layer.0.attention.self.rel_ids');
    await expect(loadBert(dir)).rejects.toThrow(/'bert\.encoder\.layer\.0\.attention\.self\.rel_ids' is not a float tensor/);
  });

  it('accepts stored tied copies (decoder weight and bias) only when they equal what they repeat', async () => {
    const copies = await variant('bert-copies', (tensors) => {
      tensors.set('cls.predictions.decoder.weight', tensors.get('bert.embeddings.word_embeddings.weight') as NamedTensor);
      tensors.set('cls.predictions.decoder.bias', tensors.get('cls.predictions.bias') as NamedTensor);
    });
    using a = await loadBert(copies);
    using b = await loadBert(pretraining);
    expect(a.getFlatParams()).toEqual(b.getFlatParams());
    const wrong = await variant('bert-wrong-copy', (tensors) => {
      const bias = tensors.get('cls.predictions.bias') as NamedTensor;
      tensors.set('cls.predictions.decoder.bias', { shape: bias.shape, data: bias.data.map((x) => x + 1) });
    });
    await expect(loadBert(wrong)).rejects.toThrow(/'cls\.predictions\.decoder\.bias' should repeat/);
  });

  it('refuses a missing, misshapen or unexpected tensor, naming it', async () => {
    const missing = await variant('bert-missing', (t) => void t.delete('bert.encoder.layer.1.attention.self.key.weight'));
    await expect(loadBert(missing)).rejects.toThrow(/missing tensor 'bert\.encoder\.layer\.1\.attention\.self\.key\.weight'/);
    const misshapen = await variant(
      'bert-misshapen',
      (t) => void t.set('bert.encoder.layer.0.intermediate.dense.weight', { shape: [32, 64], data: new Float32Array(32 * 64) }),
    );
    await expect(loadBert(misshapen)).rejects.toThrow(
      /'bert\.encoder\.layer\.0\.intermediate\.dense\.weight' has shape \[32,64\], expected \[64,32\]/,
    );
    const extra = await variant(
      'bert-extra',
      (t) => void t.set('bert.encoder.layer.0.attention.self.distance_embedding.weight', { shape: [4, 8], data: new Float32Array(32) }),
    );
    await expect(loadBert(extra)).rejects.toThrow(CheckpointError);
    await expect(loadBert(extra)).rejects.toThrow(
      /unexpected tensors bert\.encoder\.layer\.0\.attention\.self\.distance_embedding\.weight/,
    );
  });

  it('round-trips an untied masked-LM decoder (cls.predictions.decoder.weight)', async () => {
    using bert = BERT.create({ vocabSize: 30, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8, tieEmbeddings: false }, { seed: 5 });
    const weights = bert.getWeights();
    weights.get('mlm.bias')?.data.forEach((_, i, bias) => (bias[i] = 0.01 * (i - 15)));
    bert.setWeights(weights);
    const out = join(tmp, 'untied');
    await saveHuggingFace(bert, out);
    const tensors = readSafetensors(await readFile(join(out, 'model.safetensors'))).tensors;
    expect(tensors.has('cls.predictions.decoder.weight')).toBe(true);
    expect(tensors.get('cls.predictions.decoder.bias')?.data).toEqual(weights.get('mlm.bias')?.data); // the bias transformers uses untied
    expect(tensors.get('cls.predictions.bias')?.data).toEqual(weights.get('mlm.bias')?.data); // unused untied, written so nothing is missing
    using again = await loadBert(out);
    expect(again.config).toEqual(bert.config);
    expect(again.getFlatParams()).toEqual(bert.getFlatParams());
    // transformers 4 saved only cls.predictions.bias (decoder.bias was the same tensor).
    tensors.delete('cls.predictions.decoder.bias');
    await writeFile(
      join(out, 'model.safetensors'),
      writeSafetensors(Object.fromEntries([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }]))),
    );
    using older = await loadBert(out);
    expect(older.getFlatParams()).toEqual(bert.getFlatParams());
  });
});

describe('Hugging Face BERT configs wasmformer cannot represent', () => {
  it('refuses unsupported config.json fields by name', async () => {
    const bert = await readJson<HuggingFaceConfig>(join(FIXTURES, 'bert-pretraining/config.json'));
    const cases: Array<[HuggingFaceConfig, string]> = [
      [{ ...bert, hidden_act: 'relu' }, 'hidden_act'],
      [{ ...bert, position_embedding_type: 'relative_key' }, 'position_embedding_type'],
      [{ ...bert, is_decoder: true }, 'is_decoder'],
      [{ ...bert, add_cross_attention: true }, 'add_cross_attention'],
      [{ ...bert, architectures: ['BertForTokenClassification'] }, 'architectures'],
      [{ ...bert, hidden_size: '32' }, 'hidden_size'],
    ];
    for (const [hf, field] of cases) {
      let error: unknown;
      try {
        configFromHuggingFace(hf);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(UnsupportedConfigError);
      expect((error as UnsupportedConfigError).field).toBe(field);
      expect((error as Error).message).toContain(field);
    }
    expect(configFromHuggingFace({ ...bert, hidden_act: 'gelu_new' })).toMatchObject({ geluExact: false });
    expect(configFromHuggingFace({ ...bert, architectures: ['BertForMaskedLM'] })).toMatchObject({ lmHead: 'mlm', nClasses: 0 });
    expect(configFromHuggingFace({ ...bert, architectures: ['BertForNextSentencePrediction'] })).toMatchObject({
      lmHead: 'none',
      nClasses: 2,
    });
    expect(
      configFromHuggingFace({ ...bert, architectures: ['BertForSequenceClassification'], id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd' } }),
    ).toMatchObject({ lmHead: 'none', nClasses: 4 });
    const { layer_norm_eps: _eps, type_vocab_size: _types, ...sparse } = bert;
    expect(configFromHuggingFace(sparse)).toMatchObject({ normEps: 1e-12, typeVocabSize: 2 });
  });

  it('refuses to save encoders Hugging Face BERT cannot represent, naming the field', async () => {
    const base: TransformerConfigInput = { vocabSize: 20, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 };
    const cases: Array<[Partial<TransformerConfigInput>, string]> = [
      [{ positional: 'rope' }, 'positional'],
      [{ normPlacement: 'pre' }, 'normPlacement'],
      [{ norm: 'rmsnorm' }, 'norm'],
      [{ ffn: 'geglu' }, 'ffn'],
      [{ bias: false }, 'bias'],
      [{ embeddingNorm: false }, 'embeddingNorm'],
      [{ typeVocabSize: 0 }, 'typeVocabSize'],
      [{ lmHead: 'plain' }, 'lmHead'],
      [{ nClasses: 3 }, 'nClasses'],
    ];
    for (const [change, field] of cases) {
      using bert = BERT.create({ ...base, ...change });
      await expect(saveHuggingFace(bert, join(tmp, 'refused')), field).rejects.toThrow(UnsupportedConfigError);
      await expect(saveHuggingFace(bert, join(tmp, 'refused'))).rejects.toMatchObject({ field });
    }
    using gpt = GPT.create(base);
    await expect(saveHuggingFace(gpt, join(tmp, 'gpt-ok'))).resolves.toBeUndefined(); // decoders still go to GPT-2
  });
});
