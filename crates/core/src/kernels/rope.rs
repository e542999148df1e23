//! Rotary position embedding (RoPE), `out = RoPE(inp)`, in the Hugging Face Llama layout.
//!
//! Math (Su et al. 2021, <https://arxiv.org/abs/2104.09864>; HF `rotate_half`): for each head
//! vector `x: [D]` at sequence position `t`, with `r = rotary_dim` and `i in 0..r/2`,
//! `pos = (position_offset + t) / s`, `θ_i = base'^(−2i/r)`, `a = pos · θ_i`:
//!
//! ```text
//! out[i]       = x[i]       · cos a − x[i + r/2] · sin a
//! out[i + r/2] = x[i + r/2] · cos a + x[i]       · sin a
//! out[j]       = x[j]                       for j in r..D (passed through)
//! ```
//!
//! The pairs are `(i, i + r/2)` (the GPT-NeoX / HF Llama "half" layout), NOT the interleaved
//! `(2i, 2i + 1)` layout of the original paper and Meta's reference code: Llama checkpoints
//! converted to HF format have their `q`/`k` projection rows permuted for this layout.
//! Scaling ([`RopeScaling`]): `Linear { factor }` sets `s = factor` (position interpolation);
//! `NtkAware { factor }` keeps `s = 1` and sets `base' = base · factor^(r / (r − 2))`; `Yarn`
//! blends interpolated and original frequencies per pair and multiplies cos and sin by an
//! attention factor `m` (Peng et al. 2023, <https://arxiv.org/abs/2309.00071>; exactly
//! Hugging Face's `_compute_yarn_parameters`, see [`rope_frequencies`]).
//! Partial rotation (GPT-NeoX `rotary_pct`, HF `partial_rotary_factor`): `r < D`, the
//! frequencies are computed over the `r` rotated dims. p-RoPE (Barbero et al. 2024,
//! <https://arxiv.org/abs/2410.06205>): `kept_frequencies = k` keeps the `k` highest
//! frequencies (`i < k`) and sets `θ_i = 0` for the rest, so those pairs are not rotated.
//!
//! Backward: the map is `m` times a rotation, so `dinp = RoPEᵀ(dout)` is `m` times the
//! rotation by `−a`.
//!
//! Shapes: `inp, out, dinp, dout: [B, T, H, D]`; the cos/sin table ([`RopeTable`]) is
//! `[T, r/2]`, computed in f64 and rounded once. Accumulation: `rope_backward` ASSIGNS `dinp`
//! (an activation gradient); there are no parameters.

mod frequencies;

pub use frequencies::{rope_frequencies, RopeFrequencies};

use crate::error::{check_len, checked_product, Error, Result};
use crate::par::for_each_row_block;
use crate::simd::{F32x4, LANES};

/// How positions or frequencies are stretched for contexts longer than training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RopeScaling {
    /// Plain RoPE.
    None,
    /// Position interpolation: positions are divided by `factor` (`> 0`).
    Linear {
        /// Divides every position.
        factor: f32,
    },
    /// "NTK-aware" scaling: `base' = base · factor^(r / (r − 2))` (`factor > 0`, `r > 2`).
    NtkAware {
        /// Stretches the base.
        factor: f32,
    },
    /// YaRN ("NTK-by-parts" plus an attention factor), as Hugging Face's `rope_type: "yarn"`.
    Yarn {
        /// Context extension ratio (`> 0`): the slow pairs' frequencies are divided by it.
        factor: f32,
        /// The context the model was trained for (`≥ 1`).
        original_max_positions: usize,
        /// Pairs that turn more than this often over the original context keep their
        /// frequency (HF default 32).
        beta_fast: f32,
        /// Pairs that turn less than this often are fully interpolated (HF default 1;
        /// `0 < beta_slow < beta_fast`).
        beta_slow: f32,
        /// Multiplies cos and sin (so the scores by its square); `None`: `0.1·ln(factor) + 1`
        /// for `factor > 1`, else 1 (HF's default).
        attention_factor: Option<f32>,
    },
}

/// RoPE settings. `rotary_dim` (`r`) must be even, `> 0` and `≤ D`; `base > 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RopeConfig {
    /// Frequency base (`rope_theta` in HF configs), 10000 by default.
    pub base: f32,
    /// How many leading dims of each head are rotated (`r`); the rest pass through.
    pub rotary_dim: usize,
    /// Position of the first row of `T` (the KV-cache length when decoding).
    pub position_offset: usize,
    /// Context-extension scaling.
    pub scaling: RopeScaling,
    /// p-RoPE: only the `k` highest frequencies rotate (`1 ≤ k ≤ r/2`); `None`: all `r/2`.
    pub kept_frequencies: Option<usize>,
}

impl RopeConfig {
    /// `base` 10000, no offset, no scaling, rotating the first `rotary_dim` dims.
    pub fn new(rotary_dim: usize) -> Self {
        Self {
            base: 10000.0,
            rotary_dim,
            position_offset: 0,
            scaling: RopeScaling::None,
            kept_frequencies: None,
        }
    }

    /// Checks the config against head dim `d`, returning [`Error::InvalidArgument`].
    pub fn validate(&self, d: usize) -> Result<()> {
        let r = self.rotary_dim;
        let bad = |msg: String| Err(Error::InvalidArgument(format!("rope: {msg}")));
        if r == 0 || r % 2 != 0 {
            return bad(format!("rotary_dim must be even and > 0, got {r}"));
        }
        if r > d {
            return bad(format!("rotary_dim {r} exceeds head dim {d}"));
        }
        if !(self.base > 1.0 && self.base.is_finite()) {
            return bad(format!("base must be finite and > 1, got {}", self.base));
        }
        match self.scaling {
            RopeScaling::None => {}
            RopeScaling::Linear { factor } | RopeScaling::NtkAware { factor } => {
                if !(factor > 0.0 && factor.is_finite()) {
                    return bad(format!("scaling factor must be finite and > 0, got {factor}"));
                }
                if matches!(self.scaling, RopeScaling::NtkAware { .. }) && r == 2 {
                    return bad("NTK-aware scaling needs rotary_dim > 2".into());
                }
            }
            RopeScaling::Yarn {
                factor,
                original_max_positions,
                beta_fast,
                beta_slow,
                attention_factor,
            } => {
                if !(factor > 0.0 && factor.is_finite()) {
                    return bad(format!("yarn factor must be finite and > 0, got {factor}"));
                }
                if original_max_positions == 0 {
                    return bad("yarn original_max_positions must be >= 1".into());
                }
                if !(beta_slow > 0.0 && beta_fast > beta_slow && beta_fast.is_finite()) {
                    return bad(format!(
                        "yarn needs 0 < beta_slow < beta_fast (finite), got beta_fast \
                         {beta_fast}, beta_slow {beta_slow}"
                    ));
                }
                if let Some(m) = attention_factor {
                    if !(m > 0.0 && m.is_finite()) {
                        return bad(format!(
                            "yarn attention_factor must be finite and > 0, got {m}"
                        ));
                    }
                }
            }
        }
        if let Some(k) = self.kept_frequencies {
            if k == 0 || k > r / 2 {
                return bad(format!(
                    "kept_frequencies must be in 1..={} (rotary_dim / 2), got {k}",
                    r / 2
                ));
            }
        }
        Ok(())
    }
}

/// `position_offset + T` must not overflow.
fn check_positions(config: &RopeConfig, t: usize) -> Result<()> {
    match config.position_offset.checked_add(t) {
        Some(_) => Ok(()),
        None => Err(Error::InvalidArgument("rope: position_offset + T overflows".into())),
    }
}

/// Sizes of `[B, T, H, D]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RopeDims {
    /// Batch.
    pub b: usize,
    /// Sequence length.
    pub t: usize,
    /// Heads.
    pub h: usize,
    /// Head dim.
    pub d: usize,
}

impl RopeDims {
    /// Checks that the `[B, T, H, D]` buffers `a` and `b` (named in errors) have `B·T·H·D`
    /// elements, returning [`Error::Shape`].
    pub fn check(&self, a: (&str, usize), b: (&str, usize)) -> Result<()> {
        let n = checked_product("rope", &[self.b, self.t, self.h, self.d])?;
        check_len(a.0, n, a.1)?;
        check_len(b.0, n, b.1)
    }
}

/// Precomputed `cos(a)`, `sin(a)` for `T` positions, reusable across layers and heads.
#[derive(Clone, Debug, PartialEq)]
pub struct RopeTable {
    /// `cos(a[t, i])`: `[T, r/2]`.
    cos: Vec<f32>,
    /// `sin(a[t, i])`: `[T, r/2]`.
    sin: Vec<f32>,
    /// The `T` and `D` the table was built for.
    t: usize,
    d: usize,
    /// `r`.
    rotary_dim: usize,
}

impl RopeTable {
    /// Builds the table for positions `position_offset .. position_offset + t` and head dim
    /// `d`, validating `config` ([`Error::InvalidArgument`]).
    pub fn new(t: usize, d: usize, config: &RopeConfig) -> Result<Self> {
        config.validate(d)?;
        check_positions(config, t)?;
        let half = config.rotary_dim / 2;
        let n = checked_product("rope: table", &[t, half])?;
        let RopeFrequencies { freq, pos_scale, attention_factor: m } = rope_frequencies(config);
        let (mut cos, mut sin) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for p in 0..t {
            let pos = (config.position_offset + p) as f64 * pos_scale;
            for &f in &freq {
                let (s, c) = (pos * f).sin_cos();
                cos.push((m * c) as f32);
                sin.push((m * s) as f32);
            }
        }
        Ok(Self { cos, sin, t, d, rotary_dim: config.rotary_dim })
    }

    /// [`rope_forward`] with this table (`dims.t`, `dims.d` must be the table's).
    pub fn forward(&self, out: &mut [f32], inp: &[f32], dims: RopeDims) -> Result<()> {
        dims.check(("rope: out", out.len()), ("rope: inp", inp.len()))?;
        self.check_dims(dims)?;
        rotate(out, inp, dims, self, 1.0);
        Ok(())
    }

    /// [`rope_backward`] with this table (`dims.t`, `dims.d` must be the table's).
    pub fn backward(&self, dinp: &mut [f32], dout: &[f32], dims: RopeDims) -> Result<()> {
        dims.check(("rope: dinp", dinp.len()), ("rope: dout", dout.len()))?;
        self.check_dims(dims)?;
        rotate(dinp, dout, dims, self, -1.0);
        Ok(())
    }

    fn check_dims(&self, dims: RopeDims) -> Result<()> {
        if dims.t != self.t || dims.d != self.d {
            return Err(Error::InvalidArgument(format!(
                "rope: table built for T={}, D={}, used with T={}, D={}",
                self.t, self.d, dims.t, dims.d
            )));
        }
        Ok(())
    }
}

/// `out = RoPE(inp)`. `out, inp: [B, T, H, D]`. Builds a `[T, r/2]` table per call; use
/// [`RopeTable::forward`] to reuse one.
pub fn rope_forward(
    out: &mut [f32],
    inp: &[f32],
    dims: RopeDims,
    config: &RopeConfig,
) -> Result<()> {
    dims.check(("rope: out", out.len()), ("rope: inp", inp.len()))?;
    RopeTable::new(dims.t, dims.d, config)?.forward(out, inp, dims)
}

/// Gradient of [`rope_forward`], ASSIGNED to `dinp`: the rotation by `−a`.
/// `dinp, dout: [B, T, H, D]`.
pub fn rope_backward(
    dinp: &mut [f32],
    dout: &[f32],
    dims: RopeDims,
    config: &RopeConfig,
) -> Result<()> {
    dims.check(("rope: dinp", dinp.len()), ("rope: dout", dout.len()))?;
    RopeTable::new(dims.t, dims.d, config)?.backward(dinp, dout, dims)
}

/// Elements per thread task, so small calls stay on one thread.
const MIN_ELEMS_PER_TASK: usize = 1 << 14;

/// `dst = R(sign · a) src` for every head vector; `sign = −1` is the transpose (backward).
fn rotate(dst: &mut [f32], src: &[f32], dims: RopeDims, table: &RopeTable, sign: f32) {
    let row_len = dims.h * dims.d; // one (b, t) position
    let half = table.rotary_dim / 2;
    if row_len == 0 {
        return;
    }
    let min_rows = (MIN_ELEMS_PER_TASK / row_len).max(1);
    for_each_row_block(dst, row_len, min_rows, |rows, block| {
        for (row, dst_row) in rows.zip(block.chunks_exact_mut(row_len)) {
            let p = row % dims.t;
            let cos = &table.cos[p * half..(p + 1) * half];
            let sin = &table.sin[p * half..(p + 1) * half];
            let src_row = &src[row * row_len..(row + 1) * row_len];
            for (y, x) in dst_row.chunks_exact_mut(dims.d).zip(src_row.chunks_exact(dims.d)) {
                rotate_head(y, x, cos, sin, sign);
            }
        }
    });
}

/// One head vector: `y1 = x1·cos − x2·(sign·sin)`, `y2 = x2·cos + x1·(sign·sin)`, tail copied.
fn rotate_head(y: &mut [f32], x: &[f32], cos: &[f32], sin: &[f32], sign: f32) {
    let half = cos.len();
    let (x1, rest) = x.split_at(half);
    let (x2, x_tail) = rest.split_at(half);
    let (y1, rest) = y.split_at_mut(half);
    let (y2, y_tail) = rest.split_at_mut(half);
    let vector_end = half - half % LANES;
    let (pos, neg) = (F32x4::splat(sign), F32x4::splat(-sign));
    for i in (0..vector_end).step_by(LANES) {
        let (c, s) = (F32x4::load(&cos[i..]), F32x4::load(&sin[i..]));
        let (a, b) = (F32x4::load(&x1[i..]), F32x4::load(&x2[i..]));
        F32x4::mul_add(a, c, b * s * neg).store(&mut y1[i..]);
        F32x4::mul_add(b, c, a * s * pos).store(&mut y2[i..]);
    }
    for i in vector_end..half {
        let (c, s) = (cos[i], sign * sin[i]);
        y1[i] = x1[i] * c - x2[i] * s;
        y2[i] = x2[i] * c + x1[i] * s;
    }
    y_tail.copy_from_slice(x_tail);
}

/// Plain f64 loops: the specification of the kernels above.
pub mod reference {
    use super::{rope_frequencies, RopeConfig, RopeDims, RopeFrequencies};
    use crate::error::Result;

    /// f64 [`super::rope_forward`]: angles, cos and sin computed per element in f64.
    pub fn rope_forward_ref(
        out: &mut [f32],
        inp: &[f32],
        dims: RopeDims,
        config: &RopeConfig,
    ) -> Result<()> {
        dims.check(("rope: out", out.len()), ("rope: inp", inp.len()))?;
        config.validate(dims.d)?;
        super::check_positions(config, dims.t)?;
        rotate_ref(out, inp, dims, config, 1.0);
        Ok(())
    }

    /// f64 [`super::rope_backward`] (assigns `dinp`).
    pub fn rope_backward_ref(
        dinp: &mut [f32],
        dout: &[f32],
        dims: RopeDims,
        config: &RopeConfig,
    ) -> Result<()> {
        dims.check(("rope: dinp", dinp.len()), ("rope: dout", dout.len()))?;
        config.validate(dims.d)?;
        super::check_positions(config, dims.t)?;
        rotate_ref(dinp, dout, dims, config, -1.0);
        Ok(())
    }

    fn rotate_ref(y: &mut [f32], x: &[f32], dims: RopeDims, config: &RopeConfig, sign: f64) {
        let RopeDims { b, t, h, d } = dims;
        let r = config.rotary_dim;
        let half = r / 2;
        // The frequencies are specified (and checked against HF) in `rope_frequencies`.
        let RopeFrequencies { freq, pos_scale, attention_factor: m } = rope_frequencies(config);
        for bi in 0..b {
            for ti in 0..t {
                let pos = (config.position_offset + ti) as f64 * pos_scale;
                for hi in 0..h {
                    let o = ((bi * t + ti) * h + hi) * d;
                    for (i, &theta) in freq.iter().enumerate() {
                        let (s, c) = (sign * pos * theta).sin_cos();
                        let (s, c) = (m * s, m * c);
                        let (x1, x2) = (f64::from(x[o + i]), f64::from(x[o + i + half]));
                        // out[i] = x[i]·cos a − x[i + r/2]·sin a
                        y[o + i] = (x1 * c - x2 * s) as f32;
                        // out[i + r/2] = x[i + r/2]·cos a + x[i]·sin a
                        y[o + i + half] = (x2 * c + x1 * s) as f32;
                    }
                    y[o + r..o + d].copy_from_slice(&x[o + r..o + d]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reference::{rope_backward_ref, rope_forward_ref};
    use super::*;
    use crate::testing::{assert_close, dot_loss, gradcheck, random_vec};

    /// `(B, T, H, D, r)`: head halves of 1, 3, 17, 31 and 32 hit the 4-lane tails.
    const SHAPES: [(usize, usize, usize, usize, usize); 6] = [
        (1, 1, 1, 3, 2),
        (2, 3, 3, 6, 6),
        (1, 5, 2, 34, 34),
        (2, 17, 2, 64, 62),
        (1, 4, 3, 63, 32),
        (1, 70, 4, 128, 64), // 35 840 elements: split over threads
    ];

    /// YaRN with its attention factor pinned to 1 here, so it stays a rotation (the factor
    /// has its own test).
    const YARN: RopeScaling = RopeScaling::Yarn {
        factor: 4.0,
        original_max_positions: 16,
        beta_fast: 32.0,
        beta_slow: 1.0,
        attention_factor: Some(1.0),
    };

    fn scalings() -> [RopeScaling; 4] {
        [
            RopeScaling::None,
            RopeScaling::Linear { factor: 4.0 },
            RopeScaling::NtkAware { factor: 8.0 },
            YARN,
        ]
    }

    fn config(r: usize, offset: usize, scaling: RopeScaling) -> RopeConfig {
        RopeConfig { scaling, position_offset: offset, ..RopeConfig::new(r) }
    }

    fn run(forward: bool, x: &[f32], dims: RopeDims, cfg: &RopeConfig) -> Vec<f32> {
        let mut y = vec![f32::NAN; x.len()];
        if forward {
            rope_forward(&mut y, x, dims, cfg).unwrap();
        } else {
            rope_backward(&mut y, x, dims, cfg).unwrap();
        }
        y
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_matches_reference() {
        for (k, &(b, t, h, d, r)) in SHAPES.iter().enumerate() {
            for (j, scaling) in scalings().into_iter().enumerate() {
                if r == 2 && matches!(scaling, RopeScaling::NtkAware { .. }) {
                    continue; // undefined for r = 2 (checked in the error test)
                }
                let dims = RopeDims { b, t, h, d };
                let mut cfg = config(r, [0, 7, 1000, 3][j], scaling);
                if k % 2 == 1 {
                    cfg.kept_frequencies = Some(r.div_ceil(4)); // p-RoPE
                }
                let x = random_vec(b * t * h * d, (k * 10 + j) as u64);
                let what = format!("{dims:?} {cfg:?}");
                let mut want = vec![0.0; x.len()];
                rope_forward_ref(&mut want, &x, dims, &cfg).unwrap();
                assert_close(&run(true, &x, dims, &cfg), &want, 2e-6, 1e-5, &what);
                rope_backward_ref(&mut want, &x, dims, &cfg).unwrap();
                let what = format!("{what} backward");
                assert_close(&run(false, &x, dims, &cfg), &want, 2e-6, 1e-5, &what);
                // A prebuilt table gives the same bits as the per-call one.
                let table = RopeTable::new(t, d, &cfg).unwrap();
                let mut y = vec![f32::NAN; x.len()];
                table.forward(&mut y, &x, dims).unwrap();
                assert_eq!(y, run(true, &x, dims, &cfg));
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn hf_half_layout_known_values() {
        // D = r = 4, position 1: θ = [1, 0.01]; pairs are (0, 2) and (1, 3).
        let dims = RopeDims { b: 1, t: 1, h: 1, d: 4 };
        let cfg = config(4, 1, RopeScaling::None);
        let got = run(true, &[1.0, 0.0, 0.0, 2.0], dims, &cfg);
        let want = [1f32.cos(), -2.0 * 0.01f32.sin(), 1f32.sin(), 2.0 * 0.01f32.cos()];
        assert_close(&got, &want, 1e-6, 0.0, "half layout");
        // Linear factor 2 at position 2 is plain RoPE at position 1.
        let lin = config(4, 2, RopeScaling::Linear { factor: 2.0 });
        assert_eq!(run(true, &[1.0, 0.0, 0.0, 2.0], dims, &lin), got);
        // NTK factor f at r = 4 is base · f²: base 100 with f = 10 equals base 10000.
        let ntk =
            RopeConfig { base: 100.0, ..config(4, 1, RopeScaling::NtkAware { factor: 10.0 }) };
        assert_close(&run(true, &[1.0, 0.0, 0.0, 2.0], dims, &ntk), &got, 1e-6, 0.0, "ntk");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reference_backward_passes_gradcheck_and_fast_agrees() {
        for (j, scaling) in scalings().into_iter().enumerate() {
            let dims = RopeDims { b: 2, t: 3, h: 2, d: 6 };
            let cfg = config(4, 5 * j, scaling);
            let x = random_vec(72, 40 + j as u64);
            let w = random_vec(72, 50 + j as u64);
            let mut dx = vec![f32::NAN; 72];
            rope_backward_ref(&mut dx, &w, dims, &cfg).unwrap();
            let mut y = vec![0.0; 72];
            let loss = |x: &[f32]| {
                rope_forward_ref(&mut y, x, dims, &cfg).unwrap();
                dot_loss(&y, &w)
            };
            gradcheck(&format!("rope {scaling:?}"), &x, &dx, 1e-2, 1e-4, 1e-3, loss);
            assert_close(&run(false, &w, dims, &cfg), &dx, 1e-6, 1e-5, "fast backward");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn rotation_keeps_norms_inverts_and_leaves_the_tail() {
        let (b, t, h, d, r) = (2, 9, 3, 23, 14);
        let dims = RopeDims { b, t, h, d };
        for (j, scaling) in scalings().into_iter().enumerate() {
            let cfg = config(r, 3 + 100 * j, scaling);
            let x = random_vec(b * t * h * d, 60 + j as u64);
            let y = run(true, &x, dims, &cfg);
            for (xh, yh) in x.chunks_exact(d).zip(y.chunks_exact(d)) {
                let norm = |v: &[f32]| v.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>().sqrt();
                assert!((norm(xh) - norm(yh)).abs() < 1e-5, "norm {} vs {}", norm(xh), norm(yh));
                assert_eq!(xh[r..], yh[r..], "tail must pass through bit-exactly");
                assert!(xh[..r] != yh[..r], "rotated dims must change");
            }
            assert_close(&run(false, &y, dims, &cfg), &x, 2e-6, 0.0, "backward(forward(x))");
        }
    }

    /// `⟨RoPE(q, m), RoPE(k, n)⟩` for `m, n in offset..offset + t`: `[t, t]` in f64.
    fn dots(q: &[f32], k: &[f32], t: usize, cfg: &RopeConfig) -> Vec<f64> {
        let d = q.len();
        let dims = RopeDims { b: 1, t, h: 1, d };
        let rq = run(true, &q.repeat(t), dims, cfg);
        let rk = run(true, &k.repeat(t), dims, cfg);
        let mut out = Vec::with_capacity(t * t);
        for m in 0..t {
            for n in 0..t {
                out.push(dot_loss(&rq[m * d..(m + 1) * d], &rk[n * d..(n + 1) * d]));
            }
        }
        out
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn scores_depend_only_on_relative_position() {
        let t = 8;
        for (d, r) in [(64, 64), (40, 24)] {
            for (j, scaling) in scalings().into_iter().enumerate() {
                let q = random_vec(d, 70 + j as u64);
                let k = random_vec(d, 80 + j as u64);
                let base = dots(&q, &k, t, &config(r, 0, scaling));
                for shift in [1, 37, 1000] {
                    let shifted = dots(&q, &k, t, &config(r, shift, scaling));
                    let what = format!("D={d} r={r} {scaling:?} shift {shift}");
                    crate::testing::assert_close_f64(&shifted, &base, 2e-5, 0.0, &what);
                }
                for m in 0..t - 1 {
                    for n in 0..t - 1 {
                        let (a, b) = (base[m * t + n], base[(m + 1) * t + n + 1]);
                        assert!((a - b).abs() < 2e-5, "{scaling:?} ({m},{n}): {a} vs {b}");
                    }
                }
                // …but it does depend on m − n (else the test could not fail).
                assert!((base[0] - base[t]).abs() > 1e-3, "{scaling:?}: {base:?}");
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_shapes_and_configs_are_errors() {
        let dims = RopeDims { b: 2, t: 3, h: 2, d: 8 };
        let x = vec![0.0; 96];
        let mut y = vec![0.0; 96];
        let ok = config(8, 0, RopeScaling::None);
        let shape = |e| matches!(e, Err(Error::Shape { .. }));
        assert!(shape(rope_forward(&mut y, &x[1..], dims, &ok)));
        assert!(shape(rope_forward(&mut y[1..], &x, dims, &ok)));
        assert!(shape(rope_backward(&mut y, &x[1..], dims, &ok)));
        assert!(shape(rope_forward_ref(&mut y, &x[1..], dims, &ok)));
        let invalid = |cfg: RopeConfig| {
            let fwd = rope_forward(&mut vec![0.0; 96], &x, dims, &cfg);
            let bwd = rope_backward(&mut vec![0.0; 96], &x, dims, &cfg);
            let r = rope_forward_ref(&mut vec![0.0; 96], &x, dims, &cfg);
            [fwd, bwd, r].iter().all(|e| matches!(e, Err(Error::InvalidArgument(_))))
        };
        assert!(invalid(config(7, 0, RopeScaling::None)), "odd rotary_dim");
        assert!(invalid(config(0, 0, RopeScaling::None)), "zero rotary_dim");
        assert!(invalid(config(10, 0, RopeScaling::None)), "rotary_dim > D");
        for factor in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(invalid(config(8, 0, RopeScaling::Linear { factor })), "{factor}");
            assert!(invalid(config(8, 0, RopeScaling::NtkAware { factor })), "{factor}");
        }
        assert!(invalid(config(2, 0, RopeScaling::NtkAware { factor: 2.0 })), "NTK r=2");
        for base in [1.0, 0.5, -3.0, f32::NAN] {
            assert!(invalid(RopeConfig { base, ..ok }), "base {base}");
        }
        // A table is tied to its T and D.
        let table = RopeTable::new(3, 8, &ok).unwrap();
        let other = RopeDims { t: 2, b: 3, ..dims };
        assert!(matches!(table.forward(&mut y, &x, other), Err(Error::InvalidArgument(_))));
        assert!(table.forward(&mut y, &x, dims).is_ok());
        let far = RopeConfig { position_offset: usize::MAX, ..ok };
        assert!(invalid(far), "position overflow");
        // Empty batches are fine.
        let empty = RopeDims { b: 0, ..dims };
        assert!(rope_forward(&mut [], &[], empty, &ok).is_ok());
    }
}
