import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { learningRateAt, type LrScheduleOptions } from '../../src/train/schedule.js';

const base: LrScheduleOptions = { lr: 1e-3, minLr: 1e-4, warmupSteps: 10, decaySteps: 110, schedule: 'cosine' };

describe('learningRateAt', () => {
  it('warms up linearly as lr * (step + 1) / (warmup + 1)', () => {
    expect(learningRateAt(0, base)).toBeCloseTo(1e-3 / 11, 15);
    expect(learningRateAt(4, base)).toBeCloseTo((1e-3 * 5) / 11, 15);
    expect(learningRateAt(9, base)).toBeCloseTo((1e-3 * 10) / 11, 15);
  });

  it('decays by cosine from lr to minLr (hand-computed values)', () => {
    expect(learningRateAt(10, base)).toBeCloseTo(1e-3, 15); // ratio 0
    expect(learningRateAt(60, base)).toBeCloseTo(5.5e-4, 15); // ratio 1/2: coeff 1/2
    // ratio 1/4: coeff = 0.5 (1 + cos(π/4)) = 0.8535533905932737
    expect(learningRateAt(35, base)).toBeCloseTo(1e-4 + 0.8535533905932737 * 9e-4, 15);
    expect(learningRateAt(110, base)).toBe(1e-4);
    expect(learningRateAt(5000, base)).toBe(1e-4);
  });

  it('is monotone non-increasing after warmup', () => {
    let previous = Infinity;
    for (let step = 10; step <= 120; step++) {
      const lr = learningRateAt(step, base);
      expect(lr).toBeLessThanOrEqual(previous);
      previous = lr;
    }
  });

  it('supports linear and constant schedules', () => {
    const linear = { ...base, schedule: 'linear' as const };
    expect(learningRateAt(60, linear)).toBeCloseTo(5.5e-4, 15);
    expect(learningRateAt(35, linear)).toBeCloseTo(1e-4 + 0.75 * 9e-4, 15);
    expect(learningRateAt(200, linear)).toBe(1e-4);
    const constant = { lr: 3e-4, minLr: 0, warmupSteps: 0, decaySteps: 0, schedule: 'constant' as const };
    expect(learningRateAt(0, constant)).toBe(3e-4);
    expect(learningRateAt(1_000_000, constant)).toBe(3e-4);
    expect(learningRateAt(1, { ...constant, warmupSteps: 3 })).toBeCloseTo(3e-4 * 0.5, 15);
  });

  it('handles warmupSteps = decaySteps without dividing by zero', () => {
    const opts = { ...base, warmupSteps: 5, decaySteps: 5 };
    expect(learningRateAt(4, opts)).toBeCloseTo((1e-3 * 5) / 6, 15);
    expect(learningRateAt(5, opts)).toBe(1e-4);
  });

  it('rejects invalid options with a message naming the option', () => {
    const bad: Array<[Partial<LrScheduleOptions> & Record<string, unknown>, RegExp]> = [
      [{ lr: Number.NaN }, /lr must be/],
      [{ lr: -1 }, /lr must be/],
      [{ minLr: 2e-3 }, /minLr \(0\.002\) must not exceed lr/],
      [{ minLr: Number.POSITIVE_INFINITY }, /minLr must be/],
      [{ warmupSteps: -1 }, /warmupSteps/],
      [{ warmupSteps: 1.5 }, /warmupSteps/],
      [{ decaySteps: 5 }, /decaySteps \(5\) must be ≥ warmupSteps \(10\)/],
      [{ schedule: 'step' as 'cosine' }, /schedule must be one of/],
    ];
    for (const [patch, message] of bad) {
      expect(() => learningRateAt(0, { ...base, ...patch } as LrScheduleOptions)).toThrow(InvalidArgumentError);
      expect(() => learningRateAt(0, { ...base, ...patch } as LrScheduleOptions)).toThrow(message);
    }
    expect(() => learningRateAt(-1, base)).toThrow(/step must be an integer/);
    expect(() => learningRateAt(0.5, base)).toThrow(InvalidArgumentError);
  });
});
