//! The f64 spec of the W8A16 product on the quantised values: plain loops over the dequantised
//! activations `x̂ = sx · qx` and weights `ŵ = s · q` (no segments, no lanes).

use super::{Int8Weight, QuantRows};

/// `out[i, j] = bias[j] + Σ_k x̂[i, k] · ŵ[j, k]`, `out: [M, N]` f64, for `rows: [M, K8]`,
/// `weight: [N, K8]`, `bias: [N]`.
pub fn linear_int8_ref(rows: &QuantRows, weight: &Int8Weight, bias: Option<&[f32]>) -> Vec<f64> {
    let (m, n, k8, nb) = (rows.m, weight.n(), weight.k8(), weight.n_blocks());
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        let sx = f64::from(rows.scales[i]);
        for j in 0..n {
            let mut sum = bias.map_or(0.0, |b| f64::from(b[j]));
            for p in 0..k8 {
                let x = sx * f64::from(rows.q[i * k8 + p]);
                let w = f64::from(weight.scales()[j * nb + p / weight.block()])
                    * f64::from(weight.q()[j * k8 + p]);
                sum += x * w;
            }
            out[i * n + j] = sum;
        }
    }
    out
}
