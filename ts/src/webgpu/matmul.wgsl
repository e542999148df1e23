// Matrix product out = op(a) · op(b) (+ bias), f32, in the three storage forms of the wasm
// `matmul` (ts/src/kernels/matmul.ts), chosen by the override FORM:
//   0 'ab'   a: [M, K]  b: [K, N]
//   1 'abt'  a: [M, K]  b: [N, K]   (out = a · bᵀ)
//   2 'atb'  a: [K, M]  b: [K, N]   (out = aᵀ · b)
// out: [M, N], bias: [N] (read only when HAS_BIAS), all row-major.
//
// Tiling: a workgroup of 16 × 16 invocations computes a 64 × 64 tile of out, each invocation
// 4 × 4 outputs strided by 16 (rows ly + 16 i, columns lx + 16 j), so that its reads of the
// shared tiles are consecutive across the workgroup. K is walked in steps of 16: the workgroup
// copies a 64 × 16 slice of op(a) and a 16 × 64 slice of op(b) into workgroup memory (zeros
// past the edges of M, N and K), then each invocation accumulates its 4 × 4 block from them.
// Each of the 1024 elements of a slice is loaded by one invocation, in the order that makes
// consecutive invocations read consecutive addresses of the operand's own storage.
// Accumulation: a sum over k in increasing order, one fused multiply-add per term.

override FORM: u32 = 0u;
override HAS_BIAS: bool = false;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 16u; // per side of the workgroup
const PER: u32 = 4u; // outputs per invocation along each side

struct Dims {
  m: u32,
  k: u32,
  n: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

var<workgroup> tile_a: array<f32, 1024>; // [TILE_K, TILE_M]: op(a)[row0 + r, k0 + kk] at kk * TILE_M + r
var<workgroup> tile_b: array<f32, 1024>; // [TILE_K, TILE_N]: op(b)[k0 + kk, col0 + c] at kk * TILE_N + c

// op(a)[row, kk], 0 outside [M, K].
fn load_a(row: u32, kk: u32) -> f32 {
  if (row >= dims.m || kk >= dims.k) {
    return 0.0;
  }
  if (FORM == 2u) {
    return a[kk * dims.m + row];
  }
  return a[row * dims.k + kk];
}

// op(b)[kk, col], 0 outside [K, N].
fn load_b(kk: u32, col: u32) -> f32 {
  if (kk >= dims.k || col >= dims.n) {
    return 0.0;
  }
  if (FORM == 1u) {
    return b[col * dims.k + kk];
  }
  return b[kk * dims.n + col];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * TILE_M;
  let col0 = wg.x * TILE_N;
  let t = lid.y * THREADS + lid.x;
  var acc: array<array<f32, 4>, 4>;
  let k_tiles = (dims.k + TILE_K - 1u) / TILE_K;
  for (var kt = 0u; kt < k_tiles; kt++) {
    let k0 = kt * TILE_K;
    for (var l = 0u; l < 4u; l++) {
      let e = t + THREADS * THREADS * l;
      // a is read along K when stored [M, K], along M when stored [K, M].
      var r = e / TILE_K;
      var ka = e % TILE_K;
      if (FORM == 2u) {
        ka = e / TILE_M;
        r = e % TILE_M;
      }
      tile_a[ka * TILE_M + r] = load_a(row0 + r, k0 + ka);
      // b is read along N when stored [K, N], along K when stored [N, K].
      var kb = e / TILE_N;
      var c = e % TILE_N;
      if (FORM == 1u) {
        c = e / TILE_K;
        kb = e % TILE_K;
      }
      tile_b[kb * TILE_N + c] = load_b(k0 + kb, col0 + c);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < PER; i++) {
        av[i] = tile_a[kk * TILE_M + lid.y + THREADS * i];
        bv[i] = tile_b[kk * TILE_N + lid.x + THREADS * i];
      }
      for (var i = 0u; i < PER; i++) {
        for (var j = 0u; j < PER; j++) {
          acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < PER; i++) {
    let row = row0 + lid.y + THREADS * i;
    if (row >= dims.m) {
      continue;
    }
    for (var j = 0u; j < PER; j++) {
      let col = col0 + lid.x + THREADS * j;
      if (col < dims.n) {
        var value = acc[i][j];
        if (HAS_BIAS) {
          value += bias[col];
        }
        out[row * dims.n + col] = value;
      }
    }
  }
}
