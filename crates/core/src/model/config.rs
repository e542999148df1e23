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
    /// Fixed sine/cosine position encodings added to the tokens (Vaswani et al.).
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
    /// RoPE context extension (position interpolation or NTK-aware base stretching), applied
    /// in training and inference alike.
    pub rope_scaling: RopeScaling,
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

    /// The RoPE settings for rows starting at `position_offset` (every head dim rotated).
    pub fn rope_config(&self, position_offset: usize) -> RopeConfig {
        RopeConfig {
            base: self.rope_base,
            rotary_dim: self.head_dim(),
            position_offset,
            scaling: self.rope_scaling,
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
