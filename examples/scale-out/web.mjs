// The trained model in a web page, which has no file system: fetch the files save_pretrained
// wrote (served next to the page) and build the model from them, as loadHuggingFace does from a
// directory in Node. Use it from a module script, after `await init()`:
//   const { gpt, tokenizer } = await loadFromUrl(new URL('trained/', location.href));
//   output.textContent = await gpt.generateText(tokenizer, 'ROMEO:', { maxNewTokens: 40 });
import { BpeTokenizer, GPT, configFromHuggingFace, readSafetensors, weightsFromHuggingFace } from 'wasmformer';

/** Loads the GPT and tokenizer of a save_pretrained directory served at `baseUrl` (ending in `/`). */
export async function loadFromUrl(baseUrl) {
  const get = async (name) => {
    const response = await fetch(new URL(name, baseUrl));
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return response;
  };
  const hf = await (await get('config.json')).json(); // model_type 'gpt2' or 'llama'
  const gpt = GPT.create(configFromHuggingFace(hf));
  const file = readSafetensors(new Uint8Array(await (await get('model.safetensors')).arrayBuffer()), 'model.safetensors', {
    skipNonFloat: true,
  });
  const tensors = new Map([...file.tensors, ...(file.skipped ?? []).map((name) => [name, null])]); // null: an integer buffer
  gpt.setWeights(weightsFromHuggingFace(hf.model_type, gpt.config, gpt.paramSpecs, tensors));
  const tokenizer = BpeTokenizer.fromHuggingFace(await (await get('tokenizer.json')).json());
  return { gpt, tokenizer };
}
