// Load a saved GPT and generate from it: sampling options, batches, streaming, logits and
// attention maps. Run after gpt-quickstart.mjs: node examples/gpt-generate.mjs [checkpoint dir]
import { init, loadCheckpoint } from 'wasmformer';

await init();
const { model: gpt, tokenizer } = await loadCheckpoint(process.argv[2] ?? 'runs/quickstart');

// Token ids in, token ids out (prompt + new tokens), over a KV cache.
const ids = gpt.generate(tokenizer.encode('the cat '), {
  maxNewTokens: 50,
  temperature: 0.8,
  topK: 20,
  topP: 0.95,
  repetitionPenalty: 1.1,
  seed: 1,
  stopTokens: Array.from(tokenizer.encode('.')), // end at a full stop (kept in the output)
});
console.log(tokenizer.decode(ids));

// Several prompts of different lengths decode together; temperature 0 is greedy.
const greedy = gpt.generateBatch([tokenizer.encode('a bird '), tokenizer.encode('the old farmer ')], { maxNewTokens: 30, temperature: 0 });
for (const out of greedy) console.log(tokenizer.decode(out));

// The continuation as text pieces, as they are generated (an async iterator); it stops before
// a stop string.
process.stdout.write('the girl ');
for await (const piece of gpt.stream(tokenizer, 'the girl ', { maxNewTokens: 50, stop: ['\n'], seed: 2 })) {
  process.stdout.write(piece);
}
process.stdout.write('\n');

// One sequence in, [T, V] logits out; the most likely next character after "the dog":
const prompt = tokenizer.encode('the dog');
const logits = gpt.logits(prompt); // Float32Array of T × V
const last = logits.subarray((prompt.length - 1) * gpt.config.vocabSize);
console.log('next after "the dog":', JSON.stringify(tokenizer.decode([last.indexOf(Math.max(...last))])));

// Attention maps of a prompt (every layer and head, dropout off).
const att = gpt.attentionWeights(tokenizer.encode('the dog ran'));
const map = att.at(0, 1); // layer 0, head 1: [T, T]; row i = query token, column j = key token
console.log(`layer 0 head 1: token 1 attends ${map[att.seqLen + 0].toFixed(2)} to token 0`);
gpt.dispose();
