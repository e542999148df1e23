// Builds the npm package into dist/: ESM + CJS + .d.ts for Node, ESM for browsers, each with
// its "wasmformer/internals" entry, the two pool-worker entries, and the .wasm builds copied
// to dist/wasm/<variant>.wasm.
import { copyFileSync, mkdirSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';
// The one list of builds, shared with scripts/build-wasm.mjs.
import { VARIANTS as BUILDS } from './scripts/wasm-variants.mjs';

const VARIANTS = Object.keys(BUILDS);

function copyWasm(): void {
  mkdirSync('dist/wasm', { recursive: true });
  for (const variant of VARIANTS) {
    copyFileSync(`ts/src/wasm/gen/${variant}/wasmformer_bg.wasm`, `dist/wasm/${variant}.wasm`);
  }
}

/**
 * The CLI's modules import the library as `index.node.js` from any depth (ts/src/cli.ts as
 * `./index.node.js`, the lab's experiments as `../../index.node.js`): every such import becomes
 * the one `./index.node.js` beside dist/cli.js, so the CLI and the lab share one WebAssembly
 * instance (a second bundled copy would need its own `init()`).
 */
const libraryBesideCli: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'library-beside-cli',
  setup(build) {
    build.onResolve({ filter: /(^|\/)index\.node\.js$/ }, () => ({ path: './index.node.js', external: true }));
  },
};

const common: Options = {
  target: 'es2022',
  sourcemap: true,
  // Bundled so the package has no runtime dependencies and a page can import dist/ as is.
  noExternal: ['wasm-feature-detect'],
  outDir: 'dist',
  // WGSL shaders (ts/src/webgpu/*.wgsl) are bundled as strings.
  loader: { '.wgsl': 'text' },
};

export default defineConfig([
  {
    ...common,
    // The main entry and internals share one chunk of modules (one WebAssembly instance, one
    // set of error classes), in CJS too: esbuild's code splitting, which tsup turns on for CJS
    // when asked.
    entry: { 'index.node': 'ts/src/index.node.ts', 'internals.node': 'ts/src/internals.ts' },
    format: ['esm', 'cjs'],
    splitting: true,
    platform: 'node',
    dts: true,
    clean: true,
    // import.meta.url in the CJS build (to find dist/wasm and the worker).
    shims: true,
  },
  {
    ...common,
    entry: {
      'index.browser': 'ts/src/index.browser.ts',
      'internals.browser': 'ts/src/internals.ts',
      'worker.browser': 'ts/src/wasm/worker.browser.ts',
    },
    format: ['esm'],
    platform: 'browser',
    dts: { entry: { 'index.browser': 'ts/src/index.browser.ts', 'internals.browser': 'ts/src/internals.ts' } },
  },
  {
    ...common,
    entry: { 'worker.node': 'ts/src/wasm/worker.node.ts' },
    format: ['esm'],
    platform: 'node',
    onSuccess: async () => copyWasm(),
  },
  {
    ...common,
    // The CLI imports the built library next to it instead of bundling a second copy.
    entry: { cli: 'ts/src/cli.ts' },
    format: ['esm'],
    platform: 'node',
    external: ['cli-progress'],
    esbuildPlugins: [libraryBesideCli],
  },
]);
