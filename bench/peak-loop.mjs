// The "physical limit" of one core in wasm: a hand-assembled module whose loop runs 12 independent
// accumulator chains of f32x4.mul + f32x4.add (or one f32x4.relaxed_madd, with `relaxed` under
// node --experimental-wasm-relaxed-simd), no memory traffic. Each chain step is 4 lanes × (1 mul + 1 add)
// = 8 flops. Used by bench/peers/peak.bench.mjs (its own process) and bench/matmul.bench.mjs
// (alternating with each product, so both are timed in the same moments of the machine).

/**
 * The peak loop of `variant` ('simd' | 'relaxed'): `run()` does one call of `flopsPerCall`
 * flops.
 */
export async function peakLoop(variant) {
  const ACC = 12; // accumulators (locals 1..12), multiplier local 13, addend local 14; param 0 = iterations
  const UNROLL = 4;
  const uleb = (v) => { const o = []; do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; o.push(b); } while (v); return o; };
  const f32 = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];
  const simd = (op) => [0xfd, ...uleb(op)];
  const SPLAT = simd(0x13), MUL = simd(0xe6), ADD = simd(0xe4), MADD = simd(0x105), EXTRACT0 = [...simd(0x1f), 0];

  const body = [];
  for (let i = 1; i <= ACC; i++) body.push(0x43, ...f32(1 + i / 64), ...SPLAT, 0x21, i);
  body.push(0x43, ...f32(0.999), ...SPLAT, 0x21, 13, 0x43, ...f32(0.001), ...SPLAT, 0x21, 14);
  body.push(0x03, 0x40); // loop
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 1; i <= ACC; i++) {
      if (variant === 'relaxed') body.push(0x20, i, 0x20, 13, 0x20, 14, ...MADD, 0x21, i); // acc = acc*m + c
      else body.push(0x20, i, 0x20, 13, ...MUL, 0x20, 14, ...ADD, 0x21, i);
    }
  }
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b); // n -= 1; br_if n; end loop
  body.push(0x20, 1, ...EXTRACT0);
  for (let i = 2; i <= ACC; i++) body.push(0x20, i, ...EXTRACT0, 0x92); // sum lane 0 so nothing is dead
  body.push(0x0b);
  const func = [0x01, 14, 0x7b, ...body]; // locals: one group of 14 v128
  const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]),
    ...section(7, [1, 3, ...new TextEncoder().encode('run'), 0x00, 0]),
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
  const { instance } = await WebAssembly.instantiate(bytes);
  const ITER = 1 << 16;
  let sink = 0;
  return {
    flopsPerCall: ITER * UNROLL * ACC * 8,
    run() {
      sink += instance.exports.run(ITER);
      if (!Number.isFinite(sink)) throw new Error('peak loop diverged');
    },
  };
}
