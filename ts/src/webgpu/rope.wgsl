// Rotary position embedding, f32 (crates/core/src/kernels/rope.rs), in the Hugging Face Llama
// "rotate_half" layout: the pairs are (i, i + r/2), r = rotary_dim, i in 0..r/2; with
// a = pos · θ_i and the host's table cos[t, i] = cos a, sin[t, i] = sin a (f64, rounded once):
//   out[i]       = x[i]       · cos a − x[i + r/2] · (sign · sin a)
//   out[i + r/2] = x[i + r/2] · cos a + x[i]       · (sign · sin a)
//   out[j]       = x[j] for j in r..D (passed through)
// sign = 1 is the forward; sign = −1 the backward (dinp = RoPEᵀ(dout), the rotation by −a).
// Shapes: x, out: [B, T, H, D]; cos, sin: [T, r/2]. One invocation per output element (2-D grid
// of workgroups of 64).

const WG: u32 = 64u;

struct Params {
  n: u32, // B·T·H·D
  t: u32,
  h: u32,
  d: u32,
  rotary: u32,
  sign: f32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cos_table: array<f32>;
@group(0) @binding(3) var<storage, read> sin_table: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = (wg.y * groups.x + wg.x) * WG + lid.x;
  if (e >= params.n) {
    return;
  }
  let d = params.d;
  let j = e % d;
  let head = e - j; // start of this head vector
  let half = params.rotary / 2u;
  if (j >= params.rotary) {
    out[e] = x[e];
    return;
  }
  let pos = (e / (params.h * d)) % params.t;
  let i = j % half;
  let c = cos_table[pos * half + i];
  let s = params.sign * sin_table[pos * half + i];
  if (j < half) {
    out[e] = x[head + i] * c - x[head + i + half] * s;
  } else {
    out[e] = x[head + i + half] * c + x[head + i] * s;
  }
}
