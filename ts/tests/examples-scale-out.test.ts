// The scale-out example (examples/scale-out/, docs/scale-out.md) end to end, as a user runs it:
// `sh examples/scale-out/run.sh --tiny` exports a wasmformer GPT in the Hugging Face layout,
// trains it on with PyTorch's DistributedDataParallel (2 processes, gloo), and loads the saved
// model back into wasmformer. Needs a Python that imports torch and transformers: the one in
// WASMFORMER_PYTHON, default python3. `npm test` does not install PyTorch; without it the test
// is skipped and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/node.js';

const python = process.env.WASMFORMER_PYTHON ?? 'python3';
const probe = spawnSync(python, ['-c', 'import torch, transformers, tokenizers, safetensors'], { encoding: 'utf8' });
const noTorch =
  probe.status === 0
    ? undefined
    : `${python} cannot import torch, transformers, tokenizers and safetensors (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); ` +
      'set WASMFORMER_PYTHON to a Python that has them (pip install -r examples/scale-out/requirements.txt)';
if (noTorch) console.warn(`scale-out example skipped: ${noTorch}`);

const out = mkdtempSync(join(tmpdir(), 'wasmformer-scale-out-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The first group `pattern` captures in `text`, as a number. */
function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  expect(match, `no ${pattern} in:\n${text}`).not.toBeNull();
  return Number(match![1]);
}

describe('scale-out: wasmformer → PyTorch DDP → wasmformer', () => {
  it('trains on in PyTorch and the loss PyTorch reports is the loss wasmformer computes', (ctx) => {
    if (noTorch) ctx.skip(noTorch);
    const result = spawnSync('sh', [join(ROOT, 'examples/scale-out/run.sh'), '--tiny'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, PYTHON: python, OUT: out },
    });
    const log = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
    expect(result.status, log).toBe(0);
    const text = result.stdout;

    // Step 1: the loss of the model wasmformer trained, before export.
    const exported = number(text, /^held-out loss, wasmformer: (\d+\.\d+)$/m);
    // Step 2: PyTorch's losses of the loaded export and of its own result, and DDP's agreement.
    const torchBefore = number(text, /^held-out loss, PyTorch \(2 processes\): before (\d+\.\d+)/m);
    const torchAfter = number(text, /^held-out loss, PyTorch \(2 processes\): before \d+\.\d+, after (\d+\.\d+)$/m);
    expect(text).toContain('weights identical in all 2 processes: yes');
    // Step 3: both directories loaded back into wasmformer.
    const wasmBefore = number(text, /^held-out loss, wasmformer: before (\d+\.\d+)/m);
    const wasmAfter = number(text, /^held-out loss, wasmformer: before \d+\.\d+, after (\d+\.\d+)$/m);

    expect(wasmBefore).toBe(exported); // the export loads back bit for bit
    expect(Math.abs(torchBefore - wasmBefore)).toBeLessThan(1e-4); // PyTorch reads the same model
    expect(Math.abs(torchAfter - wasmAfter)).toBeLessThan(1e-4); // wasmformer reads PyTorch's save
    expect(torchAfter).toBeLessThan(torchBefore - 0.05); // and PyTorch's training helped
    expect(text).toMatch(/^sample: ROMEO:[\s\S]{20,}/m);

    const trained = join(out, 'trained');
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'scale-out.json']) {
      expect(existsSync(join(trained, file)), file).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(trained, 'config.json'), 'utf8')).model_type).toBe('gpt2');

    // The web page's way (examples/scale-out/web.mjs: fetch + readSafetensors, no file system)
    // gives the model loadHuggingFace gave: the same held-out loss. Served over HTTP here.
    const page = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { createServer } from 'node:http';
      import { readFile } from 'node:fs/promises';
      import { join } from 'node:path';
      import { init } from 'wasmformer';
      import { loadFromUrl } from ${JSON.stringify(join(ROOT, 'examples/scale-out/web.mjs'))};
      import { heldOutLoss, readSetup, readText, splitIds } from ${JSON.stringify(join(ROOT, 'examples/scale-out/heldout.mjs'))};
      const dir = ${JSON.stringify(trained)};
      const server = createServer((req, res) => readFile(join(dir, req.url.slice(1))).then((b) => res.end(b), () => { res.statusCode = 404; res.end(); }));
      await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
      await init();
      const { gpt, tokenizer } = await loadFromUrl(\`http://127.0.0.1:\${server.address().port}/\`);
      server.close();
      const setup = await readSetup(dir);
      const { heldOut } = splitIds(tokenizer.encode(await readText(setup)), setup);
      console.log(heldOutLoss(gpt, heldOut).toFixed(6));`,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(page.status, page.stderr).toBe(0);
    expect(Number(page.stdout.trim())).toBe(wasmAfter);
  }, 600_000);
});
