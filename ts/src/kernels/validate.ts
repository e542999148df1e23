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

/**
 * Throws InvalidArgumentError naming the first non-finite element of `array` (−∞ passes when
 * `allowNegativeInfinity`: a mask value).
 */
export function checkFinite(op: string, name: string, array: Float32Array, allowNegativeInfinity = false): void {
  for (let i = 0; i < array.length; i++) {
    const x = array[i] as number;
    if (!Number.isFinite(x) && !(allowNegativeInfinity && x === Number.NEGATIVE_INFINITY)) {
      throw new InvalidArgumentError(
        `${op}: ${name}[${i}] is ${x}; ${op} needs finite values${allowNegativeInfinity ? ' (or −Infinity to mask)' : ''}`,
      );
    }
  }
}
