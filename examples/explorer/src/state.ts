/**
 * What the page knows, in one place: the views draw from it, and `window.__explorer` exposes it
 * so the browser tests can check the data behind every picture.
 */
import type { RuntimeInfo } from 'wasmformer';
import type { AttentionData, EncodingData, RopeResult } from './protocol';

/** One run of the Positions view. */
export interface ComparedRun {
  positional: string;
  losses: { step: number; loss: number }[];
  valLosses: { step: number; loss: number }[];
  done: boolean;
  encoding?: EncodingData;
  /** The context length trained on (the Train view's block); the model has room for 4×. */
  trainLen: number;
  /** Validation loss at 1×, 2× and 4× the training length, after training (non-overlapping windows). */
  context?: { len: number; loss: number }[];
}

/** Everything the views have drawn. */
export interface ExplorerState {
  crossOriginIsolated: boolean;
  runtime?: RuntimeInfo;
  errors: string[];
  train: {
    /** `performance.now()` when the worker started training. */
    startedAt?: number;
    params?: number;
    steps: { step: number; loss: number; tokensPerSec: number }[];
    evals: { step: number; valLoss: number }[];
    running: boolean;
    generated?: string;
  };
  attention?: AttentionData;
  rope?: RopeResult & { maxShiftGap: number };
  positions: ComparedRun[];
  bert: {
    mlm: { step: number; loss: number }[];
    fill?: { text: string; candidates: { token: string; score: number }[]; attention: AttentionData };
    /** Relative difference of the state at [Q] for the two orders, before training. */
    orderGap: { none?: number; learned?: number };
    /** Held-out accuracy of [NoPE, learned]. */
    order: { step: number; accuracy: number[] }[];
    /** Finished jobs ('mlm', 'order'). */
    done: string[];
  };
}

export const state: ExplorerState = {
  crossOriginIsolated: self.crossOriginIsolated,
  errors: [],
  train: { steps: [], evals: [], running: false },
  positions: [],
  bert: { mlm: [], orderGap: {}, order: [], done: [] },
};

(globalThis as unknown as { __explorer: ExplorerState }).__explorer = state;

/** `?name=value` of the page's address, as a number, or `fallback`. */
export function numberParam(name: string, fallback: number): number {
  const value = new URLSearchParams(location.search).get(name);
  return value !== null && Number.isFinite(Number(value)) ? Number(value) : fallback;
}

/** Shorthand for document.getElementById with a type. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no element #${id}`);
  return element as T;
}

/** Builds an element from HTML text. */
export function html(text: string): HTMLElement {
  const template = document.createElement('template');
  template.innerHTML = text.trim();
  return template.content.firstElementChild as HTMLElement;
}
