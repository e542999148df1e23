// Step 3 of 3 of the scale-out path (docs/scale-out.md): the model PyTorch trained, loaded back
// into wasmformer from its save_pretrained directory, scored on the same held-out windows as
// before, and sampled. loadHuggingFace reads a directory (Node); web.mjs loads the same files in
// a web page.
// Run from the repository root:
//   node examples/scale-out/run.mjs [--model runs/scale-out/trained] [--before runs/scale-out/exported]
import { parseArgs } from 'node:util';
import { GPT, init, loadBpeTokenizer, loadHuggingFace } from 'wasmformer';
import { heldOutLoss, readSetup, readText, splitIds } from './heldout.mjs';

const { values: args } = parseArgs({
  options: { model: { type: 'string', default: 'runs/scale-out/trained' }, before: { type: 'string', default: 'runs/scale-out/exported' } },
});

await init();
const setup = await readSetup(args.model);
const tokenizer = await loadBpeTokenizer(args.model); // tokenizer.json
const { heldOut } = splitIds(tokenizer.encode(await readText(setup)), setup);

/** Loads a Hugging Face directory as a GPT and returns its held-out loss. */
async function lossOf(dir) {
  const model = await loadHuggingFace(dir); // config.json + model.safetensors
  if (!(model instanceof GPT)) throw new Error(`${dir} does not hold a decoder`);
  const loss = heldOutLoss(model, heldOut);
  model.dispose();
  return loss;
}

const before = await lossOf(args.before);
const gpt = await loadHuggingFace(args.model);
if (!(gpt instanceof GPT)) throw new Error(`${args.model} does not hold a decoder`);
const after = heldOutLoss(gpt, heldOut);
console.log(`held-out loss, wasmformer: before ${before.toFixed(6)}, after ${after.toFixed(6)}`);
// Learned positions end at blockSize: the prompt and the new tokens fit in it.
const maxNewTokens = gpt.config.blockSize - tokenizer.encode('ROMEO:').length;
const sample = await gpt.generateText(tokenizer, 'ROMEO:', { maxNewTokens, temperature: 0.8, topK: 40, seed: 1 });
console.log(`sample: ROMEO:${sample}`);
gpt.dispose();
