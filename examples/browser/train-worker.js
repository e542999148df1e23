// Trains in a Web Worker: the page stays responsive, and when the page is cross-origin
// isolated the threaded build runs here on a pool of nested workers.
import { init, runtimeInfo, GPT, Trainer, CharTokenizer, TokenDataset, wasmMemoryBytes } from '/dist/index.browser.js';

self.onmessage = async ({ data }) => {
  try {
    const info = await init({ threads: Math.min(navigator.hardwareConcurrency || 1, 8) });
    const tokenizer = CharTokenizer.fromText(data.text);
    const { train, val } = TokenDataset.split(tokenizer.encode(data.text), 0.1);
    const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, ...data.model });
    const trainer = new Trainer(gpt, { train, val }, data.trainer);
    postMessage({ type: 'start', info: runtimeInfo(), params: gpt.numParams, memory: trainer.memory, vocab: tokenizer.vocabSize });
    trainer.on('step', (e) => postMessage({ type: 'step', ...e }));
    trainer.on('eval', (e) => postMessage({ type: 'eval', ...e }));
    const result = await trainer.fit();
    const prompt = tokenizer.encode(
      data.prompt && [...data.prompt].every((c) => tokenizer.vocab.includes(c)) ? data.prompt : data.text.slice(0, 1),
    );
    const sample = tokenizer.decode(gpt.generate(prompt, { maxNewTokens: 300, temperature: 0.8, seed: 1, contextOverflow: 'slide' }));
    postMessage({ type: 'done', result, sample, history: trainer.history, wasmMemory: wasmMemoryBytes(), threads: info.threads });
    gpt.dispose();
  } catch (error) {
    postMessage({ type: 'error', message: `${error.name}: ${error.message}` });
  }
};
