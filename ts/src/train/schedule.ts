/**
 * Learning-rate schedules: nanoGPT's `get_lr` (linear warmup, then cosine decay to `minLr`)
 * plus linear and constant variants.
 *
 * ```
 * step < warmupSteps:        lr · (step + 1) / (warmupSteps + 1)
 * step ≥ decaySteps:         minLr
 * otherwise, ratio = (step − warmupSteps) / (decaySteps − warmupSteps):
 *   cosine:                  minLr + ½ (1 + cos(π · ratio)) · (lr − minLr)
 *   linear:                  minLr + (1 − ratio) · (lr − minLr)
 * constant: warmup as above, then lr forever (decaySteps and minLr are ignored)
 * ```
 *
 * nanoGPT returns `minLr` only for `step > decaySteps`; at `step = decaySteps` its cosine is
 * already exactly `minLr`, so `≥` gives the same values and stays defined when
 * `warmupSteps = decaySteps`.
 */
import { InvalidArgumentError } from '../errors.js';

/** The shapes of schedule {@link learningRateAt} supports. */
export type LrScheduleKind = 'cosine' | 'linear' | 'constant';

/** Parameters of a learning-rate schedule. */
export interface LrScheduleOptions {
  /** Peak learning rate, reached at the end of warmup; finite, ≥ 0. */
  lr: number;
  /** Final learning rate after decay; finite, 0 ≤ minLr ≤ lr (ignored by `'constant'`). */
  minLr: number;
  /** Number of warmup steps (nanoGPT `warmup_iters`); an integer ≥ 0. */
  warmupSteps: number;
  /** Step at which decay reaches `minLr` (nanoGPT `lr_decay_iters`); an integer ≥ warmupSteps (ignored by `'constant'`). */
  decaySteps: number;
  /** Shape of the decay after warmup. */
  schedule: LrScheduleKind;
}

const KINDS: readonly LrScheduleKind[] = ['cosine', 'linear', 'constant'];

function fail(message: string): never {
  throw new InvalidArgumentError(`learning-rate schedule: ${message}`);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks schedule options, throwing on the first invalid one.
 *
 * @throws InvalidArgumentError naming the option, its value and the allowed range.
 */
export function validateSchedule(options: LrScheduleOptions): void {
  if (typeof options !== 'object' || options === null) fail(`options must be an object, got ${String(options)}`);
  const { lr, minLr, warmupSteps, decaySteps, schedule } = options;
  if (!KINDS.includes(schedule)) {
    fail(`schedule must be one of ${KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(schedule)}`);
  }
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) fail(`lr must be a finite number ≥ 0, got ${String(lr)}`);
  if (!isNonNegativeInt(warmupSteps)) fail(`warmupSteps must be an integer ≥ 0, got ${String(warmupSteps)}`);
  if (schedule === 'constant') return;
  if (typeof minLr !== 'number' || !Number.isFinite(minLr) || minLr < 0) {
    fail(`minLr must be a finite number ≥ 0, got ${String(minLr)}`);
  }
  if (minLr > lr) fail(`minLr (${minLr}) must not exceed lr (${lr})`);
  if (!isNonNegativeInt(decaySteps)) fail(`decaySteps must be an integer ≥ 0, got ${String(decaySteps)}`);
  if (decaySteps < warmupSteps) fail(`decaySteps (${decaySteps}) must be ≥ warmupSteps (${warmupSteps})`);
}

/**
 * The learning rate to use at optimizer step `step` (0-based), nanoGPT's `get_lr`.
 *
 * @param step - the 0-based step index; an integer ≥ 0.
 * @param options - the schedule, see {@link LrScheduleOptions}.
 * @returns the learning rate, a finite number in [0, lr] (warmup may start below minLr).
 * @throws InvalidArgumentError if `step` is not an integer ≥ 0 or the options are invalid.
 */
export function learningRateAt(step: number, options: LrScheduleOptions): number {
  if (!isNonNegativeInt(step)) fail(`step must be an integer ≥ 0, got ${String(step)}`);
  validateSchedule(options);
  const { lr, minLr, warmupSteps, decaySteps, schedule } = options;
  if (step < warmupSteps) return (lr * (step + 1)) / (warmupSteps + 1);
  if (schedule === 'constant') return lr;
  if (step >= decaySteps) return minLr;
  const ratio = (step - warmupSteps) / (decaySteps - warmupSteps);
  const coeff = schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * ratio)) : 1 - ratio;
  return minLr + coeff * (lr - minLr);
}
