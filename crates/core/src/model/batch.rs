//! One call's inputs: token ids and, as the model and task need, next-token or masked-token
//! targets, segment ids, a key-padding (attention) mask and sequence labels.
//!
//! Shapes: `ids, targets, type_ids, attention_mask: [B, T]`, `labels: [B]` (a training step
//! takes `accum` such batches back to back). Targets and labels equal to `-100` are ignored.

use std::ops::Range;

use crate::error::{check_len, Error, Result};

/// The value of a target or label that the loss skips (PyTorch's `ignore_index`).
pub const IGNORE_INDEX: i32 = -100;

/// A batch of `B` sequences of `T` tokens. Only `ids` is required.
#[derive(Clone, Copy, Debug, Default)]
pub struct Batch<'a> {
    /// `[B, T]` token ids (`< V`).
    pub ids: &'a [u32],
    /// `[B, T]` token targets (`< V` or [`IGNORE_INDEX`]) for the LM head's loss.
    pub targets: Option<&'a [i32]>,
    /// `[B, T]` segment ids (`< type_vocab_size`); `None`: all 0.
    pub type_ids: Option<&'a [u32]>,
    /// `[B, T]` `1` for real tokens, `0` for padding (masked as keys); `None`: all real.
    pub attention_mask: Option<&'a [u8]>,
    /// `[B]` class labels (`< n_classes` or [`IGNORE_INDEX`]) for the classifier's loss.
    pub labels: Option<&'a [i32]>,
}

impl<'a> Batch<'a> {
    /// Token ids with next-token targets (a GPT batch).
    pub fn tokens(ids: &'a [u32], targets: Option<&'a [i32]>) -> Self {
        Self { ids, targets, ..Self::default() }
    }

    /// Checks every present buffer against `b` sequences of `t` tokens.
    pub fn check(&self, b: usize, t: usize) -> Result<()> {
        let n = b * t;
        check_len("model: ids", n, self.ids.len())?;
        if let Some(x) = self.targets {
            check_len("model: targets", n, x.len())?;
        }
        if let Some(x) = self.type_ids {
            check_len("model: type_ids", n, x.len())?;
        }
        if let Some(x) = self.attention_mask {
            check_len("model: attention_mask", n, x.len())?;
        }
        if let Some(x) = self.labels {
            check_len("model: labels", b, x.len())?;
        }
        Ok(())
    }

    /// Sequences `seqs` (of `t` tokens each) of this batch.
    pub fn sequences(&self, seqs: Range<usize>, t: usize) -> Self {
        let rows = seqs.start * t..seqs.end * t;
        Self {
            ids: &self.ids[rows.clone()],
            targets: self.targets.map(|x| &x[rows.clone()]),
            type_ids: self.type_ids.map(|x| &x[rows.clone()]),
            attention_mask: self.attention_mask.map(|x| &x[rows]),
            labels: self.labels.map(|x| &x[seqs]),
        }
    }

    /// Targets and labels that count toward the losses: `(tokens, sequences)`.
    pub fn counted(&self) -> (usize, usize) {
        let count =
            |x: Option<&[i32]>| x.map_or(0, |x| x.iter().filter(|&&v| v != IGNORE_INDEX).count());
        (count(self.targets), count(self.labels))
    }

    /// An error unless the batch has targets or labels (training and evaluation need one).
    pub fn require_targets(&self) -> Result<()> {
        if self.targets.is_none() && self.labels.is_none() {
            return Err(Error::InvalidArgument("model: a loss needs targets or labels".into()));
        }
        Ok(())
    }
}
