// gpuMatmul in a real page: Debian's Chromium (headless, --enable-unsafe-webgpu, SwiftShader's
// adapter) on a page served from http://127.0.0.1 (a secure origin, which navigator.gpu needs),
// checked against the wasm matmul in the same page. Without Chromium or without an adapter in it
// the test skips and prints why, unless WASMFORMER_REQUIRE_WEBGPU=1.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticServer } from '../../../scripts/serve.mjs';
import { REQUIRE_WEBGPU } from './gpu.js';
import { CHROMIUM, launchChromium } from '../helpers/chromium.js';

const skip = existsSync(CHROMIUM) || REQUIRE_WEBGPU ? undefined : `no Chromium at ${CHROMIUM} (set WASMFORMER_CHROMIUM)`;
if (skip) console.warn(`webgpu/browser.test.ts: skipped: ${skip}`);

interface PageResult {
  error?: string;
  adapter: { vendor: string; architecture: string; description: string; limits: Record<string, number>; features: string[] };
  products: number;
  mismatches: string[];
  nonZero: boolean;
}

let browser: Browser;
let server: Server;

describe.skipIf(skip !== undefined)('gpuMatmul in Chromium (WebGPU)', () => {
  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
    server = staticServer({ isolated: false, prefixes: ['/dist/', '/ts/tests/webgpu/browser/'] });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('matches the wasm matmul in every form, with and without bias', async (context) => {
    const { port } = server.address() as AddressInfo;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/ts/tests/webgpu/browser/page.html`);
    await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, null, { timeout: 90_000 });
    const result = await page.evaluate(() => (window as unknown as { __result: PageResult }).__result);
    await page.close();
    expect(errors).toEqual([]);
    if (result.error?.startsWith('UnsupportedError') && !REQUIRE_WEBGPU) {
      console.warn(`webgpu/browser.test.ts: skipped, no WebGPU adapter in Chromium: ${result.error}`);
      context.skip();
    }
    expect(result.error).toBeUndefined();
    const { vendor, architecture, description, limits, features } = result.adapter;
    console.info(`Chromium's adapter: ${vendor} / ${architecture} / ${description}; ${JSON.stringify(limits)}; ${features.join(', ')}`);
    expect(result.products).toBe(30);
    expect(result.mismatches).toEqual([]);
    expect(result.nonZero).toBe(true);
  });
});
