// `npm run explorer`: sets up and builds the package like `npm run demo:browser`, then serves the
// explorer (examples/explorer/, a Vite app) with Vite's dev server, cross-origin isolated
// (its vite.config.ts sends COOP/COEP), so the threaded build trains: http://127.0.0.1:5173/
// `npm run explorer:build`: the same set-up, then writes the static site to examples/explorer/dist/
// (works from any static host and any path; without COOP/COEP it trains on one thread).
import { join } from 'node:path';
import { ROOT, run, setupToolchain } from './toolchain.mjs';

const APP = join(ROOT, 'examples/explorer');
const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
const buildOnly = process.argv.includes('--build');

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
if (buildOnly) {
  run('node', [vite, 'build'], { cwd: APP });
  console.log(`\nthe explorer is in ${join(APP, 'dist')}: copy it to any static host (COOP/COEP headers there turn on threads),`);
  console.log('or try it here: npx vite preview examples/explorer --host 127.0.0.1');
} else {
  run('node', [vite, '--host', '127.0.0.1', '--port', process.env.PORT ?? '5173'], { cwd: APP });
}
