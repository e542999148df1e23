/**
 * The body of one thread-pool worker, shared by worker.node.ts and worker.browser.ts: it
 * instantiates the threaded build on the main thread's shared memory, reports in, then runs
 * one of rayon's worker loops (crates/wasm/src/pool.rs) for the rest of its life.
 */
import * as threadsRelaxedGlue from './gen/threads-relaxed/wasmformer.js';
import * as threadsGlue from './gen/threads/wasmformer.js';
import type { PoolWorkerInit, PoolWorkerMessage } from './platform.js';

/** Starts the pool worker; `post` sends a message to the thread that started it. */
export function runPoolWorker(init: PoolWorkerInit, post: (message: PoolWorkerMessage) => void): void {
  const glue = init.variant === 'threads-relaxed' ? threadsRelaxedGlue : threadsGlue;
  try {
    glue.initSync({ module: init.module, memory: init.memory });
  } catch (error) {
    post({ type: 'error', message: `pool worker could not instantiate ${init.variant}: ${String(error)}` });
    return;
  }
  post({ type: 'ready' });
  try {
    glue.runPoolWorker();
  } catch (error) {
    // This thread trapped (out of memory, an abort) in the middle of a call: say so in the
    // shared memory, where the caller waiting on the pool looks, then end as a failure.
    glue.markPoolLost();
    throw error;
  }
}
