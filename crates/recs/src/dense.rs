//! Cosines between two sets of sentence vectors (already unit length) as one
//! matrix product: 1,000 candidates × 500 liked papers × 384 dimensions is
//! 192 million multiply-adds, which `gemm` (the kernels the search crate's
//! encoder uses, AVX-512 where the CPU has it) does in a few milliseconds.
#![allow(unsafe_code)]

/// Below this many multiply-adds the product runs on the calling thread.
const PARALLEL_FLOPS: usize = 16 * 1024 * 1024;

/// `out[i * b.len() + j] = a[i] · b[j]` for rows of length `dim`.
pub(crate) fn cosines(a: &[&[f32]], b: &[&[f32]], dim: usize) -> Vec<f32> {
    let (m, n) = (a.len(), b.len());
    let mut out = vec![0.0f32; m * n];
    if m == 0 || n == 0 || dim == 0 {
        return out;
    }
    let lhs = gather(a, dim);
    let rhs = gather(b, dim);
    assert!(lhs.len() == m * dim && rhs.len() == n * dim && out.len() == m * n);
    // SAFETY: `out` is m×n row-major (column stride 1, row stride n), `lhs`
    // m×dim row-major; the rhs element (k, j) is b[j][k], at j·dim + k inside
    // `rhs` (n×dim). All three buffers have the asserted lengths and live
    // across the call; `out` is not read (read_dst false).
    unsafe {
        gemm::gemm(
            m,
            n,
            dim,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            1,
            dim as isize,
            rhs.as_ptr(),
            dim as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            if m * n * dim < PARALLEL_FLOPS { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(0) },
        );
    }
    out
}

fn gather(rows: &[&[f32]], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows.len() * dim);
    for r in rows {
        out.extend_from_slice(&r[..dim]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_matches_plain_dot_products() {
        let dim = 37;
        let a: Vec<Vec<f32>> = (0..5).map(|i| (0..dim).map(|k| ((i * 7 + k) % 11) as f32 - 5.0).collect()).collect();
        let b: Vec<Vec<f32>> =
            (0..3).map(|j| (0..dim).map(|k| ((j * 3 + k * 5) % 13) as f32 - 6.0).collect()).collect();
        let ar: Vec<&[f32]> = a.iter().map(|v| v.as_slice()).collect();
        let br: Vec<&[f32]> = b.iter().map(|v| v.as_slice()).collect();
        let out = cosines(&ar, &br, dim);
        for i in 0..5 {
            for j in 0..3 {
                let want: f32 = a[i].iter().zip(&b[j]).map(|(x, y)| x * y).sum();
                assert!((out[i * 3 + j] - want).abs() < 1e-3, "{i},{j}: {} vs {want}", out[i * 3 + j]);
            }
        }
    }
}
