//! The attention probabilities themselves, for looking at them (attention maps): the same
//! scores and row softmax as the training forward of `attention_heads.rs`, kept instead of
//! being multiplied into `V`. Inference only (`_infer`): no backward, never reached from the
//! trainer.
//!
//! Math, per batch `b`, head `h` (scale `= 1/sqrt(D)`, masks as in `attention.rs`):
//! `P[i, j] = softmax_j(q_i · k_j · scale + bias[h, i, j])` over the allowed keys `j`, and
//! `P[i, j] = 0` for masked keys (`j > i` when causal, padded keys); a row with no allowed key
//! is all zeros.
//!
//! Shapes: `p: [B, H, T, T]` (query row `i`, key column `j`), `q, k: [B, H, T, D]` (after
//! RoPE), `key_padding: [B, T]`, `bias: [H, T, T]`. Accumulation: `p` ASSIGNED.
//! Memory: `p` itself and one `[T]` row of log-sum-exps.

use super::attention::{AttnDims, AttnOptions};
use super::attention_heads::softmax_rows;
use super::matmul::{matmul_forward, MatmulDims, MatmulForm};
use crate::error::{check_len, checked_product, Result};

/// `p = softmax(q kᵀ / sqrt(D) + bias + mask)` of every head, zero where masked.
///
/// `p: [B, H, T, T]` (assigned), `q, k: [B, H, T, D]`; options as in [`AttnOptions`]
/// (`key_padding: [B, T]`, `bias: [H, T, T]`). Returns [`crate::Error::Shape`] /
/// [`crate::Error::InvalidArgument`] for wrong lengths or zero dimensions.
pub fn attention_probs_infer(
    p: &mut [f32],
    q: &[f32],
    k: &[f32],
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    dims.check(q.len(), k.len(), q.len(), q.len(), &options)?;
    let AttnDims { b, h, t, d } = dims;
    check_len(
        "attention probs: p",
        checked_product("attention probs: p", &[b, h, t, t])?,
        p.len(),
    )?;
    let scale = 1.0 / (d as f32).sqrt();
    let mut lse = vec![0.0f32; t];
    for (pair, s) in p.chunks_exact_mut(t * t).enumerate() {
        let (bb, hh) = (pair / h, pair % h);
        let rows = pair * t * d..(pair + 1) * t * d;
        // S = Q Kᵀ
        matmul_forward(
            s,
            &q[rows.clone()],
            &k[rows],
            None,
            MatmulDims::new(t, d, t),
            MatmulForm::ABt,
        )?;
        let pad = options.key_padding.map(|x| &x[bb * t..(bb + 1) * t]);
        let bias = options.bias.map(|x| &x[hh * t * t..(hh + 1) * t * t]);
        // P = softmax(S·scale + bias + mask)
        softmax_rows(s, &mut lse, t, scale, options.causal, pad, bias);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::attention::reference::attention_probs_f64;
    use super::*;
    use crate::testing::{assert_close, random_vec, Rng};

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn probs_match_reference_on_ragged_shapes() {
        let mut seed = 0;
        for t in [1, 3, 17, 63] {
            for d in [1, 3, 8, 17] {
                seed += 10;
                let (b, h) = (2, 3);
                let dims = AttnDims::new(b, h, t, d);
                let n = b * h * t * d;
                let (q, k) = (random_vec(n, seed), random_vec(n, seed + 1));
                let bias: Vec<f32> =
                    random_vec(h * t * t, seed + 2).iter().map(|x| 2.0 * x).collect();
                let mut rng = Rng::new(seed + 3);
                let pad: Vec<u8> = (0..b * t).map(|_| u8::from(rng.below(4) != 0)).collect();
                for mask in 0..8u32 {
                    let options = AttnOptions {
                        causal: mask & 1 != 0,
                        key_padding: (mask & 2 != 0).then_some(&pad[..]),
                        bias: (mask & 4 != 0).then_some(&bias[..]),
                    };
                    let mut p = vec![7.0; b * h * t * t];
                    attention_probs_infer(&mut p, &q, &k, dims, options).unwrap();
                    let want: Vec<f32> = attention_probs_f64(&q, &k, dims, options)
                        .unwrap()
                        .iter()
                        .map(|&x| x as f32)
                        .collect();
                    assert_close(&p, &want, 1e-6, 1e-5, &format!("T={t} D={d} mask {mask}"));
                }
            }
        }
    }

    #[test]
    fn wrong_output_length_is_a_shape_error() {
        let dims = AttnDims::new(1, 2, 3, 4);
        let q = vec![0.0; 24];
        let mut p = vec![0.0; 17];
        let err = attention_probs_infer(&mut p, &q, &q, dims, AttnOptions::default()).unwrap_err();
        assert!(matches!(err, crate::Error::Shape { .. }), "{err:?}");
    }
}
