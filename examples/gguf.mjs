// Load a llama.cpp GGUF file (Llama family or GPT-2; F32, F16 or Q8_0 tensors) and generate
// with float32 weights and with int8 weights that keep a Q8_0 file's values (blockSize 32).
// Run: node examples/gguf.mjs model.gguf [token ids of the prompt…]
import { init, loadGgufFile } from 'wasmformer';

await init();
const [file, ...ids] = process.argv.slice(2);
if (!file) throw new Error('usage: node examples/gguf.mjs model.gguf [prompt token ids…]');
const prompt = ids.length > 0 ? ids.map(Number) : [1, 2, 3];
const greedy = { maxNewTokens: 16, temperature: 0 };

const gpt = await loadGgufFile(file); // Q8_0 is dequantised exactly to float32
console.log(`${gpt.config.nLayer} layers, ${gpt.numParams} parameters, positional ${gpt.config.positional}`);
const float32 = gpt.generate(prompt, greedy);

gpt.quantize({ weights: 'int8', blockSize: 32 }); // one scale per 32 weights: Q8_0's own layout
const int8 = gpt.generate(prompt, greedy);
console.log(`float32: ${Array.from(float32).join(' ')}`);
console.log(`int8:    ${Array.from(int8).join(' ')}`);
const same = float32.filter((t, i) => t === int8[i]).length;
console.log(`${same} of ${float32.length} tokens agree; int8 weights ${(gpt.quantizedBytes / 2 ** 20).toFixed(2)} MiB`);
gpt.dispose();
