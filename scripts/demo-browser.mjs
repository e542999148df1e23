// `npm run demo:browser`: sets up and builds like `npm run demo`, then serves the training
// page (examples/browser/) cross-origin isolated at http://127.0.0.1:8080/examples/browser/.
import { run, setupToolchain } from './toolchain.mjs';

setupToolchain();
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
run('node', ['scripts/serve.mjs']);
