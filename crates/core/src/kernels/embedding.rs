//! Token (+ optional learned absolute position) embedding lookup, GPT-2 style (llm.c
//! `encoder_forward` / `encoder_backward`).
//!
//! Math: `out[b, t, :] = wte[ids[b, t], :] (+ wpe[t + position_offset, :])`, and for the loss `L`
//! `dwte[v, :] += Σ_{(b, t): ids[b, t] = v} dout[b, t, :]`,
//! `dwpe[t + position_offset, :] += Σ_b dout[b, t, :]`.
//!
//! Shapes: `ids: [B, T]` (`u32`), `wte: [V, C]`, `wpe: [max_positions, C]`,
//! `out` and `dout: [B, T, C]`.
//! `position_offset` shifts the positions (e.g. when decoding with a KV cache): row `t` uses
//! `wpe[t + position_offset]`.
//!
//! Accumulation: `_forward` assigns `out`; `_backward` ADDS (`+=`) into `dwte` and `dwpe` (both
//! parameter gradients). Token ids `≥ V` and positions `≥ max_positions` (with `wpe` present) are
//! [`Error::InvalidArgument`]s, checked before any buffer is written.
//!
//! Threads: the forward splits rows of `out`; the backward splits `dwte` into disjoint blocks of
//! vocabulary rows balanced by token count (repeated ids all land in one block, so the
//! scatter-add has no races and sums each row in position order, exactly like the serial loop),
//! and `dwpe` into disjoint position rows.

use std::sync::{Mutex, PoisonError};

use crate::error::{check_len, checked_product, Error, Result};
use crate::par::{for_each_range, for_each_row_block, num_threads};

/// Below about this many floats of work a task is not worth a thread.
const MIN_FLOATS_PER_TASK: usize = 16 * 1024;

/// The sizes of one embedding lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddingDims {
    /// Batch size `B`.
    pub b: usize,
    /// Sequence length `T`.
    pub t: usize,
    /// Channels `C` (`n_embd`).
    pub c: usize,
    /// Vocabulary size `V` (rows of `wte`).
    pub vocab: usize,
    /// Rows of `wpe` (`block_size`); ignored when there is no `wpe`.
    pub max_positions: usize,
}

impl EmbeddingDims {
    /// Checks buffer lengths: `out: B·T·C`, `ids: B·T`, `wte: V·C`, `wpe: max_positions·C`,
    /// naming the offending buffer (`"embedding: wte"`, …) in [`Error::Shape`]. Zero dimensions
    /// are allowed (an empty batch, or `C = 0`).
    pub fn check(
        &self,
        out_len: usize,
        ids_len: usize,
        wte_len: usize,
        wpe_len: Option<usize>,
    ) -> Result<()> {
        let Self { b, t, c, vocab, max_positions } = *self;
        check_len("embedding: out", checked_product("embedding: out", &[b, t, c])?, out_len)?;
        check_len("embedding: ids", checked_product("embedding: ids", &[b, t])?, ids_len)?;
        check_len("embedding: wte", checked_product("embedding: wte", &[vocab, c])?, wte_len)?;
        if let Some(wpe_len) = wpe_len {
            let want = checked_product("embedding: wpe", &[max_positions, c])?;
            check_len("embedding: wpe", want, wpe_len)?;
        }
        Ok(())
    }

    /// Checks values: every token id `< V`, and (when `has_wpe`) every position
    /// `t + position_offset < max_positions`. Returns [`Error::InvalidArgument`] naming the
    /// first bad token's `(b, t)` and value, or the position range.
    pub fn check_values(&self, ids: &[u32], has_wpe: bool, position_offset: usize) -> Result<()> {
        let Self { t, vocab, max_positions, .. } = *self;
        if let Some(p) = ids.iter().position(|&id| id as usize >= vocab) {
            return Err(Error::InvalidArgument(format!(
                "embedding: token id {} at position {p} (b = {}, t = {}) is out of range for \
                 vocabulary size {vocab}",
                ids[p],
                p / t.max(1),
                p % t.max(1),
            )));
        }
        if has_wpe && t > 0 && !ids.is_empty() {
            let last = position_offset.checked_add(t - 1);
            if last.is_none_or(|last| last >= max_positions) {
                return Err(Error::InvalidArgument(format!(
                    "embedding: positions {position_offset}..{position_offset}+{t} exceed \
                     max_positions {max_positions}"
                )));
            }
        }
        Ok(())
    }
}

/// `out[b, t, :] = wte[ids[b, t], :] (+ wpe[t + position_offset, :])`.
///
/// `out: [B, T, C]`, `ids: [B, T]`, `wte: [V, C]`, `wpe: [max_positions, C]`. Errors on wrong
/// lengths ([`Error::Shape`]) and on an id `≥ V` or a position `≥ max_positions`
/// ([`Error::InvalidArgument`]); `out` is untouched then.
pub fn embedding_forward(
    out: &mut [f32],
    ids: &[u32],
    wte: &[f32],
    wpe: Option<&[f32]>,
    dims: EmbeddingDims,
    position_offset: usize,
) -> Result<()> {
    dims.check(out.len(), ids.len(), wte.len(), wpe.map(<[f32]>::len))?;
    dims.check_values(ids, wpe.is_some(), position_offset)?;
    let EmbeddingDims { t, c, .. } = dims;
    let min_rows = (MIN_FLOATS_PER_TASK / c.max(1)).max(1);
    for_each_row_block(out, c, min_rows, |rows, block| {
        for (row, dst) in rows.zip(block.chunks_exact_mut(c)) {
            let id = ids[row] as usize;
            dst.copy_from_slice(&wte[id * c..(id + 1) * c]);
            if let Some(wpe) = wpe {
                let pos = row % t + position_offset;
                for (o, &p) in dst.iter_mut().zip(&wpe[pos * c..(pos + 1) * c]) {
                    *o += p;
                }
            }
        }
    });
    Ok(())
}

/// Gradients of [`embedding_forward`], ADDED (`+=`) into `dwte` and `dwpe`.
///
/// `dwte: [V, C]`, `dwpe: [max_positions, C]`, `dout: [B, T, C]`, `ids: [B, T]`. Repeated ids
/// accumulate. Same errors as the forward; no gradient is touched when it returns one.
pub fn embedding_backward(
    dwte: &mut [f32],
    dwpe: Option<&mut [f32]>,
    dout: &[f32],
    ids: &[u32],
    dims: EmbeddingDims,
    position_offset: usize,
) -> Result<()> {
    dims.check(dout.len(), ids.len(), dwte.len(), dwpe.as_ref().map(|d| d.len()))?;
    dims.check_values(ids, dwpe.is_some(), position_offset)?;
    let EmbeddingDims { b, t, c, .. } = dims;
    if c == 0 || ids.is_empty() {
        return Ok(());
    }
    let n_tasks = num_threads().min(dout.len() / MIN_FLOATS_PER_TASK).max(1);
    scatter_wte(dwte, dout, ids, c, n_tasks);
    if let Some(dwpe) = dwpe {
        // out[b, t, :] = … + wpe[t + offset, :]  →  dwpe[t + offset, :] += Σ_b dout[b, t, :]
        let rows = &mut dwpe[position_offset * c..(position_offset + t) * c];
        let min_rows = (MIN_FLOATS_PER_TASK / (b * c)).max(1);
        for_each_row_block(rows, c, min_rows, |positions, block| {
            for (tt, dst) in positions.zip(block.chunks_exact_mut(c)) {
                for bb in 0..b {
                    let g = &dout[(bb * t + tt) * c..(bb * t + tt + 1) * c];
                    for (d, &g) in dst.iter_mut().zip(g) {
                        *d += g;
                    }
                }
            }
        });
    }
    Ok(())
}

/// One task's share of the `dwte` scatter: vocabulary rows `row0..` (its `block`) and the flat
/// positions of the tokens whose ids fall in them, sorted by id then position.
struct ScatterJob<'a> {
    row0: usize,
    tokens: &'a [usize],
    block: &'a mut [f32],
}

/// `dwte[ids[p], :] += dout[p, :]` for every flat position `p`, over `n_tasks` disjoint blocks of
/// `dwte` rows. Ids must be valid and `c > 0`. Every row sums its tokens in position order, so
/// the result is bit-identical for any `n_tasks`.
fn scatter_wte(dwte: &mut [f32], dout: &[f32], ids: &[u32], c: usize, n_tasks: usize) {
    // out[b, t, :] = wte[ids[b, t], :] + …  →  dwte[ids[b, t], :] += dout[b, t, :]
    let add_row = |dst: &mut [f32], p: usize| {
        for (d, &g) in dst.iter_mut().zip(&dout[p * c..(p + 1) * c]) {
            *d += g;
        }
    };
    if n_tasks <= 1 {
        for (p, &id) in ids.iter().enumerate() {
            let id = id as usize;
            add_row(&mut dwte[id * c..(id + 1) * c], p);
        }
        return;
    }
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&p| ids[p]); // stable: positions stay increasing within an id
    let n = order.len();
    let vocab = dwte.len() / c;
    // Block k starts at the id of its first token; a cut inside a run of one id moves to the
    // run's start, so no row is shared (blocks may merge when one id dominates).
    let mut starts = vec![0usize];
    for k in 1..n_tasks {
        let v = ids[order[k * n / n_tasks]] as usize;
        if starts.last().is_some_and(|&prev| v > prev) {
            starts.push(v);
        }
    }
    starts.push(vocab);
    let mut jobs = Vec::with_capacity(starts.len() - 1);
    let (mut rest, mut first_token) = (dwte, 0usize);
    for w in starts.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let (block, tail) = rest.split_at_mut((hi - lo) * c);
        rest = tail;
        let end = first_token + order[first_token..].partition_point(|&p| (ids[p] as usize) < hi);
        jobs.push(Mutex::new(ScatterJob { row0: lo, tokens: &order[first_token..end], block }));
        first_token = end;
    }
    // Each job is locked by exactly one task; the mutex only hands the `&mut` block over.
    for_each_range(jobs.len(), 1, |range| {
        for k in range {
            let mut guard = jobs[k].lock().unwrap_or_else(PoisonError::into_inner);
            let job = &mut *guard;
            for &p in job.tokens {
                let row = ids[p] as usize - job.row0;
                add_row(&mut job.block[row * c..(row + 1) * c], p);
            }
        }
    });
}

pub mod reference {
    //! The spec: plain loops accumulating in f64.

    use super::EmbeddingDims;
    use crate::error::Result;

    /// Reference for [`super::embedding_forward`] (same buffers, shapes and errors).
    pub fn embedding_forward_ref(
        out: &mut [f32],
        ids: &[u32],
        wte: &[f32],
        wpe: Option<&[f32]>,
        dims: EmbeddingDims,
        position_offset: usize,
    ) -> Result<()> {
        dims.check(out.len(), ids.len(), wte.len(), wpe.map(<[f32]>::len))?;
        dims.check_values(ids, wpe.is_some(), position_offset)?;
        let EmbeddingDims { b, t, c, .. } = dims;
        for bb in 0..b {
            for tt in 0..t {
                let id = ids[bb * t + tt] as usize;
                for k in 0..c {
                    let mut x = f64::from(wte[id * c + k]);
                    if let Some(wpe) = wpe {
                        x += f64::from(wpe[(tt + position_offset) * c + k]);
                    }
                    out[(bb * t + tt) * c + k] = x as f32;
                }
            }
        }
        Ok(())
    }

    /// Reference for [`super::embedding_backward`]: adds into `dwte` and `dwpe`.
    pub fn embedding_backward_ref(
        dwte: &mut [f32],
        dwpe: Option<&mut [f32]>,
        dout: &[f32],
        ids: &[u32],
        dims: EmbeddingDims,
        position_offset: usize,
    ) -> Result<()> {
        dims.check(dout.len(), ids.len(), dwte.len(), dwpe.as_ref().map(|d| d.len()))?;
        dims.check_values(ids, dwpe.is_some(), position_offset)?;
        let EmbeddingDims { b, t, c, .. } = dims;
        let mut acc_wte: Vec<f64> = dwte.iter().map(|&x| f64::from(x)).collect();
        let mut acc_wpe: Option<Vec<f64>> =
            dwpe.as_ref().map(|d| d.iter().map(|&x| f64::from(x)).collect());
        for bb in 0..b {
            for tt in 0..t {
                let id = ids[bb * t + tt] as usize;
                for k in 0..c {
                    let g = f64::from(dout[(bb * t + tt) * c + k]);
                    // out[b, t, k] = wte[id, k] + …  →  dwte[id, k] += dout[b, t, k]
                    acc_wte[id * c + k] += g;
                    // out[b, t, k] = … + wpe[t + offset, k]
                    //   →  dwpe[t + offset, k] += dout[b, t, k]
                    if let Some(acc) = acc_wpe.as_mut() {
                        acc[(tt + position_offset) * c + k] += g;
                    }
                }
            }
        }
        for (d, a) in dwte.iter_mut().zip(acc_wte) {
            *d = a as f32;
        }
        if let (Some(dwpe), Some(acc)) = (dwpe, acc_wpe) {
            for (d, a) in dwpe.iter_mut().zip(acc) {
                *d = a as f32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reference::{embedding_backward_ref, embedding_forward_ref};
    use super::*;
    use crate::testing::{assert_close, dot_loss, gradcheck, random_vec, Rng};

    fn dims(b: usize, t: usize, c: usize, vocab: usize, max_positions: usize) -> EmbeddingDims {
        EmbeddingDims { b, t, c, vocab, max_positions }
    }

    fn random_ids(len: usize, vocab: usize, seed: u64) -> Vec<u32> {
        let mut rng = Rng::new(seed);
        (0..len).map(|_| rng.below(vocab) as u32).collect()
    }

    /// Ragged shapes; small vocabularies force many repeated ids.
    fn shapes() -> Vec<(EmbeddingDims, usize)> {
        let mut out = Vec::new();
        for (i, &(b, t, c)) in
            [(1, 1, 1), (1, 3, 17), (3, 17, 3), (2, 63, 5), (4, 5, 63), (17, 3, 64)]
                .iter()
                .enumerate()
        {
            for (j, &vocab) in [1usize, 5, 97].iter().enumerate() {
                let offset = (i + j) % 3;
                out.push((dims(b, t, c, vocab, t + offset + j), offset));
            }
        }
        out
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn forward_matches_reference() {
        for (s, &(d, offset)) in shapes().iter().enumerate() {
            let s = s as u64 * 8;
            let ids = random_ids(d.b * d.t, d.vocab, s);
            let wte = random_vec(d.vocab * d.c, s + 1);
            let wpe = random_vec(d.max_positions * d.c, s + 2);
            for wpe in [None, Some(wpe.as_slice())] {
                let what = format!("{d:?} offset {offset} wpe={}", wpe.is_some());
                let mut want = vec![0.0; d.b * d.t * d.c];
                embedding_forward_ref(&mut want, &ids, &wte, wpe, d, offset).unwrap();
                let mut got = vec![f32::NAN; want.len()]; // the forward must assign every element
                embedding_forward(&mut got, &ids, &wte, wpe, d, offset).unwrap();
                assert_close(&got, &want, 1e-7, 1e-6, &what);
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn backward_matches_reference_and_accumulates() {
        for (s, &(d, offset)) in shapes().iter().enumerate() {
            let s = s as u64 * 8;
            let what = format!("{d:?} offset {offset}");
            let ids = random_ids(d.b * d.t, d.vocab, s);
            let dout = random_vec(d.b * d.t * d.c, s + 3);
            // Nonzero starting gradients: backward must add to them.
            let dwte0 = random_vec(d.vocab * d.c, s + 4);
            let dwpe0 = random_vec(d.max_positions * d.c, s + 5);
            let (mut wte_want, mut wpe_want) = (dwte0.clone(), dwpe0.clone());
            embedding_backward_ref(&mut wte_want, Some(&mut wpe_want), &dout, &ids, d, offset)
                .unwrap();
            let (mut dwte, mut dwpe) = (dwte0.clone(), dwpe0.clone());
            embedding_backward(&mut dwte, Some(&mut dwpe), &dout, &ids, d, offset).unwrap();
            let atol = 1e-6 * (d.b * d.t) as f32;
            assert_close(&dwte, &wte_want, atol, 1e-5, &format!("{what} dwte"));
            assert_close(&dwpe, &wpe_want, atol, 1e-5, &format!("{what} dwpe"));

            // No wpe: dwte is the same, and any split of the scatter is bit-identical.
            let mut serial = dwte0.clone();
            embedding_backward(&mut serial, None, &dout, &ids, d, offset).unwrap();
            assert_eq!(serial, dwte, "{what}: dwte without wpe");
            for n_tasks in 2..6 {
                let mut split = dwte0.clone();
                scatter_wte(&mut split, &dout, &ids, d.c, n_tasks);
                assert_eq!(split, serial, "{what}: scatter over {n_tasks} tasks");
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn repeated_ids_accumulate() {
        // ids = [[2, 2], [2, 0]]: row 2 gets three contributions, row 1 none.
        let d = dims(2, 2, 2, 3, 2);
        let ids = [2u32, 2, 2, 0];
        let dout = [1.0, 10.0, 2.0, 20.0, 4.0, 40.0, 8.0, 80.0];
        for n_tasks in 1..5 {
            let mut dwte = vec![0.5f32; 6];
            scatter_wte(&mut dwte, &dout, &ids, d.c, n_tasks);
            assert_eq!(dwte, [8.5, 80.5, 0.5, 0.5, 7.5, 70.5], "{n_tasks} tasks");
        }
        let (mut dwte, mut dwpe) = (vec![0.0f32; 6], vec![0.0f32; 4]);
        embedding_backward(&mut dwte, Some(&mut dwpe), &dout, &ids, d, 0).unwrap();
        assert_eq!(dwte, [8.0, 80.0, 0.0, 0.0, 7.0, 70.0]);
        assert_eq!(dwpe, [5.0, 50.0, 10.0, 100.0]); // Σ_b dout[b, t, :]

        // One id everywhere, big enough to take the threaded path.
        let d = dims(4, 256, 64, 7, 256);
        let ids = vec![3u32; 4 * 256];
        let dout = vec![0.25f32; 4 * 256 * 64];
        let mut dwte = vec![0.0f32; 7 * 64];
        embedding_backward(&mut dwte, None, &dout, &ids, d, 0).unwrap();
        for (row, chunk) in dwte.chunks_exact(64).enumerate() {
            let want = if row == 3 { 256.0 } else { 0.0 };
            assert!(chunk.iter().all(|&x| x == want), "row {row}: {chunk:?}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reference_backward_passes_gradcheck_and_fast_backward_agrees() {
        for &(d, offset) in &[(dims(2, 3, 5, 4, 5), 2), (dims(3, 1, 3, 2, 1), 0)] {
            let what = format!("{d:?} offset {offset}");
            let ids = random_ids(d.b * d.t, d.vocab, 11);
            let wte = random_vec(d.vocab * d.c, 12);
            let wpe = random_vec(d.max_positions * d.c, 13);
            let w = random_vec(d.b * d.t * d.c, 14); // L = Σ out · w, so dout = w
            let loss = |wte: &[f32], wpe: &[f32]| {
                let mut out = vec![0.0; d.b * d.t * d.c];
                embedding_forward_ref(&mut out, &ids, wte, Some(wpe), d, offset).unwrap();
                dot_loss(&out, &w)
            };
            let (mut dwte, mut dwpe) = (vec![0.0; wte.len()], vec![0.0; wpe.len()]);
            embedding_backward_ref(&mut dwte, Some(&mut dwpe), &w, &ids, d, offset).unwrap();
            gradcheck(&format!("{what} dwte"), &wte, &dwte, 1e-2, 1e-4, 1e-3, |x| loss(x, &wpe));
            gradcheck(&format!("{what} dwpe"), &wpe, &dwpe, 1e-2, 1e-4, 1e-3, |x| loss(&wte, x));

            let (mut fwte, mut fwpe) = (vec![0.0; wte.len()], vec![0.0; wpe.len()]);
            embedding_backward(&mut fwte, Some(&mut fwpe), &w, &ids, d, offset).unwrap();
            assert_close(&fwte, &dwte, 1e-6, 1e-5, &format!("{what} fast dwte"));
            assert_close(&fwpe, &dwpe, 1e-6, 1e-5, &format!("{what} fast dwpe"));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_inputs_are_errors_and_write_nothing() {
        let d = dims(2, 3, 4, 5, 4);
        let ids = [0u32, 1, 2, 3, 4, 0];
        let (wte, wpe) = (vec![1.0f32; 20], vec![1.0f32; 16]);
        let mut out = vec![7.0f32; 24];
        let shape = |what: &str, expected, got| Err(Error::shape(what, expected, got));
        let fwd = |out: &mut [f32], ids: &[u32], wte: &[f32], wpe: Option<&[f32]>, off| {
            embedding_forward(out, ids, wte, wpe, d, off)
        };
        assert_eq!(fwd(&mut out[..23], &ids, &wte, None, 0), shape("embedding: out", 24, 23));
        assert_eq!(fwd(&mut out, &ids[..5], &wte, None, 0), shape("embedding: ids", 6, 5));
        assert_eq!(fwd(&mut out, &ids, &wte[..19], None, 0), shape("embedding: wte", 20, 19));
        assert_eq!(fwd(&mut out, &ids, &wte, Some(&wpe[..3]), 0), shape("embedding: wpe", 16, 3));

        // Token id 5 ≥ V = 5 at flat position 4 (b = 1, t = 1).
        let bad_ids = [0u32, 1, 2, 3, 5, 0];
        let Err(Error::InvalidArgument(msg)) = fwd(&mut out, &bad_ids, &wte, None, 0) else {
            panic!("an out-of-range id must be an InvalidArgument");
        };
        assert!(msg.contains("token id 5") && msg.contains("position 4"), "{msg}");
        // Positions 1..4 fit max_positions = 4; 2..5 do not (but need no check without wpe).
        assert!(fwd(&mut out, &ids, &wte, Some(&wpe), 1).is_ok());
        out.fill(7.0);
        let err = fwd(&mut out, &ids, &wte, Some(&wpe), 2);
        assert!(matches!(err, Err(Error::InvalidArgument(ref m)) if m.contains("max_positions")));
        let err = fwd(&mut out, &ids, &wte, Some(&wpe), usize::MAX); // offset + t overflows
        assert!(matches!(err, Err(Error::InvalidArgument(_))));
        assert!(out.iter().all(|&x| x == 7.0), "out written on error");
        assert!(fwd(&mut out, &ids, &wte, None, 2).is_ok());

        let dout = vec![1.0f32; 24];
        let (mut dwte, mut dwpe) = (vec![0.0f32; 20], vec![0.0f32; 16]);
        let err = embedding_backward(&mut dwte, Some(&mut dwpe), &dout, &bad_ids, d, 0);
        assert!(matches!(err, Err(Error::InvalidArgument(_))));
        let err = embedding_backward(&mut dwte, Some(&mut dwpe), &dout, &ids, d, 2);
        assert!(matches!(err, Err(Error::InvalidArgument(_))));
        let err = embedding_backward(&mut dwte, Some(&mut dwpe[..15]), &dout, &ids, d, 0);
        assert_eq!(err, shape("embedding: wpe", 16, 15));
        let err = embedding_backward(&mut dwte[..4], None, &dout, &ids, d, 0);
        assert_eq!(err, shape("embedding: wte", 20, 4));
        assert!(dwte.iter().chain(&dwpe).all(|&x| x == 0.0), "gradients written on error");
    }
}
