//! The two ends of the stack: the embedding stage (tokens, positions, segments, the optional
//! embedding norm) and the output heads (the language-model head, plain as in GPT-2 or
//! BERT's masked-LM head, and the sequence classifier on the first token with BERT's tanh
//! pooler). Each forward sits above its backward; backward lines quote the forward lines.
//!
//! Shapes: `ids, type_ids, targets: [B, T]`, `labels: [B]`, rows `[B·T, C]`, LM logits
//! `[B·T, V]`, class logits `[B, K]`. The losses are means over the counted (not ignored)
//! targets and labels; the backward takes one scale per loss.

use super::config::{LmHead, ModelConfig, Positional};
use super::params::{Linear, Tensors};
use super::plan::{Acts, ClassifierActs, MlmActs, NormActs};
use super::transformer::{linear_bwd, linear_fwd, norm_bwd, norm_bwd_view, norm_fwd, Ctx, Pass};
use crate::error::{Error, Result};
use crate::kernels::embedding::{embedding_backward, embedding_forward, EmbeddingDims};
use crate::kernels::glu::{activation_backward, activation_forward};
use crate::kernels::matmul::{
    matmul_backward_into, InputGrad, MatmulDims, MatmulForm, MatmulGrads,
};
use crate::kernels::softmax_xent::{
    crossentropy_backward, crossentropy_forward, crossentropy_mean_scale, SoftmaxDims,
};

/// The mean losses of one pass (each present when its targets were given).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Losses {
    /// Next-token or masked-token cross-entropy, mean over counted targets.
    pub token: Option<f32>,
    /// Sequence-classification cross-entropy, mean over counted labels.
    pub class: Option<f32>,
}

impl Losses {
    /// The training objective: the sum of the present losses.
    pub fn total(&self) -> f32 {
        self.token.unwrap_or(0.0) + self.class.unwrap_or(0.0)
    }
}

/// What the backward multiplies each loss's gradient by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossScales {
    /// For [`Losses::token`].
    pub token: f32,
    /// For [`Losses::class`].
    pub class: f32,
}

impl LossScales {
    /// The same scale for both losses.
    pub fn both(scale: f32) -> Self {
        Self { token: scale, class: scale }
    }
}

fn embedding_dims(cfg: &ModelConfig, ctx: &Ctx<'_>) -> EmbeddingDims {
    EmbeddingDims {
        b: ctx.b,
        t: ctx.t,
        c: cfg.n_embd,
        vocab: cfg.vocab_size,
        max_positions: cfg.block_size,
    }
}

/// Checks `type_ids: [B, T]` against the segment vocabulary.
fn check_types(cfg: &ModelConfig, ctx: &Ctx<'_>) -> Result<()> {
    if let Some(types) = ctx.type_ids {
        crate::error::check_len("model: type_ids", ctx.b * ctx.t, types.len())?;
        if let Some((i, &id)) =
            types.iter().enumerate().find(|(_, &id)| id as usize >= cfg.type_vocab_size)
        {
            return Err(Error::InvalidArgument(format!(
                "model: type_ids[{i}] is {id}, expected < type_vocab_size {}",
                cfg.type_vocab_size
            )));
        }
    }
    Ok(())
}

/// The segment of row `r` (0 when no type ids are given).
fn segment(ctx: &Ctx<'_>, r: usize) -> usize {
    ctx.type_ids.map_or(0, |t| t[r] as usize)
}

/// `out = wte[ids] + wpe[t]`, or `√C · wte[ids] + sinusoid[t]` (Vaswani et al.'s scale), or
/// `wte[ids]`; then `+ wtt[type_ids]`, then `N_e(out)` when the model norms its embeddings (the
/// sum is saved in `a.emb_sum`). Dropout is the caller's.
pub fn embed_forward(pass: Pass<'_>, a: &mut Acts<&mut [f32]>) -> Result<()> {
    let Pass { cfg, p, ctx } = pass;
    check_types(cfg, ctx)?;
    let sum: &mut [f32] = a.emb_sum.as_deref_mut().unwrap_or(&mut *a.emb);
    // sum = wte[ids] + wpe[t]
    let wpe = if cfg.positional == Positional::Learned { p.wpe } else { None };
    embedding_forward(sum, ctx.ids, p.wte, wpe, embedding_dims(cfg, ctx), 0)?;
    if cfg.positional == Positional::Sinusoidal {
        let table = ctx
            .sinusoid
            .ok_or_else(|| Error::InvalidArgument("model: sinusoid table missing".into()))?;
        let (c, s) = (cfg.n_embd, cfg.token_scale());
        crate::error::check_len("model: sinusoid table", cfg.block_size * c, table.len())?;
        // sum = s · wte[ids] + sinusoid[t]   (s = √C)
        for (r, row) in sum.chunks_exact_mut(c).enumerate() {
            let pe = &table[(r % ctx.t) * c..][..c];
            row.iter_mut().zip(pe).for_each(|(o, &e)| *o = s * *o + e);
        }
    }
    if let Some(wtt) = p.wtt {
        // sum += wtt[type_ids]   (missing type_ids are segment 0, as in Hugging Face)
        let c = cfg.n_embd;
        for (r, row) in sum.chunks_exact_mut(c).enumerate() {
            let id = segment(ctx, r);
            row.iter_mut().zip(&wtt[id * c..][..c]).for_each(|(o, &e)| *o += e);
        }
    }
    if let (Some(stats), Some(w), Some(sum)) = (a.emb_norm.as_mut(), &p.ln_e, a.emb_sum.as_deref())
    {
        norm_fwd(cfg, a.emb, stats, sum, w)?; // emb = N_e(sum)
    }
    Ok(())
}

/// Gradients of [`embed_forward`] from `demb` (block 0's input gradient, after the caller
/// undid dropout), ADDED into `g`. `demb, scratch: [B·T, C]` (`scratch` is overwritten);
/// `emb_sum: [B·T, C]` and `emb_norm` are what [`embed_forward`] saved when the model norms
/// its embeddings.
pub fn embed_backward(
    pass: Pass<'_>,
    g: &mut Tensors<&mut [f32]>,
    demb: &[f32],
    scratch: &mut [f32],
    emb_sum: Option<&[f32]>,
    emb_norm: Option<&NormActs<&mut [f32]>>,
) -> Result<()> {
    let Pass { cfg, p, ctx } = pass;
    let normed = match (emb_norm, emb_sum, &p.ln_e, g.ln_e.as_mut()) {
        (Some(stats), Some(sum), Some(w), Some(gw)) => {
            // emb = N_e(sum)
            norm_bwd(cfg, scratch, gw, demb, stats, sum, w)?;
            true
        }
        _ => false,
    };
    if let Some(dwtt) = g.wtt.as_deref_mut() {
        // sum += wtt[type_ids]
        let dsum: &[f32] = if normed { scratch } else { demb };
        let c = cfg.n_embd;
        for (r, row) in dsum.chunks_exact(c).enumerate() {
            let id = segment(ctx, r);
            dwtt[id * c..][..c].iter_mut().zip(row).for_each(|(d, &x)| *d += x);
        }
    }
    let s = cfg.token_scale();
    if s != 1.0 {
        // sum = s · wte[ids] + sinusoid[t]  →  d(wte[ids]) = s · dsum
        if !normed {
            scratch.copy_from_slice(demb);
        }
        scratch.iter_mut().for_each(|d| *d *= s);
    }
    let dtokens: &[f32] = if normed || s != 1.0 { scratch } else { demb };
    // sum = wte[ids] + wpe[t]
    let dims = embedding_dims(cfg, ctx);
    embedding_backward(g.wte, g.wpe.as_deref_mut(), dtokens, ctx.ids, dims, 0)?;
    Ok(())
}

/// The rows whose token targets count, when some are ignored: their indices, targets and
/// hidden rows (`hidden: [n, C]`). `None` when every row counts (no copy needed).
struct Selected {
    rows: Vec<usize>,
    targets: Vec<i32>,
    hidden: Vec<f32>,
}

impl Selected {
    fn of(hidden: &[f32], targets: &[i32], ignore_index: Option<i32>, c: usize) -> Option<Self> {
        let rows: Vec<usize> =
            (0..targets.len()).filter(|&r| Some(targets[r]) != ignore_index).collect();
        if rows.len() == targets.len() {
            return None;
        }
        let mut gathered = Vec::with_capacity(rows.len() * c);
        for &r in &rows {
            gathered.extend_from_slice(&hidden[r * c..(r + 1) * c]);
        }
        Some(Self { targets: rows.iter().map(|&r| targets[r]).collect(), rows, hidden: gathered })
    }
}

/// The LM head's input (`hidden`, or the masked-LM transform of it) and weight.
fn lm_weight<'p>(p: &Tensors<&'p [f32]>) -> &'p [f32] {
    p.lm_head.unwrap_or(p.wte)
}

/// The head buffers the forward writes.
pub struct HeadOut<'a, 's> {
    /// `[B·T, V]`.
    pub logits: &'a mut [f32],
    /// `[B·T, V]`.
    pub probs: &'a mut [f32],
    /// `[B·T]`.
    pub losses: &'a mut [f32],
    /// Masked-LM head activations.
    pub mlm: Option<&'a mut MlmActs<&'s mut [f32]>>,
    /// Classifier activations.
    pub classifier: Option<&'a mut ClassifierActs<&'s mut [f32]>>,
}

/// Runs the heads on the final hidden rows `hidden: [B·T, C]`: LM logits (unless only
/// labels are given, a classifier's training) and the class logits; returns the losses of
/// the given targets and labels. With `ctx.int8` every linear layer of the heads runs on
/// its int8 copy.
pub fn heads_forward(pass: Pass<'_>, a: HeadOut<'_, '_>, hidden: &[f32]) -> Result<Losses> {
    let Pass { cfg, p, ctx } = pass;
    let q = ctx.int8;
    let (rows, c, v) = (ctx.b * ctx.t, cfg.n_embd, cfg.vocab_size);
    let mut losses = Losses::default();
    let want_lm = cfg.lm_head != LmHead::None && (ctx.targets.is_some() || ctx.labels.is_none());
    if want_lm {
        // With ignored targets (masked-LM: ~85% of the rows) the head runs on the counted rows only.
        let selected =
            ctx.targets.and_then(|targets| Selected::of(hidden, targets, ctx.ignore_index, c));
        let (n, lm_in, targets) = match &selected {
            Some(s) => (s.rows.len(), s.hidden.as_slice(), Some(s.targets.as_slice())),
            None => (rows, hidden, ctx.targets),
        };
        if n == 0 {
            losses.token = Some(0.0); // nothing to predict in this batch
        } else {
            let (head_in, out_bias): (&[f32], Option<&[f32]>) = match (&p.mlm, a.mlm) {
                (Some(mp), Some(ma)) => {
                    let (fc, act) = (&mut ma.fc[..n * c], &mut ma.act[..n * c]);
                    // fc = hidden · W_tᵀ + b_t;  act = gelu(fc);  n = N_t(act)
                    let q_dense = q.and_then(|q| q.mlm_dense.as_ref());
                    linear_fwd(fc, lm_in, &mp.dense, q_dense, n, c, c)?;
                    activation_forward(act, fc, cfg.gelu())?;
                    let out = &mut ma.norm.out.as_deref_mut().unwrap_or_default()[..n * c];
                    let mut stats = NormActs {
                        out: None,
                        mean: ma.norm.mean.as_deref_mut().map(|m| &mut m[..n]),
                        rstd: &mut ma.norm.rstd[..n],
                    };
                    norm_fwd(cfg, out, &mut stats, act, &mp.ln)?;
                    (&ma.norm.out.as_deref().unwrap_or_default()[..n * c], Some(mp.bias))
                }
                _ => (lm_in, None),
            };
            let logits = &mut a.logits[..n * v];
            // logits = head_in · W_headᵀ (+ b)
            let head = Linear { weight: lm_weight(p), bias: out_bias };
            let q_head = q.map(|q| q.lm_head()).transpose()?;
            linear_fwd(logits, head_in, &head, q_head, n, c, v)?;
            if let Some(targets) = targets {
                let dims = SoftmaxDims::new(n, v);
                losses.token = Some(crossentropy_forward(
                    &mut a.losses[..n],
                    &mut a.probs[..n * v],
                    logits,
                    targets,
                    ctx.ignore_index,
                    dims,
                )?);
            }
        }
    } else if ctx.targets.is_some() {
        return Err(Error::InvalidArgument(
            "model: token targets given but the model has no LM head".into(),
        ));
    }
    match (&p.classifier, a.classifier) {
        (Some(cp), Some(ca)) => {
            let (b, t, k) = (ctx.b, ctx.t, cfg.n_classes);
            // first[b] = hidden[b, 0]
            for (dst, src) in ca.first.chunks_exact_mut(c).zip(hidden.chunks_exact(t * c)) {
                dst.copy_from_slice(&src[..c]);
            }
            let (q_pool, q_out) = match q {
                Some(q) => match (&q.pooler, &q.classifier) {
                    (Some(pool), Some(out)) => (Some(pool), Some(out)),
                    _ => {
                        return Err(Error::InvalidArgument(
                            "model: int8 classifier weights missing".into(),
                        ))
                    }
                },
                None => (None, None),
            };
            // pooled = tanh(first · W_poolᵀ + b_pool)
            linear_fwd(ca.pooled, ca.first, &cp.pooler, q_pool, b, c, c)?;
            ca.pooled.iter_mut().for_each(|x| *x = x.tanh());
            // class_logits = pooled · W_clsᵀ + b_cls
            linear_fwd(ca.logits, ca.pooled, &cp.out, q_out, b, c, k)?;
            if let Some(labels) = ctx.labels {
                crate::error::check_len("model: labels", b, labels.len())?;
                let dims = SoftmaxDims::new(b, k);
                losses.class = Some(crossentropy_forward(
                    ca.losses,
                    ca.probs,
                    ca.logits,
                    labels,
                    ctx.ignore_index,
                    dims,
                )?);
            }
        }
        _ if ctx.labels.is_some() => {
            return Err(Error::InvalidArgument(
                "model: labels given but the model has no classifier (n_classes = 0)".into(),
            ));
        }
        _ => {}
    }
    Ok(losses)
}

/// The head activations the backward reads (and the logit buffers it turns into gradients).
pub struct HeadActs<'a, 's> {
    /// `[B·T, V]` LM logits, overwritten by their gradient.
    pub logits: &'a mut [f32],
    /// `[B·T, V]`.
    pub probs: &'a [f32],
    /// Masked-LM head activations.
    pub mlm: Option<&'a MlmActs<&'s mut [f32]>>,
    /// Classifier activations (its logits are overwritten by their gradient).
    pub classifier: Option<&'a mut ClassifierActs<&'s mut [f32]>>,
}

/// Scratch of [`heads_backward`].
pub struct HeadScratch<'a> {
    /// `[B·T, C]` ×3.
    pub dn: &'a mut [f32],
    /// `[B·T, C]`.
    pub dact: &'a mut [f32],
    /// `[B·T, C]`.
    pub dfc: &'a mut [f32],
    /// `[B, C]` ×2 (classifier only).
    pub dpooled: Option<&'a mut [f32]>,
    /// `[B, C]`.
    pub dfirst: Option<&'a mut [f32]>,
}

/// Gradients of [`heads_forward`]: `dhidden: [B·T, C]` ASSIGNED, parameter gradients added;
/// `scales` multiply each loss's gradient. `hidden: [B·T, C]` is the heads' input.
pub fn heads_backward(
    pass: Pass<'_>,
    g: &mut Tensors<&mut [f32]>,
    a: HeadActs<'_, '_>,
    hidden: &[f32],
    dhidden: &mut [f32],
    scratch: HeadScratch<'_>,
    scales: LossScales,
) -> Result<()> {
    let Pass { cfg, p, ctx } = pass;
    let (rows, c, v) = (ctx.b * ctx.t, cfg.n_embd, cfg.vocab_size);
    let HeadScratch { dn, dact, dfc, dpooled, dfirst } = scratch;
    dhidden.fill(0.0);
    if let (Some(all_targets), true) = (ctx.targets, cfg.lm_head != LmHead::None) {
        let selected = Selected::of(hidden, all_targets, ctx.ignore_index, c);
        let (n, lm_in, targets) = match &selected {
            Some(s) => (s.rows.len(), s.hidden.as_slice(), s.targets.as_slice()),
            None => (rows, hidden, all_targets),
        };
        if n > 0 {
            // loss = mean CE(softmax(logits), targets)
            let scale = crossentropy_mean_scale(targets, ctx.ignore_index) * scales.token;
            let dlogits = &mut a.logits[..n * v];
            crossentropy_backward(
                dlogits,
                &a.probs[..n * v],
                targets,
                ctx.ignore_index,
                SoftmaxDims::new(n, v),
                scale,
            )?;
            let dhead: &mut [f32] = match g.lm_head.as_deref_mut() {
                Some(dw) => dw,
                None => g.wte,
            };
            let head = lm_weight(p);
            // d(lm_in) goes straight into dhidden when every row counts, else via dn and a scatter.
            let gathered = selected.is_some();
            match (&p.mlm, g.mlm.as_mut(), a.mlm) {
                (Some(mp), Some(mg), Some(ma)) => {
                    let (dn, dact, dfc) = (&mut dn[..n * c], &mut dact[..n * c], &mut dfc[..n * c]);
                    let out = &ma.norm.out.as_deref().unwrap_or_default()[..n * c];
                    // logits = n · W_headᵀ + b
                    let grads = MatmulGrads { da: dn, db: &mut *dhead, dbias: Some(&mut *mg.bias) };
                    matmul_backward_into(
                        InputGrad::Assign,
                        grads,
                        dlogits,
                        out,
                        head,
                        MatmulDims::new(n, c, v),
                        MatmulForm::ABt,
                    )?;
                    // n = N_t(act)
                    let stats = NormActs {
                        out: None,
                        mean: ma.norm.mean.as_deref().map(|m| &m[..n]),
                        rstd: &ma.norm.rstd[..n],
                    };
                    norm_bwd_view(cfg, dact, &mut mg.ln, dn, &stats, &ma.act[..n * c], &mp.ln)?;
                    // act = gelu(fc)
                    activation_backward(dfc, dact, &ma.fc[..n * c], cfg.gelu())?;
                    // fc = lm_in · W_tᵀ + b_t
                    let dims = MatmulDims::new(n, c, c);
                    let din: &mut [f32] = if gathered {
                        dn.fill(0.0);
                        dn
                    } else {
                        &mut *dhidden
                    };
                    linear_bwd(InputGrad::Add, din, &mut mg.dense, dfc, lm_in, &mp.dense, dims)?;
                }
                _ => {
                    // logits = lm_in · W_headᵀ
                    let din: &mut [f32] = if gathered {
                        let d = &mut dn[..n * c];
                        d.fill(0.0);
                        d
                    } else {
                        &mut *dhidden
                    };
                    let grads = MatmulGrads { da: din, db: dhead, dbias: None };
                    matmul_backward_into(
                        InputGrad::Add,
                        grads,
                        dlogits,
                        lm_in,
                        head,
                        MatmulDims::new(n, c, v),
                        MatmulForm::ABt,
                    )?;
                }
            }
            if let Some(s) = &selected {
                // lm_in = hidden[selected rows]
                for (&row, d) in s.rows.iter().zip(dn.chunks_exact(c)) {
                    dhidden[row * c..(row + 1) * c].iter_mut().zip(d).for_each(|(o, &x)| *o += x);
                }
            }
        }
    }
    if let (Some(labels), Some(cp), Some(cg), Some(ca)) =
        (ctx.labels, &p.classifier, g.classifier.as_mut(), a.classifier)
    {
        let (b, t, k) = (ctx.b, ctx.t, cfg.n_classes);
        let (Some(dpooled), Some(dfirst)) = (dpooled, dfirst) else {
            return Err(Error::InvalidArgument("model: classifier scratch missing".into()));
        };
        let (dpooled, dfirst) = (&mut dpooled[..b * c], &mut dfirst[..b * c]);
        // loss = mean CE(softmax(class_logits), labels)
        let scale = crossentropy_mean_scale(labels, ctx.ignore_index) * scales.class;
        crossentropy_backward(
            ca.logits,
            ca.probs,
            labels,
            ctx.ignore_index,
            SoftmaxDims::new(b, k),
            scale,
        )?;
        // class_logits = pooled · W_clsᵀ + b_cls
        let dims = MatmulDims::new(b, c, k);
        linear_bwd(InputGrad::Assign, dpooled, &mut cg.out, ca.logits, ca.pooled, &cp.out, dims)?;
        // pooled = tanh(pre)  →  dpre = dpooled · (1 − pooled²)
        dpooled.iter_mut().zip(&*ca.pooled).for_each(|(d, &y)| *d *= 1.0 - y * y);
        // pre = first · W_poolᵀ + b_pool
        let dims = MatmulDims::new(b, c, c);
        linear_bwd(InputGrad::Assign, dfirst, &mut cg.pooler, dpooled, ca.first, &cp.pooler, dims)?;
        // first[b] = hidden[b, 0]
        for (dst, src) in dhidden.chunks_exact_mut(t * c).zip(dfirst.chunks_exact(c)) {
            dst[..c].iter_mut().zip(src).for_each(|(d, &x)| *d += x);
        }
    }
    Ok(())
}
