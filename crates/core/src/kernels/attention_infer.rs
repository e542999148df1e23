//! The INFERENCE attention paths of `attention.rs` (no saved state, no `[T, T]` buffer):
//! [`forward_blocks`] behind `attention_forward_infer` (blocks of query rows × key tiles
//! through the matmul engine, online softmax) and [`attend_row`], one query row against a KV
//! cache (the decode). Math and shapes as in `attention.rs`; everything is checked by the
//! callers.

use super::attention::{AttnInferDims, AttnOptions};
use super::gemm::{gemm, Gemm, Triangle, View, BLOCKING};
use crate::math::{fast_exp, fast_exp4};
use crate::par::{self, for_each_row_block};
use crate::simd::{F32x4, LANES};

/// Keys scored at once by the online softmax of one query row ([`attend_row`]).
const TILE: usize = 64;
/// Query rows of one block of [`forward_blocks`].
const QUERY_BLOCK: usize = 64;
/// Keys of one tile of [`forward_blocks`].
const KEY_TILE: usize = 128;

/// The inference forward over every query row, a block of up to [`QUERY_BLOCK`] rows of one
/// `(b, h)` pair at a time (`out` rows split over threads): for each tile of [`KEY_TILE`] keys,
/// `S = Q Kᵀ` through the matmul engine, masked and scaled scores turned into probabilities
/// with a running max `m` and sum `l` per row (online softmax), then `O += P V` through the
/// engine. Scratch: one `[QUERY_BLOCK, KEY_TILE]` score tile per task. Shapes already checked.
pub(super) fn forward_blocks(
    out: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    g: AttnInferDims,
    options: AttnOptions<'_>,
) {
    let AttnInferDims { b: _, h, t_q, t_k, d } = g;
    let scale = 1.0 / (d as f32).sqrt();
    // Query i may see keys up to i + offset (the last t_q positions of t_k).
    let offset = t_k - t_q;
    let min_rows = ((1 << 15) / (t_k * d).max(1)).max(1);
    for_each_row_block(out, d, min_rows, |rows, block| {
        // Nested products run on this thread: the row blocks already occupy the pool.
        par::serially(|| {
            let mut scores = vec![0.0f32; QUERY_BLOCK * KEY_TILE];
            let (mut max, mut sum) = ([0.0f32; QUERY_BLOCK], [0.0f32; QUERY_BLOCK]);
            let mut r = rows.start;
            while r < rows.end {
                // Rows r..r_end: one pair, at most QUERY_BLOCK of them.
                let (pair, i0) = (r / t_q, r % t_q);
                let r_end = rows.end.min(r - i0 + t_q).min(r + QUERY_BLOCK);
                let n_rows = r_end - r;
                let o = &mut block[(r - rows.start) * d..(r_end - rows.start) * d];
                let q_rows = &q[r * d..r_end * d];
                let kv = pair * t_k * d..(pair + 1) * t_k * d;
                let (k_pair, v_pair) = (&k[kv.clone()], &v[kv]);
                let pad = options.key_padding.map(|p| &p[(pair / h) * t_k..(pair / h + 1) * t_k]);
                let bias =
                    options.bias.map(|bi| &bi[(pair % h) * t_q * t_k..(pair % h + 1) * t_q * t_k]);
                let n_keys = if options.causal { t_k.min(i0 + n_rows + offset) } else { t_k };
                o.fill(0.0);
                max[..n_rows].fill(f32::NEG_INFINITY);
                sum[..n_rows].fill(0.0);
                for j0 in (0..n_keys).step_by(KEY_TILE) {
                    let n_tile = KEY_TILE.min(n_keys - j0);
                    let s = &mut scores[..n_rows * n_tile];
                    // S = Q Kᵀ: B[p, j] = K[j0 + j, p].
                    let keys = View { data: &k_pair[j0 * d..(j0 + n_tile) * d], rs: 1, cs: d };
                    let queries = View { data: q_rows, rs: d, cs: 1 };
                    let product = Gemm {
                        a: queries,
                        b: keys,
                        m: n_rows,
                        k: d,
                        n: n_tile,
                        triangle: Triangle::Full,
                    };
                    gemm(s, product, None, false, &BLOCKING);
                    for (row, s_row) in s.chunks_exact_mut(n_tile).enumerate() {
                        let i = i0 + row;
                        let last_key = if options.causal { i + offset } else { t_k - 1 };
                        let bias_row = bias.map(|bi| &bi[i * t_k..(i + 1) * t_k]);
                        let mut tile_max = f32::NEG_INFINITY;
                        for (j, x) in (j0..).zip(s_row.iter_mut()) {
                            let allowed = j <= last_key && pad.is_none_or(|p| p[j] != 0);
                            *x = if allowed {
                                *x * scale + bias_row.map_or(0.0, |bi| bi[j])
                            } else {
                                f32::NEG_INFINITY
                            };
                            tile_max = tile_max.max(*x);
                        }
                        if tile_max == f32::NEG_INFINITY {
                            s_row.fill(0.0); // no allowed key in this tile: P = 0, m and l unchanged
                            continue;
                        }
                        let m_new = max[row].max(tile_max);
                        let alpha = fast_exp(max[row] - m_new); // 0 while the max is -inf
                        max[row] = m_new;
                        let mut tile_sum = 0.0;
                        let split = n_tile - n_tile % LANES;
                        let m4 = F32x4::splat(m_new);
                        for c in s_row[..split].chunks_exact_mut(LANES) {
                            let p = fast_exp4(F32x4::load(c) - m4);
                            p.store(c);
                            tile_sum += p.horizontal_sum();
                        }
                        for x in &mut s_row[split..] {
                            *x = fast_exp(*x - m_new);
                            tile_sum += *x;
                        }
                        sum[row] = sum[row] * alpha + tile_sum;
                        if alpha != 1.0 {
                            scale_in_place(&mut o[row * d..(row + 1) * d], alpha);
                        }
                    }
                    // O += P V.
                    let probs = View { data: s, rs: n_tile, cs: 1 };
                    let values = View { data: &v_pair[j0 * d..(j0 + n_tile) * d], rs: d, cs: 1 };
                    let product = Gemm {
                        a: probs,
                        b: values,
                        m: n_rows,
                        k: n_tile,
                        n: d,
                        triangle: Triangle::Full,
                    };
                    gemm(o, product, None, true, &BLOCKING);
                }
                for (o_row, &l) in o.chunks_exact_mut(d).zip(&sum[..n_rows]) {
                    // l = 0: no allowed key; the row stays 0.
                    if l > 0.0 {
                        scale_in_place(o_row, 1.0 / l);
                    }
                }
                r = r_end;
            }
        });
    });
}

/// The keys one query row attends to ([`attend_row`]): `k, v: [t_k, D]`, `pad: [t_k]`
/// (nonzero = a real token), `bias: [t_k]` (added to the scaled scores), of which the first
/// `n_keys` are read.
#[derive(Clone, Copy)]
pub(crate) struct RowKeys<'a> {
    /// `[t_k, D]`.
    pub k: &'a [f32],
    /// `[t_k, D]`.
    pub v: &'a [f32],
    /// `[t_k]`; `None`: no padding.
    pub pad: Option<&'a [u8]>,
    /// `[t_k]`; `None`: no bias.
    pub bias: Option<&'a [f32]>,
    /// Keys `0..n_keys` are attended to (≤ `t_k`).
    pub n_keys: usize,
}

/// One query row: `out_i = softmax(S_i) v` over keys `0..n_keys` (minus padding) in tiles of
/// [`TILE`] keys with a running max `m` and sum `l`; returns `lse_i = m + ln l` (`-inf` and
/// `out_i = 0` if no key is allowed). `out_i, q_i: [D]`, `keys` as in [`RowKeys`].
///
/// Keys go four at a time: four independent dot products (one FMA chain each would otherwise
/// wait on the previous FMA), exponentials on [`F32x4`] lanes, and four `p_j v_j` added per
/// load and store of `out_i`. Each key's arithmetic is the same as one at a time, in the same
/// order, so the result does not depend on the grouping.
pub(crate) fn attend_row(out_i: &mut [f32], q_i: &[f32], keys: RowKeys<'_>, scale: f32) -> f32 {
    let RowKeys { k, v, pad, bias: bias_row, n_keys } = keys;
    let d = q_i.len();
    let mut scores = [f32::NEG_INFINITY; TILE];
    let mut live = [0usize; TILE];
    let (mut m, mut l) = (f32::NEG_INFINITY, 0.0f32);
    out_i.fill(0.0);
    for start in (0..n_keys).step_by(TILE) {
        let len = TILE.min(n_keys - start);
        let keys = &k[start * d..(start + len) * d];
        let whole = len - len % 4;
        for (group, s) in keys[..whole * d].chunks_exact(4 * d).zip(scores.chunks_exact_mut(4)) {
            s.copy_from_slice(&dot4(q_i, group));
        }
        for (key, s) in keys[whole * d..].chunks_exact(d).zip(&mut scores[whole..len]) {
            *s = dot(q_i, key);
        }
        let mut n_live = 0;
        let mut tile_max = f32::NEG_INFINITY;
        for (j, s) in (start..).zip(&mut scores[..len]) {
            if pad.is_none_or(|p| p[j] != 0) {
                *s = *s * scale + bias_row.map_or(0.0, |bi| bi[j]);
                tile_max = tile_max.max(*s);
                live[n_live] = j;
                n_live += 1;
            } else {
                *s = f32::NEG_INFINITY;
            }
        }
        if tile_max == f32::NEG_INFINITY {
            continue; // every key of the tile masked
        }
        let m_new = m.max(tile_max);
        let alpha = fast_exp(m - m_new); // 0 while m = -inf (out_i and l are 0 then anyway)
        l *= alpha;
        scale_in_place(out_i, alpha);
        // Probabilities of the live keys, packed to the front of `scores`.
        for (slot, &j) in live[..n_live].iter().enumerate() {
            scores[slot] = scores[j - start] - m_new;
        }
        let lanes = n_live.next_multiple_of(LANES);
        scores[n_live..lanes].fill(f32::NEG_INFINITY); // exp gives 0 there
        for c in scores[..lanes].chunks_exact_mut(LANES) {
            fast_exp4(F32x4::load(c)).store(c);
        }
        for &p in &scores[..n_live] {
            l += p;
        }
        let groups = n_live - n_live % 4;
        for (js, ps) in live[..groups].chunks_exact(4).zip(scores.chunks_exact(4)) {
            let rows = [0, 1, 2, 3].map(|u| &v[js[u] * d..(js[u] + 1) * d]);
            axpy4(out_i, [ps[0], ps[1], ps[2], ps[3]], rows);
        }
        for (&j, &p) in live[groups..n_live].iter().zip(&scores[groups..n_live]) {
            axpy(out_i, p, &v[j * d..(j + 1) * d]);
        }
        m = m_new;
    }
    if l > 0.0 {
        scale_in_place(out_i, 1.0 / l);
        m + l.ln()
    } else {
        f32::NEG_INFINITY
    }
}

/// `a · b` over equal-length slices, [`LANES`] at a time with a scalar tail.
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let split = a.len() - a.len() % LANES;
    let mut acc = F32x4::zero();
    for (x, y) in a[..split].chunks_exact(LANES).zip(b[..split].chunks_exact(LANES)) {
        acc = F32x4::mul_add(F32x4::load(x), F32x4::load(y), acc);
    }
    acc.horizontal_sum() + a[split..].iter().zip(&b[split..]).map(|(x, y)| x * y).sum::<f32>()
}

/// [`dot`] of `a: [D]` with each of four rows `b: [4, D]`, as four independent chains (each
/// exactly what [`dot`] computes for that row).
fn dot4(a: &[f32], b: &[f32]) -> [f32; 4] {
    let d = a.len();
    let split = d - d % LANES;
    let rows = [0, 1, 2, 3].map(|u| &b[u * d..(u + 1) * d]);
    let mut acc = [F32x4::zero(); 4];
    for c in (0..split).step_by(LANES) {
        let x = F32x4::load(&a[c..]);
        for (acc, row) in acc.iter_mut().zip(&rows) {
            *acc = F32x4::mul_add(x, F32x4::load(&row[c..]), *acc);
        }
    }
    [0, 1, 2, 3].map(|u| {
        acc[u].horizontal_sum()
            + a[split..].iter().zip(&rows[u][split..]).map(|(x, y)| x * y).sum::<f32>()
    })
}

/// `y += alpha · x`.
fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    let split = y.len() - y.len() % LANES;
    let a = F32x4::splat(alpha);
    for (yc, xc) in y[..split].chunks_exact_mut(LANES).zip(x[..split].chunks_exact(LANES)) {
        F32x4::mul_add(a, F32x4::load(xc), F32x4::load(yc)).store(yc);
    }
    for (yv, &xv) in y[split..].iter_mut().zip(&x[split..]) {
        *yv += alpha * xv;
    }
}

/// [`axpy`] of four rows in turn (`y += alpha[0]·x[0]`, then `x[1]`, …) with one load and
/// store of `y` per vector.
fn axpy4(y: &mut [f32], alpha: [f32; 4], x: [&[f32]; 4]) {
    let split = y.len() - y.len() % LANES;
    let a = alpha.map(F32x4::splat);
    for c in (0..split).step_by(LANES) {
        let mut acc = F32x4::load(&y[c..]);
        for (a, x) in a.iter().zip(&x) {
            acc = F32x4::mul_add(*a, F32x4::load(&x[c..]), acc);
        }
        acc.store(&mut y[c..]);
    }
    for c in split..y.len() {
        for (a, x) in alpha.iter().zip(&x) {
            y[c] += a * x[c];
        }
    }
}

/// `y *= alpha`.
fn scale_in_place(y: &mut [f32], alpha: f32) {
    let split = y.len() - y.len() % LANES;
    let a = F32x4::splat(alpha);
    for yc in y[..split].chunks_exact_mut(LANES) {
        (F32x4::load(yc) * a).store(yc);
    }
    for yv in &mut y[split..] {
        *yv *= alpha;
    }
}
