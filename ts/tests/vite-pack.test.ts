// Bundler compatibility, proven: a blank Vite project installs the packed tarball (`npm pack`)
// and Vite, imports 'wasmformer' in a Web Worker with no configuration about it, and trains a
// few steps in Chromium on the threaded build (2 threads): once built by `vite build` and served
// as static files, once from Vite's dev server, where the package is pre-bundled into
// node_modules/.vite/deps and its .wasm and pool-worker URLs must still resolve.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticServer } from '../../scripts/serve.mjs';
import { ROOT } from './helpers/node.js';
import { launchChromium } from './helpers/chromium.js';

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

/** The user's files: a page that starts a worker, a worker that trains, and headers only. */
const FILES: Record<string, string> = {
  'index.html': `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>app</title></head>
<body><script type="module" src="./main.js"></script></body></html>\n`,
  'main.js': `const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (event) => { window.__result = event.data; };\n`,
  // No top-level await: Vite bundles workers as classic scripts (iife) by default.
  'worker.js': `import { CharTokenizer, GPT, TokenDataset, Trainer, grammarCorpus, init } from 'wasmformer';
async function main() {
  const info = await init({ threads: 2 });
  const text = grammarCorpus({ sentences: 500, seed: 1 });
  const tokenizer = CharTokenizer.fromText(text);
  const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 });
  const trainer = new Trainer(gpt, { train: TokenDataset.split(tokenizer.encode(text), 0.1).train }, { batchSize: 4, maxSteps: 5 });
  const losses = [];
  for (let i = 0; i < 5; i++) losses.push(trainer.trainStep().loss);
  return { variant: info.variant, threads: info.threads, losses };
}
main().then(postMessage, (error) => postMessage({ error: String(error) }));\n`,
  // Cross-origin isolation (so that the threaded build runs); nothing about wasmformer.
  'vite.config.js': `const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
export default { server: { headers }, preview: { headers } };\n`,
};

interface AppResult {
  error?: string;
  variant: string;
  threads: number;
  losses: number[];
}

let work: string;
let browser: Browser;
const servers: Server[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'wasmformer-vite-'));
  const packed = (JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT)) as { filename: string }[])[0]!;
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(work, name), text);
  // The Vite release the repository uses (its devDependency), from the npm cache or registry.
  const viteVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/vite/package.json'), 'utf8')) as { version: string }).version;
  npm(['install', join(work, packed.filename), `vite@${viteVersion}`], work);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
  for (const child of children) child.kill();
  rmSync(work, { recursive: true, force: true });
});

async function trainAt(url: string): Promise<{ result: AppResult; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => (window as unknown as { __result: AppResult }).__result);
  await page.close();
  return { result, errors };
}

function expectTrained({ result, errors }: { result: AppResult; errors: string[] }): void {
  expect(result.error).toBeUndefined();
  expect(errors).toEqual([]);
  expect(result.variant).toMatch(/^threads/);
  expect(result.threads).toBe(2);
  expect(result.losses).toHaveLength(5);
  expect(result.losses.every(Number.isFinite)).toBe(true);
}

describe('a blank Vite app with the packed tarball', () => {
  it('vite build: the static site trains on 2 threads in Chromium', async () => {
    execFileSync(process.execPath, [join(work, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], {
      cwd: work,
      stdio: 'pipe',
    });
    const server = staticServer({ isolated: true, prefixes: ['/'], root: join(work, 'dist') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    expectTrained(await trainAt(`http://127.0.0.1:${port}/`));
  });

  it("vite's dev server (the package pre-bundled): trains on 2 threads in Chromium", async () => {
    const child = spawn(process.execPath, [join(work, 'node_modules/vite/bin/vite.js'), '--host', '127.0.0.1', '--port', '0'], {
      cwd: work,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`vite printed no address: ${out}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /Local:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      });
    });
    expectTrained(await trainAt(url));
  });
});
