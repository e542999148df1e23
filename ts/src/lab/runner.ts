/**
 * Runs lab experiments: one {@link LabContext} per experiment into `<out>/<name>/`, its
 * wall-clock time and settings in `<out>/<name>/run.json`, and `<out>/index.md` linking every
 * report present (also those of earlier runs), with their times.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENTS } from './experiments/index.js';
import { createContext, type Experiment } from './lab.js';

/** Options of {@link runExperiments}. */
export interface RunLabOptions {
  /** Experiment names to run, in order. */
  names: readonly string[];
  /** Seeds per variant (1, 2, … N). */
  seeds: number;
  /** Quick sizes (tests). */
  quick: boolean;
  /** Root output directory (`runs/lab`). */
  outDir: string;
  /** No progress bars or log lines. */
  silent?: boolean;
}

/** What `run.json` holds for one experiment run. */
export interface LabRunInfo {
  /** The experiment's name. */
  name: string;
  /** Its title. */
  title: string;
  /** Wall-clock seconds of `run`. */
  seconds: number;
  /** CPU seconds of this process (all threads) during `run`: below `seconds` when other work shares the machine. */
  cpuSeconds: number;
  /** Seeds run. */
  seeds: number[];
  /** Quick mode. */
  quick: boolean;
  /** ISO time the run finished. */
  finished: string;
  /** Rows recorded. */
  rows: number;
}

/** The experiment called `name`. @throws Error listing the names when there is none. */
export function findExperiment(name: string): Experiment {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found) throw new Error(`unknown experiment '${name}' (${EXPERIMENTS.map((e) => e.name).join(', ')}, all, list)`);
  return found;
}

/** Runs the named experiments one after another, then rewrites the index. */
export async function runExperiments(options: RunLabOptions): Promise<LabRunInfo[]> {
  const { names, seeds, quick, outDir, silent = false } = options;
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be an integer >= 1, got ${seeds}`);
  const experiments = names.map(findExperiment);
  const seedList = Array.from({ length: seeds }, (_, i) => i + 1);
  const infos: LabRunInfo[] = [];
  for (const experiment of experiments) {
    const dir = join(outDir, experiment.name);
    const ctx = createContext({ name: experiment.name, seeds: seedList, quick, outDir: dir, silent });
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await experiment.run(ctx);
    const cpu = process.cpuUsage(cpuStart);
    const info: LabRunInfo = {
      name: experiment.name,
      title: experiment.title,
      seconds: (performance.now() - start) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      seeds: seedList,
      quick,
      finished: new Date().toISOString(),
      rows: ctx.rows().length,
    };
    writeFileSync(join(dir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
    if (!silent) console.error(`${experiment.name}: done in ${info.seconds.toFixed(1)} s → ${join(dir, 'report.md')}`);
    infos.push(info);
    writeIndex(outDir);
  }
  return infos;
}

/** Rewrites `<outDir>/index.md`: one line per experiment directory with a report.md, in registry order. */
export function writeIndex(outDir: string): void {
  const present = existsSync(outDir) ? new Set(readdirSync(outDir)) : new Set<string>();
  const lines = [
    '# wasmformer lab',
    '',
    'Each experiment puts a claim of the literature next to what a small seeded run measured. Run one with',
    '`npx wasmformer lab <name>` (`--seeds N`, `--quick`, `--out DIR`), or all of them with `npx wasmformer lab all`.',
    '',
    '| experiment | what | seeds | mode | time (CPU) | finished |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  let listed = 0;
  for (const e of EXPERIMENTS) {
    if (!present.has(e.name) || !existsSync(join(outDir, e.name, 'report.md'))) continue;
    const infoPath = join(outDir, e.name, 'run.json');
    const info = existsSync(infoPath) ? (JSON.parse(readFileSync(infoPath, 'utf8')) as Partial<LabRunInfo>) : {};
    const cpu = info.cpuSeconds !== undefined ? ` (${formatSeconds(info.cpuSeconds)})` : '';
    const time = info.seconds !== undefined ? `${formatSeconds(info.seconds)}${cpu}` : '—';
    lines.push(
      `| [${e.name}](${e.name}/report.md) | ${e.title} | ${info.seeds?.length ?? '—'} | ${info.quick ? 'quick' : 'default'} | ${time} | ${info.finished ?? '—'} |`,
    );
    listed += 1;
  }
  if (listed === 0) lines.push('| — | no reports yet | | | | |');
  writeFileSync(join(outDir, 'index.md'), `${lines.join('\n')}\n`);
}

/** `75.3 s` or `4 min 12 s`. */
function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
