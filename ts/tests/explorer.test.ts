// The explorer (examples/explorer/), built by Vite as a user's app would build it, in Chromium:
// served cross-origin isolated (the threaded build in the training worker) and plain (one
// thread, and the page says so). Each run trains 20 steps and checks the data behind every
// view: attention rows sum to 1 with the causal mask at 0, RoPE's q·k is the same for every
// shift of both positions, the canvases are drawn, the side-by-side runs finish, no console
// error, and no main-thread task over 200 ms while training. Screenshots of each view go to
// runs/explorer/ (git-ignored).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticServer } from '../../scripts/serve.mjs';
import { ROOT } from './helpers/node.js';
import { launchChromium } from './helpers/chromium.js';

const APP = join(ROOT, 'examples/explorer');
const OUT = join(ROOT, 'runs/explorer');
const BUILT = join(OUT, 'site');
const SHOTS = join(OUT, 'screenshots');
/** A small model, so that 20 steps take a few seconds on one shared core. */
const QUERY = '?autostart&steps=20&nLayer=2&nHead=2&nEmbd=32&blockSize=32&batchSize=8&compareSteps=20&bertSteps=20&orderSteps=20';

/** What the page exposes as `window.__explorer` (examples/explorer/src/state.ts), as far as the test reads it. */
interface Explorer {
  crossOriginIsolated: boolean;
  runtime?: { variant: string; threads: number };
  errors: string[];
  train: {
    running: boolean;
    startedAt?: number;
    steps: { step: number; loss: number; tokensPerSec: number }[];
    evals: { step: number; valLoss: number }[];
    generated?: string;
  };
  attention?: { step: number; tokens: string[]; nLayer: number; nHead: number; causal: boolean; weights: Record<string, number> };
  rope?: { request: { positions: number; headDim: number }; scores: Record<string, number>; maxShiftGap: number };
  positions: {
    positional: string;
    losses: { loss: number }[];
    valLosses: { step: number; loss: number }[];
    encoding?: { kind: string; blockSize?: number; slopes?: number[]; r1?: number[]; r2?: number[] };
    trainLen: number;
    context?: { len: number; loss: number }[];
  }[];
  bert: {
    mlm: { step: number; loss: number }[];
    fill?: {
      text: string;
      candidates: { token: string; score: number }[];
      attention: { tokens: string[]; nLayer: number; nHead: number; causal: boolean; weights: Record<string, number> };
    };
    orderGap: { none?: number; learned?: number };
    order: { step: number; accuracy: number[] }[];
    done: string[];
  };
}

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  // The app's own config (examples/explorer/vite.config.ts), only the output folder moved.
  await build({ root: APP, logLevel: 'error', build: { outDir: BUILT, emptyOutDir: true } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
});

async function open(isolated: boolean): Promise<{ page: Page; consoleErrors: string[] }> {
  const server = staticServer({ isolated, prefixes: ['/'], root: BUILT });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  // Every main-thread task over 50 ms, from the first script on.
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; ms: number }[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longTasks.push({ start: entry.startTime, ms: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const { port } = server.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/${QUERY}`);
  return { page, consoleErrors };
}

const explorer = (page: Page): Promise<Explorer> => page.evaluate(() => (window as unknown as { __explorer: Explorer }).__explorer);

/** Fraction of a canvas's pixels that are not white (0 = nothing drawn). */
/** The fraction of the canvases' pixels that are coloured (not grey): the series' lines, not the axes. */
function colourOf(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    let [coloured, total] = [0, 0];
    for (const canvas of Array.from(document.querySelectorAll<HTMLCanvasElement>(sel))) {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) {
        total += 1;
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured += 1;
      }
    }
    return total === 0 ? 0 : coloured / total;
  }, selector);
}

function inkOf(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const canvases = Array.from(document.querySelectorAll<HTMLCanvasElement>(sel));
    let ink = 0;
    let total = 0;
    for (const canvas of canvases) {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) {
        total += 1;
        if (data[i]! < 240 || data[i + 1]! < 240 || data[i + 2]! < 240) ink += 1;
      }
    }
    return total === 0 ? 0 : ink / total;
  }, selector);
}

async function view(page: Page, name: string): Promise<void> {
  await page.click(`button[data-view=${name}]`);
}

async function checkExplorer(isolated: boolean): Promise<void> {
  const { page, consoleErrors } = await open(isolated);
  const mode = isolated ? 'isolated' : 'plain';

  // Train: 20 steps, the loss falls from about ln(V).
  await page.waitForFunction(
    () => {
      const e = (window as unknown as { __explorer: Explorer }).__explorer;
      return e.train.steps.length >= 20 && (e.attention?.step ?? 0) >= 20;
    },
    null,
    { timeout: 60_000 },
  );
  const trained = await explorer(page);
  expect(trained.errors).toEqual([]);
  expect(trained.crossOriginIsolated).toBe(isolated);
  if (isolated) {
    expect(trained.runtime?.variant).toMatch(/^threads/);
    expect(trained.runtime?.threads).toBe(2);
  } else {
    expect(trained.runtime?.variant).not.toMatch(/^threads/);
    expect(trained.runtime?.threads).toBe(1);
    expect(await page.textContent('#runtime')).toContain('one thread');
  }
  const steps = trained.train.steps;
  expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(steps.every((s) => Number.isFinite(s.loss) && s.tokensPerSec > 0)).toBe(true);
  expect(steps.at(-1)!.loss).toBeLessThan(steps[0]!.loss);
  expect(trained.train.evals.length).toBeGreaterThan(0);
  await page.waitForFunction(() => (document.querySelector('#loss-chart canvas') as HTMLCanvasElement | null) !== null);
  expect(await inkOf(page, '#loss-chart canvas')).toBeGreaterThan(0.005);
  // No main-thread task over 200 ms while it trained (the page only draws).
  const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: { start: number; ms: number }[] }).__longTasks);
  const startedAt = trained.train.startedAt!;
  expect(longTasks.filter((task) => task.start + task.ms > startedAt && task.ms > 200)).toEqual([]);

  // Generation streams from the trained model.
  await page.fill('#maxNewTokens', '40');
  await page.click('#generate');
  await page.waitForFunction(() => (window as unknown as { __explorer: Explorer }).__explorer.train.generated !== undefined, null, {
    timeout: 30_000,
  });
  const generated = (await explorer(page)).train.generated!;
  expect(generated.startsWith('the dog ')).toBe(true);
  expect(generated.length).toBeGreaterThan('the dog '.length);
  await page.screenshot({ path: join(SHOTS, `train-${mode}.png`) });

  // Attention: [L, H, T, T], every row sums to 1, nothing above the diagonal (causal).
  await view(page, 'attention');
  const att = trained.attention!;
  const t = att.tokens.length;
  expect(att.tokens.join('')).toBe('the dog chased the cat .');
  expect([att.nLayer, att.nHead, att.causal]).toEqual([2, 2, true]);
  let worstRow = 0;
  let aboveDiagonal = 0;
  for (let m = 0; m < att.nLayer * att.nHead; m++) {
    for (let i = 0; i < t; i++) {
      let sum = 0;
      for (let j = 0; j < t; j++) {
        const w = att.weights[String((m * t + i) * t + j)]!;
        sum += w;
        if (j > i) aboveDiagonal = Math.max(aboveDiagonal, Math.abs(w));
      }
      worstRow = Math.max(worstRow, Math.abs(sum - 1));
    }
  }
  expect(worstRow).toBeLessThan(1e-5);
  expect(aboveDiagonal).toBe(0);
  expect(await page.locator('#attention-grid canvas').count()).toBe(att.nLayer * att.nHead);
  expect(await inkOf(page, '#attention-grid canvas')).toBeGreaterThan(0.9);
  await page.screenshot({ path: join(SHOTS, `attention-${mode}.png`) });

  // RoPE clock: the package's rope kernel gives q·k that depends on m − n only.
  await view(page, 'rope');
  await page.waitForFunction(() => (window as unknown as { __explorer: Explorer }).__explorer.rope !== undefined, null, {
    timeout: 30_000,
  });
  const rope = (await explorer(page)).rope!;
  expect(rope.request.headDim).toBe(16);
  expect(rope.maxShiftGap).toBeLessThan(1e-4);
  // …and the scores are not trivially constant: they change with the offset.
  const p = rope.request.positions;
  const row = Array.from({ length: p }, (_, m) => rope.scores[String(m * p)]!);
  expect(Math.max(...row) - Math.min(...row)).toBeGreaterThan(0.01);
  expect(await inkOf(page, '#rope-clocks')).toBeGreaterThan(0.01);
  expect(await inkOf(page, '#rope-scores canvas')).toBeGreaterThan(0.005);
  await page.screenshot({ path: join(SHOTS, `rope-${mode}.png`) });

  // Positions compared: all seven encodings trained side by side on the same data.
  await view(page, 'positions');
  for (const box of await page.locator('input[name=compare]').all()) await box.check();
  await page.click('#compare-start');
  await page.waitForFunction(
    () => {
      const runs = (window as unknown as { __explorer: Explorer }).__explorer.positions;
      return runs.length > 0 && runs.every((r) => r.encoding !== undefined);
    },
    null,
    { timeout: 60_000 },
  );
  const runs = (await explorer(page)).positions;
  expect(runs.map((r) => [r.positional, r.losses.length, r.encoding?.kind])).toEqual([
    ['learned', 20, 'vectors'],
    ['sinusoidal', 20, 'vectors'],
    ['rope', 20, 'rope'],
    ['alibi', 20, 'alibi'],
    ['relative', 20, 'relative'],
    ['kerple', 20, 'kerple'],
    ['none', 20, 'none'],
  ]);
  // ALiBi's slopes for 2 heads are 2^(−8h/2), h = 1, 2; KERPLE's learned rates are positive.
  expect(runs[3]!.encoding!.slopes).toEqual([1 / 16, 1 / 256]);
  expect([...runs[5]!.encoding!.r1!, ...runs[5]!.encoding!.r2!].every((r) => r > 0)).toBe(true);
  expect(runs.every((r) => r.valLosses.length > 0 && r.losses.every((l) => Number.isFinite(l.loss)))).toBe(true);
  // Train short, test long: every model trained on 32-token windows with room for 128 positions
  // (the learned table has 128 rows); validation loss at 32, 64 and 128 tokens, finite, and at 32
  // the same non-overlapping windows as the view's final validation loss, so equal to it within
  // 1e-4 (float summation order only).
  expect(runs[0]!.encoding!.blockSize).toBe(128);
  for (const run of runs) {
    expect(run.trainLen).toBe(32);
    expect(run.context?.map((p) => p.len)).toEqual([32, 64, 128]);
    expect(run.context!.every((p) => Number.isFinite(p.loss) && p.loss > 0)).toBe(true);
    expect(run.valLosses.at(-1)!.step).toBe(20);
    expect(Math.abs(run.context![0]!.loss - run.valLosses.at(-1)!.loss)).toBeLessThan(1e-4);
  }
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  expect(await colourOf(page, '#compare-context canvas')).toBeGreaterThan(0.002);
  expect(await inkOf(page, '#compare-encodings canvas.heat')).toBeGreaterThan(0.9);
  expect(await inkOf(page, '#compare-chart canvas')).toBeGreaterThan(0.005);
  await page.screenshot({ path: join(SHOTS, `positions-${mode}.png`), fullPage: true });

  // BERT: fill-mask after 20 masked-LM steps; the order demonstration's exact part.
  await view(page, 'bert');
  await page.click('#mlm-start');
  await page.waitForFunction(() => (window as unknown as { __explorer: Explorer }).__explorer.bert.done.includes('mlm'), null, {
    timeout: 60_000,
  });
  await page.click('#order-start');
  await page.waitForFunction(() => (window as unknown as { __explorer: Explorer }).__explorer.bert.done.includes('order'), null, {
    timeout: 60_000,
  });
  const bert = (await explorer(page)).bert;
  expect(bert.mlm.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(bert.mlm.at(-1)!.loss).toBeLessThan(bert.mlm[0]!.loss);
  const candidates = bert.fill!.candidates;
  expect(bert.fill!.text).toBe('the [MASK] chased the cat .');
  expect(candidates).toHaveLength(5);
  expect(candidates.every((c, i) => c.score > 0 && c.score <= 1 && (i === 0 || c.score <= candidates[i - 1]!.score))).toBe(true);
  expect(candidates.reduce((sum, c) => sum + c.score, 0)).toBeLessThanOrEqual(1 + 1e-6);
  // Its attention on the sentence: bidirectional (weight above the diagonal), rows sum to 1.
  const bertAtt = bert.fill!.attention;
  expect(bertAtt.causal).toBe(false);
  expect(bertAtt.tokens).toEqual(['[CLS]', 'the', '[MASK]', 'chased', 'the', 'cat', '.', '[SEP]']);
  const n = bertAtt.tokens.length;
  let bertWorstRow = 0;
  let bertAbove = 0;
  for (let m = 0; m < bertAtt.nLayer * bertAtt.nHead; m++) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const w = bertAtt.weights[String((m * n + i) * n + j)]!;
        sum += w;
        if (j > i) bertAbove += w;
      }
      bertWorstRow = Math.max(bertWorstRow, Math.abs(sum - 1));
    }
  }
  expect(bertWorstRow).toBeLessThan(1e-5);
  expect(bertAbove).toBeGreaterThan(1);
  expect(await page.locator('#bert-attention canvas').count()).toBe(bertAtt.nLayer * bertAtt.nHead);
  // A NoPE encoder's state for "the dog chased the cat" is the one for "the cat chased the dog" (to float rounding).
  expect(bert.orderGap.none!).toBeLessThan(1e-5);
  expect(bert.orderGap.learned!).toBeGreaterThan(100 * bert.orderGap.none!);
  expect(bert.order.map((o) => o.step)).toEqual([10, 20]);
  expect(bert.order.every((o) => o.accuracy.length === 2 && o.accuracy.every((a) => a >= 0 && a <= 1))).toBe(true);
  // The NoPE encoder cannot beat chance on balanced twins: exactly half of them right.
  expect(bert.order.every((o) => o.accuracy[0] === 0.5)).toBe(true);
  expect(await inkOf(page, '#mlm-chart canvas')).toBeGreaterThan(0.005);
  await page.screenshot({ path: join(SHOTS, `bert-${mode}.png`), fullPage: true });

  // Pause, resume and reset: no step while paused; reset and train again from step 1.
  await view(page, 'train');
  await page.click('#reset');
  await page.fill('#steps', '100000');
  await page.click('#start');
  const stepsNow = async () => (await explorer(page)).train.steps.length;
  await page.waitForFunction(() => (window as unknown as { __explorer: Explorer }).__explorer.train.steps.length >= 5);
  await page.click('#pause');
  await page.waitForFunction(() => !(window as unknown as { __explorer: Explorer }).__explorer.train.running);
  const paused = await stepsNow();
  await page.waitForTimeout(300);
  expect(await stepsNow()).toBe(paused);
  await page.click('#pause'); // now labelled Resume
  await page.waitForFunction((n) => (window as unknown as { __explorer: Explorer }).__explorer.train.steps.length > n + 5, paused);
  await page.click('#reset');
  await page.waitForFunction(() => !(window as unknown as { __explorer: Explorer }).__explorer.train.running);
  await page.fill('#steps', '20');
  await page.click('#start');
  await page.waitForFunction(() => {
    const train = (window as unknown as { __explorer: Explorer }).__explorer.train;
    return train.steps.length >= 20 && !train.running;
  });
  expect((await explorer(page)).train.steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

  expect((await explorer(page)).errors).toEqual([]);
  expect(consoleErrors).toEqual([]);
  await page.close();
}

describe('the explorer in Chromium', () => {
  it('type-checks', () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(APP, 'tsconfig.json')], {
      stdio: 'pipe',
    });
  });

  it('cross-origin isolated: trains on 2 threads and every view shows its data', async () => {
    await checkExplorer(true);
  });

  it('plain static host: trains on one thread, says so, and every view shows its data', async () => {
    await checkExplorer(false);
  });
});
