// One AdamW step in place, f32, per element, in the core's order
// (crates/core/src/optim/adamw.rs, PyTorch's torch.optim.AdamW single-tensor path):
//   p ← p · decay                              decay = 1 − lr·wd (decoupled, applied first)
//   m ← m + (1 − β1)·(g − m)
//   v ← β2·v + (1 − β2)·g·g
//   p ← p − step_size · m / (√v / bc2_sqrt + ε)
// with step_size = lr / (1 − β1^s) and bc2_sqrt = √(1 − β2^s), computed in f64 on the host and
// rounded to f32 once, as the core does. Shapes: params, m, v, grads: [N]. One invocation per
// element (2-D grid of workgroups of 64).

const WG: u32 = 64u;

struct Params {
  n: u32,
  decay: f32,
  step_size: f32,
  bc2_sqrt: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> grads: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * groups.x + wg.x) * WG + lid.x;
  if (i >= params.n) {
    return;
  }
  let g = grads[i];
  let mi = m[i] + (1.0 - params.beta1) * (g - m[i]);
  let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  let pi = p[i] * params.decay;
  m[i] = mi;
  v[i] = vi;
  p[i] = pi - params.step_size * mi / (sqrt(vi) / params.bc2_sqrt + params.eps);
}
