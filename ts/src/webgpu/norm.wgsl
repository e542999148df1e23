// LayerNorm and RMSNorm over the last dimension C (crates/core/src/kernels/norm.rs), f32;
// RMSNorm is the override RMS (no centring: shift = 0 in place of −mean, and no bias).
//   forward:  mean = Σx / C, rstd = 1 / sqrt(Σ(x − mean)² / C + eps), norm = (x − mean)·rstd,
//             out = norm·weight + bias        (RMSNorm: rstd = 1 / sqrt(Σx² / C + eps))
//   backward: g = weight·dout; dinp = rstd·(g − mean(g) − norm·mean(g·norm))
//             (RMSNorm: without − mean(g)); dweight = Σ_rows norm·dout, dbias = Σ_rows dout.
// Shapes: inp, out, dout, dinp: [N, C]; weight, bias, dweight, dbias: [C]; mean, rstd: [N];
// partial: [ceil(N / 64), 2, C] (dweight, dbias of each block of 64 rows).
//
// Entry points: `forward` and `backward_rows` run one workgroup of 64 invocations per row (a
// 2-D grid, row = wg.y·groups.x + wg.x); each invocation sums columns lid, lid + 64, … in order,
// then a tree in workgroup memory adds the 64 partial sums in a fixed order.
// `backward_partial` (one invocation per (column, block of 64 rows), rows in order) and
// `backward_reduce` (one per column, blocks in order) give dweight and dbias with no atomics:
// the result does not depend on scheduling. The backward ASSIGNS dinp, dweight and dbias.

override RMS: bool = false;
override HAS_BIAS: bool = false;

const WG: u32 = 64u;
const BLOCK: u32 = 64u; // rows per block of the dweight / dbias partial sums

struct Params {
  rows: u32,
  channels: u32,
  eps: f32,
  blocks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(7) var<storage, read> dout: array<f32>;
@group(0) @binding(8) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(9) var<storage, read_write> partial: array<f32>;
@group(0) @binding(10) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(11) var<storage, read_write> dbias: array<f32>;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

// The workgroup's sums of a and of b (every invocation gets them), added in a fixed tree order.
fn reduce2(lid: u32, a: f32, b: f32) -> vec2<f32> {
  red_a[lid] = a;
  red_b[lid] = b;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red_a[lid] += red_a[lid + s];
      red_b[lid] += red_b[lid + s];
    }
    workgroupBarrier();
  }
  let sums = vec2<f32>(red_a[0], red_b[0]);
  workgroupBarrier();
  return sums;
}

// −mean of the row (0 for RMSNorm).
fn row_shift(row: u32) -> f32 {
  if (RMS) {
    return 0.0;
  }
  return -mean[row];
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let row = wg.y * groups.x + wg.x;
  if (row >= params.rows) {
    return;
  }
  let lid = lid3.x;
  let c = params.channels;
  let base = row * c;
  var s = 0.0;
  for (var j = lid; j < c; j += WG) {
    s += inp[base + j];
  }
  var shift = 0.0;
  if (!RMS) {
    shift = -reduce2(lid, s, 0.0).x / f32(c);
  }
  var ss = 0.0;
  for (var j = lid; j < c; j += WG) {
    let d = inp[base + j] + shift;
    ss = fma(d, d, ss);
  }
  let r = 1.0 / sqrt(reduce2(lid, ss, 0.0).x / f32(c) + params.eps);
  for (var j = lid; j < c; j += WG) {
    var value = (inp[base + j] + shift) * r * weight[j];
    if (HAS_BIAS) {
      value += bias[j];
    }
    out[base + j] = value;
  }
  if (lid == 0u) {
    mean[row] = -shift;
    rstd[row] = r;
  }
}

@compute @workgroup_size(WG)
fn backward_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let row = wg.y * groups.x + wg.x;
  if (row >= params.rows) {
    return;
  }
  let lid = lid3.x;
  let c = params.channels;
  let base = row * c;
  let shift = row_shift(row);
  let r = rstd[row];
  var sg = 0.0;
  var sgn = 0.0;
  for (var j = lid; j < c; j += WG) {
    let g = weight[j] * dout[base + j];
    sg += g;
    sgn = fma(g, (inp[base + j] + shift) * r, sgn);
  }
  let sums = reduce2(lid, sg, sgn);
  var mean_g = sums.x / f32(c);
  if (RMS) {
    mean_g = 0.0;
  }
  let mean_gn = sums.y / f32(c);
  for (var j = lid; j < c; j += WG) {
    // out = norm·weight + bias, norm = (x − mean)·rstd  →  dinp = rstd·(g − mean(g) − norm·mean(g·norm))
    let norm = (inp[base + j] + shift) * r;
    dinp[base + j] = (weight[j] * dout[base + j] - mean_g - norm * mean_gn) * r;
  }
}

@compute @workgroup_size(WG)
fn backward_partial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let block = gid.y;
  let c = params.channels;
  if (j >= c) {
    return;
  }
  let end = min(params.rows, (block + 1u) * BLOCK);
  var dw = 0.0;
  var db = 0.0;
  for (var row = block * BLOCK; row < end; row++) {
    // out = norm·weight + bias  →  dweight += norm·dout, dbias += dout
    let g = dout[row * c + j];
    dw = fma((inp[row * c + j] + row_shift(row)) * rstd[row], g, dw);
    db += g;
  }
  partial[(2u * block) * c + j] = dw;
  partial[(2u * block + 1u) * c + j] = db;
}

@compute @workgroup_size(WG)
fn backward_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let c = params.channels;
  if (j >= c) {
    return;
  }
  var dw = 0.0;
  var db = 0.0;
  for (var block = 0u; block < params.blocks; block++) {
    dw += partial[(2u * block) * c + j];
    db += partial[(2u * block + 1u) * c + j];
  }
  dweight[j] = dw;
  if (HAS_BIAS) {
    dbias[j] = db;
  }
}
