//! KERPLE's logarithmic kernel (Chi et al. 2022, <https://arxiv.org/abs/2205.09921>): a
//! learned, per-head bias on the attention scores that falls with the log of the distance,
//!
//! ```text
//! bias[h, i, j] = −r1_h · ln(1 + r2_h · |i − j|),   r1_h, r2_h > 0
//! ```
//!
//! (the paper's "log" variant; `|i − j|` serves causal and bidirectional attention alike).
//! The paper keeps `r1, r2` positive by clamping after each step; here they are
//! `r = softplus(ρ)` of the stored parameters `ρ`, so the constraint holds without a clamp and
//! the gradient is smooth. One pair per head is shared by every layer, like the T5 table.
//!
//! Shapes: `params, dparams: [2, H]` (row 0: `ρ1`, row 1: `ρ2`), `bias, dbias: [H, T, T]`
//! (query row `i`, key column `j`). Accumulation: the backward ADDS into `dparams`.

/// `ln(1 + eˣ)`, computed without overflow.
pub fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

/// `σ(x) = d softplus / dx`.
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The `ρ` whose softplus is `y > 0`: `ln(eʸ − 1)`.
pub fn softplus_inverse(y: f32) -> f32 {
    let y = f64::from(y);
    (y + (-(-y).exp()).ln_1p()) as f32
}

/// `(r1, r2)` of head `head` from `params: [2, H]`.
pub fn kerple_rates(params: &[f32], h: usize, head: usize) -> (f64, f64) {
    (softplus(f64::from(params[head])), softplus(f64::from(params[h + head])))
}

/// `bias[h, i, j] = −r1_h · ln(1 + r2_h · |i − j|)`. `bias: [H, T, T]`, `params: [2, H]`.
pub fn kerple_bias_forward(bias: &mut [f32], params: &[f32], t: usize, h: usize) {
    for (head, rows) in bias.chunks_exact_mut(t * t).take(h).enumerate() {
        let (r1, r2) = kerple_rates(params, h, head);
        for (i, row) in rows.chunks_exact_mut(t).enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value = (-r1 * (r2 * i.abs_diff(j) as f64).ln_1p()) as f32;
            }
        }
    }
}

/// Gradient of [`kerple_bias_forward`], ADDED into `dparams: [2, H]` from `dbias: [H, T, T]`:
/// with `d = |i − j|`, `∂bias/∂r1 = −ln(1 + r2·d)`, `∂bias/∂r2 = −r1·d / (1 + r2·d)`, and
/// `∂r/∂ρ = σ(ρ)`.
pub fn kerple_bias_backward(
    dparams: &mut [f32],
    dbias: &[f32],
    params: &[f32],
    t: usize,
    h: usize,
) {
    for (head, rows) in dbias.chunks_exact(t * t).take(h).enumerate() {
        let (r1, r2) = kerple_rates(params, h, head);
        let (mut dr1, mut dr2) = (0.0f64, 0.0f64);
        for (i, row) in rows.chunks_exact(t).enumerate() {
            for (j, &g) in row.iter().enumerate() {
                let d = i.abs_diff(j) as f64;
                let g = f64::from(g);
                // bias = −r1 · ln(1 + r2·d)
                dr1 -= g * (r2 * d).ln_1p();
                dr2 -= g * r1 * d / (1.0 + r2 * d);
            }
        }
        // r = softplus(ρ)
        dparams[head] += (dr1 * sigmoid(f64::from(params[head]))) as f32;
        dparams[h + head] += (dr2 * sigmoid(f64::from(params[h + head]))) as f32;
    }
}

/// One query's bias over the keys `0..n_keys` at query position `pos` (decoding):
/// `row[j] = −r1 · ln(1 + r2 · |pos − j|)` for head `head`.
pub fn kerple_bias_row(row: &mut [f32], params: &[f32], h: usize, head: usize, pos: usize) {
    let (r1, r2) = kerple_rates(params, h, head);
    for (j, value) in row.iter_mut().enumerate() {
        *value = (-r1 * (r2 * pos.abs_diff(j) as f64).ln_1p()) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dot_loss, gradcheck, random_vec};

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bias_is_minus_r1_log_one_plus_r2_distance() {
        let (t, h) = (4, 2);
        let params = [softplus_inverse(1.0), softplus_inverse(0.5), softplus_inverse(2.0), 1.0];
        let mut bias = vec![0.0; h * t * t];
        kerple_bias_forward(&mut bias, &params, t, h);
        // Head 0: r1 = 1, r2 = 2; |0 − 3| = 3 → −ln 7.
        assert!((bias[3] - (-(7f32).ln())).abs() < 1e-6);
        assert_eq!(bias[5], 0.0); // the diagonal
                                  // Head 1: r1 = 0.5, r2 = softplus(1); symmetric in i, j.
        let r2 = softplus(1.0);
        let want = (-0.5 * (2.0 * r2).ln_1p()) as f32;
        assert!((bias[t * t + 2] - want).abs() < 1e-6);
        assert_eq!(bias[t * t + 2], bias[t * t + 2 * t]);
        let mut row = vec![0.0; 3];
        kerple_bias_row(&mut row, &params, h, 1, 2);
        assert_eq!(&row[..], &bias[t * t + 2 * t..t * t + 2 * t + 3]);
        assert!((softplus(f64::from(softplus_inverse(0.3))) - 0.3).abs() < 1e-6);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn backward_passes_gradcheck() {
        let (t, h) = (5, 3);
        let params = random_vec(2 * h, 3);
        let w = random_vec(h * t * t, 4);
        let mut dparams = vec![0.0; 2 * h];
        kerple_bias_backward(&mut dparams, &w, &params, t, h);
        let mut bias = vec![0.0; h * t * t];
        let loss = |p: &[f32]| {
            kerple_bias_forward(&mut bias, p, t, h);
            dot_loss(&bias, &w)
        };
        gradcheck("kerple", &params, &dparams, 1e-3, 1e-3, 1e-3, loss);
    }
}
