// Step 1 of 3 of the scale-out path (docs/scale-out.md): a GPT trained in wasmformer, exported in
// the Hugging Face layout for PyTorch to train on.
//   - trains a byte-level BPE tokenizer and a GPT-2-shaped model on Tiny Shakespeare for a while;
//   - writes config.json + model.safetensors (saveHuggingFace) and tokenizer.json, vocab.json,
//     merges.txt (saveBpeTokenizer): a directory `AutoModelForCausalLM.from_pretrained` and
//     `PreTrainedTokenizerFast(tokenizer_file=…)` read;
//   - records the corpus and the held-out windows in scale-out.json, and prints the held-out loss.
// Run from the repository root:
//   node examples/scale-out/export.mjs [--out runs/scale-out/exported] [--data file.txt] [--tiny]
// --tiny: a tiny model, 4,000 lines and 20 steps (≈ 10 s; what the test runs).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BpeTokenizer, GPT, Trainer, init, saveBpeTokenizer, saveHuggingFace } from 'wasmformer';
import { heldOutLoss, readText, splitIds } from './heldout.mjs';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/scale-out/exported' },
    data: { type: 'string', default: 'data/tinyshakespeare.txt' },
    tiny: { type: 'boolean', default: false },
  },
});
const setup = args.tiny
  ? { data: args.data, lines: 4000, blockSize: 32, windows: 16 }
  : { data: args.data, lines: null, blockSize: 64, windows: 64 };
const size = args.tiny
  ? { vocabSize: 320, nLayer: 2, nHead: 2, nEmbd: 32, steps: 20 }
  : { vocabSize: 1024, nLayer: 4, nHead: 4, nEmbd: 128, steps: 300 };

await init();
const text = await readText(setup);
const tokenizer = BpeTokenizer.train(text, { vocabSize: size.vocabSize, specialTokens: ['<|endoftext|>'] });
const { train, heldOut } = splitIds(tokenizer.encode(text), setup);

// GPT's defaults are GPT-2's architecture (learned positions, pre-LayerNorm, GELU, biases, tied
// embeddings), so the model saves as a Hugging Face GPT2LMHeadModel.
const gpt = GPT.create(
  { vocabSize: tokenizer.vocabSize, blockSize: setup.blockSize, nLayer: size.nLayer, nHead: size.nHead, nEmbd: size.nEmbd },
  { seed: 1 },
);
const trainer = new Trainer(
  gpt,
  { train },
  {
    batchSize: 12,
    maxSteps: size.steps,
    lr: 2e-3,
    warmupSteps: Math.min(50, size.steps),
    beta2: 0.99,
    weightDecay: 0.1,
    gradClip: 1,
    seed: 1,
  },
);
trainer.on('step', (e) => {
  if (e.step % 100 === 0) console.log(`step ${e.step}: loss ${e.loss.toFixed(4)}`);
});
const fit = await trainer.fit();
console.log(`trained in wasmformer: ${fit.steps} steps, ${gpt.numParams} parameters, vocabulary ${tokenizer.vocabSize}`);

await saveHuggingFace(gpt, args.out, { extraConfig: { bos_token_id: 0, eos_token_id: 0 } }); // id 0 = <|endoftext|>
await saveBpeTokenizer(args.out, tokenizer);
await writeFile(join(args.out, 'scale-out.json'), `${JSON.stringify(setup, null, 2)}\n`);
console.log(`held-out loss, wasmformer: ${heldOutLoss(gpt, heldOut).toFixed(6)}`);
console.log(`exported to ${args.out}`);
gpt.dispose();
