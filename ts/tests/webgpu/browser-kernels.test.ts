// The training kernels (norm, activation/GLU, cross-entropy, embedding, AdamW, clipping, RoPE;
// forward and backward) in a real page: Debian's Chromium (headless, --enable-unsafe-webgpu,
// SwiftShader's adapter) on http://127.0.0.1, on the same seeded inputs as a run in Node on
// lavapipe; the two adapters' results must agree within 1e-4 of the largest magnitude of each
// result + 1e-6 (the per-element parity with the references is the Node tests' job: this
// checks that every kernel compiles and computes the same thing on a second WebGPU
// implementation). Skips as browser.test.ts does.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as internals from '../../../dist/internals.node.js';
import { staticServer } from '../../../scripts/serve.mjs';
import { CHROMIUM, launchChromium } from '../helpers/chromium.js';
import { randomArray } from '../helpers/reference.js';
import { REQUIRE_WEBGPU, testGpu } from './gpu.js';

const { gpu, skip: noGpu } = await testGpu('webgpu/browser-kernels.test.ts');
const skip = noGpu ?? (existsSync(CHROMIUM) || REQUIRE_WEBGPU ? undefined : `no Chromium at ${CHROMIUM} (set WASMFORMER_CHROMIUM)`);
if (skip) console.warn(`webgpu/browser-kernels.test.ts: skipped: ${skip}`);

type Internals = typeof internals;
type Inputs = Record<string, number[]>;

/** Every kernel on one device: the outputs by name, as plain arrays (run in Node and, as source, in the page). */
async function runAll(lib: Internals, gpu: internals.Gpu, raw: Inputs): Promise<Record<string, number[]>> {
  const f = (name: string) => Float32Array.from(raw[name]!);
  const ids = Int32Array.from(raw.ids!);
  const [rows, channels] = [17, 65];
  const results: Record<string, Float32Array> = {};
  const norm = await lib.gpuLayerNorm(f('x'), f('w'), f('b'), { gpu, rows, channels });
  Object.assign(results, { 'layernorm.out': norm.out, 'layernorm.rstd': norm.rstd });
  const normGrads = await lib.gpuLayerNormBackward(
    { dout: f('dout'), x: f('x'), weight: f('w'), mean: norm.mean, rstd: norm.rstd },
    { gpu, rows, channels },
  );
  Object.assign(results, { 'layernorm.dinp': normGrads.dinp, 'layernorm.dweight': normGrads.dweight, 'layernorm.dbias': normGrads.dbias });
  const rms = await lib.gpuRmsNorm(f('x'), f('w'), { gpu, rows, channels });
  const rmsGrads = await lib.gpuRmsNormBackward({ dout: f('dout'), x: f('x'), weight: f('w'), rstd: rms.rstd }, { gpu, rows, channels });
  Object.assign(results, { 'rmsnorm.out': rms.out, 'rmsnorm.dinp': rmsGrads.dinp, 'rmsnorm.dweight': rmsGrads.dweight });
  results['gelu-erf.dinp'] = await lib.gpuActivationBackward({ dout: f('dout'), x: f('x') }, { gpu, kind: 'gelu-erf' });
  const glu = await lib.gpuGluBackward({ dout: f('dout'), gate: f('x'), up: f('up') }, { gpu, kind: 'geglu' });
  Object.assign(results, {
    'geglu.out': await lib.gpuGlu(f('x'), f('up'), { gpu, kind: 'geglu' }),
    'geglu.dgate': glu.dgate,
    'geglu.dup': glu.dup,
  });
  const xent = await lib.gpuCrossEntropy(f('x'), ids, { gpu, rows, vocab: channels, ignoreIndex: -100 });
  results['xent.losses'] = xent.losses;
  results['xent.dlogits'] = await lib.gpuCrossEntropyBackward(
    { logits: f('x'), targets: ids, lse: xent.lse },
    { gpu, rows, vocab: channels, ignoreIndex: -100 },
  );
  const emb = { gpu, batch: 1, seq: rows, channels: 13, vocab: channels };
  const tokenIds = Int32Array.from(ids, (id) => Math.max(id, 0));
  results['embedding.out'] = await lib.gpuEmbedding(tokenIds, f('x').subarray(0, channels * 13), undefined, emb);
  results['embedding.dwte'] = (await lib.gpuEmbeddingBackward({ dout: f('x').subarray(0, rows * 13), ids: tokenIds }, emb)).dwte;
  const adam = await lib.gpuAdamW({ params: f('x'), m: f('up'), v: f('w2'), grads: f('dout') }, { gpu, lr: 1e-2, step: 3 });
  Object.assign(results, { 'adamw.params': adam.params, 'adamw.m': adam.m, 'adamw.v': adam.v });
  const clip = await lib.gpuClipGradNorm(f('x'), { gpu, maxNorm: 1 });
  Object.assign(results, { 'clip.norm': new Float32Array([clip.norm]), 'clip.grads': clip.grads });
  const rope = { gpu, b: 1, t: rows, h: 5, d: 13 - 1, rotaryDim: 8, positionOffset: 3, scaling: { type: 'linear' as const, factor: 2 } };
  const q = f('x').subarray(0, rows * 5 * 12);
  Object.assign(results, { 'rope.out': await lib.gpuRope(q, rope), 'rope.dinp': await lib.gpuRopeBackward(q, rope) });
  return Object.fromEntries(Object.entries(results).map(([name, array]) => [name, Array.from(array!)]));
}

/** The first result (in `want`'s order) whose largest difference exceeds 1e-4 of its largest magnitude + 1e-6, described. */
function firstDisagreement(got: Record<string, number[]>, want: Record<string, number[]>): string | undefined {
  for (const [name, values] of Object.entries(want)) {
    const bound = 1e-4 * Math.max(...values.map(Math.abs)) + 1e-6;
    const worst = Math.max(...values.map((v, i) => Math.abs(v - (got[name]?.[i] ?? Number.NaN))));
    if (!(worst <= bound)) return `${name}: largest difference ${worst} > ${bound}`;
  }
  return undefined;
}

let browser: Browser;
let server: Server;

describe.skipIf(skip !== undefined)('the training kernels in Chromium (WebGPU) against the same kernels on lavapipe', () => {
  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
    server = staticServer({ isolated: false, prefixes: ['/dist/', '/ts/tests/webgpu/browser/'] });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    gpu?.dispose();
  });

  it('every kernel, forward and backward, within 1e-4 of its largest magnitude', async (context) => {
    const n = 17 * 65;
    const inputs: Inputs = {
      x: Array.from(randomArray(n, 1), (v) => v * 3),
      w: Array.from(randomArray(65, 2)),
      b: Array.from(randomArray(65, 3)),
      w2: Array.from(randomArray(n, 4), (v) => v * v),
      up: Array.from(randomArray(n, 5)),
      dout: Array.from(randomArray(n, 6)),
      ids: Array.from(randomArray(17, 7), (u, r) => (r % 5 === 2 ? -100 : Math.floor(((u + 1) / 2) * 65) % 65)),
    };
    const want = await runAll(internals, gpu!, inputs);
    const { port } = server.address() as AddressInfo;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/ts/tests/webgpu/browser/blank.html`);
    await page.waitForFunction(() => (window as { __internals?: unknown }).__internals !== undefined, null, { timeout: 30_000 });
    const got = (await page.evaluate(
      async ({ source, inputs }) => {
        try {
          const lib = (window as unknown as { __internals: Internals }).__internals;
          const pageGpu = await lib.requestGpu();
          // biome-ignore lint/security/noGlobalEval: the same function as in Node, sent as source
          const run = eval(`(${source})`);
          const outputs = await run(lib, pageGpu, inputs);
          pageGpu.dispose();
          return outputs;
        } catch (error) {
          return { error: `${(error as Error).name}: ${(error as Error).message}` };
        }
      },
      { source: runAll.toString(), inputs },
    )) as Record<string, number[]> & { error?: string };
    await page.close();
    expect(errors).toEqual([]);
    if (typeof got.error === 'string' && got.error.startsWith('UnsupportedError') && !REQUIRE_WEBGPU) {
      console.warn(`webgpu/browser-kernels.test.ts: skipped, no WebGPU adapter in Chromium: ${got.error}`);
      context.skip();
    }
    expect(got.error).toBeUndefined();
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    expect(firstDisagreement(got, want)).toBeUndefined();
    // Negative control: one changed element of dout must be seen (here between two Node runs).
    const perturbed = await runAll(internals, gpu!, { ...inputs, dout: inputs.dout!.map((v, i) => (i === 7 ? v + 0.01 : v)) });
    expect(firstDisagreement(perturbed, want)).toMatch(/^layernorm\.dinp/);
  });
});
