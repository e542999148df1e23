//! Elementwise activations and the GLU family (Shazeer 2020, <https://arxiv.org/abs/2002.05202>).
//!
//! Math: `out = act(inp)` ([`Activation`]) and `out = act(gate) ⊙ up` ([`GluKind`]), where the
//! caller computes `gate = x·W` and `up = x·V` with matmul; only the elementwise part is here.
//! `gate` and `up` are SEPARATE buffers (no interleaved or fused `[N, 2F]` layout).
//!
//! | activation | `act(x)`                                   | `act'(x)`                              |
//! | ---------- | ------------------------------------------ | -------------------------------------- |
//! | `Gelu`     | `½x(1 + tanh u)`, `u = √(2/π)(x + 0.044715x³)` | `½(1 + tanh u) + ½x(1 − tanh²u)·u'` |
//! | `GeluErf`  | `x·Φ(x) = ½x(1 + erf(x/√2))`               | `Φ(x) + x·φ(x)`                        |
//! | `Silu`     | `x·σ(x)`                                   | `σ(x)(1 + x(1 − σ(x)))`                |
//! | `Relu`     | `max(x, 0)`                                | `1` if `x > 0` else `0`                |
//! | `Sigmoid`  | `σ(x) = 1 / (1 + e^(−x))`                  | `σ(x)(1 − σ(x))`                       |
//!
//! GLU kinds: `Glu` = sigmoid, `ReGlu` = ReLU, `GeGlu` = tanh-GELU, `SwiGlu` = SiLU.
//! Backward: `dgate = dout ⊙ up ⊙ act'(gate)`, `dup = dout ⊙ act(gate)`.
//!
//! `std` has no `erf`: [`erf`] uses W. J. Cody's rational Chebyshev approximations (Math.
//! Comp. 23, 1969; netlib `specfun/calerf`), accurate to ~1e-16 in f64 before the rounding to
//! f32. The f64 reference uses its own, independent series for `erf`.
//!
//! Shapes: every buffer `[N, F]` (any shape: only the element count matters, and all buffers
//! of one call must have the same length). Accumulation: every `_backward` ASSIGNS (`=`) its
//! gradients (`dinp`, `dgate`, `dup` are activation gradients).
//!
//! Training can save `act'(inp)` in place of `inp` instead
//! ([`activation_forward_saving_derivative`]): the tanh GELU then computes its one exponential
//! once for both, and the backward is a product ([`activation_backward_from_derivative`]).

use std::ops::{Add, Div, Mul, Sub};

use crate::error::{check_len, Result};
use crate::math::{fast_exp, fast_exp4};
use crate::par::{for_each_row_block, for_each_row_block_pair};
use crate::simd::{F32x4, LANES};

/// An elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// GELU, tanh approximation (GPT-2, `gelu_new` in HF).
    Gelu,
    /// GELU, exact (`x·Φ(x)` with `erf`).
    GeluErf,
    /// SiLU / swish, `x·σ(x)`.
    Silu,
    /// `max(x, 0)`.
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
}

/// Which activation gates a GLU: `out = act(gate) ⊙ up`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GluKind {
    /// Sigmoid (the original GLU).
    Glu,
    /// ReLU.
    ReGlu,
    /// tanh-approximated GELU.
    GeGlu,
    /// SiLU (Llama, Mistral).
    SwiGlu,
}

impl GluKind {
    /// The activation applied to `gate`.
    pub fn activation(self) -> Activation {
        match self {
            GluKind::Glu => Activation::Sigmoid,
            GluKind::ReGlu => Activation::Relu,
            GluKind::GeGlu => Activation::Gelu,
            GluKind::SwiGlu => Activation::Silu,
        }
    }
}

/// Runs `$body` with `$name` bound to `act` as a CONSTANT, so each activation gets its own
/// straight-line loop (the per-element `match` folds away and the loop can vectorise).
macro_rules! with_act {
    ($act:expr, $name:ident => $body:expr) => {
        match $act {
            Activation::Gelu => {
                const $name: Activation = Activation::Gelu;
                $body
            }
            Activation::GeluErf => {
                const $name: Activation = Activation::GeluErf;
                $body
            }
            Activation::Silu => {
                const $name: Activation = Activation::Silu;
                $body
            }
            Activation::Relu => {
                const $name: Activation = Activation::Relu;
                $body
            }
            Activation::Sigmoid => {
                const $name: Activation = Activation::Sigmoid;
                $body
            }
        }
    };
}

/// One elementwise body as the pair of closures [`map2`] and [`map3`] take: first over
/// [`F32x4`] lanes, then over `f32` (the same expression, typed twice).
macro_rules! lanes {
    (|$($arg:ident),+| $body:expr) => {
        (|$($arg: F32x4),+| $body, |$($arg: f32),+| $body)
    };
}

/// `out = act(inp)`. `out, inp: [N, F]` (same length).
pub fn activation_forward(out: &mut [f32], inp: &[f32], act: Activation) -> Result<()> {
    check_len("activation: out", inp.len(), out.len())?;
    with_act!(act, A => map2(out, inp, inp, lanes!(|x, _y| value(A, x))));
    Ok(())
}

/// Gradient of [`activation_forward`], ASSIGNED: `dinp = dout ⊙ act'(inp)`.
/// `dinp, dout, inp: [N, F]`.
pub fn activation_backward(
    dinp: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    act: Activation,
) -> Result<()> {
    check_len("activation: dout", inp.len(), dout.len())?;
    check_len("activation: dinp", inp.len(), dinp.len())?;
    // out = act(inp)
    with_act!(act, A => map2(dinp, dout, inp, lanes!(|g, x| g * derivative(A, x))));
    Ok(())
}

/// Training forward: `out = act(inp)`, and `inp` overwritten IN PLACE by `act'(inp)`, which is
/// all [`activation_backward_from_derivative`] needs. Each lane equals what
/// [`activation_forward`] and [`activation_backward`] (with `dout = 1`) give, bit for bit.
/// `out, inp_deriv: [N, F]` (same length).
pub fn activation_forward_saving_derivative(
    out: &mut [f32],
    inp_deriv: &mut [f32],
    act: Activation,
) -> Result<()> {
    check_len("activation: out", inp_deriv.len(), out.len())?;
    with_act!(act, A => map_in_place(out, inp_deriv, (|x: F32x4| value_and_derivative(A, x), |x: f32| value_and_derivative(A, x))));
    Ok(())
}

/// Gradient of [`activation_forward_saving_derivative`], ASSIGNED: `dinp = dout ⊙ deriv`.
/// `dinp, dout, deriv: [N, F]` (`deriv` as that forward left it).
pub fn activation_backward_from_derivative(
    dinp: &mut [f32],
    dout: &[f32],
    deriv: &[f32],
) -> Result<()> {
    check_len("activation: dout", deriv.len(), dout.len())?;
    check_len("activation: dinp", deriv.len(), dinp.len())?;
    // out = act(inp)  →  dinp = dout ⊙ act'(inp)
    map2(dinp, dout, deriv, lanes!(|g, d| g * d));
    Ok(())
}

/// `out = act(gate) ⊙ up`. `out, gate, up: [N, F]` (same length, separate buffers).
pub fn glu_forward(out: &mut [f32], gate: &[f32], up: &[f32], kind: GluKind) -> Result<()> {
    check_len("glu: up", gate.len(), up.len())?;
    check_len("glu: out", gate.len(), out.len())?;
    let act = kind.activation();
    with_act!(act, A => map2(out, gate, up, lanes!(|g, u| value(A, g) * u)));
    Ok(())
}

/// Gradients of [`glu_forward`], both ASSIGNED: `dgate = dout ⊙ up ⊙ act'(gate)`,
/// `dup = dout ⊙ act(gate)`. `dgate, dup, dout, gate, up: [N, F]`.
pub fn glu_backward(
    dgate: &mut [f32],
    dup: &mut [f32],
    dout: &[f32],
    gate: &[f32],
    up: &[f32],
    kind: GluKind,
) -> Result<()> {
    let n = gate.len();
    check_len("glu: up", n, up.len())?;
    check_len("glu: dout", n, dout.len())?;
    check_len("glu: dgate", n, dgate.len())?;
    check_len("glu: dup", n, dup.len())?;
    let act = kind.activation();
    // out = act(gate) ⊙ up  →  dgate = dout ⊙ up ⊙ act'(gate)
    with_act!(act, A => map3(dgate, dout, gate, up, lanes!(|g, x, u| g * u * derivative(A, x))));
    // out = act(gate) ⊙ up  →  dup = dout ⊙ act(gate)
    with_act!(act, A => map2(dup, dout, gate, lanes!(|g, x| g * value(A, x))));
    Ok(())
}

/// Elements per thread task, so small calls stay on one thread.
const MIN_ELEMS_PER_TASK: usize = 1 << 14;

/// What the activation formulas need from their operand: one `f32`, or four as an [`F32x4`].
/// [`value`] and [`derivative`] are written once over this trait, so the SIMD body and the
/// scalar tail run the same operations in the same order: a lane equals the scalar result bit
/// for bit, wherever a thread's block or the tail starts.
trait Lanes:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    /// `x` in every lane.
    fn splat(x: f32) -> Self;
    /// [`fast_exp`] of every lane.
    fn exp(self) -> Self;
    /// `f` applied to every lane one at a time (for the activations without a SIMD form).
    fn each(self, f: impl Fn(f32) -> f32) -> Self;
}

impl Lanes for f32 {
    #[inline(always)]
    fn splat(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn exp(self) -> Self {
        fast_exp(self)
    }
    #[inline(always)]
    fn each(self, f: impl Fn(f32) -> f32) -> Self {
        f(self)
    }
}

impl Lanes for F32x4 {
    #[inline(always)]
    fn splat(x: f32) -> Self {
        F32x4::splat(x)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        fast_exp4(self)
    }
    #[inline(always)]
    fn each(self, f: impl Fn(f32) -> f32) -> Self {
        F32x4::load(&self.to_array().map(f))
    }
}

/// `out[i] = f(a[i], b[i])`, four lanes at a time (the last `len % 4` one at a time), split
/// over threads for long buffers. Lengths already checked.
fn map2<F4, F1>(out: &mut [f32], a: &[f32], b: &[f32], (f4, f1): (F4, F1))
where
    F4: Fn(F32x4, F32x4) -> F32x4 + Sync + Send,
    F1: Fn(f32, f32) -> f32 + Sync + Send,
{
    for_each_row_block(out, 1, MIN_ELEMS_PER_TASK, |rows, block| {
        let (a, b) = (&a[rows.clone()], &b[rows]);
        let split = block.len() - block.len() % LANES;
        let (body, tail) = block.split_at_mut(split);
        for ((o, x), y) in
            body.chunks_exact_mut(LANES).zip(a.chunks_exact(LANES)).zip(b.chunks_exact(LANES))
        {
            f4(F32x4::load(x), F32x4::load(y)).store(o);
        }
        for ((o, &x), &y) in tail.iter_mut().zip(&a[split..]).zip(&b[split..]) {
            *o = f1(x, y);
        }
    });
}

/// `(out[i], inout[i]) = f(inout[i])`, as [`map2`].
fn map_in_place<F4, F1>(out: &mut [f32], inout: &mut [f32], (f4, f1): (F4, F1))
where
    F4: Fn(F32x4) -> (F32x4, F32x4) + Sync + Send,
    F1: Fn(f32) -> (f32, f32) + Sync + Send,
{
    for_each_row_block_pair(out, inout, 1, MIN_ELEMS_PER_TASK, |_, out, inout| {
        let split = out.len() - out.len() % LANES;
        let (body, tail) = out.split_at_mut(split);
        for (o, x) in body.chunks_exact_mut(LANES).zip(inout.chunks_exact_mut(LANES)) {
            let (y, d) = f4(F32x4::load(x));
            y.store(o);
            d.store(x);
        }
        for (o, x) in tail.iter_mut().zip(&mut inout[split..]) {
            (*o, *x) = f1(*x);
        }
    });
}

/// `out[i] = f(a[i], b[i], c[i])`, as [`map2`].
fn map3<F4, F1>(out: &mut [f32], a: &[f32], b: &[f32], c: &[f32], (f4, f1): (F4, F1))
where
    F4: Fn(F32x4, F32x4, F32x4) -> F32x4 + Sync + Send,
    F1: Fn(f32, f32, f32) -> f32 + Sync + Send,
{
    for_each_row_block(out, 1, MIN_ELEMS_PER_TASK, |rows, block| {
        let (a, b, c) = (&a[rows.clone()], &b[rows.clone()], &c[rows]);
        let split = block.len() - block.len() % LANES;
        let (body, tail) = block.split_at_mut(split);
        let inputs = a.chunks_exact(LANES).zip(b.chunks_exact(LANES)).zip(c.chunks_exact(LANES));
        for (o, ((x, y), z)) in body.chunks_exact_mut(LANES).zip(inputs) {
            f4(F32x4::load(x), F32x4::load(y), F32x4::load(z)).store(o);
        }
        for (i, o) in tail.iter_mut().enumerate() {
            *o = f1(a[split + i], b[split + i], c[split + i]);
        }
    });
}

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_C: f32 = 0.044_715;

/// `σ(x) = 1 / (1 + e⁻ˣ)`; `e⁻ˣ` overflows to +inf for x < −88, giving exactly 0: fine.
#[inline(always)]
fn sigmoid<L: Lanes>(x: L) -> L {
    L::splat(1.0) / (L::splat(1.0) + (L::splat(-1.0) * x).exp())
}

/// `max(x, 0)` (NaN gives 0, as `f32::max`).
fn relu(x: f32) -> f32 {
    x.max(0.0)
}

/// `½x(1 + erf(x/√2))`.
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `Φ(x) + x·φ(x)`, `φ(x) = e^(−x²/2) / √(2π)`: the derivative of [`gelu_erf`].
fn gelu_erf_derivative(x: f32) -> f32 {
    let cdf = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    cdf + x * (-0.5 * x * x).exp() * 0.398_942_3
}

/// The tanh GELU and its derivative from one exponential: `gelu = x·σ(2u)` (½(1 + tanh u) =
/// σ(2u): no cancellation for large |u|), and `σ(2u) + x·σ(2u)·(1 − σ(2u))·2u'` with
/// `1 − σ(2u) = e^(−2u)·σ(2u)`.
#[inline(always)]
fn gelu_and_derivative<L: Lanes>(x: L) -> (L, L) {
    let u = L::splat(SQRT_2_OVER_PI) * (x + L::splat(GELU_C) * x * x * x);
    let e = (L::splat(-2.0) * u).exp();
    let s = L::splat(1.0) / (L::splat(1.0) + e);
    let du = L::splat(SQRT_2_OVER_PI) * (L::splat(1.0) + L::splat(3.0 * GELU_C) * x * x);
    (x * s, s + L::splat(2.0) * x * s * (e * s) * du)
}

/// `(act(x), act'(x))`: [`value`] and [`derivative`] together (sharing work for the tanh GELU).
#[inline(always)]
fn value_and_derivative<L: Lanes>(act: Activation, x: L) -> (L, L) {
    match act {
        Activation::Gelu => gelu_and_derivative(x),
        _ => (value(act, x), derivative(act, x)),
    }
}

/// `act(x)` in f32, one lane or four.
#[inline(always)]
fn value<L: Lanes>(act: Activation, x: L) -> L {
    match act {
        Activation::Gelu => gelu_and_derivative(x).0,
        Activation::GeluErf => x.each(gelu_erf),
        Activation::Silu => x * sigmoid(x),
        Activation::Relu => x.each(relu),
        Activation::Sigmoid => sigmoid(x),
    }
}

/// `act'(x)` in f32, one lane or four.
#[inline(always)]
fn derivative<L: Lanes>(act: Activation, x: L) -> L {
    match act {
        Activation::Gelu => gelu_and_derivative(x).1,
        Activation::GeluErf => x.each(gelu_erf_derivative),
        Activation::Silu => {
            let s = sigmoid(x);
            s * (L::splat(1.0) + x * (L::splat(1.0) - s))
        }
        Activation::Relu => x.each(|x| if x > 0.0 { 1.0 } else { 0.0 }),
        Activation::Sigmoid => {
            let s = sigmoid(x);
            s * (L::splat(1.0) - s)
        }
    }
}

/// The error function, `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`, to f32 precision (evaluated in f64 with
/// W. J. Cody's rational approximations: `x·R(x²)` for `|x| ≤ 0.46875`, `1 − e^(−x²)·R(|x|)`
/// up to 4, and `±1` beyond, where `erf` rounds to `±1` in f32). NaN in, NaN out.
#[allow(clippy::excessive_precision)]
pub fn erf(x: f32) -> f32 {
    // Cody's published coefficients, digit for digit (more digits than an f64 holds).
    const A: [f64; 5] = [
        3.16112374387056560e00,
        1.13864154151050156e02,
        3.77485237685302021e02,
        3.20937758913846947e03,
        1.85777706184603153e-1,
    ];
    const B: [f64; 4] = [
        2.36012909523441209e01,
        2.44024637934444173e02,
        1.28261652607737228e03,
        2.84423683343917062e03,
    ];
    const C: [f64; 9] = [
        5.64188496988670089e-1,
        8.88314979438837594e00,
        6.61191906371416295e01,
        2.98635138197400131e02,
        8.81952221241769090e02,
        1.71204761263407058e03,
        2.05107837782607147e03,
        1.23033935479799725e03,
        2.15311535474403846e-8,
    ];
    const D: [f64; 8] = [
        1.57449261107098347e01,
        1.17693950891312499e02,
        5.37181101862009858e02,
        1.62138957456669019e03,
        3.29079923573345963e03,
        4.36261909014324716e03,
        3.43936767414372164e03,
        1.23033935480374942e03,
    ];
    let x = f64::from(x);
    let y = x.abs();
    if y <= 0.468_75 {
        let z = y * y;
        let (mut num, mut den) = (A[4] * z, z);
        for (&a, &b) in A[..3].iter().zip(&B[..3]) {
            num = (num + a) * z;
            den = (den + b) * z;
        }
        (x * (num + A[3]) / (den + B[3])) as f32
    } else if y <= 4.0 {
        let (mut num, mut den) = (C[8] * y, y);
        for (&c, &d) in C[..7].iter().zip(&D[..7]) {
            num = (num + c) * y;
            den = (den + d) * y;
        }
        let erfc = (-y * y).exp() * (num + C[7]) / (den + D[7]);
        ((1.0 - erfc) * x.signum()) as f32
    } else if y.is_nan() {
        f32::NAN
    } else {
        x.signum() as f32
    }
}

/// Plain f64 loops: the specification of the kernels above.
pub mod reference {
    use super::{Activation, GluKind};
    use crate::error::{check_len, Result};

    /// `erf` in f64 from `erf(x) = 2/√π · x·e^(−x²) · Σₙ (2x²)ⁿ / (1·3·…·(2n+1))` (all terms
    /// positive, so no cancellation), and `±1` for `|x| ≥ 6` (where `erfc < 2e-17`).
    pub fn erf_f64(x: f64) -> f64 {
        let y = x.abs();
        if y >= 6.0 {
            return x.signum();
        }
        let (mut term, mut sum, mut n) = (1.0f64, 1.0f64, 0.0f64);
        while term > 1e-17 * sum {
            n += 1.0;
            term *= 2.0 * y * y / (2.0 * n + 1.0);
            sum += term;
        }
        2.0 / std::f64::consts::PI.sqrt() * x * (-y * y).exp() * sum
    }

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// `act(x)` in f64.
    pub fn value_f64(act: Activation, x: f64) -> f64 {
        let k = (2.0 / std::f64::consts::PI).sqrt();
        match act {
            Activation::Gelu => 0.5 * x * (1.0 + (k * (x + 0.044715 * x.powi(3))).tanh()),
            Activation::GeluErf => 0.5 * x * (1.0 + erf_f64(x / 2f64.sqrt())),
            Activation::Silu => x * sigmoid(x),
            Activation::Relu => x.max(0.0),
            Activation::Sigmoid => sigmoid(x),
        }
    }

    /// `act'(x)` in f64.
    pub fn derivative_f64(act: Activation, x: f64) -> f64 {
        let k = (2.0 / std::f64::consts::PI).sqrt();
        match act {
            Activation::Gelu => {
                let th = (k * (x + 0.044715 * x.powi(3))).tanh();
                0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 3.0 * 0.044715 * x * x)
            }
            Activation::GeluErf => {
                let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
                0.5 * (1.0 + erf_f64(x / 2f64.sqrt())) + x * pdf
            }
            Activation::Silu => sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))),
            Activation::Relu => f64::from(u8::from(x > 0.0)),
            Activation::Sigmoid => sigmoid(x) * (1.0 - sigmoid(x)),
        }
    }

    /// f64 [`super::activation_forward`].
    pub fn activation_forward_ref(out: &mut [f32], inp: &[f32], act: Activation) -> Result<()> {
        check_len("activation: out", inp.len(), out.len())?;
        for (o, &x) in out.iter_mut().zip(inp) {
            *o = value_f64(act, f64::from(x)) as f32;
        }
        Ok(())
    }

    /// f64 [`super::activation_backward`] (assigns `dinp`).
    pub fn activation_backward_ref(
        dinp: &mut [f32],
        dout: &[f32],
        inp: &[f32],
        act: Activation,
    ) -> Result<()> {
        check_len("activation: dout", inp.len(), dout.len())?;
        check_len("activation: dinp", inp.len(), dinp.len())?;
        for ((d, &g), &x) in dinp.iter_mut().zip(dout).zip(inp) {
            // out = act(inp)
            *d = (f64::from(g) * derivative_f64(act, f64::from(x))) as f32;
        }
        Ok(())
    }

    /// f64 [`super::glu_forward`].
    pub fn glu_forward_ref(out: &mut [f32], gate: &[f32], up: &[f32], kind: GluKind) -> Result<()> {
        check_len("glu: up", gate.len(), up.len())?;
        check_len("glu: out", gate.len(), out.len())?;
        for ((o, &g), &u) in out.iter_mut().zip(gate).zip(up) {
            *o = (value_f64(kind.activation(), f64::from(g)) * f64::from(u)) as f32;
        }
        Ok(())
    }

    /// f64 [`super::glu_backward`] (assigns `dgate` and `dup`).
    pub fn glu_backward_ref(
        dgate: &mut [f32],
        dup: &mut [f32],
        dout: &[f32],
        gate: &[f32],
        up: &[f32],
        kind: GluKind,
    ) -> Result<()> {
        let n = gate.len();
        check_len("glu: up", n, up.len())?;
        check_len("glu: dout", n, dout.len())?;
        check_len("glu: dgate", n, dgate.len())?;
        check_len("glu: dup", n, dup.len())?;
        let act = kind.activation();
        for i in 0..n {
            let (d, g, u) = (f64::from(dout[i]), f64::from(gate[i]), f64::from(up[i]));
            // out = act(gate) ⊙ up
            dgate[i] = (d * u * derivative_f64(act, g)) as f32;
            dup[i] = (d * value_f64(act, g)) as f32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reference::*;
    use super::*;
    use crate::error::Error;
    use crate::testing::{assert_close, dot_loss, gradcheck, random_vec};

    const ACTS: [Activation; 5] = [
        Activation::Gelu,
        Activation::GeluErf,
        Activation::Silu,
        Activation::Relu,
        Activation::Sigmoid,
    ];
    const KINDS: [GluKind; 4] = [GluKind::Glu, GluKind::ReGlu, GluKind::GeGlu, GluKind::SwiGlu];
    const LENS: [usize; 6] = [1, 3, 17, 63, 1000, 40_000];

    /// Uniform in `[-6, 6)`: covers the saturating ranges of every activation.
    fn wide(len: usize, seed: u64) -> Vec<f32> {
        random_vec(len, seed).into_iter().map(|x| 6.0 * x).collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn activations_match_reference() {
        for (a, act) in ACTS.into_iter().enumerate() {
            for len in LENS {
                let what = format!("{act:?} len {len}");
                let (x, dout) = (wide(len, a as u64), random_vec(len, 100 + a as u64));
                let (mut got, mut want) = (vec![f32::NAN; len], vec![0.0; len]);
                activation_forward(&mut got, &x, act).unwrap();
                activation_forward_ref(&mut want, &x, act).unwrap();
                assert_close(&got, &want, 1e-6, 1e-5, &what);
                got.fill(f32::NAN);
                activation_backward(&mut got, &dout, &x, act).unwrap();
                activation_backward_ref(&mut want, &dout, &x, act).unwrap();
                assert_close(&got, &want, 1e-6, 1e-5, &format!("{what} backward"));
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn saved_derivative_equals_forward_and_backward() {
        for (a, act) in ACTS.into_iter().enumerate() {
            for len in LENS {
                let what = format!("{act:?} len {len}");
                let (x, dout) = (wide(len, 50 + a as u64), random_vec(len, 150 + a as u64));
                let (mut want_out, mut want_dinp) = (vec![0.0; len], vec![0.0; len]);
                activation_forward(&mut want_out, &x, act).unwrap();
                activation_backward(&mut want_dinp, &dout, &x, act).unwrap();
                let (mut out, mut saved, mut dinp) =
                    (vec![f32::NAN; len], x.clone(), vec![f32::NAN; len]);
                activation_forward_saving_derivative(&mut out, &mut saved, act).unwrap();
                activation_backward_from_derivative(&mut dinp, &dout, &saved).unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(&want_out), "{what} forward");
                assert_eq!(bits(&dinp), bits(&want_dinp), "{what} backward");
            }
        }
        let mut short = vec![0.0; 3];
        assert!(activation_forward_saving_derivative(&mut short, &mut [0.0; 4], Activation::Gelu)
            .is_err());
        assert!(activation_backward_from_derivative(&mut short, &[0.0; 3], &[0.0; 4]).is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn glus_match_reference() {
        for (k, kind) in KINDS.into_iter().enumerate() {
            for len in LENS {
                let what = format!("{kind:?} len {len}");
                let (gate, up) = (wide(len, 10 + k as u64), random_vec(len, 20 + k as u64));
                let dout = random_vec(len, 30 + k as u64);
                let (mut got, mut want) = (vec![f32::NAN; len], vec![0.0; len]);
                glu_forward(&mut got, &gate, &up, kind).unwrap();
                glu_forward_ref(&mut want, &gate, &up, kind).unwrap();
                assert_close(&got, &want, 1e-6, 1e-5, &what);
                let (mut dg, mut du) = (vec![f32::NAN; len], vec![f32::NAN; len]);
                let (mut dg_want, mut du_want) = (vec![0.0; len], vec![0.0; len]);
                glu_backward(&mut dg, &mut du, &dout, &gate, &up, kind).unwrap();
                glu_backward_ref(&mut dg_want, &mut du_want, &dout, &gate, &up, kind).unwrap();
                assert_close(&dg, &dg_want, 1e-6, 1e-5, &format!("{what} dgate"));
                assert_close(&du, &du_want, 1e-6, 1e-5, &format!("{what} dup"));
            }
        }
    }

    /// Points in `[-4, 4)` kept at least 0.05 from 0, ReLU's kink.
    fn away_from_zero(len: usize, seed: u64) -> Vec<f32> {
        wide(len, seed)
            .into_iter()
            .map(|x| 2.0 / 3.0 * x)
            .map(|x| x + 0.05f32.copysign(x))
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reference_backward_passes_gradcheck() {
        for (a, act) in ACTS.into_iter().enumerate() {
            let x = away_from_zero(24, 40 + a as u64);
            let w = random_vec(24, 50 + a as u64);
            let mut dx = vec![0.0; 24];
            activation_backward_ref(&mut dx, &w, &x, act).unwrap();
            let mut y = vec![0.0; 24];
            let loss = |x: &[f32]| {
                activation_forward_ref(&mut y, x, act).unwrap();
                dot_loss(&y, &w)
            };
            gradcheck(&format!("{act:?}"), &x, &dx, 1e-3, 1e-4, 1e-3, loss);
        }
        for (k, kind) in KINDS.into_iter().enumerate() {
            let (gate, up) = (away_from_zero(24, 60 + k as u64), random_vec(24, 70 + k as u64));
            let w = random_vec(24, 80 + k as u64);
            let (mut dg, mut du) = (vec![0.0; 24], vec![0.0; 24]);
            glu_backward_ref(&mut dg, &mut du, &w, &gate, &up, kind).unwrap();
            let mut y = vec![0.0; 24];
            let loss_gate = |g: &[f32]| {
                glu_forward_ref(&mut y, g, &up, kind).unwrap();
                dot_loss(&y, &w)
            };
            gradcheck(&format!("{kind:?} dgate"), &gate, &dg, 1e-3, 1e-4, 1e-3, loss_gate);
            let loss_up = |u: &[f32]| {
                glu_forward_ref(&mut y, &gate, u, kind).unwrap();
                dot_loss(&y, &w)
            };
            gradcheck(&format!("{kind:?} dup"), &up, &du, 1e-3, 1e-4, 1e-3, loss_up);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn known_values() {
        let one = |act| {
            let mut y = [0.0];
            activation_forward(&mut y, &[1.0], act).unwrap();
            y[0]
        };
        assert!((one(Activation::Gelu) - 0.841_192).abs() < 1e-6);
        assert!((one(Activation::GeluErf) - 0.841_345).abs() < 1e-6);
        assert!((one(Activation::Silu) - 0.731_059).abs() < 1e-6);
        assert!((one(Activation::Sigmoid) - 0.731_059).abs() < 1e-6);
        assert_eq!(one(Activation::Relu), 1.0);
        // erf (both implementations) at points from Abramowitz & Stegun table 7.1.
        for (x, want) in [
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.5, 0.999_999_256_901_627_7),
        ] {
            assert!((erf_f64(x) - want).abs() < 1e-14, "erf_f64({x})");
            assert!((erf_f64(-x) + want).abs() < 1e-14, "erf_f64(-{x})");
            // `x as f32` is off by up to 3e-8 relative; erf' ≤ 1.13 bounds the effect.
            assert!((f64::from(erf(x as f32)) - want).abs() < 1e-7, "erf({x})");
            assert_eq!(erf(-x as f32), -erf(x as f32), "erf is odd");
        }
        assert_eq!((erf(0.0), erf(5.0), erf(-100.0)), (0.0, 1.0, -1.0));
        assert!(erf(f32::NAN).is_nan());
        // Fast erf vs the series on a fine grid, relative error ~ f32 rounding.
        for i in -4000..=4000 {
            let x = i as f32 * 1e-3;
            let want = erf_f64(f64::from(x));
            let err = (f64::from(erf(x)) - want).abs();
            assert!(err <= 6e-8 * want.abs() + 1e-30, "erf({x}): {} vs {want}", erf(x));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn length_mismatches_are_shape_errors() {
        let (a, b) = (vec![0.0; 5], vec![0.0; 4]);
        let (mut o5, mut o4, mut p5) = (vec![0.0; 5], vec![0.0; 4], vec![0.0; 5]);
        let shape = |r: Result<()>| matches!(r, Err(Error::Shape { .. }));
        let act = Activation::Silu;
        assert!(shape(activation_forward(&mut o4, &a, act)));
        assert!(shape(activation_backward(&mut o5, &b, &a, act)));
        assert!(shape(activation_backward(&mut o4, &a, &a, act)));
        assert!(shape(activation_forward_ref(&mut o4, &a, act)));
        assert!(shape(activation_backward_ref(&mut o5, &b, &a, act)));
        let kind = GluKind::SwiGlu;
        assert!(shape(glu_forward(&mut o5, &a, &b, kind)));
        assert!(shape(glu_forward(&mut o4, &a, &a, kind)));
        assert!(shape(glu_backward(&mut o5, &mut p5, &b, &a, &a, kind)));
        assert!(shape(glu_backward(&mut o4, &mut p5, &a, &a, &a, kind)));
        assert!(shape(glu_backward(&mut o5, &mut o4, &a, &a, &a, kind)));
        assert!(shape(glu_backward(&mut o5, &mut p5, &a, &a, &b, kind)));
        assert!(shape(glu_forward_ref(&mut o5, &a, &b, kind)));
        assert!(shape(glu_backward_ref(&mut o5, &mut o4, &a, &a, &a, kind)));
        assert!(glu_backward(&mut o5, &mut p5, &a, &a, &a, kind).is_ok());
        assert!(activation_forward(&mut [], &[], act).is_ok());
    }
}
