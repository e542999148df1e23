/** The loader's host services in browsers: fetch for the .wasm files, Web Workers for the pool. */
import type { Platform, PoolWorker, PoolWorkerInit, PoolWorkerMessage } from '../wasm/platform.js';
import type { Variant } from '../wasm/variants.js';

// The bundle sits in dist/, with the .wasm files in dist/wasm/ and the worker beside it.
// `new URL('<literal>', import.meta.url)` is the pattern bundlers (Vite, webpack 5, esbuild)
// rewrite: one literal per build, because a template literal becomes a glob that Vite's
// dependency pre-bundling (its dev server, for a package in node_modules) resolves to nothing.
function wasmUrl(variant: Variant): URL {
  switch (variant) {
    case 'simd':
      return new URL('./wasm/simd.wasm', import.meta.url);
    case 'relaxed':
      return new URL('./wasm/relaxed.wasm', import.meta.url);
    case 'threads':
      return new URL('./wasm/threads.wasm', import.meta.url);
    case 'threads-relaxed':
      return new URL('./wasm/threads-relaxed.wasm', import.meta.url);
  }
}

/**
 * Starts a pool worker. The whole expression `new Worker(new URL('…', import.meta.url), {…})`
 * stays in one piece: it is the form Vite and webpack 5 recognise as a worker entry and bundle
 * with its imports. A bare `new URL(…)` is copied (or inlined as a data: URL) as a plain asset,
 * whose `import` of the package's shared chunk then fails.
 */
const startWorker = (): Worker => new Worker(new URL('./worker.browser.js', import.meta.url), { type: 'module', name: 'wasmformer-pool' });

/** True inside a dedicated worker, where blocking (Atomics.wait) is allowed. */
function inWorker(): boolean {
  return typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';
}

export const browserPlatform: Platform = {
  name: 'browser',
  async compileVariant(variant) {
    const response = await fetch(wasmUrl(variant));
    if (!response.ok) throw new Error(`fetching ${response.url} failed: HTTP ${response.status}`);
    // compileStreaming needs the server to send application/wasm; fall back to bytes.
    if (response.headers.get('content-type')?.startsWith('application/wasm')) {
      return WebAssembly.compileStreaming(response);
    }
    return WebAssembly.compile(await response.arrayBuffer());
  },
  canStartWorkers: () => typeof Worker !== 'undefined',
  canBlock: () => inWorker(),
  hardwareThreads: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1,
  startPoolWorker(init: PoolWorkerInit): Promise<PoolWorker> {
    return new Promise((resolve, reject) => {
      const worker = startWorker();
      worker.onerror = (event) => reject(new Error(`pool worker failed to start: ${event.message}`));
      worker.onmessage = (event: MessageEvent<PoolWorkerMessage>) => {
        if (event.data.type === 'ready') {
          let stopListener: ((reason: string) => void) | undefined;
          resolve({
            terminate: () => worker.terminate(),
            // A browser reports a worker's uncaught error; a worker the page terminates sends nothing.
            onUnexpectedStop: (listener) => {
              worker.onerror = (error) => listener(`it threw ${error.message}`);
              stopListener = listener;
            },
            stopAsFailure: () => {
              worker.terminate();
              stopListener?.('it was terminated');
            },
          });
        } else {
          worker.terminate();
          reject(new Error(event.data.message));
        }
      };
      worker.postMessage(init);
    });
  },
};
