// Byte-level BPE throughput (pure TypeScript, no wasm): training time on a text, then encode
// and decode speed of that text in MB/s (MB = 10^6 UTF-8 bytes). "cold" encodes with a fresh
// tokenizer (empty pre-token cache: what a first call costs), "warm" re-encodes with the same
// tokenizer (cache filled). Medians of 5 runs after a warm-up; not a test.
// `node bench/tokenizer.bench.mjs [--data file.txt] [--vocab-size 4096] [--tokenizer tokenizer.json]`
// Default data: data/tinyshakespeare.txt (1.1 MB, shipped), read at run time. With
// --tokenizer, also times a Hugging Face tokenizer.json (e.g. GPT-2's, 50,257 tokens).
// Prints one JSON line per measurement.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BpeTokenizer } from '../dist/index.node.js';
import { SHAKESPEARE, readCorpus } from './data.mjs';

const { values } = parseArgs({
  options: { data: { type: 'string' }, 'vocab-size': { type: 'string' }, tokenizer: { type: 'string' } },
});
const dataPath = values.data === undefined ? SHAKESPEARE : resolve(values.data);
const text = readCorpus(dataPath);
const mb = Buffer.byteLength(text, 'utf8') / 1e6;
const vocabSize = Number(values['vocab-size'] ?? 4096);

function median(samples) {
  return [...samples].sort((a, b) => a - b)[samples.length >> 1];
}

function seconds(call) {
  const start = performance.now();
  const result = call();
  return [(performance.now() - start) / 1000, result];
}

function report(row) {
  console.log(JSON.stringify({ bench: 'tokenizer', data: dataPath, mb: Number(mb.toFixed(3)), ...row }));
}

function benchEncodeDecode(name, tokenizer) {
  const json = tokenizer.toJSON();
  const cold = [];
  let ids;
  for (let r = 0; r < 6; r++) {
    const fresh = BpeTokenizer.fromJSON(json);
    const [s, out] = seconds(() => fresh.encode(text));
    if (r > 0) cold.push(s); // the first run warms up the JIT
    ids = out;
  }
  const warm = [];
  for (let r = 0; r < 6; r++) {
    const [s] = seconds(() => tokenizer.encode(text));
    if (r > 0) warm.push(s);
  }
  const decode = [];
  let back = '';
  for (let r = 0; r < 6; r++) {
    const [s, out] = seconds(() => tokenizer.decode(ids));
    if (r > 0) decode.push(s);
    back = out;
  }
  if (back !== text) throw new Error(`${name}: decode(encode(text)) differs from the text`);
  const row = (pass, samples) => {
    const s = median(samples);
    report({
      tokenizer: name,
      vocab: tokenizer.vocabSize,
      pass,
      seconds: Number(s.toFixed(4)),
      mb_per_s: Number((mb / s).toFixed(2)),
      tokens: ids.length,
    });
  };
  row('encode-cold', cold);
  row('encode-warm', warm);
  row('decode', decode);
}

const [trainSeconds, trained] = seconds(() => BpeTokenizer.train(text, { vocabSize, specialTokens: ['<|endoftext|>'] }));
report({ tokenizer: `trained-${vocabSize}`, pass: 'train', seconds: Number(trainSeconds.toFixed(3)), merges: trained.merges.length });
benchEncodeDecode(`trained-${vocabSize}`, trained);

if (values.tokenizer) {
  const hf = BpeTokenizer.fromHuggingFace(JSON.parse(readFileSync(values.tokenizer, 'utf8')));
  benchEncodeDecode(values.tokenizer, hf);
}
