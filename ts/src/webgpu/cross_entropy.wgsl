// Softmax + cross-entropy over [N, V] logits with int targets, f32
// (crates/core/src/kernels/softmax_xent.rs):
//   forward:  lse = max x + log Σ exp(x − max x), loss = lse − x[t] (= −log softmax(x)[t]),
//             0 for a row whose target is the ignore index (when HAS_IGNORE).
//   backward: dlogits = (exp(x − lse) − onehot(t)) · scale (= (probs − onehot(t)) · scale),
//             0 for an ignored row. ASSIGNS dlogits.
// Shapes: logits, dlogits: [N, V]; targets (i32), losses, lse: [N]. The saved state is lse
// (not probs): the backward recomputes probs from it.
// `forward`: one workgroup of 64 invocations per row (2-D grid, row = wg.y·groups.x + wg.x);
// each invocation reduces columns lid, lid + 64, … in order, then a tree in workgroup memory
// combines the 64 results in a fixed order. `backward`: one invocation per element.

const WG: u32 = 64u;

struct Params {
  rows: u32,
  vocab: u32,
  ignore_index: i32,
  has_ignore: u32,
  scale: f32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

var<workgroup> red: array<f32, WG>;

fn ignored(t: i32) -> bool {
  return params.has_ignore != 0u && t == params.ignore_index;
}

// The workgroup's maximum (MAX) or sum of v, combined in a fixed tree order.
fn reduce(lid: u32, v: f32, is_max: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      if (is_max) {
        red[lid] = max(red[lid], red[lid + s]);
      } else {
        red[lid] += red[lid + s];
      }
    }
    workgroupBarrier();
  }
  let result = red[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let row = wg.y * groups.x + wg.x;
  if (row >= params.rows) {
    return;
  }
  let lid = lid3.x;
  let v = params.vocab;
  let base = row * v;
  var m = -3.4e38;
  for (var j = lid; j < v; j += WG) {
    m = max(m, logits[base + j]);
  }
  let row_max = reduce(lid, m, true);
  var s = 0.0;
  for (var j = lid; j < v; j += WG) {
    s += exp(logits[base + j] - row_max);
  }
  // The sum is ≥ 1 (the max term is exp(0)), so the log is finite.
  let row_lse = row_max + log(reduce(lid, s, false));
  if (lid == 0u) {
    let t = targets[row];
    lse[row] = row_lse;
    if (ignored(t)) {
      losses[row] = 0.0;
    } else {
      losses[row] = row_lse - logits[base + u32(t)];
    }
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * groups.x + wg.x) * WG + lid.x;
  let v = params.vocab;
  if (i >= params.rows * v) {
    return;
  }
  let row = i / v;
  let t = targets[row];
  if (ignored(t)) {
    dlogits[i] = 0.0;
    return;
  }
  // loss = lse − x[t], probs = exp(x − lse)  →  dx = (probs − onehot(t)) · scale
  var d = exp(logits[i] - lse[row]);
  if (i - row * v == u32(t)) {
    d -= 1.0;
  }
  dlogits[i] = d * params.scale;
}
