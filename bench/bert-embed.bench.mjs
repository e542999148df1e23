// Sentence embeddings per second with the pretrained all-MiniLM-L6-v2 (BERT, 6 layers, 384
// wide; fetched by scripts/fetch-minilm.mjs) on 128-token inputs, mean-pooled and normalised,
// on 1 and 2 threads, against transformers.js on the same model and texts in the same run
// (bench/peers/transformersjs-embed.mjs: its wasm configuration on 1 and 2 threads and its Node
// default, onnxruntime-node, on 2 threads), when that peer's exported model exists.
// Each thread count times the float32 model and an int8 copy of it (a second load of the same
// checkpoint, `bert.quantize({ weights: 'int8' })`) one after the other in the same run; the
// int8 row reports its speed as a ratio to that float32 row. `--no-int8` skips it. The peers
// run with fp32 weights and with transformers.js's 8-bit `dtype: 'q8'` (bench/peer-runs.mjs);
// `--no-q8-peers` skips the q8 ones.
// `node [--experimental-wasm-relaxed-simd on Node 20] bench/bert-embed.bench.mjs [--texts 64] [--batch 16] [--no-peers] [--no-int8]`
// Writes bench/results/bert-embed.jsonl.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WordPieceTokenizer, init, loadHuggingFace, runtimeInfo, setThreadLimit } from '../dist/index.node.js';
import { peerRuns, peersOf } from './peer-runs.mjs';
import { measurements, transformersJsImpl, wasmformerImpl, writeResults } from './results.mjs';
import { fetchMiniLM } from '../scripts/fetch-minilm.mjs';
import { embedTexts } from './embed-texts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const N = Number(arg('texts', 64));
const BATCH = Number(arg('batch', 16));
const TOKENS = 128;
const rows = [];
const record = (row) => rows.push(row);
/** A row in the shared results format (bench/results.mjs). */
const toMeasurements = (r) =>
  measurements(
    'bert-embed',
    {
      case: `all-MiniLM-L6-v2-${r.texts}x${r.tokens}-batch${r.batch}`,
      impl: r.impl === 'wasmformer' ? wasmformerImpl(r.variant) : transformersJsImpl(r.device),
      threads: r.threads,
      variant: r.variant,
      dtype: r.dtype ?? 'float32',
    },
    { embeddings_per_s: r.embeddingsPerSec, seconds: r.seconds },
  );

// Texts of at least 128 tokens (cut to exactly 128 with [CLS] and [SEP]); the same for the peer.
const texts = embedTexts(N);

await init();
const info = runtimeInfo();
const dir = process.env.WASMFORMER_MINILM_DIR ?? fetchMiniLM();
const tokenizer = WordPieceTokenizer.fromVocabTxt(readFileSync(join(dir, 'vocab.txt'), 'utf8'), { lowercase: true });
const bert = await loadHuggingFace(dir);
const models = [{ dtype: 'float32', bert }];
if (!process.argv.includes('--no-int8')) {
  models.push({ dtype: 'int8', bert: (await loadHuggingFace(dir)).quantize({ weights: 'int8' }) });
}
const lengths = texts.map((t) => Math.min(TOKENS, tokenizer.encode(t).inputIds.length));
if (lengths.some((l) => l !== TOKENS)) throw new Error('every text should fill 128 tokens');

for (const threads of [1, 2].filter((t) => t <= info.threads)) {
  setThreadLimit(threads);
  for (const { dtype, bert } of models) measure(bert, dtype, threads);
}
setThreadLimit(info.threads);
for (const { bert } of models) bert.dispose();

/** Times `bert` embedding the texts on `threads` threads and records a row. */
function measure(bert, dtype, threads) {
  bert.embed(tokenizer, texts.slice(0, BATCH), { normalize: true, maxLength: TOKENS, batchSize: BATCH }); // warm-up
  const t0 = performance.now();
  const vectors = bert.embed(tokenizer, texts, { normalize: true, maxLength: TOKENS, batchSize: BATCH });
  const seconds = (performance.now() - t0) / 1000;
  record({
    impl: 'wasmformer',
    variant: info.variant,
    dtype,
    threads,
    texts: N,
    tokens: TOKENS,
    batch: BATCH,
    seconds,
    embeddingsPerSec: N / seconds,
    first: Array.from(vectors[0].subarray(0, 4)),
  });
  console.error(`[bert-embed] wasmformer ${info.variant} ${dtype} ${threads}t: ${(N / seconds).toFixed(1)} embeddings/s`);
}

const peerModel = join(root, 'bench', '.cache', 'minilm-onnx');
if (process.argv.includes('--no-peers')) {
  console.error('[bert-embed] peers skipped (--no-peers)');
} else if (!existsSync(join(peerModel, 'config.json'))) {
  console.error(`[bert-embed] transformers.js skipped: no exported model in ${peerModel} (see scripts/fixtures/README.md)`);
} else {
  for (const [device, threads, dtype] of peerRuns(peerModel, 'bert-embed')) {
    const peer = spawnSync(
      'node',
      [
        join(root, 'bench', 'peers', 'transformersjs-embed.mjs'),
        '--device',
        device,
        '--threads',
        String(threads),
        '--dtype',
        dtype,
        '--texts',
        String(N),
        '--batch',
        String(BATCH),
        '--model',
        peerModel,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60 * 1000 },
    );
    const line = peer.stdout.trim().split('\n').at(-1) ?? '';
    if (peer.status !== 0 || !line.startsWith('{')) {
      console.error(`[bert-embed] transformers.js ${device}/${threads}t ${dtype} failed (exit ${peer.status})`);
      continue;
    }
    record({ ...JSON.parse(line), impl: 'transformers.js', variant: device === 'cpu' ? 'onnxruntime-node' : 'onnxruntime-web' });
  }
}

const ours = rows.filter((r) => r.impl === 'wasmformer');
const peers = rows.filter((r) => r.impl !== 'wasmformer');
console.log(`\nall-MiniLM-L6-v2, ${N} texts × ${TOKENS} tokens, batch ${BATCH}, mean pooling + normalisation. Embeddings/s:`);
for (const r of rows) {
  const label = `${r.impl} ${r.variant}${r.dtype ? ` ${r.dtype}` : ''}${r.threads ? ` ${r.threads}t` : ''}`.padEnd(48);
  const float32 = ours.find((o) => o.dtype === 'float32' && o.threads === r.threads);
  const vsFloat32 =
    r.dtype === 'int8' && float32 ? [`${(r.embeddingsPerSec / float32.embeddingsPerSec).toFixed(2)}× float32 ${r.threads}t`] : [];
  const ratios =
    r.impl === 'wasmformer'
      ? [
          ...vsFloat32,
          ...peersOf(r, peers).map(
            (p) => `${(r.embeddingsPerSec / p.embeddingsPerSec).toFixed(2)}× ${p.variant} ${p.dtype}${p.threads ? ` ${p.threads}t` : ''}`,
          ),
        ].join(', ')
      : '';
  console.log(`  ${label} ${r.embeddingsPerSec.toFixed(1).padStart(7)}  ${ratios}`);
}
writeResults('bert-embed', rows.flatMap(toMeasurements));
