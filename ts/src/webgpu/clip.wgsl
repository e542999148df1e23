// Global-norm gradient clipping, f32 (crates/core/src/optim/clip.rs, PyTorch's
// clip_grad_norm_): norm = √(Σ g²); coef = max_norm / (norm + 1e-6); g ← g · coef when
// coef < 1 and the norm is finite (a non-finite norm leaves the gradients as they are).
// Shapes: grads: [N]; partial: [ceil(N / 1024)]; sumsq: [1].
// The sum has a fixed order (no atomics): `partial_sums` gives each workgroup a block of
// 1024 elements, each of its 64 invocations summing 16 of them (strided by 64) in order, then a
// tree over the 64; `total` (one workgroup) does the same over the blocks' sums; `scale`
// multiplies every element by the coefficient that `total`'s result gives.

const WG: u32 = 64u;
const BLOCK: u32 = 1024u; // elements per workgroup of partial_sums

struct Params {
  n: u32,
  blocks: u32,
  max_norm: f32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<storage, read_write> sumsq: array<f32>;

var<workgroup> red: array<f32, WG>;

// The workgroup's sum of v, in a fixed tree order (invocation 0 gets it).
fn reduce(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  return red[0];
}

@compute @workgroup_size(WG)
fn partial_sums(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let block = wg.y * groups.x + wg.x;
  if (block >= params.blocks) {
    return;
  }
  let lid = lid3.x;
  let end = min(params.n, (block + 1u) * BLOCK);
  var s = 0.0;
  for (var i = block * BLOCK + lid; i < end; i += WG) {
    s = fma(grads[i], grads[i], s);
  }
  let total = reduce(lid, s);
  if (lid == 0u) {
    partial[block] = total;
  }
}

@compute @workgroup_size(WG)
fn total(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var s = 0.0;
  for (var b = lid; b < params.blocks; b += WG) {
    s += partial[b];
  }
  let sum = reduce(lid, s);
  if (lid == 0u) {
    sumsq[0] = sum;
  }
}

@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * groups.x + wg.x) * WG + lid.x;
  if (i >= params.n) {
    return;
  }
  let norm = sqrt(sumsq[0]);
  // Finite: the exponent bits are not all ones (a bit test, as WGSL may assume no inf or NaN).
  let finite = (bitcast<u32>(norm) & 0x7f800000u) != 0x7f800000u;
  let coef = params.max_norm / (norm + 1e-6);
  if (finite && coef < 1.0) {
    grads[i] = grads[i] * coef;
  }
}
