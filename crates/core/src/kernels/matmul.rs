//! Matrix multiplication, `out = op(a) · op(b) (+ bias)`, in three operand layouts
//! ([`MatmulForm`]) so callers never materialise a transpose.
//!
//! Math (`AB` form): `out[i, j] = bias[j] + Σ_p a[i, p] · b[p, j]`, and for the loss `L`
//! `da = dout · bᵀ`, `db = aᵀ · dout`, `dbias[j] = Σ_i dout[i, j]`. The other forms follow by
//! transposing the stored operand (e.g. llm.c `matmul_forward`/`matmul_backward` is `ABt` with
//! `b` the `[OC, C]` weight).
//!
//! Shapes: `a: [M, K]` (`AtB`: stored `[K, M]`), `b: [K, N]` (`ABt`: stored `[N, K]`),
//! `out: [M, N]`, `bias: [N]`; batched variants prefix every buffer with `[batch, ..]`.
//!
//! Accumulation: `_backward` ADDS (`+=`) into `da`, `db` and `dbias`, all of them, even `da`
//! (which is usually an activation gradient): callers zero them first or sum several
//! contributions. `_forward` assigns `out`.
//!
//! All three forms and both passes run one packed, register-blocked engine (`kernels::gemm`),
//! so the transposed forms are as fast as the plain one. `mod reference` holds the f64 spec.

use super::gemm::{gemm, gemm_batched, Blocking, Gemm, Triangle, View, BLOCKING};
use crate::error::{check_len, checked_product, Error, Result};

/// Which operands are stored transposed. `out: [M, N]` always.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulForm {
    /// `out = a · b`, `a: [M, K]`, `b: [K, N]`.
    AB,
    /// `out = a · bᵀ`, `a: [M, K]`, `b` stored `[N, K]` (a linear layer's weight).
    ABt,
    /// `out = aᵀ · b`, `a` stored `[K, M]`, `b: [K, N]`.
    AtB,
}

/// The logical sizes of `op(a): [M, K] · op(b): [K, N] = out: [M, N]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulDims {
    /// Rows of `out` (and of `op(a)`).
    pub m: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Columns of `out` (and of `op(b)`).
    pub n: usize,
}

impl MatmulDims {
    /// `M, K, N`.
    pub fn new(m: usize, k: usize, n: usize) -> Self {
        Self { m, k, n }
    }

    /// Checks buffer lengths for one product (`a: M·K`, `b: K·N`, `out: M·N`, `bias: N`),
    /// naming the offending buffer (`"matmul: a"`, …) in [`crate::Error::Shape`]. The form
    /// changes only the layout, not the lengths. Zero dimensions are allowed: `M = 0` or
    /// `N = 0` is an empty product, `K = 0` gives `out = bias` (or zeros).
    pub fn check(
        &self,
        form: MatmulForm,
        a_len: usize,
        b_len: usize,
        out_len: usize,
        bias_len: Option<usize>,
    ) -> Result<()> {
        self.check_batched(form, 1, a_len, b_len, out_len, bias_len)
    }

    fn check_batched(
        &self,
        _form: MatmulForm,
        batch: usize,
        a_len: usize,
        b_len: usize,
        out_len: usize,
        bias_len: Option<usize>,
    ) -> Result<()> {
        let Self { m, k, n } = *self;
        check_len("matmul: a", checked_product("matmul: a", &[batch, m, k])?, a_len)?;
        check_len("matmul: b", checked_product("matmul: b", &[batch, k, n])?, b_len)?;
        check_len("matmul: out", checked_product("matmul: out", &[batch, m, n])?, out_len)?;
        if let Some(bias_len) = bias_len {
            check_len("matmul: bias", n, bias_len)?;
        }
        Ok(())
    }
}

/// The engine's strided views of `op(a): [M, K]` and `op(b): [K, N]` for a form.
fn operands<'a>(a: &'a [f32], b: &'a [f32], dims: MatmulDims, form: MatmulForm) -> Gemm<'a> {
    let MatmulDims { m, k, n } = dims;
    let (a, b) = match form {
        MatmulForm::AB => (View { data: a, rs: k, cs: 1 }, View { data: b, rs: n, cs: 1 }),
        MatmulForm::ABt => (View { data: a, rs: k, cs: 1 }, View { data: b, rs: 1, cs: k }),
        MatmulForm::AtB => (View { data: a, rs: 1, cs: m }, View { data: b, rs: n, cs: 1 }),
    };
    Gemm { a, b, m, k, n, triangle: Triangle::Full }
}

/// `out = op(a) · op(b) (+ bias broadcast over rows)`.
///
/// `out: [M, N]`, `a: [M, K]` (`AtB`: `[K, M]`), `b: [K, N]` (`ABt`: `[N, K]`), `bias: [N]`.
/// Rows of `out` are split over [`crate::par`] threads when the product is large enough.
pub fn matmul_forward(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    dims: MatmulDims,
    form: MatmulForm,
) -> Result<()> {
    dims.check(form, a.len(), b.len(), out.len(), bias.map(<[f32]>::len))?;
    gemm(out, operands(a, b, dims, form), bias, false, &BLOCKING);
    Ok(())
}

/// [`matmul_forward`] without bias, for a product whose structure lets work be skipped (causal
/// attention): `A`'s zeros for [`Triangle::ALower`]/[`Triangle::AUpper`] (in `op(a)`'s
/// indices), or, with [`Triangle::OutLower`], only `out[i, j]` for `j <= i` wanted (the rest of
/// `out` is unspecified). Same shapes as [`matmul_forward`].
pub(crate) fn matmul_triangular(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    dims: MatmulDims,
    form: MatmulForm,
    triangle: Triangle,
) -> Result<()> {
    dims.check(form, a.len(), b.len(), out.len(), None)?;
    gemm(out, Gemm { triangle, ..operands(a, b, dims, form) }, None, false, &BLOCKING);
    Ok(())
}

/// The gradients a matmul backward writes: `da` (like `a`), `db` (like `b`), `dbias: [N]`.
#[derive(Debug)]
pub struct MatmulGrads<'a> {
    /// Like `a`: `[M, K]` (`AtB`: `[K, M]`).
    pub da: &'a mut [f32],
    /// Like `b`: `[K, N]` (`ABt`: `[N, K]`).
    pub db: &'a mut [f32],
    /// `[N]`; `None`: no bias.
    pub dbias: Option<&'a mut [f32]>,
}

/// Gradients of [`matmul_forward`], ADDED (`+=`) into `grads.da`, `grads.db` and
/// `grads.dbias`.
///
/// `grads` as in [`MatmulGrads`], `dout: [M, N]`, `a`, `b` as in the forward.
pub fn matmul_backward(
    grads: MatmulGrads<'_>,
    dout: &[f32],
    a: &[f32],
    b: &[f32],
    dims: MatmulDims,
    form: MatmulForm,
) -> Result<()> {
    matmul_backward_into(InputGrad::Add, grads, dout, a, b, dims, form)
}

/// How [`matmul_backward_into`] writes `da`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InputGrad {
    /// `da += …`, as [`matmul_backward`].
    Add,
    /// `da = …` (whatever it held is overwritten): the model's input gradients, which would
    /// otherwise be zeroed first. The engine stores its tiles: no zeroing pass.
    Assign,
}

/// [`matmul_backward`] with `da` written as `mode` says; `db` and `dbias` are ADDED either way.
pub(crate) fn matmul_backward_into(
    mode: InputGrad,
    grads: MatmulGrads<'_>,
    dout: &[f32],
    a: &[f32],
    b: &[f32],
    dims: MatmulDims,
    form: MatmulForm,
) -> Result<()> {
    let MatmulGrads { da, db, dbias } = grads;
    dims.check(form, a.len(), b.len(), dout.len(), dbias.as_ref().map(|d| d.len()))?;
    check_len("matmul: da", a.len(), da.len())?;
    check_len("matmul: db", b.len(), db.len())?;
    let job = Backward { dims, form, batch: 1, mode };
    backward_with(da, db, dout, a, b, job, &BLOCKING);
    if let (Some(dbias), true) = (dbias, dims.n > 0) {
        // out[i, j] = bias[j] + …  →  dbias[j] += Σ_i dout[i, j]
        for row in dout.chunks_exact(dims.n) {
            for (d, &g) in dbias.iter_mut().zip(row) {
                *d += g;
            }
        }
    }
    Ok(())
}

/// `batch` independent products: `out[t] = op(a[t]) · op(b[t])` (attention heads).
///
/// `out: [batch, M, N]`, `a: [batch, M, K]` (`AtB`: `[batch, K, M]`), `b: [batch, K, N]`
/// (`ABt`: `[batch, N, K]`). The `batch · M` rows of `out` are split over threads.
pub fn matmul_batched_forward(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    batch: usize,
    dims: MatmulDims,
    form: MatmulForm,
) -> Result<()> {
    dims.check_batched(form, batch, a.len(), b.len(), out.len(), None)?;
    gemm_batched(out, operands(a, b, dims, form), batch, false, &BLOCKING);
    Ok(())
}

/// Gradients of [`matmul_batched_forward`], ADDED (`+=`) into `grads.da: [batch, ..]` (like
/// `a`) and `grads.db: [batch, ..]` (like `b`). `dout: [batch, M, N]`. Batched products have
/// no bias: `grads.dbias` must be `None` ([`Error::InvalidArgument`] otherwise).
pub fn matmul_batched_backward(
    grads: MatmulGrads<'_>,
    dout: &[f32],
    a: &[f32],
    b: &[f32],
    batch: usize,
    dims: MatmulDims,
    form: MatmulForm,
) -> Result<()> {
    let MatmulGrads { da, db, dbias } = grads;
    if dbias.is_some() {
        return Err(Error::InvalidArgument("matmul: batched products have no dbias".into()));
    }
    dims.check_batched(form, batch, a.len(), b.len(), dout.len(), None)?;
    check_len("matmul: da", a.len(), da.len())?;
    check_len("matmul: db", b.len(), db.len())?;
    let job = Backward { dims, form, batch, mode: InputGrad::Add };
    backward_with(da, db, dout, a, b, job, &BLOCKING);
    Ok(())
}

/// One backward's sizes and how it writes `da`: `batch` products of `dims` (1 = a plain
/// matmul) in `form`.
#[derive(Clone, Copy, Debug)]
struct Backward {
    dims: MatmulDims,
    form: MatmulForm,
    batch: usize,
    mode: InputGrad,
}

/// `da += …` (with [`InputGrad::Assign`]: `da = …`), `db += …` for `job.batch` products: each
/// form's two gradient products, run as products of the engine.
fn backward_with(
    da: &mut [f32],
    db: &mut [f32],
    dout: &[f32],
    a: &[f32],
    b: &[f32],
    job: Backward,
    blk: &Blocking,
) {
    use MatmulForm::{ABt, AtB, AB};
    let Backward { dims, form, batch, mode } = job;
    let run = |out: &mut [f32], g: Gemm<'_>, accumulate: bool| match batch {
        1 => gemm(out, g, None, accumulate, blk),
        _ => gemm_batched(out, g, batch, accumulate, blk),
    };
    let add_da = mode == InputGrad::Add;
    let MatmulDims { m, k, n } = dims;
    let d = MatmulDims::new;
    match form {
        // out = a · b  →  da[M, K] += dout · bᵀ,  db[K, N] += aᵀ · dout
        AB => {
            run(da, operands(dout, b, d(m, n, k), ABt), add_da);
            run(db, operands(a, dout, d(k, m, n), AtB), true);
        }
        // out = a · bᵀ (b: [N, K])  →  da[M, K] += dout · b,  db[N, K] += doutᵀ · a
        ABt => {
            run(da, operands(dout, b, d(m, n, k), AB), add_da);
            run(db, operands(dout, a, d(n, m, k), AtB), true);
        }
        // out = aᵀ · b (a: [K, M])  →  da[K, M] += b · doutᵀ,  db[K, N] += a · dout
        AtB => {
            run(da, operands(b, dout, d(k, n, m), ABt), add_da);
            run(db, operands(a, dout, d(k, m, n), AB), true);
        }
    }
}

pub mod reference {
    //! The spec: plain loops accumulating in f64, one output element at a time.

    use super::{MatmulDims, MatmulForm, MatmulGrads};
    use crate::error::{check_len, Result};

    /// `op(a)[i, p]` for the stored `a`.
    fn a_index(form: MatmulForm, dims: MatmulDims, i: usize, p: usize) -> usize {
        match form {
            MatmulForm::AB | MatmulForm::ABt => i * dims.k + p,
            MatmulForm::AtB => p * dims.m + i,
        }
    }

    /// `op(b)[p, j]` for the stored `b`.
    fn b_index(form: MatmulForm, dims: MatmulDims, p: usize, j: usize) -> usize {
        match form {
            MatmulForm::AB | MatmulForm::AtB => p * dims.n + j,
            MatmulForm::ABt => j * dims.k + p,
        }
    }

    /// Reference for [`super::matmul_forward`] (same buffers, shapes and errors).
    pub fn matmul_forward_ref(
        out: &mut [f32],
        a: &[f32],
        b: &[f32],
        bias: Option<&[f32]>,
        dims: MatmulDims,
        form: MatmulForm,
    ) -> Result<()> {
        dims.check(form, a.len(), b.len(), out.len(), bias.map(<[f32]>::len))?;
        let MatmulDims { m, k, n } = dims;
        for i in 0..m {
            for j in 0..n {
                let mut sum = bias.map_or(0.0, |bias| f64::from(bias[j]));
                for p in 0..k {
                    let (x, y) = (a[a_index(form, dims, i, p)], b[b_index(form, dims, p, j)]);
                    sum += f64::from(x) * f64::from(y);
                }
                out[i * n + j] = sum as f32;
            }
        }
        Ok(())
    }

    /// Reference for [`super::matmul_backward`]: adds into `da`, `db`, `dbias`.
    pub fn matmul_backward_ref(
        grads: MatmulGrads<'_>,
        dout: &[f32],
        a: &[f32],
        b: &[f32],
        dims: MatmulDims,
        form: MatmulForm,
    ) -> Result<()> {
        let MatmulGrads { da, db, dbias } = grads;
        dims.check(form, a.len(), b.len(), dout.len(), dbias.as_ref().map(|d| d.len()))?;
        check_len("matmul: da", a.len(), da.len())?;
        check_len("matmul: db", b.len(), db.len())?;
        let MatmulDims { m, k, n } = dims;
        // out[i, j] += op(a)[i, p] · op(b)[p, j]  →  dop(a)[i, p] += Σ_j dout[i, j] · op(b)[p, j]
        for i in 0..m {
            for p in 0..k {
                let sum: f64 = (0..n)
                    .map(|j| f64::from(dout[i * n + j]) * f64::from(b[b_index(form, dims, p, j)]))
                    .sum();
                let at = a_index(form, dims, i, p);
                da[at] = (f64::from(da[at]) + sum) as f32;
            }
        }
        //                                       →  dop(b)[p, j] += Σ_i op(a)[i, p] · dout[i, j]
        for p in 0..k {
            for j in 0..n {
                let sum: f64 = (0..m)
                    .map(|i| f64::from(a[a_index(form, dims, i, p)]) * f64::from(dout[i * n + j]))
                    .sum();
                let at = b_index(form, dims, p, j);
                db[at] = (f64::from(db[at]) + sum) as f32;
            }
        }
        // out[i, j] = bias[j] + …  →  dbias[j] += Σ_i dout[i, j]
        if let Some(dbias) = dbias {
            for (j, d) in dbias.iter_mut().enumerate() {
                let sum: f64 = (0..m).map(|i| f64::from(dout[i * n + j])).sum();
                *d = (f64::from(*d) + sum) as f32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
