/** The loader's host services in Node: fs for the .wasm files, worker_threads for the pool. */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Platform, PoolWorker, PoolWorkerInit, PoolWorkerMessage } from '../wasm/platform.js';
import type { Variant } from '../wasm/variants.js';

// The bundle sits in dist/, with the .wasm files in dist/wasm/ and the worker beside it.
const wasmUrl = (variant: Variant): URL => new URL(`./wasm/${variant}.wasm`, import.meta.url);
const workerUrl = (): URL => new URL('./worker.node.js', import.meta.url);

export const nodePlatform: Platform = {
  name: 'node',
  async compileVariant(variant) {
    const bytes = await readFile(fileURLToPath(wasmUrl(variant)));
    return WebAssembly.compile(bytes);
  },
  canStartWorkers: () => true,
  canBlock: () => true,
  hardwareThreads: () => availableParallelism(),
  startPoolWorker(init: PoolWorkerInit): Promise<PoolWorker> {
    return new Promise((resolve, reject) => {
      // execArgv: [] — the worker is plain JS and needs none of the parent's Node options (some,
      // like --input-type, even stop a worker from starting); V8 flags such as
      // --experimental-wasm-relaxed-simd are process-wide and still apply.
      const worker = new Worker(workerUrl(), { workerData: init, execArgv: [] });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`pool worker exited with code ${code} before starting`)));
      worker.once('message', (message: PoolWorkerMessage) => {
        worker.removeAllListeners('exit');
        if (message.type === 'ready') {
          // Pool workers block inside WebAssembly for the life of the pool; unref so they do
          // not keep the process alive once the script is done.
          worker.unref();
          let stopping = false;
          resolve({
            terminate: () => {
              stopping = true;
              void worker.terminate();
            },
            onUnexpectedStop: (listener) => {
              let reported = false;
              const report = (reason: string): void => {
                if (stopping || reported) return;
                reported = true;
                listener(reason);
              };
              worker.once('error', (error) => report(`it threw ${String(error)}`));
              worker.once('exit', (code) => report(`it exited with code ${code}`));
            },
            stopAsFailure: () => void worker.terminate(),
          });
        } else {
          void worker.terminate();
          reject(new Error(message.message));
        }
      });
    });
  },
};
