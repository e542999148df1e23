/** Runs a snippet in a fresh Node process (one wasm build per process) and parses its JSON. */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST_ESM = join(ROOT, 'dist/index.node.js');
export const DIST_INTERNALS_ESM = join(ROOT, 'dist/internals.node.js');

/** Runs `code` (an ES module body that prints one JSON line) with `node ...nodeArgs`. */
export function runNode(code: string, nodeArgs: string[] = [], ext: 'mjs' | 'cjs' = 'mjs'): unknown {
  const args = [...nodeArgs, ext === 'mjs' ? '--input-type=module' : '--input-type=commonjs', '-e', code];
  const stdout = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last);
}
