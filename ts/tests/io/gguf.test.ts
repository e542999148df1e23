// The GGUF reader: every value type, F32/F16/Q8_0 decoding (Q8_0 bit for bit against the gguf
// package's dequantiser, fixtures by scripts/fixtures/make_gguf_fixtures.py) and a typed error
// for each kind of malformed file.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  GGUF_DECODED_TYPES,
  InvalidArgumentError,
  UnsupportedConfigError,
  decodeGgufTensor,
  readGguf,
  readGgufFile,
  readSafetensors,
} from '../../../dist/index.node.js';
import { ROOT } from '../helpers/node.js';
import { type GgufSpec, T, V, f32Bytes, writeGguf } from './gguf-helpers.js';
import { readFile } from 'node:fs/promises';

const FIXTURES = join(ROOT, 'ts/tests/fixtures/gguf');

/** One Q8_0 block: scale 0.5 (f16 0x3800), values −127, −1, 0, 1, …, 127 at the ends. */
function q8Block(): { bytes: Uint8Array; values: number[] } {
  const bytes = new Uint8Array(34);
  new DataView(bytes.buffer).setUint16(0, 0x3800, true);
  const q = Array.from({ length: 32 }, (_, j) => (j === 0 ? -127 : j === 31 ? 127 : j - 16));
  q.forEach((v, j) => {
    bytes[2 + j] = v & 0xff;
  });
  return { bytes, values: q.map((v) => 0.5 * v) };
}

/** A small well-formed file with every value type and one tensor of each decoded ggml type. */
function goodSpec(): GgufSpec {
  return {
    kv: [
      ['general.architecture', V.string, 'llama'],
      ['t.u8', V.u8, 200],
      ['t.i8', V.i8, -100],
      ['t.u16', V.u16, 60000],
      ['t.i16', V.i16, -30000],
      ['t.u32', V.u32, 4000000000],
      ['t.i32', V.i32, -2000000000],
      ['t.f32', V.f32, 0.25],
      ['t.bool', V.bool, true],
      ['t.string', V.string, 'héllo'],
      ['t.u64', V.u64, 2n ** 60n],
      ['t.i64', V.i64, -5],
      ['t.f64', V.f64, 1e-300],
      ['t.array', V.array, { type: V.string, items: ['a', 'bc'] }],
      [
        't.nested',
        V.array,
        {
          type: V.array,
          items: [
            { type: V.i32, items: [1, -2] },
            { type: V.f32, items: [] },
          ],
        },
      ],
    ],
    tensors: [
      { name: 'a', dims: [3, 2], type: T.F32, data: f32Bytes([1, 2, 3, 4, 5, 6]) },
      { name: 'h', dims: [2], type: T.F16, data: new Uint8Array([0x00, 0x3c, 0x01, 0x00]) }, // 1, the smallest subnormal
      { name: 'q', dims: [32, 1], type: T.Q8_0, data: q8Block().bytes },
    ],
  };
}

describe('readGguf', () => {
  it('reads every metadata value type and the tensor table', () => {
    const file = readGguf(writeGguf(goodSpec()));
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(32);
    expect(Object.fromEntries(file.metadata)).toEqual({
      'general.architecture': 'llama',
      't.u8': 200,
      't.i8': -100,
      't.u16': 60000,
      't.i16': -30000,
      't.u32': 4000000000,
      't.i32': -2000000000,
      't.f32': 0.25,
      't.bool': true,
      't.string': 'héllo',
      't.u64': 2n ** 60n,
      't.i64': -5,
      't.f64': 1e-300,
      't.array': ['a', 'bc'],
      't.nested': [[1, -2], []],
    });
    expect(file.tensors.map((t) => [t.name, t.shape, t.typeName, t.offset, t.byteLength])).toEqual([
      ['a', [2, 3], 'F32', 0, 24],
      ['h', [2], 'F16', 32, 4],
      ['q', [1, 32], 'Q8_0', 64, 34],
    ]);
  });

  it('decodes F32, F16 and Q8_0 exactly, and refuses other ggml types by name', () => {
    const file = readGguf(writeGguf(goodSpec()));
    expect([...decodeGgufTensor(file, 'a')]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...decodeGgufTensor(file, 'h')]).toEqual([1, 2 ** -24]);
    expect([...decodeGgufTensor(file, 'q')]).toEqual(q8Block().values);
    expect(GGUF_DECODED_TYPES).toEqual(['F32', 'F16', 'Q8_0']);
    const spec = goodSpec();
    spec.tensors.push({ name: 'k', dims: [256], type: T.Q4_K, data: new Uint8Array(144) });
    const withK = readGguf(writeGguf(spec));
    expect(() => decodeGgufTensor(withK, 'k')).toThrow(UnsupportedConfigError);
    expect(() => decodeGgufTensor(withK, 'k')).toThrow(/"k" has ggml type Q4_K/);
    expect(() => decodeGgufTensor(withK, 'missing')).toThrow(CheckpointError);
  });

  it('decodes the same from a view at any byte offset', () => {
    const bytes = writeGguf(goodSpec());
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const file = readGguf(shifted.subarray(1));
    expect([...decodeGgufTensor(file, 'a')]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...decodeGgufTensor(file, 'q')]).toEqual(q8Block().values);
  });

  it('accepts version 2 and general.alignment', () => {
    const spec = { ...goodSpec(), version: 2 };
    spec.kv.push(['general.alignment', V.u32, 64]);
    const file = readGguf(writeGguf(spec));
    expect(file.version).toBe(2);
    expect(file.alignment).toBe(64);
    expect(file.tensors.map((t) => t.offset)).toEqual([0, 64, 128]);
    expect([...decodeGgufTensor(file, 'q')]).toEqual(q8Block().values);
  });

  it('dequantises Q8_0 bit for bit as the gguf package does (fixtures)', async () => {
    for (const name of ['llama-q8_0', 'gpt2-q8_0']) {
      const file = await readGgufFile(join(FIXTURES, `${name}.gguf`));
      const reference = readSafetensors(await readFile(join(FIXTURES, `${name}.dequant.safetensors`))).tensors;
      const q8 = file.tensors.filter((t) => t.typeName === 'Q8_0');
      expect(q8.map((t) => t.name).sort()).toEqual([...reference.keys()].sort());
      expect(q8.length).toBeGreaterThan(10);
      for (const info of q8) {
        const ref = reference.get(info.name);
        expect(ref?.shape).toEqual(info.shape);
        const ours = decodeGgufTensor(file, info);
        // Compare bits, not values (so -0 and 0 differ).
        expect(new Uint32Array(ours.buffer)).toEqual(new Uint32Array((ref as { data: Float32Array }).data.buffer.slice(0)));
      }
    }
  });

  it('refuses a non-Uint8Array', () => {
    expect(() => readGguf([1, 2, 3] as unknown as Uint8Array)).toThrow(InvalidArgumentError);
  });

  const bad = (change: (spec: GgufSpec) => void): Uint8Array => {
    const spec = goodSpec();
    change(spec);
    return writeGguf(spec);
  };
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['an empty file', () => new Uint8Array(0), /too short for the magic/],
    ['bad magic', () => bad((s) => Object.assign(s, { magic: 'GGML' })), /bad magic 47 47 4d 4c/],
    ['version 1', () => bad((s) => Object.assign(s, { version: 1 })), /unsupported version 1; .*32-bit counts/],
    ['version 4', () => bad((s) => Object.assign(s, { version: 4 })), /unsupported version 4/],
    ['a big-endian file', () => bad((s) => Object.assign(s, { version: 0x03000000 })), /big-endian/],
    ['a metadata count beyond the file', () => bad((s) => Object.assign(s, { nKv: 2n ** 40n })), /metadata count 1099511627776 needs/],
    ['a tensor count beyond the file', () => bad((s) => Object.assign(s, { nTensors: 2n ** 40n })), /tensor count 1099511627776 needs/],
    ['a count beyond 2^53', () => bad((s) => Object.assign(s, { nKv: 2n ** 63n })), /metadata count is 9223372036854775808, beyond/],
    ['an unknown value type', () => bad((s) => s.kv.push(['t.x', 13, 0])), /"t.x": unknown value type 13/],
    [
      'an unknown array element type',
      () => bad((s) => s.kv.push(['t.x', V.array, { type: 77, items: [] }])),
      /unknown array element type 77/,
    ],
    ['a bool that is not 0 or 1', () => patchBool(), /"t.bool": bool byte at \d+ is 2, expected 0 or 1/],
    ['a duplicate key', () => bad((s) => s.kv.push(['t.u8', V.u8, 1])), /duplicate metadata key "t.u8"/],
    [
      'a bad alignment',
      () => bad((s) => s.kv.push(['general.alignment', V.u32, 24])),
      /general.alignment is "24", expected a power of two/,
    ],
    [
      'a duplicate tensor name',
      () => bad((s) => s.tensors.push({ name: 'a', dims: [1], type: T.F32, data: f32Bytes([0]) })),
      /duplicate tensor "a"/,
    ],
    ['an unknown ggml type', () => bad((s) => Object.assign(s.tensors[0] as object, { type: 99 })), /tensor "a" has unknown ggml type 99/],
    ['too many dims', () => bad((s) => Object.assign(s.tensors[0] as object, { dims: [1, 1, 1, 1, 6] })), /5 dims; ggml allows at most 4/],
    [
      'dims whose product overflows',
      () => bad((s) => Object.assign(s.tensors[0] as object, { dims: [2 ** 30, 2 ** 30] })),
      /product of its dims .* overflows/,
    ],
    [
      'a Q8_0 row not a multiple of 32',
      () => bad((s) => Object.assign(s.tensors[2] as object, { dims: [16, 2] })),
      /first dim 16 is not a multiple of the Q8_0 block size 32/,
    ],
    [
      'an offset out of range',
      () => bad((s) => Object.assign(s.tensors[2] as object, { offset: 4096 })),
      /"q": bytes \[4096, 4130\) lie outside/,
    ],
    [
      'a misaligned offset',
      () => bad((s) => Object.assign(s.tensors[1] as object, { offset: 40 })),
      /"h": offset 40 is not a multiple of the alignment 32/,
    ],
    [
      'overlapping tensors',
      () => bad((s) => Object.assign(s.tensors[2] as object, { offset: 0 })),
      /tensor "q" .* overlaps tensor "a"|tensor "a" .* overlaps tensor "q"/,
    ],
  ];
  /** The good file with its bool byte set to 2. */
  function patchBool(): Uint8Array {
    const bytes = writeGguf(goodSpec());
    const key = new TextEncoder().encode('t.bool');
    const at = Buffer.from(bytes).indexOf(Buffer.from(key)) + key.length + 4; // key, then the u32 type
    bytes[at] = 2;
    return bytes;
  }

  it.each(cases)('refuses %s with a CheckpointError naming it', (_, make, message) => {
    const bytes = make();
    expect(() => readGguf(bytes, { source: 'x.gguf' })).toThrow(CheckpointError);
    expect(() => readGguf(bytes, { source: 'x.gguf' })).toThrow(message);
    expect(() => readGguf(bytes, { source: 'x.gguf' })).toThrow(/^GGUF "x.gguf": /);
  });

  it('refuses the file cut at every byte with a CheckpointError (truncated)', () => {
    const bytes = writeGguf(goodSpec());
    // The data section is 128 bytes (tensors at 0, 32 and 64, the last one 34 bytes long); a cut
    // after the last tensor's end only removes padding, which the reader does not need.
    const end = bytes.length - 128 + 98;
    for (let cut = 0; cut < end; cut++) {
      const part = bytes.slice(0, cut);
      expect(() => readGguf(part), `cut at ${cut}`).toThrow(CheckpointError);
    }
    // Cut inside the name length of the last tensor, "q" (u64 length 1, then "q").
    const q = Buffer.from(bytes).indexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x71]));
    expect(() => readGguf(bytes.slice(0, q + 4))).toThrow(
      new RegExp(`truncated: the length of tensor name 2 needs 8 bytes at byte ${q} but the file ends at ${q + 4}`),
    );
    expect(() => readGguf(bytes.slice(0, bytes.length - 40))).toThrow(/"q": bytes \[64, 98\) lie outside the 88-byte data section/);
    expect(readGguf(bytes).tensors).toHaveLength(3); // and still reads the whole file
  });
});
