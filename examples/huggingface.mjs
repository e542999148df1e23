// Export a wasmformer GPT in the Hugging Face layout and load it back; load a checkpoint from
// the Hugging Face Hub the same way.
// Run after gpt-quickstart.mjs: node examples/huggingface.mjs [Hub model dir]
//   A Hub model dir holds config.json, model.safetensors and tokenizer.json (GPT-2 or Llama
//   family), e.g. from `huggingface-cli download openai-community/gpt2 config.json
//   model.safetensors tokenizer.json --local-dir gpt2`.
import { init, loadBpeTokenizer, loadCheckpoint, loadHuggingFace, saveHuggingFace } from 'wasmformer';

await init();
const { model, tokenizer } = await loadCheckpoint('runs/quickstart');
await saveHuggingFace(model, 'runs/quickstart-hf'); // config.json + model.safetensors (GPT-2 layout)
// In Python: AutoModelForCausalLM.from_pretrained('runs/quickstart-hf') loads it.

const loaded = await loadHuggingFace('runs/quickstart-hf'); // a GPT for gpt2 / llama, a BERT for bert
const prompt = tokenizer.encode('the dog ');
const greedy = { maxNewTokens: 40, temperature: 0 };
const [a, b] = [model.generate(prompt, greedy), loaded.generate(prompt, greedy)];
console.log(tokenizer.decode(b));
console.log(a.join() === b.join() ? 'round trip: same greedy tokens' : 'round trip: tokens differ');

const hub = process.argv[2];
if (hub) {
  const gpt = await loadHuggingFace(hub);
  const hubTokenizer = await loadBpeTokenizer(hub); // tokenizer.json, or vocab.json + merges.txt
  console.log(`${gpt.config.nLayer} layers, ${gpt.numParams} parameters`);
  console.log(await gpt.generateText(hubTokenizer, 'Hello, I am', { maxNewTokens: 20, temperature: 0 }));
}
