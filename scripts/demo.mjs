// `npm run demo`: sets up the toolchain if needed, builds, and trains a small GPT on the
// built-in grammar corpus (or `npm run demo -- --data some.txt`), with a progress bar,
// evaluation, a checkpoint + loss curve in runs/demo/, and a sample at the end.
import { ROOT, run, setupToolchain } from './toolchain.mjs';

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
const defaults = [
  '--out',
  'runs/demo',
  '--steps',
  '600',
  '--eval-interval',
  '100',
  '--warmup',
  '50',
  '--lr',
  '2e-3',
  '--sample-tokens',
  '300',
  '--prompt',
  'the dog ',
];
run('node', ['dist/cli.js', 'train', ...defaults, ...process.argv.slice(2)], { cwd: ROOT });
