// The browser build in a real page (Debian's Chromium driven by playwright-core): once on a
// plain page (no SharedArrayBuffer: a single-threaded build) and once cross-origin isolated
// (COOP/COEP: the threaded build, with a 2-thread pool working inside a Web Worker).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticServer } from '../../scripts/serve.mjs';
import { launchChromium } from './helpers/chromium.js';

/** dist/, the example pages and the test page on loopback; `isolated` adds COOP/COEP. */
function serve(isolated: boolean): Promise<Server> {
  const server = staticServer({ isolated, prefixes: ['/dist/', '/examples/', '/ts/tests/browser/'] });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface PageResult {
  error?: string;
  crossOriginIsolated: boolean;
  info: { variant: string; threads: number; simd: string; notes: string[] };
  c: number[];
  gpt?: { first: number; last: number; steps: number; sample: string };
  worker?: {
    error?: string;
    info: { variant: string; threads: number };
    c: number[];
    resident: { c: number[]; shared: boolean };
    pool: { itemsPerThread: number[] };
    abort: { fitSteps: number; pieces: number; after: number };
  };
}

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  browser = await launchChromium({ args: ['--disable-quic'] });
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
});

async function openPage<T = PageResult>(isolated: boolean, path = '/ts/tests/browser/page.html'): Promise<T> {
  const server = await serve(isolated);
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${port}${path}`);
  await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, null, { timeout: 90_000 });
  const result = await page.evaluate(() => (window as unknown as { __result: T }).__result);
  await page.close();
  expect(errors).toEqual([]);
  return result;
}

describe('in Chromium', () => {
  it('a plain page runs a single-threaded build', async () => {
    const result = await openPage(false);
    expect(result.error).toBeUndefined();
    expect(result.crossOriginIsolated).toBe(false);
    expect(['relaxed', 'simd']).toContain(result.info.variant);
    expect(result.c).toEqual([19, 22, 43, 50]);
    // a GPT trained on the page: 40 steps, the loss falls from ~ln(V)
    expect(result.gpt?.steps).toBe(40);
    expect(result.gpt!.last).toBeLessThan(result.gpt!.first * 0.8);
    expect(result.gpt!.sample.startsWith('the ')).toBe(true);
  });

  it('a cross-origin isolated page runs the threaded build, and its worker computes on 2 threads', async () => {
    const result = await openPage(true);
    expect(result.error).toBeUndefined();
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.info.variant).toMatch(/^threads/);
    expect(result.c).toEqual([19, 22, 43, 50]);
    const worker = result.worker!;
    expect(worker.error).toBeUndefined();
    expect(worker.info.variant).toMatch(/^threads/);
    expect(worker.info.threads).toBe(2);
    expect(worker.c).toEqual([19, 22, 43, 50]);
    expect(worker.resident).toEqual({ c: [19, 22, 43, 50], shared: false });
    expect(worker.pool.itemsPerThread).toHaveLength(2);
    expect(worker.pool.itemsPerThread.every((items) => items > 0)).toBe(true);
    // AbortSignal stops training after the current step and a stream before its next token.
    expect(worker.abort).toEqual({ fitSteps: 2, pieces: 2, after: 5 });
  });

  it('the example training page trains a GPT in a worker on 2 threads', async () => {
    const result = await openPage<{ error?: string; threads: number; first: number; last: number; sample: string }>(
      true,
      '/examples/browser/index.html?autostart&steps=30&nLayer=2&nEmbd=64&blockSize=32&batchSize=8',
    );
    expect(result.error).toBeUndefined();
    expect(result.threads).toBe(2);
    expect(result.last).toBeLessThan(result.first * 0.8);
    expect(result.sample.length).toBeGreaterThan(100);
  });
});
