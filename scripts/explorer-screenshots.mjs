// `npm run explorer:screenshots`: builds the explorer (dist/ must be built: `npm run build:ts`),
// opens it cross-origin isolated in Chromium, trains each view's models with the page's default
// settings (about 3 minutes on 2 cores) and writes one PNG per view to runs/explorer/docs/, for
// the README and docs/explorer.md. The quick checks are ts/tests/explorer.test.ts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { staticServer } from './serve.mjs';
import { ROOT } from './toolchain.mjs';

const SITE = join(ROOT, 'runs/explorer/docs-site');
const OUT = join(ROOT, 'runs/explorer/docs');
mkdirSync(OUT, { recursive: true });
await build({ root: join(ROOT, 'examples/explorer'), logLevel: 'error', build: { outDir: SITE, emptyOutDir: true } });
const server = staticServer({ isolated: true, prefixes: ['/'], root: SITE });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: process.env.WASMFORMER_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
const explorer = () => window.__explorer;
const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: 600_000, polling: 500 });
const shot = async (name, fullPage = false) => {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
  console.log(`wrote runs/explorer/docs/${name}.png`);
};
try {
  await page.goto(`http://127.0.0.1:${server.address().port}/?autostart`);
  await wait(() => window.__explorer.train.steps.length > 0 && !window.__explorer.train.running);
  await page.click('#generate');
  await wait(() => window.__explorer.train.generated !== undefined);
  await shot('train', true);
  await page.click('button[data-view=attention]');
  await page.waitForTimeout(300);
  await shot('attention');
  await page.click('button[data-view=rope]');
  await wait(() => window.__explorer.rope !== undefined);
  await page.fill('#rope-position', '40');
  await page.dispatchEvent('#rope-position', 'input');
  await page.waitForTimeout(300);
  await shot('rope');
  await page.click('button[data-view=positions]');
  for (const value of ['sinusoidal', 'relative']) await page.check(`input[name=compare][value=${value}]`);
  await page.click('#compare-start');
  await wait(() => window.__explorer.positions.length > 0 && window.__explorer.positions.every((r) => r.encoding));
  await shot('positions', true);
  await page.click('button[data-view=bert]');
  await page.click('#mlm-start');
  await wait(() => window.__explorer.bert.done.includes('mlm'));
  await page.click('#order-start');
  await wait(() => window.__explorer.bert.done.includes('order'));
  await shot('bert', true);
  const state = await page.evaluate(explorer);
  console.log(
    JSON.stringify({
      runtime: `${state.runtime.variant}, ${state.runtime.threads} threads`,
      trainLoss: state.train.steps.at(-1).loss,
      valLoss: state.train.evals.at(-1).valLoss,
      positions: state.positions.map((r) => [r.positional, r.valLosses.at(-1).loss]),
      contextLoss: state.positions.map((r) => [r.positional, ...r.context.map((p) => `${p.len}: ${p.loss.toFixed(4)}`)]),
      fill: state.bert.fill.candidates.map((c) => c.token),
      order: state.bert.order.at(-1),
      errors: state.errors,
    }),
  );
} finally {
  await browser.close();
  server.close();
}
