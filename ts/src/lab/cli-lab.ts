/**
 * `wasmformer lab <name|all|list> [--seeds N] [--quick] [--out DIR] [--threads N]`: runs the
 * lecture lab's experiments (ts/src/lab/experiments/) into `runs/lab/<name>/` and rewrites
 * `runs/lab/index.md`.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../cli-common.js';
import { EXPERIMENTS } from './experiments/index.js';
import { runExperiments } from './runner.js';

const HELP = `wasmformer lab — small seeded experiments that check the lecture's claims about transformers

Usage:
  wasmformer lab list                          the experiments
  wasmformer lab <name> [options]              run one (writes runs/lab/<name>/{report.md,results.jsonl,*.svg})
  wasmformer lab all [options]                 run every experiment, then runs/lab/index.md

Options: --seeds 3 (seeds 1..N)  --quick (tiny sizes, ≈ 20 s each)  --out runs/lab  --threads <n>
`;

const OPTIONS = {
  seeds: { type: 'string' },
  quick: { type: 'boolean' },
  out: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs `wasmformer lab …` (the arguments after `lab`); `init` loads WebAssembly with the thread count.
 * @returns the exit code
 */
export async function labCommand(argv: string[], init: (threads: number | undefined) => Promise<unknown>): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const name = positionals[0];
  if (values.help || !name) {
    console.log(HELP);
    return name || values.help ? 0 : 1;
  }
  if (name === 'list') {
    for (const e of EXPERIMENTS) console.log(`${e.name.padEnd(12)} ${e.title}`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`lab takes one experiment name (or all), got ${positionals.join(' ')}`);
  const names = name === 'all' ? EXPERIMENTS.map((e) => e.name) : [name];
  const known = new Set(EXPERIMENTS.map((e) => e.name));
  for (const n of names) {
    if (!known.has(n)) throw new UsageError(`unknown experiment '${n}' (${[...known].join(', ')}, all, list)`);
  }
  const seeds = Number(values.seeds ?? '3');
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 100)
    throw new UsageError(`--seeds must be an integer in [1, 100], got '${values.seeds}'`);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1))
    throw new UsageError(`--threads must be an integer >= 1, got '${values.threads}'`);
  await init(threads);
  const outDir = values.out ?? 'runs/lab';
  const started = performance.now();
  const infos = await runExperiments({ names, seeds, quick: values.quick === true, outDir });
  if (infos.length > 1) console.error(`lab: ${infos.length} experiments in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`lab: reports in ${outDir}/ (index: ${outDir}/index.md)`);
  return 0;
}
