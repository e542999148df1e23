/**
 * The training worker: loads wasmformer (the threaded build when the page is cross-origin
 * isolated), trains a character-level GPT one step at a time, and between steps answers the
 * page's requests (pause, attention maps, generation, RoPE scores). The page never computes.
 */
import { CharTokenizer, GPT, init, kernels, type RuntimeInfo, runtimeInfo, TokenDataset, Trainer } from 'wasmformer';
import { contextLoss, fullValidation } from './context-loss';
import { alibiSlopes } from './encodings';
import type { AttentionData, EncodingData, FromWorker, ModelOptions, RopeRequest, SampleOptions, ToWorker, TrainOptions } from './protocol';

interface Run {
  gpt: GPT;
  tokenizer: CharTokenizer;
  trainer: Trainer;
  model: ModelOptions;
  train: TrainOptions;
  attentionPrompt: string;
  /** `[N]` validation tokens. */
  val: Int32Array;
  /** Where to measure the validation loss when training ends (empty: nowhere). */
  contextLengths: number[];
  running: boolean;
  /** The generation in progress: training waits for it, and a new run ends it before disposing the model. */
  generation?: Promise<void>;
  stop: AbortController;
}

let run: Run | undefined;
// A `compare` worker (several run side by side) computes on one thread; the main one on all cores.
const threads = self.name === 'compare' ? 1 : Math.min(navigator.hardwareConcurrency || 1, 8);
const ready: Promise<RuntimeInfo> = init({ threads });
/** The last time attention maps were sent, so they refresh a few times a second at most. */
let attentionSentAt = 0;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  postMessage(message, { transfer });
}

/** Lets queued messages (pause, generate, …) in between two training steps. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function postState(r: Run): void {
  post({ type: 'state', running: r.running, step: r.trainer.step, done: r.trainer.step >= r.train.maxSteps });
}

/** Characters of `text` the tokenizer knows (a prompt may hold characters the corpus has not). */
function known(r: Run, text: string): string {
  return [...text].filter((ch) => r.tokenizer.vocab.includes(ch)).join('');
}

function attention(r: Run, prompt: string): void {
  const text = known(r, prompt).slice(0, r.model.blockSize) || r.tokenizer.vocab[0] || ' ';
  const ids = r.tokenizer.encode(text);
  const att = r.gpt.attentionWeights(ids);
  const data: AttentionData = {
    step: r.trainer.step,
    tokens: [...text],
    nLayer: att.nLayer,
    nHead: att.nHead,
    causal: r.gpt.config.causal,
    weights: att.weights,
  };
  post({ type: 'attention', data }, [att.weights.buffer]);
  attentionSentAt = performance.now();
}

async function trainLoop(r: Run): Promise<void> {
  while (r === run && r.running && r.trainer.step < r.train.maxSteps) {
    if (!r.generation) {
      const e = r.trainer.trainStep();
      post({ type: 'step', step: e.step, loss: e.loss, tokensPerSec: e.tokensPerSec, lr: e.lr });
      if (e.step % r.train.evalEvery === 0 || e.step === r.train.maxSteps) {
        post({ type: 'eval', step: e.step, valLoss: r.trainer.evaluate('val', 4) });
      }
      if (performance.now() - attentionSentAt > 400 || e.step === r.train.maxSteps) attention(r, r.attentionPrompt);
    }
    await nextTask();
  }
  if (r === run) {
    r.running = false;
    if (r.trainer.step >= r.train.maxSteps && r.contextLengths.length > 0) postContext(r);
    postState(r);
  }
}

/** The validation loss at every asked context length that the validation split can fill. */
function postContext(r: Run): void {
  const points = r.contextLengths
    .filter((len) => len <= r.model.blockSize && len + 1 <= r.val.length)
    .map((len) => ({ len, loss: contextLoss(r.gpt, r.val, { len, batchSize: 8 }) }));
  post({ type: 'context', step: r.trainer.step, points });
}

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  await ready;
  const previous = run;
  run = undefined;
  if (previous) {
    previous.running = false;
    previous.stop.abort();
    await previous.generation?.catch(() => undefined);
    previous.gpt.dispose();
  }
  const tokenizer = CharTokenizer.fromText(message.text);
  const { train, val } = TokenDataset.split(tokenizer.encode(message.text), 0.1);
  const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, ...message.model }, { seed: message.seed });
  const contextLengths = message.contextLengths ?? [];
  const trainer = new Trainer(
    gpt,
    { train, val: contextLengths.length > 0 ? fullValidation(val) : val },
    {
      batchSize: message.train.batchSize,
      seqLen: message.train.seqLen,
      maxSteps: message.train.maxSteps,
      lr: message.train.lr,
      warmupSteps: Math.min(20, message.train.maxSteps),
      seed: message.seed,
    },
  );
  const r: Run = {
    gpt,
    tokenizer,
    trainer,
    model: message.model,
    train: message.train,
    attentionPrompt: message.attentionPrompt,
    val,
    contextLengths,
    running: true,
    stop: new AbortController(),
  };
  run = r;
  post({ type: 'started', params: gpt.numParams, vocab: tokenizer.vocabSize, trainTokens: train.length, valTokens: val.length });
  postState(r);
  attention(r, r.attentionPrompt);
  await trainLoop(r);
}

async function generate(r: Run, sample: SampleOptions): Promise<void> {
  if (r.generation) return;
  r.generation = streamSample(r, sample);
  try {
    await r.generation;
  } finally {
    r.generation = undefined;
  }
}

async function streamSample(r: Run, sample: SampleOptions): Promise<void> {
  const prompt = known(r, sample.prompt) || r.tokenizer.vocab[0] || ' ';
  let text = '';
  const stream = r.gpt.stream(r.tokenizer, prompt, {
    maxNewTokens: sample.maxNewTokens,
    temperature: sample.temperature,
    topK: sample.topK > 0 ? Math.min(sample.topK, r.tokenizer.vocabSize) : undefined,
    topP: sample.topP,
    seed: r.trainer.step,
    contextOverflow: 'slide',
    signal: r.stop.signal,
  });
  for await (const piece of stream) {
    text += piece;
    post({ type: 'piece', text: piece });
  }
  post({ type: 'generated', text: prompt + text });
}

function encoding(r: Run): EncodingData {
  const { positional, nHead, nEmbd, blockSize } = r.gpt.config;
  if (positional === 'learned' || positional === 'sinusoidal') {
    // Learned: the trained wpe table. Sinusoidal: the fixed table the model adds (√C-scaled tokens + sinusoid).
    const vectors = positional === 'learned' ? r.gpt.getWeights().get('transformer.wpe.weight')!.data : sinusoids(blockSize, nEmbd);
    return { kind: 'vectors', positional, blockSize, nEmbd, vectors };
  }
  if (positional === 'alibi') return { kind: 'alibi', positional, slopes: alibiSlopes(nHead) };
  if (positional === 'kerple') {
    // Stored as ρ, [2, H]; the rates are softplus(ρ) (the core's kerple.rs).
    const rho = r.gpt.getWeights().get('transformer.kerple.weight')!.data;
    const softplus = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x)));
    const rates = (row: number) => Array.from({ length: nHead }, (_, h) => softplus(rho[row * nHead + h]!));
    return { kind: 'kerple', positional, r1: rates(0), r2: rates(1) };
  }
  if (positional === 'relative') {
    const table = r.gpt.getWeights().get('transformer.rel_bias.weight')!.data;
    return { kind: 'relative', positional, buckets: r.gpt.config.relativeBuckets, nHead, table };
  }
  if (positional === 'rope') return { kind: 'rope', positional, headDim: nEmbd / nHead, base: r.gpt.config.ropeBase };
  return { kind: 'none', positional };
}

/** `[T, C]` Vaswani et al.'s sinusoids: sin at even, cos at odd dims, wavelengths 2π … 10000·2π. */
function sinusoids(t: number, c: number): Float32Array {
  const out = new Float32Array(t * c);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < c; i += 2) {
      const angle = p / 10000 ** (i / c);
      out[p * c + i] = Math.sin(angle);
      if (i + 1 < c) out[p * c + i + 1] = Math.cos(angle);
    }
  }
  return out;
}

/**
 * The RoPE clock's scores with the package's own rope kernel: a random q and k (seeded) placed
 * at every position 0 … P−1, rotated there, and every pair's dot product.
 */
function ropeScores(request: RopeRequest): Float32Array {
  const { headDim: d, base, factor, positions: p, seed } = request;
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const q = Array.from({ length: d }, random);
  const k = Array.from({ length: d }, random);
  const tile = (v: number[]) => {
    const x = new Float32Array(p * d);
    for (let i = 0; i < p; i++) x.set(v, i * d);
    return x;
  };
  const scaling = factor === 1 ? null : { type: 'linear' as const, factor };
  const rq = kernels.rope(tile(q), { b: 1, t: p, h: 1, d, base, scaling });
  const rk = kernels.rope(tile(k), { b: 1, t: p, h: 1, d, base, scaling });
  const scores = new Float32Array(p * p);
  for (let m = 0; m < p; m++) {
    for (let n = 0; n < p; n++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += rq[m * d + i]! * rk[n * d + i]!;
      scores[m * p + n] = dot;
    }
  }
  return scores;
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'start') return start(message);
  if (message.type === 'rope') {
    await ready;
    const scores = ropeScores(message.rope);
    post({ type: 'rope', data: { request: message.rope, scores } }, [scores.buffer]);
    return;
  }
  const r = run;
  if (!r) return;
  if (message.type === 'pause') {
    r.running = false;
    postState(r);
  } else if (message.type === 'resume' && !r.running) {
    r.running = true;
    postState(r);
    await trainLoop(r);
  } else if (message.type === 'generate') {
    await generate(r, message.sample);
  } else if (message.type === 'attention') {
    r.attentionPrompt = message.prompt;
    attention(r, message.prompt);
  } else if (message.type === 'encoding') {
    post({ type: 'encoding', data: encoding(r) });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  handle(event.data).catch((error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'error', message: `${e.name}: ${e.message}` });
  });
};

ready.then(
  () => post({ type: 'runtime', info: runtimeInfo() }),
  (error: unknown) => post({ type: 'error', message: `init failed: ${String(error)}` }),
);
