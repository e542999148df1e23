// The "physical limit" of one core in wasm: a hand-assembled module whose loop runs 12 independent
// accumulator chains of f32x4.mul + f32x4.add (or one f32x4.relaxed_madd, with `relaxed` under
// node --experimental-wasm-relaxed-simd on Node 20), no memory traffic. Each chain step is 4 lanes × (1 mul + 1 add)
// = 8 flops. Used by bench/peers/peak.bench.mjs (its own process) and bench/matmul.bench.mjs
// (alternating with each product, so both are timed in the same moments of the machine).
// Also the tile loop: the loop of wasmformer's gemm microkernel, hand-assembled the same way, on
// data that stays in L1 — what V8 makes of that loop shape, without packing or cache misses.
import { random } from './common.mjs';

const uleb = (v) => {
  const o = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    o.push(b);
  } while (v);
  return o;
};
const f32 = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];
const simd = (op) => [0xfd, ...uleb(op)];
const SPLAT = simd(0x13),
  MUL = simd(0xe6),
  ADD = simd(0xe4),
  MADD = simd(0x105),
  EXTRACT0 = [...simd(0x1f), 0];
const LOAD = (offset) => [...simd(0x00), 0, ...uleb(offset)]; // v128.load, alignment hint 1 byte
const LOAD32_SPLAT = (offset) => [...simd(0x09), 0, ...uleb(offset)];
const [GET, SET, TEE] = [0x20, 0x21, 0x22];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
/** `i32.const v` for 0 <= v < 2^31 (signed LEB128: a last byte with bit 6 set would read as negative, so one 0 byte follows it). */
const i32 = (v) => {
  const o = uleb(v);
  if (o[o.length - 1] & 0x40) {
    o[o.length - 1] |= 0x80;
    o.push(0);
  }
  return [0x41, ...o];
};

/** `into = a · b + c` on v128 locals (relaxed: one madd; simd: mul, then add). */
const multiplyAdd = (variant, a, b, c, into = c) =>
  variant === 'relaxed' ? [GET, a, GET, b, GET, c, ...MADD, SET, into] : [GET, a, GET, b, ...MUL, GET, c, ...ADD, SET, into];

/** Ends `body` by summing lane 0 of v128 locals `first..last` (so nothing is dead) and instantiates
 * a module exporting `run(iterations: i32) -> f32` with `locals` (the function's local groups),
 * and with `withMemory` its one page of memory as `memory`. Returns the exports. */
async function instantiate(body, locals, first, last, withMemory) {
  body.push(GET, first, ...EXTRACT0);
  for (let i = first + 1; i <= last; i++) body.push(GET, i, ...EXTRACT0, 0x92); // f32.add
  body.push(0x0b);
  const func = [...uleb(locals.length), ...locals.flatMap(([count, type]) => [...uleb(count), type]), ...body];
  const bytes = new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]),
    ...(withMemory ? section(5, [1, 0x00, 1]) : []), // one 64 KiB page, zeros
    ...section(7, [withMemory ? 2 : 1, ...exportEntry('run', 0x00), ...(withMemory ? exportEntry('memory', 0x02) : [])]),
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
  return (await WebAssembly.instantiate(bytes)).instance.exports;
}

/** An export section entry: `name`, kind (0x00 function, 0x02 memory), index 0. */
const exportEntry = (name, kind) => {
  const bytes = new TextEncoder().encode(name);
  return [...uleb(bytes.length), ...bytes, kind, 0];
};

/** `run()` with a finiteness check on what the loop returns. */
function caller(run, iterations, name) {
  let sink = 0;
  return () => {
    sink += run(iterations);
    if (!Number.isFinite(sink)) throw new Error(`${name} diverged`);
  };
}

/**
 * The peak loop of `variant` ('simd' | 'relaxed'): `run()` does one call of `flopsPerCall`
 * flops.
 */
export async function peakLoop(variant) {
  const ACC = 12; // accumulators (locals 1..12), multiplier local 13, addend local 14; param 0 = iterations
  const UNROLL = 4;
  const body = [];
  for (let i = 1; i <= ACC; i++) body.push(0x43, ...f32(1 + i / 64), ...SPLAT, SET, i);
  body.push(0x43, ...f32(0.999), ...SPLAT, SET, 13, 0x43, ...f32(0.001), ...SPLAT, SET, 14);
  body.push(0x03, 0x40); // loop
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 1; i <= ACC; i++) body.push(...multiplyAdd(variant, i, 13, 14, i)); // acc = acc·m + c
  }
  body.push(GET, 0, ...i32(1), 0x6b, TEE, 0, 0x0d, 0, 0x0b); // n -= 1; br_if n; end loop
  const { run } = await instantiate(body, [[14, 0x7b]], 1, ACC, false);
  const ITER = 1 << 16;
  return { flopsPerCall: ITER * UNROLL * ACC * 8, run: caller(run, ITER, 'peak loop') };
}

/**
 * The gemm microkernel's loop (crates/core/src/kernels/gemm.rs) for `variant` ('simd' |
 * 'relaxed'): a 4 × 8 tile in 8 accumulators; each step broadcasts 4 floats of an A panel
 * (`v128.load32_splat`), loads 2 vectors of a B panel and does 8 multiply-adds, then moves both
 * pointers on. Passes of 256 steps over a 4 KiB A panel and an 8 KiB B panel (pseudo-random
 * values, as the products' operands), which stay in L1.
 * `run()` does one call of `flopsPerCall` flops.
 */
export async function tileLoop(variant) {
  const STEPS = 256;
  const A_BYTES = STEPS * 16;
  // v128 locals: accumulators 1..8 (row r, vector v: 1 + 2r + v), broadcast 9, B vectors 10..11;
  // i32 locals: A pointer 12, B pointer 13, steps left 14; param 0 = passes left.
  const [BROADCAST, B0, A_PTR, B_PTR, LEFT] = [9, 10, 12, 13, 14];
  const body = [];
  for (let i = 1; i <= 8; i++) body.push(0x43, ...f32(i / 64), ...SPLAT, SET, i);
  body.push(0x03, 0x40); // loop: one pass
  body.push(...i32(0), SET, A_PTR, ...i32(A_BYTES), SET, B_PTR, ...i32(STEPS), SET, LEFT);
  body.push(0x03, 0x40); // loop: one step
  body.push(GET, B_PTR, ...LOAD(0), SET, B0, GET, B_PTR, ...LOAD(16), SET, B0 + 1);
  for (let r = 0; r < 4; r++) {
    body.push(GET, A_PTR, ...LOAD32_SPLAT(4 * r), SET, BROADCAST);
    for (let v = 0; v < 2; v++) body.push(...multiplyAdd(variant, BROADCAST, B0 + v, 1 + 2 * r + v));
  }
  body.push(GET, A_PTR, ...i32(16), 0x6a, SET, A_PTR, GET, B_PTR, ...i32(32), 0x6a, SET, B_PTR); // pointers on
  body.push(GET, LEFT, ...i32(1), 0x6b, TEE, LEFT, 0x0d, 0, 0x0b); // steps left -= 1; br_if; end step loop
  body.push(GET, 0, ...i32(1), 0x6b, TEE, 0, 0x0d, 0, 0x0b); // passes left -= 1; br_if; end pass loop
  const { run, memory } = await instantiate(
    body,
    [
      [11, 0x7b],
      [3, 0x7f],
    ],
    1,
    8,
    true,
  );
  // Operands like the products' (bench/common.mjs `random`), not zeros, which run faster
  // (docs/design/benchmark-notes.md).
  new Float32Array(memory.buffer).set(random((A_BYTES + STEPS * 32) / 4, 3));
  const PASSES = 1536;
  return { flopsPerCall: PASSES * STEPS * 8 * 4 * 2, run: caller(run, PASSES, 'tile loop') };
}
