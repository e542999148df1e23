// Token (+ optional learned position) embedding, f32 (crates/core/src/kernels/embedding.rs):
//   forward:  out[b, t, :] = wte[ids[b, t], :] (+ wpe[t + offset, :] when HAS_WPE)
//   backward: dwte[v, :] = Σ_{p: ids[p] = v} dout[p, :], summed over p in increasing order;
//             dwpe[t + offset, :] = Σ_b dout[b, t, :] in increasing b (0 on other positions).
// Shapes: ids (i32): [B, T]; wte, dwte: [V, C]; wpe, dwpe: [P, C] (P = max positions);
// out, dout: [B, T, C]. The scatter is a gather over a CSR list built on the host: for id v,
// positions[offsets[v] .. offsets[v + 1]] are the flat positions p (increasing) holding it.
// One invocation per output element (2-D grid of workgroups of 64); no atomics, so the sums
// have a fixed order and equal the core's serial loop. The backward ASSIGNS dwte and dwpe.

override HAS_WPE: bool = false;

const WG: u32 = 64u;

struct Params {
  b: u32,
  t: u32,
  c: u32,
  vocab: u32,
  positions: u32, // P, rows of wpe
  offset: u32, // position of t = 0 in wpe
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> dout: array<f32>;
@group(0) @binding(6) var<storage, read> csr_offsets: array<u32>;
@group(0) @binding(7) var<storage, read> csr_positions: array<u32>;
@group(0) @binding(8) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(9) var<storage, read_write> dwpe: array<f32>;

fn index(wg: vec3<u32>, groups: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * groups.x + wg.x) * WG + lid.x;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  let c = params.c;
  if (i >= params.b * params.t * c) {
    return;
  }
  let p = i / c;
  let j = i - p * c;
  var value = wte[u32(ids[p]) * c + j];
  if (HAS_WPE) {
    value += wpe[(p % params.t + params.offset) * c + j];
  }
  out[i] = value;
}

@compute @workgroup_size(WG)
fn backward_wte(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  let c = params.c;
  if (i >= params.vocab * c) {
    return;
  }
  let v = i / c;
  let j = i - v * c;
  // out[p, :] = wte[ids[p], :] + …  →  dwte[v, :] = Σ_{ids[p] = v} dout[p, :]
  var sum = 0.0;
  for (var k = csr_offsets[v]; k < csr_offsets[v + 1u]; k++) {
    sum += dout[csr_positions[k] * c + j];
  }
  dwte[i] = sum;
}

@compute @workgroup_size(WG)
fn backward_wpe(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = index(wg, groups, lid);
  let c = params.c;
  if (i >= params.positions * c) {
    return;
  }
  let pos = i / c;
  let j = i - pos * c;
  // out[b, t, :] = … + wpe[t + offset, :]  →  dwpe[t + offset, :] = Σ_b dout[b, t, :]
  var sum = 0.0;
  if (pos >= params.offset && pos < params.offset + params.t) {
    let t = pos - params.offset;
    for (var b = 0u; b < params.b; b++) {
      sum += dout[(b * params.t + t) * c + j];
    }
  }
  dwpe[i] = sum;
}
