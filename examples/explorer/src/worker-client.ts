/** Starts a training worker (bundled by Vite from train-worker.ts) and types its messages. */
import type { FromWorker, ToWorker } from './protocol';
import { state } from './state';

/** A typed handle on one training worker. */
export interface WorkerClient {
  send(message: ToWorker): void;
  /** Adds a listener; returns a function that removes it. */
  listen(listener: (message: FromWorker) => void): () => void;
  terminate(): void;
}

/**
 * A worker. `compare` workers (the Positions view runs several side by side) compute on one
 * thread each, so that the runs share the cores fairly.
 */
export function startWorker(kind: 'main' | 'compare'): WorkerClient {
  const worker =
    kind === 'main'
      ? new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module', name: 'train' })
      : new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module', name: 'compare' });
  const listeners = new Set<(message: FromWorker) => void>();
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (event.data.type === 'error') state.errors.push(event.data.message);
    for (const listener of listeners) listener(event.data);
  };
  worker.onerror = (event) => state.errors.push(`worker: ${event.message}`);
  return {
    send: (message) => worker.postMessage(message),
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    terminate: () => worker.terminate(),
  };
}
