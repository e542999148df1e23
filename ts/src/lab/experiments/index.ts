/**
 * Every lab experiment, in the order `wasmformer lab all` runs them and the index lists them.
 * One module per experiment; each imports only the public API (`../../index.node.js`) and the
 * lab's helpers (`../lab.js`, `../stats.js`, `../plot.js`).
 */
import type { Experiment } from '../lab.js';
import { ffn } from './ffn.js';
import { length } from './length.js';
import { longText } from './long-text.js';
import { nsp } from './nsp.js';
import { norm } from './norm.js';
import { order } from './order.js';
import { recent } from './recent.js';
import { rope } from './rope.js';

/** The experiments, in run order. */
export const EXPERIMENTS: readonly Experiment[] = [order, length, longText, rope, norm, ffn, nsp, recent];
