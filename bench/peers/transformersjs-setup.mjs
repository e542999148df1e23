// Loads transformers.js for the bench peers on the requested ONNX Runtime: `'wasm'` hands it
// the onnxruntime-web copy it depends on (through its `globalThis[Symbol.for('onnxruntime')]`
// override, since in Node it would otherwise always use onnxruntime-node) with `threads` wasm
// threads and the wasm files read from disk (its default `wasmPaths` is a CDN); `'cpu'` is its
// Node default, onnxruntime-node (`threads` 0 = ONNX Runtime's default). Models come only from
// `modelDir` (no network, no cache).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @returns `{ tjs, loadOptions, tjsVersion, ortVersion }`: the transformers.js module, the
 *   options to pass to `from_pretrained` (with `dtype: 'fp32'`), and the versions in use
 */
export async function loadTransformersJs(device, threads, modelDir) {
  const require = createRequire(import.meta.url);
  // The package exports no ./package.json; its entry point is <package>/dist/transformers.node.cjs.
  const tjsDir = resolve(dirname(require.resolve('@huggingface/transformers')), '..');
  const tjsVersion = JSON.parse(readFileSync(join(tjsDir, 'package.json'), 'utf8')).version;
  let ortVersion;
  if (device === 'wasm') {
    // onnxruntime-web as transformers.js resolves it (its own pinned dependency), Node entry point.
    const ortWebEntry = createRequire(join(tjsDir, 'package.json')).resolve('onnxruntime-web');
    const ortWeb = await import(pathToFileURL(ortWebEntry).href);
    globalThis[Symbol.for('onnxruntime')] = ortWeb;
    ortVersion = `onnxruntime-web ${ortWeb.env.versions.web}`;
  }
  const tjs = await import('@huggingface/transformers');
  const { env } = tjs;
  if (device === 'cpu')
    ortVersion = `onnxruntime-node ${env.backends.onnx.versions?.node ?? require('onnxruntime-node/package.json').version}`;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(modelDir)}/`;
  env.useBrowserCache = false;
  env.useFSCache = false;
  let loadOptions;
  if (device === 'wasm') {
    env.backends.onnx.wasm.wasmPaths = undefined;
    env.backends.onnx.wasm.numThreads = threads;
    env.backends.onnx.wasm.proxy = false;
    // 'auto': no device check (transformers.js lists no devices when handed an ONNX runtime);
    // the execution provider comes from session_options.
    loadOptions = { device: 'auto', session_options: { executionProviders: ['wasm'] } };
  } else {
    loadOptions = { device: 'cpu', session_options: threads > 0 ? { intraOpNumThreads: threads } : {} };
  }
  return { tjs, loadOptions, tjsVersion, ortVersion };
}
