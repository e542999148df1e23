/** Entry point of a pool worker in Node (worker_threads); see pool-worker.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import type { PoolWorkerInit } from './platform.js';
import { runPoolWorker } from './pool-worker.js';

const port = parentPort;
if (!port) throw new Error('worker.node.js must run as a worker_threads Worker');
runPoolWorker(workerData as PoolWorkerInit, (message) => port.postMessage(message));
