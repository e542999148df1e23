// Activations and the GLU family, elementwise, f32 (crates/core/src/kernels/glu.rs), the
// activation chosen by the override ACT:
//   0 gelu      ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), computed as x·σ(2u)
//               act' = σ(2u) + 2x·σ(2u)·σ(−2u)·u'
//   1 gelu-erf  ½x(1 + erf(x/√2))          act' = Φ(x) + x·φ(x)
//   2 silu      x·σ(x)                     act' = σ(x)(1 + x(1 − σ(x)))
//   3 relu      max(x, 0)                  act' = 1 if x > 0 else 0
//   4 sigmoid   σ(x)                       act' = σ(x)(1 − σ(x))
// GLU: out = act(gate) ⊙ up; dgate = dout ⊙ up ⊙ act'(gate), dup = dout ⊙ act(gate)
// (GLU = sigmoid, ReGLU = relu, GEGLU = tanh gelu, SwiGLU = silu).
// Shapes: every buffer [n] (any shape: only the element count matters). One invocation per
// element, on a 2-D grid of workgroups of 64 (i = (wg.y·groups.x + wg.x)·64 + lid). Every
// backward ASSIGNS its gradients.
// WGSL has no erf: erf here is Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), evaluated
// for |x| and given the sign of x.

override ACT: u32 = 0u;

const WG: u32 = 64u;
const SQRT_2_OVER_PI: f32 = 0.7978846;
const GELU_C: f32 = 0.044715;
const FRAC_1_SQRT_2: f32 = 0.70710678;
const FRAC_1_SQRT_2PI: f32 = 0.3989423;

struct Params {
  n: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // inp, or gate for the GLU
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // out, dinp or dgate
@group(0) @binding(5) var<storage, read_write> dup: array<f32>;

// σ(x) without overflow: e^(−|x|) ≤ 1.
fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  if (v >= 0.0) {
    return 1.0 / (1.0 + e);
  }
  return e / (1.0 + e);
}

fn erf(v: f32) -> f32 {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-a * a));
}

// (act(v), act'(v)).
fn act_and_derivative(v: f32) -> vec2<f32> {
  switch ACT {
    case 0u: {
      let u = SQRT_2_OVER_PI * (v + GELU_C * v * v * v);
      let s = sigmoid(2.0 * u);
      let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * v * v);
      return vec2<f32>(v * s, s + 2.0 * v * s * sigmoid(-2.0 * u) * du);
    }
    case 1u: {
      let cdf = 0.5 * (1.0 + erf(v * FRAC_1_SQRT_2));
      return vec2<f32>(v * cdf, cdf + v * exp(-0.5 * v * v) * FRAC_1_SQRT_2PI);
    }
    case 2u: {
      let s = sigmoid(v);
      return vec2<f32>(v * s, s * (1.0 + v * (1.0 - s)));
    }
    case 3u: {
      return vec2<f32>(max(v, 0.0), select(0.0, 1.0, v > 0.0));
    }
    default: {
      let s = sigmoid(v);
      return vec2<f32>(s, s * (1.0 - s));
    }
  }
}

fn index(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * groups.x + wg.x) * WG + lid.x;
}

@compute @workgroup_size(WG)
fn act_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i < params.n) {
    out[i] = act_and_derivative(x[i]).x;
  }
}

@compute @workgroup_size(WG)
fn act_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i < params.n) {
    // out = act(x)  →  dinp = dout ⊙ act'(x)
    out[i] = dout[i] * act_and_derivative(x[i]).y;
  }
}

@compute @workgroup_size(WG)
fn glu_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i < params.n) {
    out[i] = act_and_derivative(x[i]).x * up[i];
  }
}

@compute @workgroup_size(WG)
fn glu_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  if (i < params.n) {
    let a = act_and_derivative(x[i]);
    // out = act(gate) ⊙ up  →  dgate = dout ⊙ up ⊙ act'(gate), dup = dout ⊙ act(gate)
    out[i] = dout[i] * up[i] * a.y;
    dup[i] = dout[i] * a.x;
  }
}
