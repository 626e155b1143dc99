//! Int8 linear layers for the encoder, on CPUs with AVX-512 VNNI
//! (`vpdpbusd`: 64 u8×i8 multiply-adds per instruction, against 16 for an
//! f32 FMA).
//!
//! - Weights are quantised once, at load: symmetric i8 per output channel
//!   (`w ≈ sw[j] · q[j][k]`), packed in panels of 64 output columns with K in
//!   groups of 4, the layout `vpdpbusd` reads.
//! - Activations are quantised per row just before each product: u8 with the
//!   row's minimum as offset (`x ≈ m + s · q`), which spends all 256 levels on
//!   the row's actual range (GELU outputs are far from symmetric).
//! - The product accumulates in i32 (exact) and the epilogue dequantises:
//!   `y[i][j] = s[i]·sw[j]·acc + m[i]·sw[j]·Σₖq[j][k] + b[j]`, then GELU
//!   where asked, while the rows are still in cache.
//!
//! Each row's quantisation depends on that row alone and integer sums are
//! exact, so a text gets the same vector alone or packed with others.

#![allow(unsafe_code)]

use rayon::prelude::*;

/// Output columns per panel: four AVX-512 registers of 16 i32 lanes.
const PANEL: usize = 64;
/// Rows per micro-kernel call (with 4 registers per row: 24 accumulators).
const MR: usize = 6;
/// Rows per parallel task (a multiple of [`MR`]).
const ROWS_PER_TASK: usize = 8 * MR;

/// A linear layer `y = x · Wᵀ + b` with i8 weights.
pub(crate) struct QLinear {
    n_in: usize,
    n_out: usize,
    /// `n_in` rounded up to a multiple of 4.
    k_pad: usize,
    /// Panels of [`PANEL`] columns: `[panel][k / 4][column][k % 4]`.
    packed: Vec<i8>,
    /// Per output column (padded to whole panels): weight scale,
    /// scale × sum of the column's quantised weights, bias.
    scale: Vec<f32>,
    corr: Vec<f32>,
    bias: Vec<f32>,
}

impl QLinear {
    /// Quantises `w` (`n_out × n_in`, row-major as PyTorch stores it).
    pub(crate) fn new(w: &[f32], b: &[f32], n_in: usize, n_out: usize) -> QLinear {
        assert!(w.len() == n_in * n_out && b.len() == n_out);
        let k_pad = n_in.div_ceil(4) * 4;
        let panels = n_out.div_ceil(PANEL);
        let n_pad = panels * PANEL;
        let mut packed = vec![0i8; panels * k_pad * PANEL];
        let mut scale = vec![0.0f32; n_pad];
        let mut corr = vec![0.0f32; n_pad];
        let mut bias = vec![0.0f32; n_pad];
        for j in 0..n_out {
            let row = &w[j * n_in..(j + 1) * n_in];
            let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            let (p, c) = (j / PANEL, j % PANEL);
            let mut qsum = 0i64;
            for (k, v) in row.iter().enumerate() {
                let q = (v / s).round().clamp(-127.0, 127.0) as i8;
                qsum += q as i64;
                packed[((p * (k_pad / 4) + k / 4) * PANEL + c) * 4 + k % 4] = q;
            }
            scale[j] = s;
            corr[j] = s * qsum as f32;
            bias[j] = b[j];
        }
        QLinear { n_in, n_out, k_pad, packed, scale, corr, bias }
    }

    /// `out (t×n_out) = x (t×n_in) · Wᵀ + b`, then GELU if `gelu`, on all
    /// cores. Needs AVX-512 VNNI: see [`available`].
    pub(crate) fn forward(&self, x: &[f32], t: usize, out: &mut [f32], gelu: bool) {
        assert!(available(), "the int8 path needs AVX-512 VNNI");
        assert!(x.len() >= t * self.n_in && out.len() >= t * self.n_out);
        let out = &mut out[..t * self.n_out];
        let panels = self.n_out.div_ceil(PANEL);
        // A few rows (a query) split the columns across cores instead of rows.
        let threads = rayon::current_num_threads().max(1);
        let row_tasks = t.div_ceil(ROWS_PER_TASK);
        if row_tasks >= 2 * threads || panels < 2 {
            out.par_chunks_mut(ROWS_PER_TASK * self.n_out).enumerate().for_each_init(
                Vec::new,
                |buf: &mut Vec<u8>, (task, dst)| {
                    let r0 = task * ROWS_PER_TASK;
                    let rows = dst.len() / self.n_out;
                    self.rows_task(&x[r0 * self.n_in..(r0 + rows) * self.n_in], rows, 0..panels, dst, buf, gelu);
                },
            );
        } else {
            // Column groups write interleaved parts of each row; collect them
            // per group and scatter after.
            let groups = threads.min(panels);
            let per = panels.div_ceil(groups);
            let parts: Vec<(usize, Vec<f32>)> = (0..groups)
                .into_par_iter()
                .map(|g| {
                    let ps = g * per..((g + 1) * per).min(panels);
                    let c0 = ps.start * PANEL;
                    let width = (ps.end * PANEL).min(self.n_out) - c0;
                    let mut part = vec![0.0f32; t * width];
                    let mut buf = Vec::new();
                    self.cols_task(&x[..t * self.n_in], t, ps, &mut part, width, &mut buf, gelu);
                    (c0, part)
                })
                .collect();
            for (c0, part) in parts {
                let width = part.len() / t;
                for (i, row) in part.chunks_exact(width).enumerate() {
                    out[i * self.n_out + c0..i * self.n_out + c0 + width].copy_from_slice(row);
                }
            }
        }
    }

    /// Rows `x` (`rows` of them) times every column of `panels`, into `dst`
    /// (`rows × n_out`).
    fn rows_task(
        &self,
        x: &[f32],
        rows: usize,
        panels: std::ops::Range<usize>,
        dst: &mut [f32],
        buf: &mut Vec<u8>,
        gelu: bool,
    ) {
        let (s, m) = quantize_rows(x, rows, self.n_in, self.k_pad, buf);
        for p in panels {
            self.panel(buf, &s, &m, rows, p, dst, self.n_out, p * PANEL);
        }
        if gelu {
            super::gelu_chunk(dst);
        }
    }

    /// All `t` rows times the columns of `panels`, into `part`
    /// (`t × width`, the panels' columns side by side).
    #[allow(clippy::too_many_arguments)]
    fn cols_task(
        &self,
        x: &[f32],
        t: usize,
        panels: std::ops::Range<usize>,
        part: &mut [f32],
        width: usize,
        buf: &mut Vec<u8>,
        gelu: bool,
    ) {
        let (s, m) = quantize_rows(x, t, self.n_in, self.k_pad, buf);
        let c0 = panels.start * PANEL;
        for p in panels {
            self.panel(buf, &s, &m, t, p, part, width, p * PANEL - c0);
        }
        if gelu {
            super::gelu_chunk(part);
        }
    }

    /// One panel of 64 columns for all `rows` quantised rows in `q`, written
    /// at column `col0` of `dst` (rows of `stride`), only columns below
    /// `n_out`.
    #[allow(clippy::too_many_arguments)]
    fn panel(
        &self,
        q: &[u8],
        s: &[f32],
        m: &[f32],
        rows: usize,
        p: usize,
        dst: &mut [f32],
        stride: usize,
        col0: usize,
    ) {
        let w = &self.packed[p * self.k_pad * PANEL..(p + 1) * self.k_pad * PANEL];
        let j0 = p * PANEL;
        let cols = (self.n_out - j0).min(PANEL);
        let mut acc = [0i32; MR * PANEL];
        let mut r = 0;
        while r < rows {
            // `q` is padded to whole blocks of MR rows.
            assert!(q.len() >= (r + MR) * self.k_pad);
            // SAFETY: `available()` was checked by `forward`; the kernel reads
            // MR rows of k_pad bytes from q[r·k_pad..] and k_pad·64 bytes of w.
            unsafe { kernel(q[r * self.k_pad..].as_ptr(), self.k_pad, w.as_ptr(), &mut acc) };
            for i in 0..MR.min(rows - r) {
                let (si, mi) = (s[r + i], m[r + i]);
                let row = &mut dst[(r + i) * stride + col0..(r + i) * stride + col0 + cols];
                let a = &acc[i * PANEL..i * PANEL + cols];
                epilogue(
                    row,
                    a,
                    si,
                    mi,
                    &self.scale[j0..j0 + cols],
                    &self.corr[j0..j0 + cols],
                    &self.bias[j0..j0 + cols],
                );
            }
            r += MR;
        }
    }
}

/// Whether this CPU runs the int8 path.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Quantises `rows` rows of `n` into `buf` (rows of `k_pad` bytes, padded
/// with zero rows to a multiple of [`MR`]); returns each row's scale and
/// offset.
fn quantize_rows(x: &[f32], rows: usize, n: usize, k_pad: usize, buf: &mut Vec<u8>) -> (Vec<f32>, Vec<f32>) {
    buf.clear();
    buf.resize(rows.div_ceil(MR) * MR * k_pad, 0);
    let mut scales = Vec::with_capacity(rows);
    let mut mins = Vec::with_capacity(rows);
    for (row, q) in x.chunks_exact(n).take(rows).zip(buf.chunks_exact_mut(k_pad)) {
        let (s, m) = quantize_row(row, &mut q[..n]);
        scales.push(s);
        mins.push(m);
    }
    (scales, mins)
}

/// Quantises one row (see [`quantize_row_body`]). The int8 path only runs
/// where AVX-512 is present, so the row is quantised with AVX-512 intrinsics:
/// the compiler turns the plain loop's saturating `f32 as u8` into scalar
/// code, which took as long as the matrix product itself.
fn quantize_row(row: &[f32], q: &mut [u8]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked just above.
        return unsafe { quantize_row_avx512(row, q) };
    }
    quantize_row_body(row, q)
}

/// [`quantize_row_body`] with AVX-512: the same operations in the same
/// order (subtract, multiply, add ½, clamp at 255, truncate), so the bytes
/// are identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn quantize_row_avx512(row: &[f32], q: &mut [u8]) -> (f32, f32) {
    use std::arch::x86_64::*;
    let n = row.len().min(q.len());
    let whole = n / 16 * 16;
    let p = row.as_ptr();
    let mut lo = _mm512_set1_ps(f32::INFINITY);
    let mut hi = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut k = 0;
    while k < whole {
        // SAFETY: k + 16 <= whole <= row.len().
        let v = unsafe { _mm512_loadu_ps(p.add(k)) };
        lo = _mm512_min_ps(lo, v);
        hi = _mm512_max_ps(hi, v);
        k += 16;
    }
    let mut min = _mm512_reduce_min_ps(lo);
    let mut max = _mm512_reduce_max_ps(hi);
    for &v in &row[whole..n] {
        min = min.min(v);
        max = max.max(v);
    }
    let s = if max > min { (max - min) / 255.0 } else { 1.0 };
    let inv = 1.0 / s;
    let (vmin, vinv, half, top) =
        (_mm512_set1_ps(min), _mm512_set1_ps(inv), _mm512_set1_ps(0.5), _mm512_set1_ps(255.0));
    let mut k = 0;
    while k < whole {
        // SAFETY: k + 16 <= whole <= row.len() and <= q.len(); the store
        // writes 16 bytes at q[k..k + 16].
        unsafe {
            let v = _mm512_loadu_ps(p.add(k));
            let f = _mm512_min_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(v, vmin), vinv), half), top);
            let bytes = _mm512_cvtusepi32_epi8(_mm512_cvttps_epi32(f));
            _mm_storeu_si128(q.as_mut_ptr().add(k) as *mut __m128i, bytes);
        }
        k += 16;
    }
    for (d, &v) in q[whole..n].iter_mut().zip(&row[whole..n]) {
        *d = ((v - min) * inv + 0.5).min(255.0) as u8;
    }
    (s, min)
}

/// Quantises `row` into `q` as u8 over the row's own range: `x ≈ m + s·q`
/// with `m` the minimum and `s = (max − m)/255`; returns `(s, m)`.
fn quantize_row_body(row: &[f32], q: &mut [u8]) -> (f32, f32) {
    let mut min = f32::INFINITY;
    let mut max = f32::NEG_INFINITY;
    for &v in row {
        min = min.min(v);
        max = max.max(v);
    }
    let s = if max > min { (max - min) / 255.0 } else { 1.0 };
    let inv = 1.0 / s;
    // Round half up by adding 0.5 and truncating: every value is ≥ 0 here.
    for (d, &v) in q.iter_mut().zip(row) {
        *d = ((v - min) * inv + 0.5).min(255.0) as u8;
    }
    (s, min)
}

simd_dispatch!(epilogue, epilogue_body, (row: &mut [f32], acc: &[i32], s: f32, m: f32, scale: &[f32], corr: &[f32], bias: &[f32]));

#[inline(always)]
fn epilogue_body(row: &mut [f32], acc: &[i32], s: f32, m: f32, scale: &[f32], corr: &[f32], bias: &[f32]) {
    for ((((y, &a), &sw), &c), &b) in row.iter_mut().zip(acc).zip(scale).zip(corr).zip(bias) {
        *y = (a as f32 * s) * sw + m * c + b;
    }
}

/// `acc[i·64 + c] = Σₖ q[i][k] · w[k][c]` for the [`MR`] rows at `q` (rows of
/// `k_pad` bytes) and one packed panel `w`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn kernel(q: *const u8, k_pad: usize, w: *const i8, acc: &mut [i32; MR * PANEL]) {
    use std::arch::x86_64::*;
    let mut c = [[_mm512_setzero_si512(); 4]; MR];
    for g in 0..k_pad / 4 {
        // SAFETY (whole block): the caller guarantees MR rows of k_pad bytes
        // at q and k_pad·64 bytes at w; g·4 < k_pad.
        unsafe {
            let wp = w.add(g * 4 * PANEL);
            let b0 = _mm512_loadu_si512(wp as *const _);
            let b1 = _mm512_loadu_si512(wp.add(64) as *const _);
            let b2 = _mm512_loadu_si512(wp.add(128) as *const _);
            let b3 = _mm512_loadu_si512(wp.add(192) as *const _);
            for (r, cr) in c.iter_mut().enumerate() {
                let a = _mm512_set1_epi32(std::ptr::read_unaligned(q.add(r * k_pad + g * 4) as *const i32));
                cr[0] = _mm512_dpbusd_epi32(cr[0], a, b0);
                cr[1] = _mm512_dpbusd_epi32(cr[1], a, b1);
                cr[2] = _mm512_dpbusd_epi32(cr[2], a, b2);
                cr[3] = _mm512_dpbusd_epi32(cr[3], a, b3);
            }
        }
    }
    for (r, cr) in c.iter().enumerate() {
        for (v, reg) in cr.iter().enumerate() {
            // SAFETY: 16 i32 at acc[r·64 + v·16..], inside the array.
            unsafe { _mm512_storeu_si512(acc.as_mut_ptr().add(r * PANEL + v * 16) as *mut _, *reg) };
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn kernel(_q: *const u8, _k_pad: usize, _w: *const i8, _acc: &mut [i32; MR * PANEL]) {
    unreachable!("the int8 path is only chosen on x86_64 with AVX-512 VNNI")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), values in [-1, 1).
    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// `x · Wᵀ + b` in f64, the naive way.
    fn reference(x: &[f32], w: &[f32], b: &[f32], t: usize, n_in: usize, n_out: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; t * n_out];
        for i in 0..t {
            for j in 0..n_out {
                let mut acc = b[j] as f64;
                for k in 0..n_in {
                    acc += x[i * n_in + k] as f64 * w[j * n_in + k] as f64;
                }
                out[i * n_out + j] = acc as f32;
            }
        }
        out
    }

    /// The exact value of the quantised product, computed from the
    /// quantised operands with plain integer loops.
    fn quantised_reference(lin: &QLinear, x: &[f32], t: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; t * lin.n_out];
        for i in 0..t {
            let mut q = vec![0u8; lin.n_in];
            let (s, m) = quantize_row_body(&x[i * lin.n_in..(i + 1) * lin.n_in], &mut q);
            for j in 0..lin.n_out {
                let (p, c) = (j / PANEL, j % PANEL);
                let mut acc = 0i64;
                for (k, &qk) in q.iter().enumerate() {
                    let wq = lin.packed[((p * (lin.k_pad / 4) + k / 4) * PANEL + c) * 4 + k % 4];
                    acc += qk as i64 * wq as i64;
                }
                out[i * lin.n_out + j] = (acc as f32 * s) * lin.scale[j] + m * lin.corr[j] + lin.bias[j];
            }
        }
        out
    }

    #[test]
    fn int8_product_matches_naive_products_at_odd_sizes() {
        if !available() {
            eprintln!("SKIPPED: this CPU has no AVX-512 VNNI");
            return;
        }
        // Rows below, at and above a micro-kernel block and a task (both
        // the column-split and the row-split path), K not a multiple of 4,
        // columns not a multiple of a panel.
        for (t, n_in, n_out) in [(1, 3, 1), (5, 37, 70), (7, 384, 129), (13, 130, 200), (100, 67, 64), (250, 385, 131)]
        {
            let x = random(t * n_in, (t * 31 + n_in) as u64);
            let w: Vec<f32> = random(n_in * n_out, (n_out * 7 + n_in) as u64).iter().map(|v| v * 0.2).collect();
            let b = random(n_out, n_out as u64);
            let lin = QLinear::new(&w, &b, n_in, n_out);
            let mut got = vec![f32::NAN; t * n_out];
            lin.forward(&x, t, &mut got, false);
            // Exactly the quantised arithmetic (up to float rounding in the
            // epilogue)...
            let exact = quantised_reference(&lin, &x, t);
            for (g, e) in got.iter().zip(&exact) {
                assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "t={t} {n_in}x{n_out}: {g} vs {e}");
            }
            // ...and close to the f32 product: errors of a few quantisation
            // steps of x (range 2, 255 levels) and w (per row, 127 levels).
            let want = reference(&x, &w, &b, t, n_in, n_out);
            let tol = 0.02 * (n_in as f32).sqrt() * 0.2;
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() <= tol, "t={t} {n_in}x{n_out}: {g} vs f32 {e} (tolerance {tol})");
            }
            // GELU in the epilogue is GELU of the plain output.
            let mut fused = vec![0.0f32; t * n_out];
            lin.forward(&x, t, &mut fused, true);
            let mut plain = got.clone();
            crate::bert::gelu_chunk(&mut plain);
            assert_eq!(fused, plain);
        }
    }

    #[test]
    fn the_avx512_quantiser_writes_the_plain_loops_bytes() {
        for n in [1, 7, 16, 37, 384, 1536] {
            let row: Vec<f32> = random(n, n as u64).iter().map(|v| v * 3.0 + 0.25).collect();
            let (mut plain, mut fast) = (vec![0u8; n], vec![1u8; n]);
            let want = quantize_row_body(&row, &mut plain);
            let got = quantize_row(&row, &mut fast);
            assert_eq!(got, want, "n={n}");
            assert_eq!(fast, plain, "n={n}");
        }
    }

    #[test]
    fn a_row_quantises_onto_its_own_range() {
        let row = [-1.0f32, 0.0, 0.5, 3.0, 3.0, -1.0, 2.0];
        let mut q = [0u8; 7];
        let (s, m) = quantize_row_body(&row, &mut q);
        assert_eq!(m, -1.0);
        assert!((s - 4.0 / 255.0).abs() < 1e-7);
        assert_eq!((q[0], q[3], q[5]), (0, 255, 0));
        for (v, &k) in row.iter().zip(&q) {
            assert!((m + s * k as f32 - v).abs() <= s / 2.0 + 1e-6);
        }
        // A constant row is exact.
        let mut q = [9u8; 3];
        let (s, m) = quantize_row_body(&[0.25; 3], &mut q);
        assert_eq!((q, m + s * q[0] as f32), ([0; 3], 0.25));
    }
}
