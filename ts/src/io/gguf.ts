/**
 * Reader for llama.cpp's GGUF files (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md),
 * little-endian, versions 2 and 3 (3 only added big-endian files, which are refused; 1 had
 * 32-bit counts and is refused):
 *
 * ```
 * magic "GGUF" · u32 version · u64 n_tensors · u64 n_kv
 * n_kv ×      { string key · u32 value type · value }          (string = u64 length + UTF-8)
 * n_tensors × { string name · u32 n_dims · u64 ne[n_dims] · u32 ggml type · u64 offset }
 * padding to `general.alignment` (u32, a power of two; default 32)
 * data: each tensor at `offset` (a multiple of the alignment) from the start of this section
 * ```
 *
 * ggml lists dims fastest first (`ne[0]` is the contiguous one), so a tensor's row-major shape is
 * `ne` reversed: a `[out, in]` matrix has `ne = [in, out]`. Every count, length and offset is
 * checked against the file before anything is decoded, and each problem throws a
 * {@link CheckpointError} naming it. The table is read for any ggml type whose block size is
 * known; {@link decodeGgufTensor} converts F32, F16 and Q8_0 to float32 exactly and refuses the
 * others with an {@link UnsupportedConfigError} (`field: 'ggml_type'`) naming the type.
 */
import { CheckpointError, InvalidArgumentError, UnsupportedConfigError } from '../errors.js';
import { f16ToF32 } from './safetensors.js';

/** A metadata value: integers as numbers (64-bit ones beyond 2^53 as bigint), arrays as arrays. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** A ggml tensor type by name (`'Q8_0'`), or `'type <id>'` for one this reader does not know. */
export type GgmlTypeName = string;

/** One entry of the tensor table. */
export interface GgufTensorInfo {
  /** The tensor's name (`blk.0.attn_q.weight`). */
  name: string;
  /** ggml's `ne`: dims fastest first, as stored. */
  dims: number[];
  /** Row-major shape: `dims` reversed. */
  shape: number[];
  /** ggml type id. */
  type: number;
  /** ggml type name (`'F32'`, `'Q8_0'`, …). */
  typeName: GgmlTypeName;
  /** Byte offset from the start of the data section. */
  offset: number;
  /** Bytes the tensor occupies. */
  byteLength: number;
}

/** A parsed GGUF file: header, metadata, tensor table and the bytes of the data section. */
export interface GgufFile {
  /** Format version (2 or 3). */
  version: number;
  /** Metadata key/values in file order. */
  metadata: Map<string, GgufValue>;
  /** The tensor table in file order. */
  tensors: GgufTensorInfo[];
  /** Alignment of the data section and of every tensor offset (`general.alignment`, default 32). */
  alignment: number;
  /** The data section (a view into the file's bytes; offsets are relative to it). */
  data: Uint8Array;
  /** The file name given to {@link readGguf}, for messages. */
  source?: string;
}

/** Options of {@link readGguf}. */
export interface ReadGgufOptions {
  /** A file name, included in error messages. */
  source?: string;
}

/** ggml types by id: name, elements per block, bytes per block (llama.cpp's ggml.h / gguf-py). */
const GGML_TYPES: ReadonlyMap<number, readonly [string, number, number]> = new Map([
  [0, ['F32', 1, 4]],
  [1, ['F16', 1, 2]],
  [2, ['Q4_0', 32, 18]],
  [3, ['Q4_1', 32, 20]],
  [6, ['Q5_0', 32, 22]],
  [7, ['Q5_1', 32, 24]],
  [8, ['Q8_0', 32, 34]],
  [9, ['Q8_1', 32, 40]],
  [10, ['Q2_K', 256, 84]],
  [11, ['Q3_K', 256, 110]],
  [12, ['Q4_K', 256, 144]],
  [13, ['Q5_K', 256, 176]],
  [14, ['Q6_K', 256, 210]],
  [15, ['Q8_K', 256, 292]],
  [16, ['IQ2_XXS', 256, 66]],
  [17, ['IQ2_XS', 256, 74]],
  [18, ['IQ3_XXS', 256, 98]],
  [19, ['IQ1_S', 256, 50]],
  [20, ['IQ4_NL', 32, 18]],
  [21, ['IQ3_S', 256, 110]],
  [22, ['IQ2_S', 256, 82]],
  [23, ['IQ4_XS', 256, 136]],
  [24, ['I8', 1, 1]],
  [25, ['I16', 1, 2]],
  [26, ['I32', 1, 4]],
  [27, ['I64', 1, 8]],
  [28, ['F64', 1, 8]],
  [29, ['IQ1_M', 256, 56]],
  [30, ['BF16', 1, 2]],
  [34, ['TQ1_0', 256, 54]],
  [35, ['TQ2_0', 256, 66]],
  [39, ['MXFP4', 32, 17]],
]);

/** The ggml types {@link decodeGgufTensor} converts. */
export const GGUF_DECODED_TYPES: readonly string[] = ['F32', 'F16', 'Q8_0'];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
/** GGML_MAX_DIMS. */
const MAX_DIMS = 4;
/** Nested arrays deeper than this are refused (the format allows nesting; no writer goes past 1). */
const MAX_ARRAY_DEPTH = 8;
/** Value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64. */
const VALUE_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8] as const;
const VALUE_NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;

/** A cursor over the file that throws a CheckpointError instead of reading past the end. */
class Cursor {
  at = 0;
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (message: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get left(): number {
    return this.bytes.length - this.at;
  }
  need(n: number, what: string): number {
    if (n > this.left) this.fail(`truncated: ${what} needs ${n} bytes at byte ${this.at} but the file ends at ${this.bytes.length}`);
    const start = this.at;
    this.at += n;
    return start;
  }
  u8(what: string): number {
    return this.view.getUint8(this.need(1, what));
  }
  u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  /** A u64 as a number; `limit` (≤ 2^53) bounds it with a message naming `what`. */
  u64(what: string, limit = Number.MAX_SAFE_INTEGER): number {
    const start = this.need(8, what);
    const value = this.view.getBigUint64(start, true);
    if (value > BigInt(limit)) this.fail(`${what} is ${value}, beyond ${limit}${limit < Number.MAX_SAFE_INTEGER ? '' : ' (2^53 − 1)'}`);
    return Number(value);
  }
  string(what: string): string {
    const length = this.u64(`the length of ${what}`);
    if (length > this.left)
      this.fail(`${what}: string of ${length} bytes at byte ${this.at} runs past the end of the ${this.bytes.length}-byte file`);
    const start = this.need(length, what);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }
}

/** Reads one metadata value of value type `type`. */
function readValue(c: Cursor, type: number, key: string, depth: number): GgufValue {
  const what = `metadata ${JSON.stringify(key)}`;
  const at = c.at;
  switch (type) {
    case 0:
      return c.u8(what);
    case 1:
      return c.view.getInt8(c.need(1, what));
    case 2:
      return c.view.getUint16(c.need(2, what), true);
    case 3:
      return c.view.getInt16(c.need(2, what), true);
    case 4:
      return c.u32(what);
    case 5:
      return c.view.getInt32(c.need(4, what), true);
    case 6:
      return c.view.getFloat32(c.need(4, what), true);
    case 7: {
      const b = c.u8(what);
      if (b > 1) c.fail(`${what}: bool byte at ${at} is ${b}, expected 0 or 1`);
      return b === 1;
    }
    case 8:
      return c.string(what);
    case 9: {
      if (depth >= MAX_ARRAY_DEPTH) c.fail(`${what}: arrays nested deeper than ${MAX_ARRAY_DEPTH}`);
      const itemType = c.u32(`${what} array type`);
      if (itemType >= VALUE_SIZE.length) c.fail(`${what}: unknown array element type ${itemType} at byte ${at}`);
      const length = c.u64(`${what} array length`);
      // Each element takes at least its minimum size: a length the file cannot hold is refused
      // before anything is allocated.
      const min = itemType === 8 ? 8 : itemType === 9 ? 12 : (VALUE_SIZE[itemType] as number);
      if (length * min > c.left) {
        c.fail(`${what}: array of ${length} ${VALUE_NAMES[itemType]} needs at least ${length * min} bytes, only ${c.left} remain`);
      }
      const out: GgufValue[] = new Array(length);
      for (let i = 0; i < length; i++) out[i] = readValue(c, itemType, key, depth + 1);
      return out;
    }
    case 10: {
      const v = c.view.getBigUint64(c.need(8, what), true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 11: {
      const v = c.view.getBigInt64(c.need(8, what), true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    case 12:
      return c.view.getFloat64(c.need(8, what), true);
    default:
      return c.fail(`${what}: unknown value type ${type} at byte ${at - 4}`);
  }
}

/**
 * Parses a GGUF file's header, metadata and tensor table, and checks that every tensor lies
 * inside the data section, aligned and without overlaps. Tensor data is not decoded: see
 * {@link decodeGgufTensor}.
 *
 * @example
 * ```ts
 * const file = readGguf(new Uint8Array(await (await fetch('tiny-llama-q8_0.gguf')).arrayBuffer()));
 * file.metadata.get('general.architecture');                   // 'llama'
 * const wte = decodeGgufTensor(file, 'token_embd.weight');      // [V, C] float32
 * ```
 * @param bytes - the whole file.
 * @throws InvalidArgumentError if `bytes` is not a Uint8Array.
 * @throws CheckpointError naming the problem: a truncated file, bad magic, an unsupported version,
 *   a count or length beyond the file, an unknown value or ggml type, dims whose product
 *   overflows, a duplicate key or tensor name, a bad `general.alignment`, or a tensor offset
 *   out of range, misaligned or overlapping another tensor.
 */
export function readGguf(bytes: Uint8Array, options: ReadGgufOptions = {}): GgufFile {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('readGguf: bytes must be a Uint8Array holding the whole file');
  const { source } = options;
  const fail = (message: string): never => {
    throw new CheckpointError(`GGUF${source === undefined ? '' : ` ${JSON.stringify(source)}`}: ${message}`);
  };
  const c = new Cursor(bytes, fail);
  if (bytes.length < 4) fail(`file is ${bytes.length} bytes, too short for the magic; expected a GGUF file`);
  const magic = c.u32('magic');
  if (magic !== MAGIC) {
    const got = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(`bad magic ${got}; a GGUF file starts with "GGUF" (47 47 55 46)`);
  }
  const version = c.u32('version');
  if (version !== 2 && version !== 3) {
    const hint =
      version === 1
        ? ' (version 1 had 32-bit counts; re-convert the model with a current llama.cpp)'
        : version >= 0x01000000
          ? ' (a big-endian GGUF file; convert it with gguf-py’s gguf_convert_endian)'
          : '';
    fail(`unsupported version ${version}; versions 2 and 3 are read${hint}`);
  }
  // Each tensor-table entry takes at least 8 + 4 + 4 + 8 bytes, each key/value 8 + 4 + 1.
  const nTensors = c.u64('the tensor count');
  const nKv = c.u64('the metadata count');
  if (nKv * 13 > c.left) fail(`metadata count ${nKv} needs at least ${nKv * 13} bytes, only ${c.left} remain`);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.string(`metadata key ${i}`);
    if (metadata.has(key)) fail(`duplicate metadata key ${JSON.stringify(key)}`);
    const type = c.u32(`the value type of metadata ${JSON.stringify(key)}`);
    metadata.set(key, readValue(c, type, key, 0));
  }
  if (nTensors * 24 > c.left) fail(`tensor count ${nTensors} needs at least ${nTensors * 24} bytes, only ${c.left} remain`);

  let alignment = 32;
  if (metadata.has('general.alignment')) {
    const a = metadata.get('general.alignment');
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || (a & (a - 1)) !== 0 || a > 2 ** 30) {
      fail(`general.alignment is ${JSON.stringify(String(a))}, expected a power of two`);
    }
    alignment = a as number;
  }

  const entries: Array<Omit<GgufTensorInfo, 'byteLength'> & { blockSize: number; typeSize: number }> = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(`tensor name ${i}`);
    const label = `tensor ${JSON.stringify(name)}`;
    if (names.has(name)) fail(`duplicate ${label}`);
    names.add(name);
    const nDims = c.u32(`${label} dim count`);
    if (nDims > MAX_DIMS) fail(`${label} has ${nDims} dims; ggml allows at most ${MAX_DIMS}`);
    const dims: number[] = [];
    let count = 1;
    for (let d = 0; d < nDims; d++) {
      const n = c.u64(`${label} dim ${d}`);
      count *= n;
      if (count > Number.MAX_SAFE_INTEGER) fail(`${label}: the product of its dims [${[...dims, n]}, …] overflows 2^53`);
      dims.push(n);
    }
    const type = c.u32(`${label} type`);
    const known = GGML_TYPES.get(type);
    if (!known) fail(`${label} has unknown ggml type ${type}`);
    const [typeName, blockSize, typeSize] = known as readonly [string, number, number];
    if (blockSize > 1 && (dims[0] ?? 1) % blockSize !== 0) {
      fail(`${label}: its first dim ${dims[0] ?? 1} is not a multiple of the ${typeName} block size ${blockSize}`);
    }
    const offset = c.u64(`${label} offset`);
    entries.push({ name, dims, shape: [...dims].reverse(), type, typeName, offset, blockSize, typeSize });
  }
  const dataStart = Math.ceil(c.at / alignment) * alignment;
  if (dataStart > bytes.length && entries.length > 0) {
    fail(`truncated: the data section starts at byte ${dataStart} (aligned to ${alignment}) but the file ends at ${bytes.length}`);
  }
  const data = bytes.subarray(Math.min(dataStart, bytes.length));
  const tensors: GgufTensorInfo[] = entries.map(({ blockSize, typeSize, ...t }) => {
    const label = `tensor ${JSON.stringify(t.name)}`;
    const byteLength = (t.dims.reduce((a, b) => a * b, 1) / blockSize) * typeSize;
    if (t.offset % alignment !== 0) fail(`${label}: offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    if (t.offset + byteLength > data.length) {
      fail(
        `${label}: bytes [${t.offset}, ${t.offset + byteLength}) lie outside the ${data.length}-byte data section; the file is truncated or corrupted`,
      );
    }
    return { ...t, byteLength };
  });
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as GgufTensorInfo;
    const next = sorted[i] as GgufTensorInfo;
    if (next.offset < prev.offset + prev.byteLength) {
      fail(
        `tensor ${JSON.stringify(next.name)} at data bytes [${next.offset}, ${next.offset + next.byteLength}) overlaps tensor ${JSON.stringify(prev.name)} ending at ${prev.offset + prev.byteLength}`,
      );
    }
  }
  return source === undefined ? { version, metadata, tensors, alignment, data } : { version, metadata, tensors, alignment, data, source };
}

/**
 * Decodes one tensor of a file {@link readGguf} parsed into a fresh float32 copy, row-major with
 * `shape` (ggml's dims reversed). F32 and F16 are converted exactly; Q8_0 is dequantised exactly as
 * ggml does: each block of 32 values is an f16 scale `d` and 32 int8 `q`, value = f32(d) · q,
 * rounded once to float32.
 *
 * @param file - from {@link readGguf}.
 * @param tensor - the tensor's name or its table entry.
 * @returns data: [product(shape)] float32.
 * @throws CheckpointError if the file has no such tensor.
 * @throws UnsupportedConfigError for another ggml type (Q4_K, BF16, …), naming it and the tensor.
 */
export function decodeGgufTensor(file: GgufFile, tensor: string | GgufTensorInfo): Float32Array {
  const info = typeof tensor === 'string' ? file.tensors.find((t) => t.name === tensor) : tensor;
  if (!info)
    throw new CheckpointError(
      `GGUF${file.source === undefined ? '' : ` ${JSON.stringify(file.source)}`}: no tensor ${JSON.stringify(tensor)}`,
    );
  const count = info.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(file.data.buffer, file.data.byteOffset + info.offset, info.byteLength);
  const out = new Float32Array(count);
  if (info.typeName === 'F32') {
    const at = file.data.byteOffset + info.offset;
    if (LITTLE_ENDIAN && at % 4 === 0) out.set(new Float32Array(file.data.buffer, at, count));
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (info.typeName === 'F16') {
    for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
  } else if (info.typeName === 'Q8_0') {
    for (let block = 0; block < count / 32; block++) {
      const d = f16ToF32(view.getUint16(34 * block, true));
      const base = 34 * block + 2;
      for (let j = 0; j < 32; j++) out[32 * block + j] = d * view.getInt8(base + j);
    }
  } else {
    throw new UnsupportedConfigError(
      `GGUF: tensor ${JSON.stringify(info.name)} has ggml type ${info.typeName}; wasmformer decodes ${GGUF_DECODED_TYPES.join(', ')} (re-quantise the model to Q8_0 with llama.cpp's llama-quantize)`,
      'ggml_type',
      info.typeName,
    );
  }
  return out;
}
