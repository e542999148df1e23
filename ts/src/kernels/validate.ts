/** Argument checks shared by the kernel functions: they throw before any Rust runs. */
import { InvalidArgumentError, ShapeError } from '../errors.js';

/** A positive integer dimension (≤ 2³¹ − 1). */
export function checkDim(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${op}: ${name} must be a positive integer, got ${value}`);
  }
}

/** A finite number, optionally strictly positive. */
export function checkNumber(op: string, name: string, value: number, positive = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && value <= 0)) {
    throw new InvalidArgumentError(`${op}: ${name} must be a finite${positive ? ' positive' : ''} number, got ${value}`);
  }
}

type ArrayClass = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

/** A typed array of the given class with exactly `length` elements (`shape` names them). */
export function checkArray(op: string, name: string, array: unknown, length: number, shape: string, kind: ArrayClass = Float32Array): void {
  if (!(array instanceof kind)) {
    throw new InvalidArgumentError(`${op}: ${name} must be a ${kind.name} ${shape}, got ${describe(array)}`);
  }
  checkLength(op, name, array.length, length, shape);
}

/** An array (of any kind) of `actual` elements where exactly `length` are needed. */
export function checkLength(op: string, name: string, actual: number, length: number, shape: string): void {
  if (actual !== length) {
    throw new ShapeError(
      `${op}: ${name} must have ${length} elements (${shape}), got ${actual}`,
      `${length} elements (${shape})`,
      `${actual} elements`,
    );
  }
}

/** One of the allowed string values. */
export function checkChoice<T extends string>(op: string, name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new InvalidArgumentError(
      `${op}: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
}

/** What a wrongly typed argument is, for error messages (`null`, `Array`, `number`, …). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** The dimensions of a `[B, H, T, D]` per-head kernel. */
export interface HeadDims {
  b: number;
  h: number;
  t: number;
  d: number;
}

/**
 * Checks `b, h, t, d` and that every named array is a Float32Array of `B·H·T·D` elements;
 * returns that element count.
 */
export function checkHeadArrays(op: string, dims: HeadDims, arrays: Readonly<Record<string, unknown>>): number {
  const { b, h, t, d } = dims;
  for (const [name, value] of Object.entries({ b, h, t, d })) checkDim(op, name, value);
  const shape = `[B, H, T, D] = [${b}, ${h}, ${t}, ${d}]`;
  const n = b * h * t * d;
  for (const [name, array] of Object.entries(arrays)) if (array !== undefined) checkArray(op, name, array, n, shape);
  return n;
}
