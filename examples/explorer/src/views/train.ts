/**
 * Train: the corpus (the built-in grammar by default, or pasted / dropped text), the model and
 * training options, live losses and tokens/s, pause / resume / reset, and streamed generation.
 */
import { grammarCorpus } from 'wasmformer';
import { lineChart } from '../chart';
import type { FromWorker, ModelOptions, TrainOptions } from '../protocol';
import { byId, html, numberParam, state } from '../state';
import type { WorkerClient } from '../worker-client';

const select = (id: string, options: string[], value: string) =>
  `<label>${id} <select id="${id}">${options.map((o) => `<option${o === value ? ' selected' : ''}>${o}</option>`).join('')}</select></label>`;
const number = (id: string, label: string, value: number, step = 1) =>
  `<label>${label} <input id="${id}" type="number" value="${value}" step="${step}" min="${step < 1 ? 0 : 1}"></label>`;

/** The model options as the form holds them now. */
export function modelOptions(): ModelOptions {
  const value = (id: string) => byId<HTMLSelectElement>(id).value;
  const num = (id: string) => Number(byId<HTMLInputElement>(id).value);
  return {
    positional: value('positional') as ModelOptions['positional'],
    norm: value('norm') as ModelOptions['norm'],
    normPlacement: value('placement') as ModelOptions['normPlacement'],
    ffn: value('ffn') as ModelOptions['ffn'],
    nLayer: num('nLayer'),
    nHead: num('nHead'),
    nEmbd: num('nEmbd'),
    blockSize: num('blockSize'),
  };
}

/** The training options as the form holds them now. */
export function trainOptions(): TrainOptions {
  const num = (id: string) => Number(byId<HTMLInputElement>(id).value);
  const maxSteps = num('steps');
  return { batchSize: num('batchSize'), lr: num('lr'), maxSteps, evalEvery: Math.max(1, Math.min(25, Math.floor(maxSteps / 4))) };
}

/** The training text. */
export function corpus(): string {
  return byId<HTMLTextAreaElement>('corpus').value;
}

export function setupTrainView(root: HTMLElement, worker: WorkerClient, attentionPrompt: () => string): void {
  root.append(
    html(`<div>
      <p>A character-level GPT trains here, in a Web Worker, on the text below: the built-in toy grammar, or
      paste your own (or drop a text file on it).</p>
      <textarea id="corpus" spellcheck="false"></textarea>
      <fieldset><legend>model</legend>
        ${select('positional', ['learned', 'rope', 'alibi', 'relative', 'sinusoidal', 'kerple', 'none'], 'rope')}
        ${select('norm', ['layernorm', 'rmsnorm'], 'layernorm')}
        ${select('placement', ['pre', 'post'], 'pre')}
        ${select('ffn', ['gelu', 'relu', 'swiglu', 'geglu', 'reglu'], 'gelu')}
        ${number('nLayer', 'layers', numberParam('nLayer', 2))}
        ${number('nHead', 'heads', numberParam('nHead', 4))}
        ${number('nEmbd', 'width', numberParam('nEmbd', 64))}
        ${number('blockSize', 'block', numberParam('blockSize', 48))}
      </fieldset>
      <fieldset><legend>training</legend>
        ${number('steps', 'steps', numberParam('steps', 600))}
        ${number('batchSize', 'batch', numberParam('batchSize', 16))}
        ${number('lr', 'lr', 0.003, 0.0005)}
        <button id="start">Train</button> <button id="pause" disabled>Pause</button> <button id="reset" disabled>Reset</button>
      </fieldset>
      <pre id="train-status">not started</pre>
      <div id="loss-chart"></div>
      <fieldset><legend>generate</legend>
        <label>prompt <input id="gen-prompt" value="the dog "></label>
        ${number('temperature', 'temperature', 0.8, 0.1)}
        ${number('topK', 'top-k (0 = off)', 0)}
        ${number('topP', 'top-p', 0.95, 0.05)}
        ${number('maxNewTokens', 'tokens', 200)}
        <button id="generate" disabled>Generate</button>
      </fieldset>
      <pre id="generated"></pre>
    </div>`),
  );
  const corpusBox = byId<HTMLTextAreaElement>('corpus');
  corpusBox.value = grammarCorpus({ sentences: 3000, seed: 1 });
  corpusBox.addEventListener('dragover', (event) => event.preventDefault());
  corpusBox.addEventListener('drop', (event) => {
    event.preventDefault();
    const file = event.dataTransfer?.files[0];
    if (file) file.text().then((text) => (corpusBox.value = text));
  });
  const chart = lineChart(byId('loss-chart'), {
    title: 'loss (nats per character)',
    xLabel: 'step',
    yLabel: 'loss',
    series: ['train', 'validation'],
  });
  const status = byId('train-status');
  const [startButton, pauseButton, resetButton, generateButton] = ['start', 'pause', 'reset', 'generate'].map((id) =>
    byId<HTMLButtonElement>(id),
  ) as [HTMLButtonElement, HTMLButtonElement, HTMLButtonElement, HTMLButtonElement];
  let header = '';
  let last = '';

  const redraw = () => {
    const { steps, evals } = state.train;
    const val = new Map(evals.map((e) => [e.step, e.valLoss]));
    chart.set(
      steps.map((s) => s.step),
      [steps.map((s) => s.loss), steps.map((s) => val.get(s.step) ?? null)],
    );
  };

  worker.listen((message: FromWorker) => {
    if (message.type === 'started') {
      state.train.startedAt = performance.now();
      state.train.params = message.params;
      header = `${message.params.toLocaleString()} parameters, ${message.vocab} characters; ${message.trainTokens.toLocaleString()} training / ${message.valTokens.toLocaleString()} validation tokens\n`;
      status.textContent = header;
    } else if (message.type === 'step') {
      state.train.steps.push({ step: message.step, loss: message.loss, tokensPerSec: message.tokensPerSec });
      const val = state.train.evals.at(-1);
      last = `step ${message.step}/${trainOptions().maxSteps}  train loss ${message.loss.toFixed(3)}${val ? `  val loss ${val.valLoss.toFixed(3)}` : ''}  ${Math.round(message.tokensPerSec).toLocaleString()} tokens/s`;
      status.textContent = header + last;
      redraw();
    } else if (message.type === 'eval') {
      state.train.evals.push({ step: message.step, valLoss: message.valLoss });
      redraw();
    } else if (message.type === 'state') {
      state.train.running = message.running;
      pauseButton.textContent = message.running ? 'Pause' : 'Resume';
      pauseButton.disabled = message.done;
      if (message.done) status.textContent = `${header}${last}\ndone`;
    } else if (message.type === 'piece') {
      byId('generated').textContent += message.text;
    } else if (message.type === 'generated') {
      state.train.generated = message.text;
      generateButton.disabled = false;
    } else if (message.type === 'error') {
      status.textContent = message.message;
      generateButton.disabled = false;
    }
  });

  startButton.onclick = () => {
    state.train.steps = [];
    state.train.evals = [];
    redraw();
    startButton.disabled = true;
    pauseButton.disabled = false;
    resetButton.disabled = false;
    generateButton.disabled = false;
    status.textContent = 'starting…';
    worker.send({
      type: 'start',
      text: corpus(),
      model: modelOptions(),
      train: trainOptions(),
      attentionPrompt: attentionPrompt(),
      seed: 1,
    });
  };
  pauseButton.onclick = () => worker.send({ type: state.train.running ? 'pause' : 'resume' });
  resetButton.onclick = () => {
    worker.send({ type: 'pause' });
    state.train.steps = [];
    state.train.evals = [];
    redraw();
    status.textContent = 'reset: change the options and train again';
    startButton.disabled = false;
    pauseButton.disabled = true;
    resetButton.disabled = true;
    generateButton.disabled = true;
  };
  generateButton.onclick = () => {
    const num = (id: string) => Number(byId<HTMLInputElement>(id).value);
    generateButton.disabled = true;
    const prompt = byId<HTMLInputElement>('gen-prompt').value;
    byId('generated').textContent = prompt;
    worker.send({
      type: 'generate',
      sample: { prompt, temperature: num('temperature'), topK: num('topK'), topP: num('topP'), maxNewTokens: num('maxNewTokens') },
    });
  };
}
