// The lecture lab: each experiment runs through the built CLI (`wasmformer lab <name> --quick
// --seeds 1`) into a temporary directory and must write report.md, a results.jsonl whose every
// line parses with finite values, and well-formed SVG plots; the index links every report.
// Conclusions are not checked here (they need the default sizes); the statistics and plots
// helpers are checked on known inputs.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barChart, lineChart } from '../../src/lab/plot.js';
import { mean, meanSd, sd, summaryTable } from '../../src/lab/stats.js';

const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wasmformer-lab-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The experiment names `wasmformer lab list` prints. */
async function experimentNames(): Promise<string[]> {
  const { stdout } = await run(process.execPath, [CLI, 'lab', 'list']);
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(/\s+/)[0] as string);
}

/** A well-formed standalone SVG: opens and closes the root, with at least one drawn element. */
function expectSvg(text: string): void {
  expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(text.trimEnd().endsWith('</svg>')).toBe(true);
  expect(text).toMatch(/<(polyline|rect|line|circle|path)\b/);
  expect(text).not.toMatch(/NaN|Infinity|undefined/);
}

describe('wasmformer lab (quick, one seed)', async () => {
  const names = await experimentNames();

  it('lists the experiments', () => {
    expect(names).toContain('order');
    expect(new Set(names).size).toBe(names.length);
  });

  for (const name of names) {
    it(`${name}: writes report.md, results.jsonl (finite) and its plots`, async () => {
      const out = join(root, 'runs');
      await run(process.execPath, [CLI, 'lab', name, '--quick', '--seeds', '1', '--out', out, '--threads', '1'], { timeout: 170_000 });
      const dir = join(out, name);
      const report = readFileSync(join(dir, 'report.md'), 'utf8');
      expect(report).toMatch(/^# /);
      expect(report).toContain('--quick');
      const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const row = JSON.parse(line) as Record<string, unknown>;
        expect(row.experiment).toBe(name);
        expect(typeof row.variant).toBe('string');
        expect(row.seed).toBe(1);
        expect(typeof row.metric).toBe('string');
        expect(Number.isFinite(row.value)).toBe(true);
      }
      const svgs = readdirSync(dir).filter((f) => f.endsWith('.svg'));
      expect(svgs.length).toBeGreaterThan(0);
      for (const svg of svgs) {
        expectSvg(readFileSync(join(dir, svg), 'utf8'));
        expect(report).toContain(`(${svg})`);
      }
      const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { seconds: number; quick: boolean };
      expect(info.quick).toBe(true);
      expect(info.seconds).toBeGreaterThan(0);
      const index = readFileSync(join(out, 'index.md'), 'utf8');
      expect(index).toContain(`(${name}/report.md)`);
    }, 180_000);
  }

  it('refuses an unknown experiment with a usage error', async () => {
    const failure = await run(process.execPath, [CLI, 'lab', 'no-such-experiment']).catch((e: { code: number; stderr: string }) => e);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stderr: string }).stderr).toContain("unknown experiment 'no-such-experiment'");
    expect(existsSync(join(root, 'no-such-experiment'))).toBe(false);
  });
});

describe('lab statistics', () => {
  it('mean, sample sd and "mean ± sd" text', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(sd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138, 3);
    expect(sd([3])).toBe(0);
    expect(meanSd([0.12, 0.126])).toBe('0.123 ± 0.004');
    expect(meanSd([0.5, Number.NaN])).toBe('0.500 (1 diverged)');
    expect(meanSd([0.5, 0.7], { percent: true })).toBe('60.0% ± 14.1 pp');
  });

  it('a table of mean ± sd per variant × metric', () => {
    const rows = [
      { experiment: 'x', variant: 'a', seed: 1, metric: 'loss', value: 1 },
      { experiment: 'x', variant: 'a', seed: 2, metric: 'loss', value: 3 },
      { experiment: 'x', variant: 'b', seed: 1, metric: 'loss', value: 2 },
    ];
    expect(summaryTable(rows)).toBe('| variant | loss |\n| --- | --- |\n| a | 2.000 ± 1.414 |\n| b | 2.000 |\n');
  });
});

describe('lab plots', () => {
  it('a line chart draws one polyline per series, log axes included, and escapes text', () => {
    const svg = lineChart({
      title: 'a < b & c',
      xLabel: 'step',
      yLabel: 'loss',
      logY: true,
      series: [
        {
          name: 'one',
          points: [
            { x: 1, y: 10, sd: 1 },
            { x: 2, y: 1 },
            { x: 3, y: Number.NaN },
          ],
        },
        {
          name: 'two',
          points: [
            { x: 1, y: 0.1 },
            { x: 3, y: 0.01 },
          ],
          dashed: true,
        },
      ],
    });
    expectSvg(svg);
    expect(svg.match(/<polyline/g)?.length).toBe(2);
    expect(svg).toContain('a &lt; b &amp; c');
  });

  it('a bar chart draws one bar per finite value and an error bar per sd', () => {
    const svg = barChart({
      title: 'acc',
      yLabel: 'accuracy',
      seriesNames: ['x', 'y'],
      groups: [
        { label: 'g1', values: [{ mean: 0.5, sd: 0.1 }, { mean: 0.9 }] },
        { label: 'g2', values: [{ mean: Number.NaN }, { mean: 0.7, sd: 0.05 }] },
      ],
      hLines: [{ y: 0.5, label: 'chance' }],
    });
    expectSvg(svg);
    expect(svg.match(/<rect data-series/g)?.length).toBe(3);
  });
});
