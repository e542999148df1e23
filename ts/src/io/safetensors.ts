/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
 *
 * ```
 * [0, 8)          N, the header length: u64 little-endian
 * [8, 8 + N)      UTF-8 JSON header, optionally padded with spaces:
 *                 { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
 *                   "__metadata__": { "<key>": "<string>" } }      (metadata optional)
 * [8 + N, EOF)    the data buffer; offsets are relative to its start, little-endian, row-major
 * ```
 *
 * The writer emits F32 only; the reader accepts F32, F16 and BF16 and returns Float32Array
 * copies (integer and boolean tensors, such as the `position_ids` buffers Hugging Face saves,
 * are checked and listed in `skipped` when asked with `{ skipNonFloat: true }`). The reader
 * checks every length and offset (as the Rust reference does: tensors
 * must tile the data buffer exactly, with no gaps, overlaps or trailing bytes) and throws
 * {@link CheckpointError} with a specific message on any problem.
 */
import { CheckpointError, InvalidArgumentError, ShapeError } from '../errors.js';

/** The element types {@link readSafetensors} understands. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

/** A tensor to write: F32 data, row-major, `data.length === product(shape)`. */
export interface SafetensorsTensorInput {
  /** The element type written: float32 only. */
  dtype: 'F32';
  /** Dimensions, each an integer ≥ 0; `[]` is a scalar (1 element). */
  shape: number[];
  /** [product(shape)] float32 values. */
  data: Float32Array;
}

/** A tensor read from a file, converted to float32. */
export interface SafetensorsTensor {
  /** The element type stored in the file (the data is converted to float32 regardless). */
  dtype: SafetensorsDtype;
  /** Dimensions as stored. */
  shape: number[];
  /** [product(shape)] float32 values, a fresh copy (not a view into the file). */
  data: Float32Array;
}

/** The contents of a safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in the order their data appears in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` string map (empty if absent). */
  metadata: Record<string, string>;
  /** Names of the integer / boolean tensors left out (only with `skipNonFloat`). */
  skipped?: string[];
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Check integer and boolean tensors (I64 … U8, BOOL) and list them in `skipped` instead of failing. Default false. */
  skipNonFloat?: boolean;
}

/** Headers larger than this are rejected (the Rust reference uses the same limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const ITEM_SIZE: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const SUPPORTED = Object.keys(ITEM_SIZE).join(', ');
/** Element sizes of the non-float dtypes `skipNonFloat` accepts. */
const NON_FLOAT_SIZE: Record<string, number> = { I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Scratch pair for reinterpreting uint32 bits as float32 (same buffer, so byte order cancels).
const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

/**
 * Converts IEEE 754 binary16 bits to a number, exactly (subnormals, ±0, ±Infinity, NaN).
 *
 * @param bits - an integer in [0, 0xffff].
 */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero or subnormal: fraction · 2⁻¹⁴ / 2¹⁰
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Converts bfloat16 bits (the top half of a float32) to a number, exactly.
 *
 * @param bits - an integer in [0, 0xffff].
 */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0] ?? NaN;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------------------------
// Writer

/**
 * Serialises F32 tensors into a safetensors file.
 *
 * @param tensors - tensors by name (a record, or `[name, tensor]` pairs to fix the order);
 *   data is written in this order. Names must be unique, non-empty and not `__metadata__`.
 * @param metadata - optional string map stored as `__metadata__`.
 * @returns the file bytes; the header is space-padded so the data starts at a multiple of 8.
 * @throws InvalidArgumentError on a bad name, dtype, shape or metadata value.
 * @throws ShapeError if a tensor's data length is not the product of its shape.
 */
export function writeSafetensors(
  tensors: Record<string, SafetensorsTensorInput> | Array<[string, SafetensorsTensorInput]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const what = 'writeSafetensors';
  const entries = Array.isArray(tensors) ? tensors : Object.entries(tensors);
  const seen = new Set<string>();
  const headerParts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new InvalidArgumentError(`${what}: metadata must be an object of string values`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new InvalidArgumentError(`${what}: metadata[${JSON.stringify(key)}] must be a string, got ${typeof value}`);
      }
    }
    headerParts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const entry of entries) {
    const [name, tensor] = Array.isArray(entry) ? entry : [undefined, undefined];
    if (typeof name !== 'string' || name.length === 0 || name === '__metadata__') {
      throw new InvalidArgumentError(
        `${what}: tensor names must be non-empty strings other than "__metadata__", got ${JSON.stringify(name)}`,
      );
    }
    if (seen.has(name)) throw new InvalidArgumentError(`${what}: duplicate tensor name ${JSON.stringify(name)}`);
    seen.add(name);
    if (typeof tensor !== 'object' || tensor === null) {
      throw new InvalidArgumentError(`${what}: tensor ${JSON.stringify(name)} must be an object { dtype, shape, data }`);
    }
    if (tensor.dtype !== 'F32') {
      throw new InvalidArgumentError(
        `${what}: tensor ${JSON.stringify(name)} has dtype ${JSON.stringify(tensor.dtype)}; only "F32" can be written`,
      );
    }
    const { shape, data } = tensor;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new InvalidArgumentError(
        `${what}: tensor ${JSON.stringify(name)} shape must be an array of integers ≥ 0, got ${JSON.stringify(shape)}`,
      );
    }
    if (!(data instanceof Float32Array)) {
      throw new InvalidArgumentError(`${what}: tensor ${JSON.stringify(name)} data must be a Float32Array`);
    }
    const count = product(shape);
    if (data.length !== count) {
      throw new ShapeError(
        `${what}: tensor ${JSON.stringify(name)} has ${data.length} elements but shape [${shape.join(', ')}] needs ${count}`,
        `${count} elements ([${shape.join(', ')}])`,
        `${data.length} elements`,
      );
    }
    const end = offset + count * 4;
    headerParts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  let header = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const withPadding = new Uint8Array(padded).fill(0x20);
    withPadding.set(header);
    header = withPadding;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length, true);
  view.setUint32(4, Math.floor(header.length / 2 ** 32), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const [, { data }] of entries as Array<[string, SafetensorsTensorInput]>) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i] ?? 0, true);
    }
    at += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndexArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
}

/**
 * Parses a safetensors file. F16 and BF16 tensors are converted to float32 exactly.
 *
 * @param bytes - the whole file.
 * @param source - optional file name, included in error messages.
 * @throws InvalidArgumentError if `bytes` is not a Uint8Array.
 * @throws CheckpointError if the file is truncated, corrupted, uses an unsupported dtype or has
 *   inconsistent offsets; the message says which check failed and for which tensor.
 */
export function readSafetensors(bytes: Uint8Array, source?: string, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError('readSafetensors: bytes must be a Uint8Array holding the whole file');
  }
  const fail: (message: string) => never = (message) => {
    throw new CheckpointError(`safetensors${source === undefined ? '' : ` ${JSON.stringify(source)}`}: ${message}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length; expected a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLength = hi * 2 ** 32 + lo;
  if (headerLength > MAX_HEADER_BYTES) {
    fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit; the file is corrupted or not safetensors`);
  }
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file; the file is truncated`);
  }
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(`header is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(header)) fail('header must be a JSON object mapping tensor names to { dtype, shape, data_offsets }');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  const skipped = new Set<string>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!isRecord(info)) fail('__metadata__ must be an object of strings');
      const pairs = Object.entries(info as Record<string, unknown>);
      for (const [key, value] of pairs) {
        if (typeof value !== 'string') fail(`__metadata__[${JSON.stringify(key)}] must be a string, got ${typeof value}`);
      }
      metadata = Object.fromEntries(pairs) as Record<string, string>;
      continue;
    }
    const label = `tensor ${JSON.stringify(name)}`;
    if (!isRecord(info)) fail(`${label}: expected an object { dtype, shape, data_offsets }`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`${label}: missing or non-string "dtype"`);
    const nonFloat = options.skipNonFloat === true && Object.hasOwn(NON_FLOAT_SIZE, dtype as string);
    if (!Object.hasOwn(ITEM_SIZE, dtype as string) && !nonFloat) {
      fail(`${label}: unsupported dtype ${JSON.stringify(dtype)}; supported dtypes are ${SUPPORTED}`);
    }
    if (!isIndexArray(shape)) fail(`${label}: "shape" must be an array of integers ≥ 0, got ${JSON.stringify(shape)}`);
    if (!isIndexArray(offsets) || offsets.length !== 2) {
      fail(`${label}: "data_offsets" must be [begin, end] with integers ≥ 0, got ${JSON.stringify(offsets)}`);
    }
    const [begin = 0, end = 0] = offsets as number[];
    if (end < begin) fail(`${label}: data_offsets end ${end} is before begin ${begin}`);
    if (end > dataLength) {
      fail(`${label}: data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data buffer; the file is truncated or corrupted`);
    }
    const itemSize = nonFloat ? (NON_FLOAT_SIZE[dtype as string] as number) : ITEM_SIZE[dtype as SafetensorsDtype];
    if (nonFloat) skipped.add(name);
    const expected = product(shape as number[]) * itemSize;
    if (end - begin !== expected) {
      fail(
        `${label}: holds ${end - begin} bytes but shape [${(shape as number[]).join(', ')}] × ${itemSize}-byte ${dtype as string} needs ${expected}`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], begin, end });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const entry of entries) {
    if (entry.begin < covered) {
      fail(
        `tensor ${JSON.stringify(entry.name)} at bytes [${entry.begin}, ${entry.end}) overlaps tensor ${JSON.stringify(previous)} ending at ${covered}`,
      );
    }
    if (entry.begin > covered) {
      fail(`gap of ${entry.begin - covered} unused bytes before tensor ${JSON.stringify(entry.name)} at data offset ${covered}`);
    }
    covered = entry.end;
    previous = entry.name;
  }
  if (covered !== dataLength) {
    fail(`${dataLength - covered} trailing bytes after the last tensor (data buffer is ${dataLength} bytes, tensors cover ${covered})`);
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    if (skipped.has(name)) continue;
    tensors.set(name, { dtype, shape, data: decode(bytes, view, dtype, dataStart + begin, dataStart + end) });
  }
  return options.skipNonFloat === true ? { tensors, metadata, skipped: [...skipped] } : { tensors, metadata };
}

/** Decodes bytes [start, end) of `bytes` (little-endian `dtype`) into a fresh Float32Array. */
function decode(bytes: Uint8Array, view: DataView, dtype: SafetensorsDtype, start: number, end: number): Float32Array {
  if (dtype === 'F32') {
    const out = new Float32Array((end - start) / 4);
    if (LITTLE_ENDIAN) {
      new Uint8Array(out.buffer).set(bytes.subarray(start, end));
    } else {
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(start + 4 * i, true);
    }
    return out;
  }
  const out = new Float32Array((end - start) / 2);
  const convert = dtype === 'F16' ? f16ToF32 : bf16ToF32;
  for (let i = 0; i < out.length; i++) out[i] = convert(view.getUint16(start + 2 * i, true));
  return out;
}
