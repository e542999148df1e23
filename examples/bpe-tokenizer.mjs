// Train a byte-level BPE tokenizer (GPT-2's scheme), encode and decode, and save it in the
// Hugging Face formats. Run: node examples/bpe-tokenizer.mjs [text file]
import { readFile } from 'node:fs/promises';
import { BpeTokenizer, loadBpeTokenizer, saveBpeTokenizer } from 'wasmformer';

const text = await readFile(process.argv[2] ?? 'data/tinyshakespeare.txt', 'utf8');
const tok = BpeTokenizer.train(text, { vocabSize: 1024, specialTokens: ['<|endoftext|>'] });
const ids = tok.encode('To be, or not to be<|endoftext|>'); // Int32Array
console.log(Array.from(ids).join(' '));
console.log(tok.decode(ids)); // 'To be, or not to be<|endoftext|>'

await saveBpeTokenizer('runs/tok', tok); // tokenizer.json + vocab.json + merges.txt (Node only)
const again = await loadBpeTokenizer('runs/tok'); // also reads GPT-2's, Llama-3's or Mistral's tokenizer.json
console.log(
  again.encode('To be, or not to be').join() === tok.encode('To be, or not to be').join() ? 'reloaded: same ids' : 'reloaded: ids differ',
);
