//! The transformer's configuration: one decoder/encoder stack whose options are the ones the
//! field uses (GPT-2 / nanoGPT defaults; Llama-style and BERT-style through the options).
//!
//! Names follow nanoGPT / Hugging Face: `vocab_size` (V), `block_size` (max T), `n_layer` (L),
//! `n_head` (H), `n_embd` (C), `ffn_hidden` (F); head dim `D = C / H`.

use crate::error::{Error, Result};
use crate::kernels::glu::GluKind;
use crate::kernels::rope::{RopeConfig, RopeScaling};

/// How positions enter the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positional {
    /// Learned absolute position embeddings `wpe: [block_size, C]` added to the tokens (GPT-2).
    Learned,
    /// Fixed sine/cosine position encodings added to the tokens, which are first multiplied
    /// by `√C` as Vaswani et al. do (so the unit-amplitude sinusoid does not drown tokens
    /// initialised at `N(0, 0.02²)`).
    Sinusoidal,
    /// No positional information (NoPE); a causal mask still orders the tokens.
    None,
    /// A learned bias per head on the attention scores, indexed by the bucketed relative
    /// distance `j − i` (T5); one table `[num_buckets, H]` shared by every layer.
    Relative {
        /// Buckets (half exact, half logarithmic; split by direction when bidirectional).
        num_buckets: usize,
        /// Distances at or beyond this share the last bucket.
        max_distance: usize,
    },
    /// Rotary embeddings on q and k (RoFormer, Llama).
    Rope,
    /// A fixed linear distance penalty per head on the scores (Press et al.).
    Alibi,
    /// KERPLE's logarithmic kernel (Chi et al. 2022): a learned bias per head on the scores,
    /// `−r1·ln(1 + r2·|i − j|)` with `r1, r2 > 0` (kept positive as softplus of the stored
    /// parameters `kerple: [2, H]`); one pair per head shared by every layer.
    Kerple,
}

/// Which normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormKind {
    /// LayerNorm (weight, and bias when `bias`).
    LayerNorm,
    /// RMSNorm (weight only).
    RmsNorm,
}

/// Where the norms sit relative to the residual connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormPlacement {
    /// `x + f(norm(x))`, plus a final norm before the head (GPT-2, Llama).
    Pre,
    /// `norm(x + f(x))`, no final norm (original Transformer, BERT).
    Post,
}

/// The feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ffn {
    /// `W2 · gelu(W1 · x)` (tanh GELU, GPT-2's `gelu_new`).
    Gelu,
    /// `W2 · relu(W1 · x)` (the original Transformer's MLP).
    Relu,
    /// `W2 · (act(Wg · x) ⊙ (Wu · x))`.
    Glu(GluKind),
}

/// The token-level output head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LmHead {
    /// No per-token logits (a sequence classifier).
    None,
    /// `logits = hidden · W_headᵀ` (GPT-2; `W_head = wte` when tied).
    Plain,
    /// BERT's masked-LM head: `logits = LN(act(hidden · W_tᵀ + b_t)) · W_headᵀ + b`.
    Mlm,
}

/// A transformer stack. See the module doc for the names.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// `V`.
    pub vocab_size: usize,
    /// The longest sequence the model is trained for (and, with learned positions, can run).
    pub block_size: usize,
    /// `L`.
    pub n_layer: usize,
    /// `H`.
    pub n_head: usize,
    /// `C`; divisible by `H`.
    pub n_embd: usize,
    /// `F`: the feed-forward hidden width.
    pub ffn_hidden: usize,
    /// Positional encoding.
    pub positional: Positional,
    /// Normalisation.
    pub norm: NormKind,
    /// Pre- or post-norm.
    pub norm_placement: NormPlacement,
    /// Feed-forward kind.
    pub ffn: Ffn,
    /// Biases in the linear layers and LayerNorms.
    pub bias: bool,
    /// The output head reuses the token embedding `wte` (GPT-2).
    pub tie_embeddings: bool,
    /// Decoder (`true`: token i sees tokens ≤ i) or encoder (`false`).
    pub causal: bool,
    /// Dropout probability on the embeddings and on each block's output projections (the
    /// residual branches). Attention probabilities are not dropped (the fused attention
    /// kernel has no dropout).
    pub dropout: f32,
    /// RoPE frequency base (`rope_theta`).
    pub rope_base: f32,
    /// RoPE context extension (position interpolation, NTK-aware base stretching or YaRN),
    /// applied in training and inference alike.
    pub rope_scaling: RopeScaling,
    /// Partial RoPE: the fraction of each head's dims that rotate, `r = ⌊D · fraction⌋` (even,
    /// `≥ 2`; GPT-NeoX `rotary_pct`, HF `partial_rotary_factor`); 1: all.
    pub rope_fraction: f64,
    /// p-RoPE: the fraction `p` of the rotated pairs' frequencies kept, the highest ones
    /// (`⌊p · r/2⌋ ≥ 1` pairs); the lowest frequencies are not rotated. 1: all.
    pub rope_keep_frequencies: f64,
    /// Layers (0-based) whose attention uses no positions (NoPE) although the model's
    /// positional encoding acts inside attention (RoPE, ALiBi, relative, Kerple).
    pub no_position_layers: Vec<usize>,
    /// Norm epsilon.
    pub norm_eps: f32,
    /// Segment (token type) embeddings added to the input (`0`: none; BERT: 2).
    pub type_vocab_size: usize,
    /// A norm on the summed embeddings before the first block (BERT).
    pub embedding_norm: bool,
    /// GELU in its exact `erf` form (BERT) instead of the tanh approximation (GPT-2); used by
    /// the GELU MLP and the masked-LM head.
    pub gelu_exact: bool,
    /// The per-token output head.
    pub lm_head: LmHead,
    /// Classes of a sequence classifier on the first token (BERT's tanh pooler, then a linear
    /// layer; next-sentence prediction is `2`); `0`: none.
    pub n_classes: usize,
}

impl ModelConfig {
    /// nanoGPT's defaults for a given size: learned positions, pre-LayerNorm, GELU 4× MLP,
    /// biases, tied embeddings, causal, no dropout, RoPE base 10000, eps 1e-5.
    pub fn gpt(
        vocab_size: usize,
        block_size: usize,
        n_layer: usize,
        n_head: usize,
        n_embd: usize,
    ) -> Self {
        Self {
            vocab_size,
            block_size,
            n_layer,
            n_head,
            n_embd,
            ffn_hidden: 4 * n_embd,
            positional: Positional::Learned,
            norm: NormKind::LayerNorm,
            norm_placement: NormPlacement::Pre,
            ffn: Ffn::Gelu,
            bias: true,
            tie_embeddings: true,
            causal: true,
            dropout: 0.0,
            rope_base: 10000.0,
            rope_scaling: RopeScaling::None,
            rope_fraction: 1.0,
            rope_keep_frequencies: 1.0,
            no_position_layers: Vec::new(),
            norm_eps: 1e-5,
            type_vocab_size: 0,
            embedding_norm: false,
            gelu_exact: false,
            lm_head: LmHead::Plain,
            n_classes: 0,
        }
    }

    /// BERT's choices for a given size: learned positions, 2 segment types, embedding
    /// LayerNorm, post-LayerNorm (eps 1e-12), exact GELU, bidirectional, masked-LM head tied
    /// to the embedding, `n_classes` on the pooler (0: none).
    pub fn bert(
        vocab_size: usize,
        block_size: usize,
        n_layer: usize,
        n_head: usize,
        n_embd: usize,
        n_classes: usize,
    ) -> Self {
        Self {
            norm_placement: NormPlacement::Post,
            causal: false,
            norm_eps: 1e-12,
            type_vocab_size: 2,
            embedding_norm: true,
            gelu_exact: true,
            lm_head: LmHead::Mlm,
            n_classes,
            ..Self::gpt(vocab_size, block_size, n_layer, n_head, n_embd)
        }
    }

    /// The GELU form in use.
    pub fn gelu(&self) -> crate::kernels::glu::Activation {
        if self.gelu_exact {
            crate::kernels::glu::Activation::GeluErf
        } else {
            crate::kernels::glu::Activation::Gelu
        }
    }

    /// The non-gated MLP's activation (`None` for a GLU).
    pub fn mlp_activation(&self) -> Option<crate::kernels::glu::Activation> {
        match self.ffn {
            Ffn::Gelu => Some(self.gelu()),
            Ffn::Relu => Some(crate::kernels::glu::Activation::Relu),
            Ffn::Glu(_) => None,
        }
    }

    /// What token embeddings are multiplied by before positions are added: `√C` with
    /// sinusoidal positions (Vaswani et al.), else 1.
    pub fn token_scale(&self) -> f32 {
        match self.positional {
            Positional::Sinusoidal => (self.n_embd as f32).sqrt(),
            _ => 1.0,
        }
    }

    /// Whether layer `l`'s attention sees the positional encoding (RoPE or a score bias).
    pub fn positions_in_layer(&self, l: usize) -> bool {
        !self.no_position_layers.contains(&l)
    }

    /// Whether a training plan saves each layer's attention probabilities `[B, H, T, T]`, so
    /// the backward need not recompute them: when they are small, at most two `[B, T, C]`
    /// buffers per layer (`H · block_size <= 2C`), with absolute positions (so `T` never
    /// exceeds `block_size`). The rule depends on the config only, so a plan for `(B, T)`
    /// still covers every smaller `(B', T')`.
    pub fn saves_attention_probs(&self) -> bool {
        matches!(self.positional, Positional::Learned | Positional::Sinusoidal)
            && self.n_head.saturating_mul(self.block_size) <= 2 * self.n_embd
    }

    /// `D = C / H`.
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head.max(1)
    }

    /// `r`: the rotated dims of each head, `⌊D · rope_fraction⌋` (Python's `int()`, as HF).
    pub fn rotary_dim(&self) -> usize {
        if self.rope_fraction >= 1.0 {
            self.head_dim()
        } else {
            (self.head_dim() as f64 * self.rope_fraction).floor() as usize
        }
    }

    /// The RoPE settings for rows starting at `position_offset`.
    pub fn rope_config(&self, position_offset: usize) -> RopeConfig {
        let rotary_dim = self.rotary_dim();
        let kept = (self.rope_keep_frequencies < 1.0)
            .then(|| (self.rope_keep_frequencies * (rotary_dim / 2) as f64).floor() as usize);
        RopeConfig {
            base: self.rope_base,
            rotary_dim,
            position_offset,
            scaling: self.rope_scaling,
            kept_frequencies: kept,
        }
    }

    /// Checks every field, returning [`Error::InvalidArgument`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("model config: {msg}")));
        for (name, value) in [
            ("vocab_size", self.vocab_size),
            ("block_size", self.block_size),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_embd", self.n_embd),
            ("ffn_hidden", self.ffn_hidden),
        ] {
            if value == 0 {
                return bad(format!("{name} must be > 0"));
            }
        }
        if self.lm_head == LmHead::None && self.n_classes == 0 {
            return bad("the model needs an output: an LM head or n_classes > 0".into());
        }
        if self.vocab_size > u32::MAX as usize {
            return bad(format!("vocab_size {} does not fit token ids (u32)", self.vocab_size));
        }
        if self.n_embd % self.n_head != 0 {
            return bad(format!(
                "n_embd ({}) must be divisible by n_head ({})",
                self.n_embd, self.n_head
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.norm_eps > 0.0 && self.norm_eps.is_finite()) {
            return bad(format!("norm_eps must be finite and > 0, got {}", self.norm_eps));
        }
        let rope = self.positional == Positional::Rope;
        for (name, value) in [
            ("rope_fraction", self.rope_fraction),
            ("rope_keep_frequencies", self.rope_keep_frequencies),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return bad(format!("{name} must be in (0, 1], got {value}"));
            }
            if value < 1.0 && !rope {
                return bad(format!("{name} < 1 needs positional rope"));
            }
        }
        if let Some(&l) = self.no_position_layers.iter().find(|&&l| l >= self.n_layer) {
            return bad(format!(
                "no_position_layers: layer {l} does not exist (n_layer {})",
                self.n_layer
            ));
        }
        let mut sorted = self.no_position_layers.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return bad("no_position_layers lists a layer twice".into());
        }
        if !self.no_position_layers.is_empty()
            && matches!(
                self.positional,
                Positional::Learned | Positional::Sinusoidal | Positional::None
            )
        {
            return bad(
                "no_position_layers needs positions inside attention (rope, alibi, relative or \
                 kerple); learned and sinusoidal positions enter once, below every layer"
                    .into(),
            );
        }
        match self.positional {
            Positional::Rope => {
                if self.head_dim() % 2 != 0 {
                    return bad(format!(
                        "rope needs an even head dim, got {} (n_embd / n_head)",
                        self.head_dim()
                    ));
                }
                if !(self.rope_base > 1.0 && self.rope_base.is_finite()) {
                    return bad(format!(
                        "rope_base must be finite and > 1, got {}",
                        self.rope_base
                    ));
                }
                let r = self.rotary_dim();
                if r < 2 || r % 2 != 0 {
                    return bad(format!(
                        "rope_fraction {} rotates {r} of {} dims per head; that must be even \
                         and >= 2",
                        self.rope_fraction,
                        self.head_dim()
                    ));
                }
                if self.rope_config(0).kept_frequencies == Some(0) {
                    return bad(format!(
                        "rope_keep_frequencies {} keeps no frequency of {} (need >= 1)",
                        self.rope_keep_frequencies,
                        r / 2
                    ));
                }
                self.rope_config(0).validate(self.head_dim()).map_err(|e| {
                    Error::InvalidArgument(format!("model config: rope_scaling: {e}"))
                })?;
            }
            Positional::Relative { num_buckets, max_distance } => {
                let min_buckets = if self.causal { 2 } else { 4 };
                if num_buckets < min_buckets {
                    return bad(format!(
                        "relative positions need num_buckets >= {min_buckets}, got {num_buckets}"
                    ));
                }
                let exact = if self.causal { num_buckets / 2 } else { num_buckets / 4 };
                if max_distance <= exact {
                    return bad(format!(
                        "relative positions need max_distance > {exact} (the exact buckets), got \
                         {max_distance}"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cfg: &ModelConfig, needle: &str) {
        match cfg.validate() {
            Err(Error::InvalidArgument(message)) => {
                assert!(message.contains(needle), "{message:?} should contain {needle:?}")
            }
            other => panic!("expected InvalidArgument containing {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn the_lab_options_are_validated() {
        // C 32, H 2: D = 16.
        let rope =
            ModelConfig { positional: Positional::Rope, ..ModelConfig::gpt(10, 8, 4, 2, 32) };
        assert_eq!((rope.rotary_dim(), rope.rope_config(0).kept_frequencies), (16, None));
        let partial =
            ModelConfig { rope_fraction: 0.25, rope_keep_frequencies: 0.5, ..rope.clone() };
        partial.validate().unwrap();
        assert_eq!((partial.rotary_dim(), partial.rope_config(0).kept_frequencies), (4, Some(1)));
        refused(&ModelConfig { rope_fraction: 0.1, ..rope.clone() }, "rotates 1 of 16");
        refused(
            &ModelConfig { rope_fraction: 0.0, ..rope.clone() },
            "rope_fraction must be in (0, 1]",
        );
        refused(&ModelConfig { rope_fraction: f64::NAN, ..rope.clone() }, "rope_fraction");
        refused(&ModelConfig { rope_keep_frequencies: 0.1, ..rope.clone() }, "keeps no frequency");
        let learned = ModelConfig::gpt(10, 8, 4, 2, 32);
        refused(&ModelConfig { rope_fraction: 0.5, ..learned.clone() }, "needs positional rope");
        refused(
            &ModelConfig { no_position_layers: vec![1], ..learned },
            "positions inside attention",
        );
        refused(
            &ModelConfig { no_position_layers: vec![4], ..rope.clone() },
            "layer 4 does not exist",
        );
        refused(&ModelConfig { no_position_layers: vec![2, 2], ..rope.clone() }, "twice");
        ModelConfig { no_position_layers: vec![3, 1], ..rope.clone() }.validate().unwrap();
        let kerple = ModelConfig { positional: Positional::Kerple, causal: false, ..rope };
        ModelConfig { no_position_layers: vec![0], ..kerple }.validate().unwrap();
    }

    #[test]
    fn token_scale_is_root_c_for_sinusoidal_positions_only() {
        let mut cfg = ModelConfig::gpt(10, 8, 1, 2, 64);
        assert_eq!(cfg.token_scale(), 1.0);
        cfg.positional = Positional::Sinusoidal;
        assert_eq!(cfg.token_scale(), 8.0);
    }
}
