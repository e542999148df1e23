// `npm run bench:webgpu [-- suite]`: sets up (lavapipe where Debian 12 has no Vulkan driver Dawn
// accepts) and builds, then runs bench/webgpu.bench.mjs: the adapter, then matmul GFLOP/s of
// wasmformer's WebGPU kernel against TF.js's WebGPU backend on the same device, and the wasm
// matmul for scale. On a machine with a real GPU it runs unchanged and reports that adapter.
import { run, setupToolchain } from './toolchain.mjs';

setupToolchain({ webgpu: true });
run('node', ['scripts/build-wasm.mjs']);
run('npx', ['tsup', '--silent']);
run('node', ['bench/webgpu.bench.mjs', ...process.argv.slice(2)]);
