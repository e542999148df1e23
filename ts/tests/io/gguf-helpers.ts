// A small GGUF writer for the tests: builds well-formed files and, with its overrides, the
// malformed ones the reader must refuse (wrong counts, offsets, types, alignment).
import type { GgufFile } from '../../../dist/index.node.js';

/** GGUF value types. */
export const V = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

/** An array value: its element type and items (nested arrays as ArrayValue). */
export interface ArrayValue {
  type: number;
  items: unknown[];
}

/** One key/value: [key, value type, value]. */
export type Kv = [string, number, unknown];

/** One tensor: raw bytes of its ggml type, dims fastest first; offset computed when absent. */
export interface TensorSpec {
  name: string;
  dims: number[];
  type: number;
  data: Uint8Array;
  offset?: number;
}

/** A file to write; the overrides write wrong counts or versions. */
export interface GgufSpec {
  kv: Kv[];
  tensors: TensorSpec[];
  magic?: string;
  version?: number;
  nTensors?: bigint;
  nKv?: bigint;
  /** Alignment used to place the data (default: general.alignment if given, else 32). */
  alignment?: number;
}

class Bytes {
  parts: number[] = [];
  u8(v: number): void {
    this.parts.push(v & 0xff);
  }
  raw(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }
  fixed(n: number, set: (view: DataView) => void): void {
    const buf = new Uint8Array(n);
    set(new DataView(buf.buffer));
    this.raw(buf);
  }
  u32(v: number): void {
    this.fixed(4, (d) => d.setUint32(0, v, true));
  }
  u64(v: number | bigint): void {
    this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  value(type: number, v: unknown): void {
    switch (type) {
      case V.u8:
      case V.bool:
        this.u8(v === true ? 1 : v === false ? 0 : (v as number));
        break;
      case V.i8:
        this.fixed(1, (d) => d.setInt8(0, v as number));
        break;
      case V.u16:
        this.fixed(2, (d) => d.setUint16(0, v as number, true));
        break;
      case V.i16:
        this.fixed(2, (d) => d.setInt16(0, v as number, true));
        break;
      case V.u32:
        this.u32(v as number);
        break;
      case V.i32:
        this.fixed(4, (d) => d.setInt32(0, v as number, true));
        break;
      case V.f32:
        this.fixed(4, (d) => d.setFloat32(0, v as number, true));
        break;
      case V.string:
        this.string(v as string);
        break;
      case V.array: {
        const a = v as ArrayValue;
        this.u32(a.type);
        this.u64(a.items.length);
        for (const item of a.items) this.value(a.type, item);
        break;
      }
      case V.u64:
        this.u64(v as number | bigint);
        break;
      case V.i64:
        this.fixed(8, (d) => d.setBigInt64(0, BigInt(v as number | bigint), true));
        break;
      case V.f64:
        this.fixed(8, (d) => d.setFloat64(0, v as number, true));
        break;
      default:
        this.u8(0);
        break; // an unknown type: one byte of "value"
    }
  }
}

/** Writes `spec` as a GGUF file. */
export function writeGguf(spec: GgufSpec): Uint8Array {
  const b = new Bytes();
  b.raw(new TextEncoder().encode(spec.magic ?? 'GGUF'));
  b.u32(spec.version ?? 3);
  b.u64(spec.nTensors ?? BigInt(spec.tensors.length));
  b.u64(spec.nKv ?? BigInt(spec.kv.length));
  for (const [key, type, value] of spec.kv) {
    b.string(key);
    b.u32(type);
    b.value(type, value);
  }
  const declared = spec.kv.find(([k]) => k === 'general.alignment')?.[2];
  const alignment = spec.alignment ?? (typeof declared === 'number' && declared > 0 ? declared : 32);
  const align = (n: number): number => Math.ceil(n / alignment) * alignment;
  let next = 0;
  const offsets = spec.tensors.map((t) => {
    // An explicit offset (a malformed file) does not grow the file.
    if (t.offset !== undefined) return t.offset;
    const at = align(next);
    next = at + t.data.length;
    return at;
  });
  spec.tensors.forEach((t, i) => {
    b.string(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(t.type);
    b.u64(offsets[i] as number);
  });
  const header = b.parts.length;
  const start = align(header);
  const out = new Uint8Array(start + (spec.tensors.length > 0 ? align(next) : 0));
  out.set(b.parts);
  spec.tensors.forEach((t, i) => {
    const at = start + (offsets[i] as number);
    if (at + t.data.length <= out.length) out.set(t.data, at);
  });
  return out;
}

/** The ggml type ids the tests use. */
export const T = { F32: 0, F16: 1, Q4_K: 12, Q8_0: 8 } as const;

/** Little-endian F32 bytes of `values`. */
export function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

/** A parsed file's metadata and tensors as a spec, to re-write with changes. */
export function specOf(file: GgufFile): GgufSpec {
  const kv: Kv[] = [];
  for (const [key, value] of file.metadata) {
    if (Array.isArray(value)) {
      const first = value[0];
      const type = typeof first === 'string' ? V.string : Number.isInteger(first) ? V.i32 : V.f32;
      kv.push([key, V.array, { type, items: value }]);
    } else if (typeof value === 'string') kv.push([key, V.string, value]);
    else if (typeof value === 'boolean') kv.push([key, V.bool, value]);
    else if (key === 'general.alignment') kv.push([key, V.u32, value]);
    else kv.push([key, Number.isInteger(value) ? V.u32 : V.f32, value]);
  }
  const tensors = file.tensors.map((t) => ({
    name: t.name,
    dims: [...t.dims],
    type: t.type,
    data: file.data.slice(t.offset, t.offset + t.byteLength),
  }));
  return { kv, tensors };
}
