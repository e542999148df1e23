//! Attention maps: the softmax probabilities of every layer and head for one sequence, read
//! back from a forward pass (dropout off). The forward saves each layer's `q` and `k` (after
//! RoPE) and the `[H, T, T]` score bias (ALiBi, relative, KERPLE; none in a NoPE layer); [`layer_probs`] recomputes
//! `P = softmax(q kᵀ / √D + bias + mask)` from them with the training forward's own scores and
//! softmax (`kernels::attention_probs`), so the maps are what the model attended with.
//!
//! Shapes: `probs: [L, H, T, T]` (layer, head, query row `i`, key column `j`); `key_padding:
//! [T]`. Causal rows are zero above the diagonal, padded key columns are zero.

use super::config::ModelConfig;
use super::plan::acts_in;
use crate::error::{check_len, checked_product, Result};
use crate::kernels::attention::{AttnDims, AttnOptions};
use crate::kernels::attention_probs::attention_probs_infer;

/// Elements of the maps of one sequence of `t` tokens: `L · H · T · T`.
pub fn probs_len(cfg: &ModelConfig, t: usize) -> Result<usize> {
    checked_product("attention probabilities", &[cfg.n_layer, cfg.n_head, t, t])
}

/// `probs: [L, H, T, T]` (assigned) from `arena`, which holds the forward of ONE sequence of
/// `t` tokens (an inference plan carved for `(1, t)`), with that call's `key_padding: [T]`.
pub(crate) fn layer_probs(
    probs: &mut [f32],
    cfg: &ModelConfig,
    arena: &[f32],
    t: usize,
    key_padding: Option<&[u8]>,
) -> Result<()> {
    check_len("attention probabilities", probs_len(cfg, t)?, probs.len())?;
    let a = acts_in(cfg, 1, t, false, arena)?;
    let dims = AttnDims::new(1, cfg.n_head, t, cfg.head_dim());
    let per_layer = cfg.n_head * t * t;
    for (l, (la, p)) in a.layers.iter().zip(probs.chunks_exact_mut(per_layer.max(1))).enumerate() {
        // a layer without positions has no bias
        let bias = a.bias.filter(|_| cfg.positions_in_layer(l));
        let options = AttnOptions { causal: cfg.causal, key_padding, bias };
        // P = softmax(q kᵀ / √D + bias + mask), as in the layer's attention
        attention_probs_infer(p, la.q, la.k, dims, options)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::batch::Batch;
    use super::super::config::Positional;
    use super::super::params::{tensors, Carve};
    use super::super::plan::acts_len;
    use super::super::positional::relative_bucket;
    use super::super::shards::{pass, Fixed, Rows};
    use super::super::step::Model;
    use super::*;
    use crate::testing::random_vec;

    const T: usize = 9;
    const POSITIONALS: [Positional; 4] = [
        Positional::Learned,
        Positional::Rope,
        Positional::Alibi,
        Positional::Relative { num_buckets: 8, max_distance: 12 },
    ];

    /// A tiny GPT (causal) or BERT-like encoder (bidirectional) with large random weights,
    /// so the maps are far from uniform.
    fn model(positional: Positional, causal: bool) -> Model {
        let mut cfg = ModelConfig::gpt(23, 16, 2, 4, 16);
        cfg.positional = positional;
        cfg.causal = causal;
        let mut m = Model::new(cfg, 5).unwrap();
        let n = m.params().len();
        m.params_mut()
            .copy_from_slice(&random_vec(n, 17).iter().map(|x| 0.8 * x).collect::<Vec<_>>());
        m
    }

    /// The naive spec in f64 from a layer's saved `q, k: [H, T, D]`: scores, the bias written
    /// out from its definition, masks, softmax.
    fn naive(
        cfg: &ModelConfig,
        params: &[f32],
        q: &[f32],
        k: &[f32],
        pad: Option<&[u8]>,
    ) -> Vec<f64> {
        let (h, d) = (cfg.n_head, cfg.head_dim());
        let table = tensors(cfg, &mut Carve { rest: params }).rel_bias;
        let mut p = vec![0.0f64; h * T * T];
        for hh in 0..h {
            for i in 0..T {
                let allowed = |j: usize| !(cfg.causal && j > i) && pad.is_none_or(|x| x[j] != 0);
                let score = |j: usize| {
                    let dot: f64 = (0..d)
                        .map(|c| {
                            f64::from(q[(hh * T + i) * d + c]) * f64::from(k[(hh * T + j) * d + c])
                        })
                        .sum();
                    let bias = match cfg.positional {
                        // slope_h = 2^(−8(h+1)/H)
                        Positional::Alibi => {
                            -(2f64.powf(-8.0 * (hh + 1) as f64 / h as f64)) * i.abs_diff(j) as f64
                        }
                        Positional::Relative { num_buckets, max_distance } => {
                            let bucket = relative_bucket(
                                j as isize - i as isize,
                                cfg.causal,
                                num_buckets,
                                max_distance,
                            );
                            f64::from(table.unwrap()[bucket * h + hh])
                        }
                        _ => 0.0,
                    };
                    dot / (d as f64).sqrt() + bias
                };
                let s: Vec<f64> =
                    (0..T).map(|j| if allowed(j) { score(j) } else { f64::NEG_INFINITY }).collect();
                let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = s.iter().map(|x| (x - m).exp()).sum();
                for j in 0..T {
                    p[(hh * T + i) * T + j] = (s[j] - m).exp() / sum;
                }
            }
        }
        p
    }

    fn max_abs(a: &[f32], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - y).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn maps_are_rows_of_probabilities_and_match_the_naive_spec_and_the_forward() {
        let ids: Vec<u32> = (0..T).map(|i| ((i * 7 + 3) % 23) as u32).collect();
        let pad: Vec<u8> = (0..T).map(|j| u8::from(j != 2 && j != 6)).collect();
        for positional in POSITIONALS {
            for causal in [true, false] {
                let mut m = model(positional, causal);
                let cfg = m.config().clone();
                let (h, d) = (cfg.n_head, cfg.head_dim());
                let mask = (!causal).then_some(&pad[..]);
                let batch = Batch { ids: &ids, attention_mask: mask, ..Batch::default() };
                let got = m.attention_probs(batch, T).unwrap();
                assert_eq!(got.len(), cfg.n_layer * h * T * T);
                // The same forward by hand, to read the saved q, k, v and attention output.
                let mut arena = vec![0.0; acts_len(&cfg, 1, T, false)];
                let alibi = super::super::positional::alibi_slopes(h);
                let fixed = Fixed { sinusoid: None, alibi: Some(&alibi), int8: None };
                let rows = Rows { batch, b: 1, t: T, row_offset: 0, hidden_only: true };
                pass(&cfg, m.params(), &mut arena, None, fixed, rows, None).unwrap();
                let a = acts_in(&cfg, 1, T, false, &arena).expect("arena planned for (1, T)");
                for (l, la) in a.layers.iter().enumerate() {
                    let what = format!("{positional:?} causal {causal} layer {l}");
                    let p = &got[l * h * T * T..(l + 1) * h * T * T];
                    let want = naive(&cfg, m.params(), la.q, la.k, mask);
                    let diff = max_abs(p, &want);
                    assert!(diff < 2e-6, "{what}: max |P − naive| = {diff}");
                    for (r, row) in p.chunks_exact(T).enumerate() {
                        let sum: f32 = row.iter().sum();
                        assert!((sum - 1.0).abs() < 1e-5, "{what} row {r} sums to {sum}");
                        let i = r % T;
                        for (j, &x) in row.iter().enumerate() {
                            if (causal && j > i) || mask.is_some_and(|x| x[j] == 0) {
                                assert_eq!(x, 0.0, "{what}: P[{i}, {j}] is masked");
                            }
                        }
                    }
                    // The forward's own output is P · V: these are the weights it used.
                    for hh in 0..h {
                        for i in 0..T {
                            for c in 0..d {
                                let pv: f32 = (0..T)
                                    .map(|j| p[(hh * T + i) * T + j] * la.v[(hh * T + j) * d + c])
                                    .sum();
                                let att = la.att[(hh * T + i) * d + c];
                                assert!(
                                    (pv - att).abs() < 1e-4,
                                    "{what}: (P V)[{hh}, {i}, {c}] = {pv}, att = {att}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn wrong_lengths_are_errors_and_the_model_stays_usable() {
        let mut m = model(Positional::Learned, true);
        let ids = [1u32, 2, 3];
        assert!(m.attention_probs(Batch { ids: &ids, ..Batch::default() }, 4).is_err());
        assert!(m.attention_probs(Batch { ids: &[], ..Batch::default() }, 0).is_err());
        let long: Vec<u32> = vec![1; 17]; // > block_size with learned positions
        assert!(m.attention_probs(Batch { ids: &long, ..Batch::default() }, 17).is_err());
        let p = m.attention_probs(Batch { ids: &ids, ..Batch::default() }, 3).unwrap();
        assert_eq!(p.len(), 2 * 4 * 3 * 3);
    }
}
