// The loader: which build it picks where, forcing one, typed errors, threads in Node.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotInitializedError, ShapeError, init, matmul, runtimeInfo } from '../../dist/index.node.js';
import { poolSmoke } from '../../dist/internals.node.js';
import { DIST_ESM, DIST_INTERNALS_ESM, runNode } from './helpers/node.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
// Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd; Node 22 and later run
// it by default (and refuse the flag), so there the loader picks the relaxed builds.
const RELAXED_BY_DEFAULT = NODE_MAJOR >= 22;

describe('before init', () => {
  it('kernels throw NotInitializedError', () => {
    expect(() => runtimeInfo()).toThrow(NotInitializedError);
    expect(() => matmul(new Float32Array(1), new Float32Array(1), { m: 1, k: 1, n: 1 })).toThrow(NotInitializedError);
  });

  it('bad options are refused with a clear error', async () => {
    await expect(init({ threads: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(init({ threads: 1.5 })).rejects.toThrow(/threads must be an integer/);
    // @ts-expect-error: not a variant
    await expect(init({ variant: 'avx512' })).rejects.toThrow(/variant must be one of/);
    await expect(init({ variant: 'simd', threads: 2 })).rejects.toThrow(/single-threaded/);
  });
});

describe(`Node ${NODE_MAJOR} without flags`, () => {
  it('picks the threads build and two pool threads both do real work', async () => {
    const info = await init({ threads: 2 });
    expect(info.platform).toBe('node');
    expect(info.variant).toBe(info.engine.relaxedSimd ? 'threads-relaxed' : 'threads');
    expect(info.threads).toBe(2);
    const report = poolSmoke(4000);
    expect(report.itemsPerThread).toHaveLength(2);
    expect(report.itemsPerThread.every((items) => items > 0)).toBe(true);
    expect(report.itemsPerThread.reduce((s, x) => s + x, 0) + report.callerItems).toBe(4000);
    const serial = runNode(
      `const w = await import(${JSON.stringify(DIST_ESM)}); await w.init({ threads: 1 });
       const internals = await import(${JSON.stringify(DIST_INTERNALS_ESM)});
       console.log(JSON.stringify(internals.poolSmoke(4000)));`,
    ) as { checksum: number; callerItems: number };
    expect(serial.callerItems).toBe(4000);
    expect(report.checksum).toBeCloseTo(serial.checksum, 6);
  });

  it('asking again for another build is refused, the same build is fine', async () => {
    await expect(init({ variant: 'simd' })).rejects.toThrow(/already running/);
    expect((await init()).variant).toBe(runtimeInfo().variant);
  });

  it('errors are typed and the module stays usable after them', () => {
    expect(() => matmul(new Float32Array(3), new Float32Array(4), { m: 2, k: 2, n: 2 })).toThrow(ShapeError);
    // @ts-expect-error: a plain array is not a Float32Array
    expect(() => matmul([1, 2, 3, 4], new Float32Array(4), { m: 2, k: 2, n: 2 })).toThrow(InvalidArgumentError);
    expect(() => matmul(new Float32Array(4), new Float32Array(4), { m: 2, k: 2, n: -2 })).toThrow(/n must be a positive integer/);
    const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });
});

type Picked = { variant: string; simd: string; threads: number; skipped: { variant: string }[] };
const pick = (options: string, nodeArgs: string[] = []): Picked =>
  runNode(
    `const w = await import(${JSON.stringify(DIST_ESM)}); const info = await w.init(${options});
     console.log(JSON.stringify(info));`,
    nodeArgs,
  ) as Picked;

describe('build selection in other processes', () => {
  it.runIf(!RELAXED_BY_DEFAULT)('threads: 1 picks the single-threaded simd build', () => {
    const info = pick('{ threads: 1 }');
    expect(info.variant).toBe('simd');
    expect(info.simd).toBe('simd128');
  });

  it.runIf(!RELAXED_BY_DEFAULT)('under --experimental-wasm-relaxed-simd the relaxed builds are picked', () => {
    const flag = ['--experimental-wasm-relaxed-simd'];
    expect(pick('{ threads: 1 }', flag)).toMatchObject({ variant: 'relaxed', simd: 'relaxed-simd' });
    expect(pick('{ threads: 2 }', flag)).toMatchObject({ variant: 'threads-relaxed', simd: 'relaxed-simd', threads: 2 });
  });

  it.runIf(RELAXED_BY_DEFAULT)(`Node ${NODE_MAJOR} picks the relaxed builds without a flag`, () => {
    expect(pick('{ threads: 1 }')).toMatchObject({ variant: 'relaxed', simd: 'relaxed-simd' });
    expect(pick('{ threads: 2 }')).toMatchObject({ variant: 'threads-relaxed', simd: 'relaxed-simd', threads: 2 });
  });

  it('a forced build is used, or refused with UnsupportedError where the engine cannot run it', () => {
    expect(pick("{ variant: 'simd' }")).toMatchObject({ variant: 'simd', threads: 1 });
    expect(pick("{ variant: 'threads', threads: 2 }")).toMatchObject({ variant: 'threads', threads: 2 });
    if (RELAXED_BY_DEFAULT) {
      expect(pick("{ variant: 'relaxed' }")).toMatchObject({ variant: 'relaxed', threads: 1 });
      return;
    }
    const refused = runNode(
      `const w = await import(${JSON.stringify(DIST_ESM)});
       try { await w.init({ variant: 'relaxed' }); console.log('{"name":"none"}'); }
       catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, typed: e instanceof w.UnsupportedError })); }`,
    );
    expect(refused).toMatchObject({ name: 'UnsupportedError', typed: true });
    expect((refused as { message: string }).message).toMatch(/relaxed SIMD/);
  });
});
