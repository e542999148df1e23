// The model flags of the lab's options (`--positional kerple`, `--ffn relu`, `--rope-fraction`,
// `--rope-keep-frequencies`, `--nope-every`, `--no-position-layers`) reach the saved
// configuration, and bad values are usage errors (exit 2) before any training.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wasmformer-cli-flags-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const tiny = [
  '--steps',
  '2',
  '--n-layer',
  '4',
  '--n-head',
  '2',
  '--n-embd',
  '32',
  '--block-size',
  '16',
  '--batch-size',
  '2',
  '--threads',
  '1',
];

/** The model configuration `train` saved into `dir`. */
async function savedConfig(dir: string): Promise<Record<string, unknown>> {
  const checkpoint = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as { config: Record<string, unknown> };
  return checkpoint.config;
}

describe('wasmformer train: the positional and FFN flags', () => {
  it('partial RoPE, p-RoPE and every second layer without positions', async () => {
    const out = join(root, 'rope');
    const result = await cli(
      'train',
      '--out',
      out,
      ...tiny,
      '--positional',
      'rope',
      '--rope-fraction',
      '0.5',
      '--rope-keep-frequencies',
      '0.5',
      '--nope-every',
      '2',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await savedConfig(out)).toMatchObject({
      positional: 'rope',
      ropeFraction: 0.5,
      ropeKeepFrequencies: 0.5,
      noPositionLayers: [1, 3],
    });
  });

  it('KERPLE with a ReLU MLP and an explicit list of layers without positions', async () => {
    const out = join(root, 'kerple');
    const result = await cli('train', '--out', out, ...tiny, '--positional', 'kerple', '--ffn', 'relu', '--no-position-layers', '0,2');
    expect(result.code, result.stderr).toBe(0);
    expect(await savedConfig(out)).toMatchObject({ positional: 'kerple', ffn: 'relu', noPositionLayers: [0, 2] });
  });

  it('refuses values it cannot use, before training', async () => {
    for (const bad of [
      ['--positional', 'learned', '--nope-every', '2'],
      ['--positional', 'rope', '--no-position-layers', '1,x'],
      ['--positional', 'rope', '--rope-fraction', '2'],
    ]) {
      const result = await cli('train', '--out', join(root, 'bad'), ...tiny, ...bad);
      expect(result.code, `${bad.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^wasmformer: .*(noPositionLayers|no-position-layers|ropeFraction)/);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
