// Peer for bench/bert-embed.bench.mjs: sentence embeddings of the pretrained all-MiniLM-L6-v2
// (mean pooling + L2 normalisation, 128-token inputs) in transformers.js, from the ONNX export
// that scripts/fixtures/export_minilm_onnx.py writes to bench/.cache/minilm-onnx/ (not committed).
//
// Usage: node bench/peers/transformersjs-embed.mjs --device wasm|cpu --threads N [--dtype fp32|q8]
//          [--texts 64] [--batch 16] [--model bench/.cache/minilm-onnx] [--keep-truncation]
// Prints ONE JSON line on stdout (logs go to stderr):
//   { impl, device, threads, texts, tokens, batch, seconds, embeddingsPerSec, first,
//     referenceCosine, dtype, transformersJs, ort }
// Texts: embedTexts(texts) from bench/embed-texts.mjs (the ones our side embeds). After one
// untimed batch (warm-up), all texts are embedded in batches of `batch`, timed end to end
// (tokenisation, the ONNX session, pooling, normalisation), like bench/bert-embed.bench.mjs
// times bert.embed(). first: the first 4 values of text 0's embedding. referenceCosine: cosines
// of the embeddings of texts 0 and 1 with PyTorch's in <model>/reference.json (null if absent).
// Exit code 2 with a message on stderr when the exported model is missing.
//
// dtype: 'fp32' loads onnx/model.onnx, 'q8' onnx/model_quantized.onnx (transformers.js's 8-bit
// default on WebAssembly: ONNX Runtime's dynamic quantisation, scripts/fixtures/onnx_q8.py).
// What runs: AutoTokenizer + AutoModel (BertModel), then
// transformers.js's own mean_pooling and Tensor.normalize — exactly what its 'feature-extraction'
// pipeline does with { pooling: 'mean', normalize: true }, except that the pipeline always
// tokenises with the model's max length (512) and has no max_length option, while this benchmark
// cuts every text to 128 tokens (tokenizer(texts, { padding: true, truncation: true, max_length: 128 })).
// transformers.js's truncation drops the final [SEP] of a cut text, unlike Python's tokenizers;
// the peer puts it back (see restoreFinalSep) unless --keep-truncation (then the cosines with
// PyTorch's embeddings fall to ≈ 0.998).
//
// Devices (@huggingface/transformers 4.3): as in bench/peers/transformersjs-decode.mjs —
// - cpu: transformers.js's Node default, onnxruntime-node (native). --threads N > 0 sets the
//   session's intraOpNumThreads; 0 leaves ONNX Runtime's default (one per physical core).
// - wasm: onnxruntime-web (transformers.js's own dependency) handed to it through
//   globalThis[Symbol.for('onnxruntime')] before importing it; wasm execution provider with
//   env.backends.onnx.wasm.numThreads = N, its files loaded from node_modules (no CDN).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadTransformersJs } from './transformersjs-setup.mjs';
import { embedTexts } from '../embed-texts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '1' },
    texts: { type: 'string', default: '64' },
    batch: { type: 'string', default: '16' },
    dtype: { type: 'string', default: 'fp32' },
    model: { type: 'string', default: join(root, 'bench', '.cache', 'minilm-onnx') },
    'keep-truncation': { type: 'boolean', default: false },
  },
});
const device = values.device;
const dtype = values.dtype;
const threads = Number(values.threads);
const n = Number(values.texts);
const batch = Number(values.batch);
const modelDir = resolve(values.model);
const TOKENS = 128;
const log = (msg) => console.error(`[transformers.js ${device}] ${msg}`);

if (device !== 'wasm' && device !== 'cpu') throw new Error(`--device must be wasm or cpu, got "${device}"`);
if (dtype !== 'fp32' && dtype !== 'q8') throw new Error(`--dtype must be fp32 or q8, got "${dtype}"`);
const graph = dtype === 'q8' ? 'model_quantized.onnx' : 'model.onnx';
if (!(Number.isInteger(threads) && threads >= 0)) throw new Error('--threads must be an integer ≥ 0');
if (device === 'wasm' && threads < 1) throw new Error('--threads must be ≥ 1 for device wasm');
if (!(Number.isInteger(n) && n >= 2 && Number.isInteger(batch) && batch >= 1)) throw new Error('need --texts ≥ 2, --batch ≥ 1');
if (
  !existsSync(join(modelDir, 'onnx', graph)) ||
  !existsSync(join(modelDir, 'config.json')) ||
  !existsSync(join(modelDir, 'tokenizer.json'))
) {
  console.error(
    `[transformers.js] no exported model in ${modelDir} (onnx/${graph}, config.json, tokenizer.json); make it with ` +
      '`node scripts/fetch-minilm.mjs && python scripts/fixtures/export_minilm_onnx.py` (requirements: scripts/fixtures/requirements-onnx.txt)',
  );
  process.exit(2);
}

const { tjs, loadOptions, tjsVersion, ortVersion } = await loadTransformersJs(device, threads, modelDir);
const { AutoModel, AutoTokenizer, mean_pooling } = tjs;

let t0 = performance.now();
const name = basename(modelDir);
const tokenizer = await AutoTokenizer.from_pretrained(name);
const model = await AutoModel.from_pretrained(name, { ...loadOptions, dtype });
log(`${ortVersion}, threads ${threads || 'default'}: loaded in ${(performance.now() - t0).toFixed(0)} ms`);

const texts = embedTexts(n);

// transformers.js 4.3.2 truncates after adding the special tokens (truncateHelper cuts every
// array to max_length), so a truncated text loses its final [SEP]; Hugging Face's Python
// tokenizers (and sentence-transformers, and our side) keep it. Unless --keep-truncation, put
// [SEP] back as the last real token of every row that does not end with it (a few int writes
// per batch, no effect on speed), so both sides embed the same 128 tokens.
const restoreSep = !values['keep-truncation'];
const sepId = BigInt(tokenizer.sep_token_id ?? tokenizer.model.tokens_to_ids.get('[SEP]'));
function restoreFinalSep({ input_ids, attention_mask }) {
  const [rows, cols] = input_ids.dims;
  for (let r = 0; r < rows; r++) {
    let last = cols - 1;
    while (last > 0 && attention_mask.data[r * cols + last] === 0n) last--;
    if (input_ids.data[r * cols + last] !== sepId) input_ids.data[r * cols + last] = sepId;
  }
}

/** Normalised mean-pooled embeddings of `chunk` (what the feature-extraction pipeline does, at 128 tokens). */
async function embed(chunk) {
  const inputs = tokenizer(chunk, { padding: true, truncation: true, max_length: TOKENS });
  if (restoreSep) restoreFinalSep(inputs);
  const { last_hidden_state } = await model(inputs);
  const pooled = mean_pooling(last_hidden_state, inputs.attention_mask).normalize(2, -1);
  const tokens = inputs.input_ids.dims[1];
  const [rows, width] = pooled.dims;
  const data = pooled.data;
  const vectors = Array.from({ length: rows }, (_, i) => data.slice(i * width, (i + 1) * width));
  last_hidden_state.dispose?.();
  return { vectors, tokens };
}

t0 = performance.now();
const warm = await embed(texts.slice(0, batch));
if (warm.tokens !== TOKENS) throw new Error(`texts tokenised to ${warm.tokens} tokens, expected ${TOKENS}`);
log(`warm-up (${Math.min(batch, n)} texts) ${(performance.now() - t0).toFixed(0)} ms`);

const vectors = [];
t0 = performance.now();
for (let i = 0; i < n; i += batch) vectors.push(...(await embed(texts.slice(i, i + batch))).vectors);
const seconds = (performance.now() - t0) / 1000;
await model.dispose();
log(`${n} texts in ${seconds.toFixed(3)} s: ${(n / seconds).toFixed(1)} embeddings/s`);

let referenceCosine = null;
const referencePath = join(modelDir, 'reference.json');
if (existsSync(referencePath)) {
  const reference = JSON.parse(readFileSync(referencePath, 'utf8'));
  if (reference.texts?.some((t, i) => t !== texts[i])) throw new Error('reference.json was computed on other texts');
  const cosine = (a, b) => {
    let dot = 0,
      na = 0,
      nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  };
  referenceCosine = reference.embeddings.map((ref, i) => cosine(vectors[i], ref));
  log(`cosine with PyTorch's embeddings (reference.json): ${referenceCosine.map((c) => c.toFixed(7)).join(', ')}`);
}
console.log(
  JSON.stringify({
    impl: 'transformers.js',
    device,
    threads,
    texts: n,
    tokens: TOKENS,
    batch,
    seconds,
    embeddingsPerSec: n / seconds,
    first: Array.from(vectors[0].subarray(0, 4)),
    referenceCosine,
    restoredSep: restoreSep,
    dtype,
    transformersJs: tjsVersion,
    ort: ortVersion,
  }),
);
