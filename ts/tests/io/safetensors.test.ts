import { describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError, ShapeError } from '../../src/errors.js';
import { bf16ToF32, f16ToF32, readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';

/** Builds a file by hand: u64 LE header length, the header text (padded to `pad`), the data. */
function handmade(header: string, data: Uint8Array = new Uint8Array(0), pad = 1): Uint8Array {
  let text = header;
  while (text.length % pad !== 0) text += ' ';
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const u16le = (...values: number[]): Uint8Array => {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => new DataView(out.buffer).setUint16(2 * i, v, true));
  return out;
};

function expectCheckpointError(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    readSafetensors(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  expect((caught as Error).message).toMatch(message);
}

describe('f16ToF32 / bf16ToF32', () => {
  it('decodes known half-precision bit patterns exactly', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x8001)).toBe(-(2 ** -24));
    expect(Object.is(f16ToF32(0x0000), 0)).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0xfc01)).toBeNaN();
  });

  it('decodes known bfloat16 bit patterns exactly', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc000)).toBe(-2);
    expect(bf16ToF32(0x4049)).toBe(3.140625);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // subnormal
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
  });
});

describe('writeSafetensors / readSafetensors', () => {
  const wte = Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5);
  const bias = new Float32Array([Number.NaN, -0, Infinity, 1e-45]);

  it('round-trips tensors bit-exactly, in order, with metadata', () => {
    const bytes = writeSafetensors(
      [
        ['wte', { dtype: 'F32', shape: [3, 4], data: wte }],
        ['b', { dtype: 'F32', shape: [4], data: bias }],
        ['scalar', { dtype: 'F32', shape: [], data: new Float32Array([2]) }],
        ['empty', { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) }],
      ],
      { format: 'pt', note: 'α & "β"' },
    );
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + headerLength) % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(bytes);
    expect([...tensors.keys()]).toEqual(['wte', 'b', 'scalar', 'empty']);
    expect(metadata).toEqual({ format: 'pt', note: 'α & "β"' });
    expect(tensors.get('wte')).toEqual({ dtype: 'F32', shape: [3, 4], data: wte });
    const b = tensors.get('b')?.data ?? new Float32Array(0);
    expect(new Uint32Array(b.buffer)).toEqual(new Uint32Array(bias.buffer)); // NaN, -0 bit-exact
    expect(tensors.get('scalar')?.data).toEqual(new Float32Array([2]));
    expect(tensors.get('empty')?.shape).toEqual([0, 5]);
  });

  it('accepts a record, writes integer-like names in the given order and no metadata', () => {
    const bytes = writeSafetensors({
      z: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      10: { dtype: 'F32', shape: [1], data: new Float32Array([2]) },
    });
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({});
    expect(file.tensors.get('10')?.data[0]).toBe(2);
    const arr = writeSafetensors([
      ['z', { dtype: 'F32', shape: [1], data: new Float32Array([1]) }],
      ['10', { dtype: 'F32', shape: [1], data: new Float32Array([2]) }],
    ]);
    expect([...readSafetensors(arr).tensors.keys()]).toEqual(['z', '10']);
  });

  it('reads unaligned input and returns copies', () => {
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -3]) } });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const view = shifted.subarray(1);
    const w = readSafetensors(view).tensors.get('w');
    expect(w?.data).toEqual(new Float32Array([1.5, -3]));
    view.fill(0, view.length - 8);
    expect(w?.data).toEqual(new Float32Array([1.5, -3]));
  });

  it('reads a hand-written file with a space-padded header and F16/BF16/F32 data', () => {
    const data = new Uint8Array([...u16le(0x3c00, 0xc000, 0x7c00, 0x0001), ...u16le(0x3f80, 0xbf80), 0, 0, 0x80, 0x3f]);
    const header =
      '{"__metadata__":{"k":"v"},"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},' +
      '"bf":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"f":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}';
    const bytes = handmade(header, data, 8);
    expect(bytes.length % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ k: 'v' });
    expect(tensors.get('h')).toEqual({ dtype: 'F16', shape: [2, 2], data: new Float32Array([1, -2, Infinity, 2 ** -24]) });
    expect(tensors.get('bf')).toEqual({ dtype: 'BF16', shape: [2], data: new Float32Array([1, -1]) });
    expect(tensors.get('f')?.data).toEqual(new Float32Array([1]));
  });

  it('rejects bad writer input', () => {
    const ok = { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) };
    expect(() => writeSafetensors({ w: { ...ok, data: new Float32Array(3) } })).toThrow(ShapeError);
    expect(() => writeSafetensors({ w: { ...ok, shape: [-1] } })).toThrow(InvalidArgumentError);
    expect(() => writeSafetensors({ w: { ...ok, dtype: 'F16' as 'F32' } })).toThrow(/only "F32"/);
    expect(() => writeSafetensors({ w: { ...ok, data: [0, 0] as unknown as Float32Array } })).toThrow(InvalidArgumentError);
    expect(() =>
      writeSafetensors([
        ['w', ok],
        ['w', ok],
      ]),
    ).toThrow(/duplicate/);
    expect(() => writeSafetensors({ __metadata__: ok })).toThrow(InvalidArgumentError);
    expect(() => writeSafetensors({ w: ok }, { n: 1 as unknown as string })).toThrow(/metadata/);
  });

  it('throws CheckpointError, never RangeError or success, at every truncation point', () => {
    const bytes = writeSafetensors(
      { a: { dtype: 'F32', shape: [2, 3], data: wte.subarray(0, 6) }, b: { dtype: 'F32', shape: [1], data: new Float32Array([7]) } },
      { m: 'x' },
    );
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => readSafetensors(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(CheckpointError);
    }
    expect(() => readSafetensors(bytes)).not.toThrow();
  });

  it('reports each kind of corruption with a specific message', () => {
    const f32 = (offsets: string, shape = '[1]', dtype = 'F32'): string =>
      `{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;
    const four = new Uint8Array(4);
    const eight = new Uint8Array(8);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(7), /too short/],
      [
        (() => {
          const b = handmade('{}');
          new DataView(b.buffer).setUint32(0, 1000, true);
          return b;
        })(),
        /runs past the end.*truncated/,
      ],
      [
        (() => {
          const b = handmade('{}');
          new DataView(b.buffer).setUint32(4, 1, true);
          return b;
        })(),
        /exceeds the 100000000-byte limit/,
      ],
      [
        (() => {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setUint32(0, 200_000_000, true);
          return b;
        })(),
        /exceeds/,
      ],
      [handmade('{"a":'), /not valid JSON/],
      [handmade('[1,2]'), /must be a JSON object/],
      [handmade('null'), /must be a JSON object/],
      [
        (() => {
          const b = handmade('{"\u00e9":1}');
          b[10] = 0xff;
          return b;
        })(),
        /not valid UTF-8/,
      ],
      [handmade('{"__metadata__":{"k":1}}'), /__metadata__\["k"\] must be a string/],
      [handmade('{"__metadata__":[]}'), /__metadata__ must be an object/],
      [handmade('{"a":5}', four), /tensor "a": expected an object/],
      [handmade('{"a":{"shape":[1],"data_offsets":[0,4]}}', four), /tensor "a": missing or non-string "dtype"/],
      [handmade(`{"a":${f32('[0,8]', '[1]', 'F64')}}`, eight), /unsupported dtype "F64"; supported dtypes are F32, F16, BF16/],
      [handmade(`{"a":${f32('[0,4]', '[1]', 'I64')}}`, four), /unsupported dtype "I64"/],
      [handmade('{"a":{"dtype":"F32","data_offsets":[0,4]}}', four), /"shape" must be an array/],
      [handmade(`{"a":${f32('[0,4]', '[-1]')}}`, four), /"shape" must be an array of integers/],
      [handmade(`{"a":${f32('[0,4]', '[1.5]')}}`, four), /"shape"/],
      [handmade('{"a":{"dtype":"F32","shape":[1]}}', four), /"data_offsets" must be \[begin, end\]/],
      [handmade(`{"a":${f32('[0]')}}`, four), /"data_offsets"/],
      [handmade(`{"a":${f32('[0,"4"]')}}`, four), /"data_offsets"/],
      [handmade(`{"a":${f32('[4,0]')}}`, four), /end 0 is before begin 4/],
      [handmade(`{"a":${f32('[0,8]', '[2]')}}`, four), /outside the 4-byte data buffer/],
      [handmade(`{"a":${f32('[0,4]', '[2]')}}`, four), /holds 4 bytes but shape \[2\] × 4-byte F32 needs 8/],
      [handmade(`{"a":${f32('[0,4]', '[1]', 'F16')}}`, four), /needs 2/],
      [handmade(`{"a":${f32('[0,8]', '[2]')},"b":${f32('[4,8]')}}`, eight), /overlaps tensor "a"/],
      [handmade(`{"a":${f32('[4,8]')}}`, eight), /gap of 4 unused bytes before tensor "a"/],
      [handmade(`{"a":${f32('[0,4]')}}`, eight), /4 trailing bytes after the last tensor/],
      [handmade('{}', four), /4 trailing bytes/],
    ];
    for (const [bytes, message] of cases) expectCheckpointError(bytes, message);
  });

  it('names the source in errors and rejects non-Uint8Array input', () => {
    expect(() => readSafetensors(new Uint8Array(3), 'model.safetensors')).toThrow(/safetensors "model.safetensors": file is 3 bytes/);
    expect(() => readSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(InvalidArgumentError);
  });
});
