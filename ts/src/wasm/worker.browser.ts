/** Entry point of a pool worker in browsers (a module Web Worker); see pool-worker.ts. */
import type { PoolWorkerInit, PoolWorkerMessage } from './platform.js';
import { runPoolWorker } from './pool-worker.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<PoolWorkerInit>) => void) | null;
  postMessage(message: PoolWorkerMessage): void;
}
const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (event) => {
  scope.onmessage = null;
  runPoolWorker(event.data, (message) => scope.postMessage(message));
};
