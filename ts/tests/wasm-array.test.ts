// WasmArray: float32 arrays kept in WebAssembly memory, and matmul reading and writing them in
// place. Checked against the plain TS reference, for every storage form, mixed with
// Float32Array operands, across memory growth, and for every way of misusing one.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DisposedError,
  InvalidArgumentError,
  OutOfMemoryError,
  ShapeError,
  WasmArray,
  init,
  matmul,
  wasmMemoryBytes,
} from '../../dist/index.node.js';
import { matmulRef, maxRelativeError, randomArray } from './helpers/reference.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const FORMS = ['ab', 'abt', 'atb'] as const;

describe('WasmArray', () => {
  it('holds what it was given, and set overwrites it', () => {
    const data = randomArray(37, 1);
    const array = WasmArray.from(data);
    expect(array.length).toBe(37);
    expect(array.toArray()).toEqual(data);
    const other = randomArray(37, 2);
    array.set(other);
    expect(array.toArray()).toEqual(other);
    // toArray is a copy: changing it leaves the array alone.
    const copy = array.toArray();
    copy[0] = 1e9;
    expect(array.toArray()[0]).toBe(other[0]);
    expect(WasmArray.zeros(5).toArray()).toEqual(new Float32Array(5));
    expect(WasmArray.zeros(0).toArray()).toEqual(new Float32Array(0));
    array.dispose();
  });

  it('keeps its elements when the module memory grows', () => {
    const data = randomArray(1000, 3);
    const array = WasmArray.from(data);
    const before = wasmMemoryBytes();
    const big = WasmArray.zeros(before / 4 + (1 << 20)); // more than the memory holds now: it grows
    expect(wasmMemoryBytes()).toBeGreaterThan(before);
    expect(array.toArray()).toEqual(data);
    big.dispose();
    array.dispose();
  });

  it('refuses bad lengths and data with typed errors', () => {
    expect(() => WasmArray.zeros(-1)).toThrow(InvalidArgumentError);
    expect(() => WasmArray.zeros(1.5)).toThrow(/length must be an integer ≥ 0, got 1.5/);
    expect(() => WasmArray.zeros(2 ** 31)).toThrow(OutOfMemoryError);
    // @ts-expect-error: not a Float32Array
    expect(() => WasmArray.from([1, 2])).toThrow(/must be a Float32Array, got Array/);
    const array = WasmArray.zeros(4);
    expect(() => array.set(new Float32Array(3))).toThrow(ShapeError);
    expect(() => array.set(new Float32Array(3))).toThrow(/must have 4 elements, got 3/);
    array.dispose();
  });

  it('throws DisposedError after dispose, which may be called again', () => {
    const array = WasmArray.from(new Float32Array([1, 2, 3, 4]));
    expect(array.disposed).toBe(false);
    array.dispose();
    array.dispose();
    expect(array.disposed).toBe(true);
    expect(() => array.toArray()).toThrow(DisposedError);
    expect(() => array.set(new Float32Array(4))).toThrow(DisposedError);
    expect(() => matmul(array, new Float32Array(4), { m: 2, k: 2, n: 2 })).toThrow(/a is a WasmArray that was disposed/);
  });
});

describe('matmul on WasmArrays', () => {
  for (const form of FORMS) {
    it(`${form}: resident, mixed and out operands match the reference`, () => {
      let seed = 10;
      const shapes: [number, number, number][] = [
        [1, 1, 1],
        [3, 17, 5],
        [17, 63, 33],
        [130, 3, 129],
      ];
      for (const [m, k, n] of shapes) {
        const a = randomArray(m * k, seed++);
        const b = randomArray(k * n, seed++);
        const bias = seed % 2 === 0 ? randomArray(n, seed++) : undefined;
        const want = matmulRef(a, b, m, k, n, form, bias);
        const [aArray, bArray] = [WasmArray.from(a), WasmArray.from(b)];
        const shape = `m=${m} k=${k} n=${n}`;
        expect(maxRelativeError(matmul(aArray, bArray, { m, k, n, form, bias }), want), shape).toBeLessThan(1e-5);
        expect(maxRelativeError(matmul(a, bArray, { m, k, n, form, bias }), want), shape).toBeLessThan(1e-5);
        expect(maxRelativeError(matmul(aArray, b, { m, k, n, form, bias }), want), shape).toBeLessThan(1e-5);
        // out is overwritten, whatever it held.
        const out = WasmArray.from(randomArray(m * n, seed++));
        expect(matmul(a, b, { m, k, n, form, bias, out })).toBe(out);
        expect(maxRelativeError(out.toArray(), want), shape).toBeLessThan(1e-5);
        for (const array of [aArray, bArray, out]) array.dispose();
      }
    });
  }

  it('a large resident product split over threads equals the reference', () => {
    const [m, k, n] = [300, 257, 301];
    const a = randomArray(m * k, 7);
    const b = randomArray(k * n, 8);
    const [aArray, bArray, out] = [WasmArray.from(a), WasmArray.from(b), WasmArray.zeros(m * n)];
    matmul(aArray, bArray, { m, k, n, out });
    expect(maxRelativeError(out.toArray(), matmulRef(a, b, m, k, n, 'ab'))).toBeLessThan(1e-5);
    for (const array of [aArray, bArray, out]) array.dispose();
  });

  it('the same array may be both operands (a · aᵀ)', () => {
    const a = randomArray(6 * 4, 9);
    const aArray = WasmArray.from(a);
    const got = matmul(aArray, aArray, { m: 6, k: 4, n: 6, form: 'abt' });
    expect(maxRelativeError(got, matmulRef(a, a, 6, 4, 6, 'abt'))).toBeLessThan(1e-5);
    aArray.dispose();
  });

  it('frees the copies it makes: repeated mixed calls do not grow the memory', () => {
    const [m, k, n] = [64, 96, 80];
    const a = randomArray(m * k, 11);
    const bArray = WasmArray.from(randomArray(k * n, 12));
    matmul(a, bArray, { m, k, n });
    const settled = wasmMemoryBytes();
    for (let call = 0; call < 200; call++) matmul(a, bArray, { m, k, n });
    expect(wasmMemoryBytes()).toBe(settled);
    bArray.dispose();
  });

  it('refuses misuse with typed errors and stays usable', () => {
    const a = WasmArray.zeros(6);
    const b = WasmArray.zeros(12);
    const out = WasmArray.zeros(8);
    expect(() => matmul(a, b, { m: 3, k: 3, n: 4 })).toThrow(ShapeError);
    expect(() => matmul(a, b, { m: 3, k: 3, n: 4 })).toThrow(/a must have 9 elements \(\[M, K\] = \[3, 3\]\), got 6/);
    expect(() => matmul(a, b, { m: 2, k: 3, n: 4, out: WasmArray.zeros(7) })).toThrow(/out must have 8 elements/);
    const square = WasmArray.zeros(4);
    expect(() => matmul(square, WasmArray.zeros(4), { m: 2, k: 2, n: 2, out: square })).toThrow(
      /out must be a different WasmArray from a and b/,
    );
    square.dispose();
    // @ts-expect-error: out must be a WasmArray
    expect(() => matmul(a, b, { m: 2, k: 3, n: 4, out: new Float32Array(8) })).toThrow(InvalidArgumentError);
    // @ts-expect-error: not an operand
    expect(() => matmul([1, 2, 3, 4, 5, 6], b, { m: 2, k: 3, n: 4 })).toThrow(/a must be a Float32Array or WasmArray/);
    a.set(new Float32Array([1, 2, 3, 4, 5, 6]));
    b.set(new Float32Array(12).fill(1));
    matmul(a, b, { m: 2, k: 3, n: 4, out });
    expect(Array.from(out.toArray())).toEqual([6, 6, 6, 6, 15, 15, 15, 15]);
    for (const array of [a, b, out]) array.dispose();
  });
});
