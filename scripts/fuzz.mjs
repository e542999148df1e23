// `npm run fuzz [-- --runs N] [--seed S] [--crash-rounds K]`: the hostile-input fuzzers and the
// crash test of ts/tests/faults/ with many more cases than `npm test` runs, on a fresh seed
// (printed, so a failure replays with --seed). Needs a build: run `npm test` or `npm run build` once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './toolchain.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5000' },
    seed: { type: 'string', default: String(Math.floor(Math.random() * 2 ** 31)) },
    'crash-rounds': { type: 'string', default: '100' },
  },
});
if (!existsSync(join(ROOT, 'dist/index.node.js'))) {
  console.error('fuzz: dist/ is missing; build first with `npm run build` (or `npm test`).');
  process.exit(2);
}
console.log(`fuzz: ${values.runs} cases per parser, seed ${values.seed}, ${values['crash-rounds']} crash rounds`);
const result = spawnSync(
  'npx',
  ['vitest', 'run', 'ts/tests/faults/parsers.fuzz.test.ts', 'ts/tests/faults/loaders.fuzz.test.ts', 'ts/tests/faults/crash.test.ts'],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      WASMFORMER_FUZZ_RUNS: values.runs,
      WASMFORMER_FUZZ_SEED: values.seed,
      WASMFORMER_CRASH_ROUNDS: values['crash-rounds'],
    },
  },
);
if (result.status !== 0) console.error(`fuzz: failed; replay with \`npm run fuzz -- --seed ${values.seed} --runs ${values.runs}\``);
process.exit(result.status ?? 1);
