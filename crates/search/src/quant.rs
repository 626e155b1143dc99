//! Int8 vectors: per-vector symmetric quantization (`x ≈ scale · code`, codes
//! in -127..=127) and the integer dot product the graph and the exact scan
//! run on, with AVX-512 VNNI, AVX-512 BW and AVX2 kernels picked at run time
//! and a scalar fallback that defines the result (all kernels are exact
//! integer arithmetic, so they agree bit for bit).
//!
//! A 384-d unit vector takes 384 bytes plus a 4-byte scale instead of 1,536
//! bytes; the similarity of two quantized unit vectors is off by about 1e-3
//! (see the tests), which the vector index repairs by re-scoring its top
//! candidates with the exact vectors it keeps on disk.

use std::sync::OnceLock;

/// Quantizes `v` into `out` (cleared first); returns the scale.
/// A zero (or non-finite) vector gets scale 0 and all-zero codes.
pub fn quantize_into(v: &[f32], out: &mut Vec<i8>) -> f32 {
    out.clear();
    let max = v.iter().fold(0f32, |m, x| if x.is_finite() { m.max(x.abs()) } else { m });
    if max == 0.0 {
        out.resize(v.len(), 0);
        return 0.0;
    }
    let scale = max / 127.0;
    let inv = 1.0 / scale;
    out.extend(v.iter().map(|&x| if x.is_finite() { (x * inv).round().clamp(-127.0, 127.0) as i8 } else { 0 }));
    scale
}

/// Quantizes `v`: (codes, scale).
pub fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let mut codes = Vec::with_capacity(v.len());
    let scale = quantize_into(v, &mut codes);
    (codes, scale)
}

/// The approximate vector back from its codes.
pub fn dequantize(codes: &[i8], scale: f32) -> Vec<f32> {
    codes.iter().map(|&c| f32::from(c) * scale).collect()
}

/// The reference integer dot product (the scalar fallback).
pub fn dot_i8_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum()
}

/// Which kernel [`dot_i8`] runs on this CPU (for benchmarks and logs).
pub fn kernel_name() -> &'static str {
    kernel().0
}

type Kernel = (&'static str, fn(&[i8], &[i8]) -> i32);

fn kernel() -> &'static Kernel {
    static K: OnceLock<Kernel> = OnceLock::new();
    K.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::env::var_os("PAPERBOY_SCALAR_DOT").is_none() {
                if is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512bw") {
                    return ("avx512-vnni", x86::dot_vnni);
                }
                if is_x86_feature_detected!("avx512bw") {
                    return ("avx512bw", x86::dot_avx512bw);
                }
                if is_x86_feature_detected!("avx2") {
                    return ("avx2", x86::dot_avx2);
                }
            }
        }
        ("scalar", dot_i8_scalar)
    })
}

/// Σ a[i]·b[i] over the shorter length, exactly, on the best kernel.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    (kernel().1)(a, b)
}

/// The SIMD kernels: `unsafe` for the intrinsics and for calling functions
/// compiled with CPU features, each call guarded by run-time detection.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    use super::dot_i8_scalar;

    pub fn dot_vnni(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: chosen only after `is_x86_feature_detected!` saw
        // avx512vnni and avx512bw (which implies avx512f).
        unsafe { vnni(a, b) }
    }

    pub fn dot_avx512bw(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: chosen only after avx512bw was detected.
        unsafe { avx512bw(a, b) }
    }

    pub fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: chosen only after avx2 was detected.
        unsafe { avx2(a, b) }
    }

    /// VPDPBUSD multiplies unsigned by signed bytes: with a' = a + 128
    /// (a XOR 0x80), Σ a'·b = Σ a·b + 128·Σ b, and Σ b is a second VPDPBUSD
    /// against ones.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn vnni(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let chunks = n / 64;
        let flip = _mm512_set1_epi8(i8::MIN);
        let ones = _mm512_set1_epi8(1);
        let mut acc = _mm512_setzero_si512();
        let mut sum_b = _mm512_setzero_si512();
        for i in 0..chunks {
            // SAFETY: i * 64 + 64 <= n <= both lengths; unaligned loads.
            let (va, vb) = unsafe {
                (_mm512_loadu_si512(a.as_ptr().add(i * 64).cast()), _mm512_loadu_si512(b.as_ptr().add(i * 64).cast()))
            };
            acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(va, flip), vb);
            sum_b = _mm512_dpbusd_epi32(sum_b, ones, vb);
        }
        let simd = _mm512_reduce_add_epi32(acc) - 128 * _mm512_reduce_add_epi32(sum_b);
        simd + dot_i8_scalar(&a[chunks * 64..n], &b[chunks * 64..n])
    }

    /// Sign-extend 32 bytes to 16-bit lanes, VPMADDWD pairs into 32-bit.
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn avx512bw(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let chunks = n / 32;
        let mut acc = _mm512_setzero_si512();
        for i in 0..chunks {
            // SAFETY: i * 32 + 32 <= n <= both lengths; unaligned loads.
            let (va, vb) = unsafe {
                (_mm256_loadu_si256(a.as_ptr().add(i * 32).cast()), _mm256_loadu_si256(b.as_ptr().add(i * 32).cast()))
            };
            let prod = _mm512_madd_epi16(_mm512_cvtepi8_epi16(va), _mm512_cvtepi8_epi16(vb));
            acc = _mm512_add_epi32(acc, prod);
        }
        _mm512_reduce_add_epi32(acc) + dot_i8_scalar(&a[chunks * 32..n], &b[chunks * 32..n])
    }

    #[target_feature(enable = "avx2")]
    unsafe fn avx2(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let chunks = n / 16;
        let mut acc = _mm256_setzero_si256();
        for i in 0..chunks {
            // SAFETY: i * 16 + 16 <= n <= both lengths; unaligned loads.
            let (va, vb) = unsafe {
                (_mm_loadu_si128(a.as_ptr().add(i * 16).cast()), _mm_loadu_si128(b.as_ptr().add(i * 16).cast()))
            };
            let prod = _mm256_madd_epi16(_mm256_cvtepi8_epi16(va), _mm256_cvtepi8_epi16(vb));
            acc = _mm256_add_epi32(acc, prod);
        }
        // SAFETY: __m256i is 32 plain bytes, the same as [i32; 8].
        let lanes: [i32; 8] = unsafe { std::mem::transmute(acc) };
        lanes.iter().sum::<i32>() + dot_i8_scalar(&a[chunks * 16..n], &b[chunks * 16..n])
    }

    /// Every kernel this CPU has, by name (tests compare each with scalar).
    #[cfg(test)]
    pub fn available() -> Vec<super::Kernel> {
        let mut out: Vec<super::Kernel> = Vec::new();
        if is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512bw") {
            out.push(("avx512-vnni", dot_vnni));
        }
        if is_x86_feature_detected!("avx512bw") {
            out.push(("avx512bw", dot_avx512bw));
        }
        if is_x86_feature_detected!("avx2") {
            out.push(("avx2", dot_avx2));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn unit(dim: usize, seed: &mut u64) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| lcg(seed)).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }

    #[test]
    fn quantize_dequantize_error_is_bounded() {
        let mut seed = 1;
        for dim in [1, 7, 384, 385] {
            for _ in 0..50 {
                let v = unit(dim, &mut seed);
                let (codes, scale) = quantize(&v);
                assert!(codes.iter().all(|&c| c != i8::MIN), "codes stay symmetric");
                let back = dequantize(&codes, scale);
                // Rounding moves each component by at most half a step.
                for (x, y) in v.iter().zip(&back) {
                    assert!((x - y).abs() <= scale * 0.5 + 1e-7, "{x} vs {y} (step {scale})");
                }
            }
        }
        assert_eq!(quantize(&[0.0, 0.0]), (vec![0, 0], 0.0));
        assert_eq!(quantize(&[f32::NAN, 1.0]).0, vec![0, 127]);
    }

    #[test]
    fn quantized_similarity_is_close_to_exact() {
        let mut seed = 7;
        let mut worst = 0f32;
        for _ in 0..500 {
            let (a, b) = (unit(384, &mut seed), unit(384, &mut seed));
            let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let ((ca, sa), (cb, sb)) = (quantize(&a), quantize(&b));
            let approx = dot_i8(&ca, &cb) as f32 * sa * sb;
            worst = worst.max((exact - approx).abs());
        }
        assert!(worst < 4e-3, "worst similarity error {worst}");
    }

    #[test]
    fn every_kernel_matches_the_scalar_reference_on_odd_lengths() {
        let mut seed = 3;
        let mut kernels: Vec<Kernel> = vec![("dispatch", dot_i8)];
        #[cfg(target_arch = "x86_64")]
        kernels.extend(x86::available());
        for len in [0, 1, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 383, 384, 385, 1000] {
            let a: Vec<i8> = (0..len).map(|_| (lcg(&mut seed) * 127.0) as i8).collect();
            let b: Vec<i8> = (0..len).map(|_| (lcg(&mut seed) * 127.0) as i8).collect();
            let extremes_a = vec![-127i8; len];
            let extremes_b = vec![127i8; len];
            for (name, k) in &kernels {
                assert_eq!(k(&a, &b), dot_i8_scalar(&a, &b), "{name} at length {len}");
                assert_eq!(k(&extremes_a, &extremes_b), -127 * 127 * len as i32, "{name} extremes at {len}");
                assert_eq!(k(&extremes_a, &extremes_a), 127 * 127 * len as i32, "{name} extremes at {len}");
            }
        }
    }
}
