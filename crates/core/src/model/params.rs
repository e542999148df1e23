//! Named views into flat buffers: the parameters (and, with the same layout, gradients and
//! AdamW moments) and the planned activations are each ONE `Vec<f32>`, carved into named
//! slices by one function per structure ([`tensors`] here, `plan::acts`), so the layout is
//! written once and forward, backward, optimizer and checkpoints all agree on it (llm.c's
//! `ParameterTensors`, without the repeated offset arithmetic).
//!
//! A structure generic over its slot type `S` is built by an [`Alloc`]: a [`Recorder`] lists
//! names and shapes (`S = usize`, the tensor's index), a [`Carve`] / [`CarveMut`] hands out
//! `&[f32]` / `&mut [f32]` views in the same order, a [`Counter`] only sums sizes.

use std::fmt;

use super::config::{Ffn, LmHead, ModelConfig, NormKind, NormPlacement, Positional};

/// How AdamW treats a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// A linear layer's weight: weight decay applies.
    Matrix,
    /// An embedding table or a position-bias table: decayed only if asked.
    Embedding,
    /// Norm weights and biases: never decayed.
    Vector,
    /// Not a parameter (activations).
    Activation,
}

/// One named tensor of a layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// nanoGPT-style name, e.g. `transformer.h.0.attn.c_attn.weight`.
    pub name: String,
    /// Row-major shape; `[out, in]` for linear weights (PyTorch `nn.Linear`).
    pub shape: Vec<usize>,
    /// Offset (in f32 elements) in the flat buffer.
    pub offset: usize,
    /// AdamW group.
    pub group: Group,
}

impl Spec {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a zero-element tensor.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Hands out one slot per named tensor, in call order.
pub trait Alloc {
    /// What a tensor becomes: an index, a view, nothing.
    type Slot;
    /// The next tensor, `shape` elements.
    fn take(&mut self, name: fmt::Arguments<'_>, shape: &[usize], group: Group) -> Self::Slot;
}

/// Records the layout.
#[derive(Default)]
pub struct Recorder {
    /// The tensors in order.
    pub specs: Vec<Spec>,
    /// Total elements so far.
    pub total: usize,
}

impl Alloc for Recorder {
    type Slot = usize;
    fn take(&mut self, name: fmt::Arguments<'_>, shape: &[usize], group: Group) -> usize {
        let spec =
            Spec { name: name.to_string(), shape: shape.to_vec(), offset: self.total, group };
        self.total += spec.len();
        self.specs.push(spec);
        self.specs.len() - 1
    }
}

/// Sums sizes without naming anything (saturating, so a huge plan reports itself as huge).
#[derive(Default)]
pub struct Counter {
    /// Total elements.
    pub total: usize,
}

impl Alloc for Counter {
    type Slot = ();
    fn take(&mut self, _: fmt::Arguments<'_>, shape: &[usize], _: Group) {
        let n = shape.iter().fold(1usize, |acc, &d| acc.saturating_mul(d));
        self.total = self.total.saturating_add(n);
    }
}

/// Read-only views, in layout order. The buffer must be at least the layout's total.
pub struct Carve<'a> {
    /// What is left.
    pub rest: &'a [f32],
}

impl<'a> Alloc for Carve<'a> {
    type Slot = &'a [f32];
    fn take(&mut self, _: fmt::Arguments<'_>, shape: &[usize], _: Group) -> &'a [f32] {
        let (head, tail) = self.rest.split_at(shape.iter().product());
        self.rest = tail;
        head
    }
}

/// Mutable views, in layout order. The buffer must be at least the layout's total.
pub struct CarveMut<'a> {
    /// What is left.
    pub rest: &'a mut [f32],
}

impl<'a> Alloc for CarveMut<'a> {
    type Slot = &'a mut [f32];
    fn take(&mut self, _: fmt::Arguments<'_>, shape: &[usize], _: Group) -> &'a mut [f32] {
        let rest = std::mem::take(&mut self.rest);
        let (head, tail) = rest.split_at_mut(shape.iter().product());
        self.rest = tail;
        head
    }
}

/// `weight: [C]`, `bias: [C]` (LayerNorm with biases only).
pub struct NormTensors<S> {
    /// `[C]`.
    pub weight: S,
    /// `[C]`.
    pub bias: Option<S>,
}

/// `y = x · weightᵀ + bias`: `weight: [out, in]`, `bias: [out]`.
pub struct Linear<S> {
    /// `[out, in]`.
    pub weight: S,
    /// `[out]`.
    pub bias: Option<S>,
}

/// One transformer block.
pub struct LayerTensors<S> {
    /// First norm (before attention when pre-norm, after the attention residual when post).
    pub ln_1: NormTensors<S>,
    /// `[3C, C]`: q, k, v projections stacked (rows `0..C` q, `C..2C` k, `2C..3C` v).
    pub c_attn: Linear<S>,
    /// `[C, C]`: attention output projection.
    pub attn_proj: Linear<S>,
    /// Second norm.
    pub ln_2: NormTensors<S>,
    /// `[F, C]`: the MLP's first layer (GELU) or the GLU gate.
    pub c_fc: Linear<S>,
    /// `[F, C]`: the GLU's up projection (GLU variants only).
    pub c_up: Option<Linear<S>>,
    /// `[C, F]`: the MLP output projection.
    pub mlp_proj: Linear<S>,
}

/// BERT's masked-LM head (the decoder weight is `wte` or `lm_head`).
pub struct MlmTensors<S> {
    /// `[C, C]` transform.
    pub dense: Linear<S>,
    /// Norm after the transform's activation.
    pub ln: NormTensors<S>,
    /// `[V]` output bias.
    pub bias: S,
}

/// The sequence classifier on the first token: `tanh` pooler, then the class projection.
pub struct ClassifierTensors<S> {
    /// `[C, C]`.
    pub pooler: Linear<S>,
    /// `[K, C]`, `K = n_classes`.
    pub out: Linear<S>,
}

/// Every parameter of the model.
pub struct Tensors<S> {
    /// `[V, C]` token embedding (and the output head when tied).
    pub wte: S,
    /// `[block_size, C]` learned absolute positions.
    pub wpe: Option<S>,
    /// `[num_buckets, H]` relative-position bias, shared by all layers.
    pub rel_bias: Option<S>,
    /// `[2, H]` KERPLE's `softplus⁻¹(r1)` and `softplus⁻¹(r2)` per head, shared by all layers.
    pub kerple: Option<S>,
    /// `[type_vocab_size, C]` segment embeddings.
    pub wtt: Option<S>,
    /// Norm of the summed embeddings.
    pub ln_e: Option<NormTensors<S>>,
    /// `L` blocks.
    pub layers: Vec<LayerTensors<S>>,
    /// Final norm (pre-norm only).
    pub ln_f: Option<NormTensors<S>>,
    /// `[V, C]` output head when not tied.
    pub lm_head: Option<S>,
    /// Masked-LM head (`LmHead::Mlm`).
    pub mlm: Option<MlmTensors<S>>,
    /// Sequence classifier (`n_classes > 0`).
    pub classifier: Option<ClassifierTensors<S>>,
}

fn norm<A: Alloc>(
    cfg: &ModelConfig,
    a: &mut A,
    prefix: fmt::Arguments<'_>,
) -> NormTensors<A::Slot> {
    let c = cfg.n_embd;
    let weight = a.take(format_args!("{prefix}.weight"), &[c], Group::Vector);
    let with_bias = cfg.bias && cfg.norm == NormKind::LayerNorm;
    let bias = with_bias.then(|| a.take(format_args!("{prefix}.bias"), &[c], Group::Vector));
    NormTensors { weight, bias }
}

fn linear<A: Alloc>(
    cfg: &ModelConfig,
    a: &mut A,
    prefix: fmt::Arguments<'_>,
    out: usize,
    inp: usize,
) -> Linear<A::Slot> {
    let weight = a.take(format_args!("{prefix}.weight"), &[out, inp], Group::Matrix);
    let bias = cfg.bias.then(|| a.take(format_args!("{prefix}.bias"), &[out], Group::Vector));
    Linear { weight, bias }
}

/// The model's parameters, in layout order (`cfg` must be valid).
pub fn tensors<A: Alloc>(cfg: &ModelConfig, a: &mut A) -> Tensors<A::Slot> {
    let (v, c, f) = (cfg.vocab_size, cfg.n_embd, cfg.ffn_hidden);
    let wte = a.take(format_args!("transformer.wte.weight"), &[v, c], Group::Embedding);
    let wpe = (cfg.positional == Positional::Learned).then(|| {
        a.take(format_args!("transformer.wpe.weight"), &[cfg.block_size, c], Group::Embedding)
    });
    let rel_bias = match cfg.positional {
        Positional::Relative { num_buckets, .. } => Some(a.take(
            format_args!("transformer.rel_bias.weight"),
            &[num_buckets, cfg.n_head],
            Group::Embedding,
        )),
        _ => None,
    };
    let kerple = (cfg.positional == Positional::Kerple).then(|| {
        a.take(format_args!("transformer.kerple.weight"), &[2, cfg.n_head], Group::Vector)
    });
    let wtt = (cfg.type_vocab_size > 0).then(|| {
        a.take(format_args!("transformer.wtt.weight"), &[cfg.type_vocab_size, c], Group::Embedding)
    });
    let ln_e = cfg.embedding_norm.then(|| norm(cfg, a, format_args!("transformer.ln_e")));
    let layers = (0..cfg.n_layer)
        .map(|l| LayerTensors {
            ln_1: norm(cfg, a, format_args!("transformer.h.{l}.ln_1")),
            c_attn: linear(cfg, a, format_args!("transformer.h.{l}.attn.c_attn"), 3 * c, c),
            attn_proj: linear(cfg, a, format_args!("transformer.h.{l}.attn.c_proj"), c, c),
            ln_2: norm(cfg, a, format_args!("transformer.h.{l}.ln_2")),
            c_fc: linear(cfg, a, format_args!("transformer.h.{l}.mlp.c_fc"), f, c),
            c_up: matches!(cfg.ffn, Ffn::Glu(_))
                .then(|| linear(cfg, a, format_args!("transformer.h.{l}.mlp.c_up"), f, c)),
            mlp_proj: linear(cfg, a, format_args!("transformer.h.{l}.mlp.c_proj"), c, f),
        })
        .collect();
    let ln_f = (cfg.norm_placement == NormPlacement::Pre)
        .then(|| norm(cfg, a, format_args!("transformer.ln_f")));
    let lm_head = (!cfg.tie_embeddings && cfg.lm_head != LmHead::None)
        .then(|| a.take(format_args!("lm_head.weight"), &[v, c], Group::Matrix));
    let mlm = (cfg.lm_head == LmHead::Mlm).then(|| MlmTensors {
        dense: linear(cfg, a, format_args!("mlm.dense"), c, c),
        ln: norm(cfg, a, format_args!("mlm.ln")),
        bias: a.take(format_args!("mlm.bias"), &[v], Group::Vector),
    });
    let classifier = (cfg.n_classes > 0).then(|| ClassifierTensors {
        pooler: linear(cfg, a, format_args!("pooler.dense"), c, c),
        out: linear(cfg, a, format_args!("classifier"), cfg.n_classes, c),
    });
    Tensors { wte, wpe, rel_bias, kerple, wtt, ln_e, layers, ln_f, lm_head, mlm, classifier }
}

/// The layout: every tensor's name, shape, offset and group, and the total element count.
pub fn layout(cfg: &ModelConfig) -> (Vec<Spec>, usize) {
    let mut recorder = Recorder::default();
    tensors(cfg, &mut recorder);
    (recorder.specs, recorder.total)
}

/// The total element count of `cfg`'s layout without recording every tensor. The layout is
/// linear in `n_layer`, so two small layouts give it: a configuration is sized in constant
/// time however many layers it asks for, before anything that large is refused.
pub fn param_count(cfg: &ModelConfig) -> usize {
    if cfg.n_layer <= 2 {
        return layout(cfg).1;
    }
    let with_layers = |n_layer| layout(&ModelConfig { n_layer, ..cfg.clone() }).1;
    let (one, two) = (with_layers(1), with_layers(2));
    one.saturating_add((cfg.n_layer - 1).saturating_mul(two - one))
}

/// SplitMix64 → uniform → Box–Muller normals; the same stream on every platform.
pub struct InitRng {
    state: u64,
}

impl InitRng {
    /// A stream that depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed ^ 0x005E_ED0F_1A17 }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `(0, 1]` with 53 random bits.
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
    }

    /// Fills `out` with `N(0, std²)` samples.
    pub fn fill_normal(&mut self, out: &mut [f32], std: f32) {
        for pair in out.chunks_mut(2) {
            let (u1, u2) = (self.unit(), self.unit());
            let r = (-2.0 * u1.ln()).sqrt() * f64::from(std);
            let theta = 2.0 * std::f64::consts::PI * u2;
            pair[0] = (r * theta.cos()) as f32;
            if let Some(second) = pair.get_mut(1) {
                *second = (r * theta.sin()) as f32;
            }
        }
    }
}

/// GPT-2 / nanoGPT initialisation of a flat parameter buffer laid out by [`layout`]:
/// linear weights and embeddings `N(0, 0.02²)`, the residual output projections
/// (`attn.c_proj`, `mlp.c_proj`) `N(0, (0.02 / √(2L))²)`, biases 0, norm weights 1. With
/// sinusoidal positions the token embeddings are `N(0, 1/C)` instead, as in the original
/// Transformer: scaled by √C ([`ModelConfig::token_scale`]) they have unit variance, the scale of
/// the sinusoid added to them, so neither drowns the other.
pub fn init_params(cfg: &ModelConfig, specs: &[Spec], params: &mut [f32], seed: u64) {
    let mut rng = InitRng::new(seed);
    let proj_std = 0.02 / ((2 * cfg.n_layer) as f32).sqrt();
    let token_std = match cfg.positional {
        super::config::Positional::Sinusoidal => 1.0 / (cfg.n_embd as f32).sqrt(),
        _ => 0.02,
    };
    for spec in specs {
        let out = &mut params[spec.offset..spec.offset + spec.len()];
        let is_bias = spec.name.ends_with(".bias");
        match spec.group {
            Group::Vector if spec.name == "transformer.kerple.weight" => {
                out.fill(super::kerple::softplus_inverse(1.0))
            }
            Group::Vector if is_bias => out.fill(0.0),
            Group::Vector => out.fill(1.0),
            Group::Matrix if is_bias => out.fill(0.0),
            Group::Matrix if spec.name.ends_with("c_proj.weight") => rng.fill_normal(out, proj_std),
            Group::Embedding if spec.name == "transformer.wte.weight" => {
                rng.fill_normal(out, token_std)
            }
            Group::Matrix | Group::Embedding => rng.fill_normal(out, 0.02),
            Group::Activation => out.fill(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::glu::GluKind;
    use crate::model::config::{Ffn, Positional};

    #[test]
    fn param_count_matches_the_layout_for_any_layer_count() {
        let mut bert = ModelConfig::bert(50, 16, 1, 2, 8, 2);
        bert.positional = Positional::Relative { num_buckets: 8, max_distance: 16 };
        let mut llama = ModelConfig::gpt(40, 16, 1, 2, 8);
        llama.ffn = Ffn::Glu(GluKind::SwiGlu);
        llama.bias = false;
        llama.tie_embeddings = false;
        for base in [ModelConfig::gpt(30, 16, 1, 2, 8), bert, llama] {
            for n_layer in 1..7 {
                let cfg = ModelConfig { n_layer, ..base.clone() };
                assert_eq!(param_count(&cfg), layout(&cfg).1, "n_layer {n_layer}");
            }
        }
    }
}
