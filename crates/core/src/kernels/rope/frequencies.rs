//! RoPE's frequencies `θ_i` for a [`RopeConfig`]: plain, linear and NTK-aware scaling, YaRN
//! (transformers' `_compute_yarn_parameters`) and p-RoPE's dropped low frequencies. The
//! rotation that uses them is the parent module's.

use super::{RopeConfig, RopeScaling};

/// What a table needs from a config: `freq: [r/2]` radians per position step (after scaling
/// and p-RoPE), `pos_scale` (position interpolation multiplies positions by it) and
/// `attention_factor` (cos and sin are multiplied by it).
#[derive(Clone, Debug, PartialEq)]
pub struct RopeFrequencies {
    /// `θ_i`, `[r/2]`; 0 for the pairs p-RoPE leaves unrotated.
    pub freq: Vec<f64>,
    /// `1 / factor` for linear scaling, else 1.
    pub pos_scale: f64,
    /// YaRN's attention factor, else 1.
    pub attention_factor: f64,
}

/// The frequencies of a (valid) config, in f64. YaRN follows transformers'
/// `_compute_yarn_parameters` (with `truncate = True`): over `dim = r`,
/// `corr(n) = dim · ln(L₀ / (2π n)) / (2 ln base)`, `low = max(⌊corr(β_fast)⌋, 0)`,
/// `high = min(⌈corr(β_slow)⌉, dim − 1)` (`high += 0.001` when equal),
/// `ramp_i = clamp((i − low) / (high − low), 0, 1)`, and
/// `θ_i = (θ⁰_i / factor) · ramp_i + θ⁰_i · (1 − ramp_i)` with `θ⁰_i = base^(−2i/dim)`.
pub fn rope_frequencies(config: &RopeConfig) -> RopeFrequencies {
    let r = config.rotary_dim as f64;
    let half = config.rotary_dim / 2;
    let base = f64::from(config.base);
    let plain =
        |base: f64| -> Vec<f64> { (0..half).map(|i| base.powf(-2.0 * i as f64 / r)).collect() };
    let (mut freq, pos_scale, attention_factor) = match config.scaling {
        RopeScaling::None => (plain(base), 1.0, 1.0),
        RopeScaling::Linear { factor } => (plain(base), 1.0 / f64::from(factor), 1.0),
        RopeScaling::NtkAware { factor } => {
            (plain(base * f64::from(factor).powf(r / (r - 2.0))), 1.0, 1.0)
        }
        RopeScaling::Yarn {
            factor,
            original_max_positions,
            beta_fast,
            beta_slow,
            attention_factor,
        } => {
            let factor = f64::from(factor);
            let corr = |rotations: f64| {
                r * (original_max_positions as f64 / (rotations * 2.0 * std::f64::consts::PI)).ln()
                    / (2.0 * base.ln())
            };
            let low = corr(f64::from(beta_fast)).floor().max(0.0);
            let mut high = corr(f64::from(beta_slow)).ceil().min(r - 1.0);
            if low == high {
                high += 0.001;
            }
            let freq = plain(base)
                .into_iter()
                .enumerate()
                .map(|(i, extrapolated)| {
                    let ramp = ((i as f64 - low) / (high - low)).clamp(0.0, 1.0);
                    // HF: interpolation · (1 − extrapolation_factor) + extrapolation · e_f,
                    // e_f = 1 − ramp
                    extrapolated / factor * ramp + extrapolated * (1.0 - ramp)
                })
                .collect();
            let m = match attention_factor {
                Some(m) => f64::from(m),
                None if factor <= 1.0 => 1.0,
                None => 0.1 * factor.ln() + 1.0,
            };
            (freq, 1.0, m)
        }
    };
    if let Some(k) = config.kept_frequencies {
        // p-RoPE: the lowest frequencies (largest i) do not rotate.
        freq.iter_mut().skip(k).for_each(|f| *f = 0.0);
    }
    RopeFrequencies { freq, pos_scale, attention_factor }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::rope::{rope_forward, RopeDims};

    fn cfg(r: usize, scaling: RopeScaling) -> RopeConfig {
        RopeConfig { scaling, ..RopeConfig::new(r) }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn p_rope_zeroes_the_lowest_frequencies_and_leaves_those_pairs_unrotated() {
        let mut config = cfg(8, RopeScaling::None);
        let all = rope_frequencies(&config).freq;
        config.kept_frequencies = Some(3);
        let kept = rope_frequencies(&config).freq;
        assert_eq!(&kept[..3], &all[..3]);
        assert_eq!(kept[3], 0.0);
        assert!(all[3] > 0.0);
        // At any position, pair 3 (dims 3 and 7) passes through; pair 0 turns.
        config.position_offset = 5;
        let x: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let mut y = vec![0.0; 8];
        rope_forward(&mut y, &x, RopeDims { b: 1, t: 1, h: 1, d: 8 }, &config).unwrap();
        assert_eq!((y[3], y[7]), (x[3], x[7]));
        assert!(y[0] != x[0]);
        for k in [Some(0), Some(5)] {
            assert!(RopeConfig { kept_frequencies: k, ..config }.validate(8).is_err(), "{k:?}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn yarn_ramps_from_kept_to_interpolated_and_scales_by_the_attention_factor() {
        let yarn_with = |factor, original_max_positions, beta_fast, beta_slow, attention_factor| {
            RopeScaling::Yarn {
                factor,
                original_max_positions,
                beta_fast,
                beta_slow,
                attention_factor,
            }
        };
        let yarn = |attention_factor| yarn_with(8.0, 64, 32.0, 1.0, attention_factor);
        let plain = rope_frequencies(&cfg(32, RopeScaling::None)).freq;
        let got = rope_frequencies(&cfg(32, yarn(None)));
        // The fastest pair keeps its frequency, the slowest is divided by the factor.
        assert_eq!(got.freq[0], plain[0]);
        assert!((got.freq[15] - plain[15] / 8.0).abs() < 1e-15);
        // In between, each frequency lies between its two ends.
        for (g, p) in got.freq.iter().zip(&plain) {
            assert!(*g <= *p && *g >= p / 8.0 - 1e-15);
        }
        assert!((got.attention_factor - (0.1 * 8f64.ln() + 1.0)).abs() < 1e-12);
        assert_eq!(rope_frequencies(&cfg(32, yarn(Some(1.5)))).attention_factor, 1.5);
        // A bad YaRN config is refused.
        for bad in [
            yarn_with(8.0, 64, 1.0, 2.0, None),
            yarn_with(8.0, 0, 32.0, 1.0, None),
            yarn_with(f32::NAN, 64, 32.0, 1.0, None),
            yarn(Some(0.0)),
        ] {
            assert!(cfg(32, bad).validate(32).is_err(), "{bad:?}");
        }
    }

    /// transformers 5.24's `_compute_yarn_parameters` (`ROPE_INIT_FUNCTIONS["yarn"]`, float32
    /// inv_freq), printed in /tmp/venv-fx for `(head_dim, rope_theta, factor,
    /// original_max_position_embeddings, beta_fast, beta_slow)`: its attention factor and
    /// inv_freq against ours (f64; 1e-6 relative covers its float32 powers).
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn yarn_matches_transformers() {
        #[allow(clippy::type_complexity)]
        let cases: [((usize, f32, f32, usize, f32, f32), f64, &[f64]); 2] = [
            (
                (16, 10000.0, 4.0, 64, 32.0, 1.0),
                1.138629436111989,
                &[
                    1.0,
                    0.23717081546783447,
                    0.04999999701976776,
                    0.007905694656074047,
                    0.0024999999441206455,
                    0.0007905694656074047,
                    0.0002500000118743628,
                    7.905694656074047e-05,
                ],
            ),
            (
                (12, 100.0, 2.5, 20, 8.0, 0.5),
                1.0916290731874154,
                &[
                    1.0,
                    0.37132710218429565,
                    0.12926606833934784,
                    0.03999999910593033,
                    0.018566353246569633,
                    0.00861773919314146,
                ],
            ),
        ];
        for ((d, base, factor, original, beta_fast, beta_slow), attention, inv_freq) in cases {
            let scaling = RopeScaling::Yarn {
                factor,
                original_max_positions: original,
                beta_fast,
                beta_slow,
                attention_factor: None,
            };
            let got = rope_frequencies(&RopeConfig { base, ..cfg(d, scaling) });
            assert!((got.attention_factor - attention).abs() < 1e-12, "{d}: {got:?}");
            for (i, (&g, &w)) in got.freq.iter().zip(inv_freq).enumerate() {
                assert!((g - w).abs() <= 1e-6 * w, "D {d} pair {i}: {g} vs transformers {w}");
            }
        }
        // Llama 3-size heads (D 64, θ 500000, factor 8, original 4096): the first and last pairs.
        let big = RopeScaling::Yarn {
            factor: 8.0,
            original_max_positions: 4096,
            beta_fast: 32.0,
            beta_slow: 1.0,
            attention_factor: None,
        };
        let got = rope_frequencies(&RopeConfig { base: 500000.0, ..cfg(64, big) });
        assert!((got.attention_factor - 1.2079441541679836).abs() < 1e-12);
        for (i, w) in [(1, 0.663601279258728), (8, 0.03394988924264908), (31, 3.76732259610435e-07)]
        {
            assert!((got.freq[i] - w).abs() <= 1e-6 * w, "pair {i}: {} vs {w}", got.freq[i]);
        }
    }
}
