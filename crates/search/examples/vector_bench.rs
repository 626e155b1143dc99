//! The int8 vector index against f32, for `bench/vectors.sh`: Recall@10 of
//! graph search and of the exact (quantized) scan against exact f32 search,
//! query latency p50/p99 beside an f32 graph built in the same run, memory of
//! vectors and graph (counted bytes and the process RSS delta), build time.
//!
//! ```text
//! cargo run --release --example vector_bench -- --real VECS.f32 [--n 100000,1000000]
//!     [--queries 200] [--no-f32]
//! cargo run --release --example vector_bench -- --texts TITLES.txt --model DIR ...
//! ```
//! `--real`: f32 little-endian rows of 384 (real embeddings). `--texts`: one
//! text a line, embedded here with the model in `--model`. Real vectors are
//! used as they are when N does not exceed them; larger N are synthetic but
//! shaped by the real ones: each vector is `r_a + w·r_b + noise` (two real
//! vectors picked at random, w in [0.3, 0.8], Gaussian noise of norm ~0.3),
//! normalised, so neighbourhoods are as anisotropic as real embeddings and
//! about N / reals vectors share a dominant real one. Queries are drawn the
//! same way and are not in the index.

use std::path::PathBuf;
use std::time::Instant;

use paperboy_search::Embedder;
use paperboy_search::hnsw::{F32Store, Hnsw, HnswParams, dot};
use paperboy_search::quant::{kernel_name, quantize};
use paperboy_search::vectors::VectorIndex;
use rayon::prelude::*;

const DIM: usize = 384;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut real: Option<PathBuf> = None;
    let mut texts: Option<PathBuf> = None;
    let mut model = PathBuf::from("models/all-MiniLM-L6-v2");
    let mut sizes: Vec<usize> = vec![100_000, 1_000_000];
    let mut nq = 200usize;
    let mut with_f32 = true;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--real" => real = Some(args.next().ok_or("--real needs a file")?.into()),
            "--texts" => texts = Some(args.next().ok_or("--texts needs a file")?.into()),
            "--model" => model = args.next().ok_or("--model needs a directory")?.into(),
            "--n" => {
                sizes = args.next().ok_or("--n needs sizes")?.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            "--queries" => nq = args.next().ok_or("--queries needs a number")?.parse()?,
            "--no-f32" => with_f32 = false,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let reals: Vec<Vec<f32>> = match (real, texts) {
        (Some(path), _) => {
            let bytes = std::fs::read(&path)?;
            let floats: Vec<f32> =
                bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            floats.chunks_exact(DIM).map(<[f32]>::to_vec).collect()
        }
        (None, Some(path)) => {
            let lines: Vec<String> = std::fs::read_to_string(&path)?.lines().map(str::to_string).collect();
            let emb = Embedder::load(&model)?;
            let mut out = Vec::new();
            for chunk in lines.chunks(64) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                out.extend(emb.embed(&refs)?);
            }
            out
        }
        (None, None) => return Err("give --real VECS.f32 or --texts FILE".into()),
    };
    eprintln!("{} real vectors; int8 dot kernel: {}", reals.len(), kernel_name());
    println!("| N | data | path | Recall@10 | p50 ms | p99 ms | ratio |");
    println!("|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for &n in &sizes {
        let note = run(n, &reals, nq, with_f32)?;
        eprintln!("{note}");
        notes.push(note);
    }
    for n in notes {
        println!("\n{n}");
    }
    Ok(())
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.unit().max(1e-7), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
    v
}

fn synthetic(reals: &[Vec<f32>], rng: &mut Rng) -> Vec<f32> {
    let a = &reals[rng.next() as usize % reals.len()];
    let b = &reals[rng.next() as usize % reals.len()];
    let w = 0.3 + 0.5 * rng.unit();
    let sigma = 0.3 / (DIM as f32).sqrt();
    normalise(a.iter().zip(b).map(|(x, y)| x + w * y + sigma * rng.gauss()).collect())
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map_or(0, |kb: usize| kb * 1024)
}

fn pct(mut ms: Vec<f64>, p: f64) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 - 1.0) * p).round() as usize]
}

fn mib(b: usize) -> String {
    format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
}

/// Recall@10 and per-query latencies of `search` over the queries.
fn measure(queries: &[Vec<f32>], truth: &[Vec<u32>], search: impl Fn(&[f32]) -> Vec<u32>) -> (f64, Vec<f64>) {
    let mut hit = 0usize;
    let mut ms = Vec::with_capacity(queries.len());
    for _ in 0..2 {
        // The first round warms caches and is not counted.
        hit = 0;
        ms.clear();
        for (q, want) in queries.iter().zip(truth) {
            let t = Instant::now();
            let got = search(q);
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            hit += got.iter().filter(|g| want.contains(g)).count();
        }
    }
    (hit as f64 / (queries.len() * 10) as f64, ms)
}

fn run(n: usize, reals: &[Vec<f32>], nq: usize, with_f32: bool) -> Result<String, Box<dyn std::error::Error>> {
    let mut rng = Rng(0x5eed_0000 + n as u64);
    let real = n + nq <= reals.len();
    let (data, queries): (Vec<Vec<f32>>, Vec<Vec<f32>>) = if real {
        (reals[..n].to_vec(), reals[n..n + nq].to_vec())
    } else {
        let data = (0..n).map(|_| synthetic(reals, &mut rng)).collect();
        let queries = (0..nq).map(|_| synthetic(reals, &mut rng)).collect();
        (data, queries)
    };
    let kind = if real { "real" } else { "synthetic" };
    eprintln!("N = {n} ({kind}): exact f32 ground truth");
    let truth: Vec<Vec<u32>> = queries
        .par_iter()
        .map(|q| {
            let mut s: Vec<(f32, u32)> = data.iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
            s.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
            s.truncate(10);
            s.into_iter().map(|(_, i)| i).collect()
        })
        .collect();

    // Scale per vector (what the index does) against one scale per
    // dimension, both without re-scoring, on the exact scan.
    let sub = n.min(100_000);
    let per_dim = {
        let mut max = vec![0f32; DIM];
        for v in &data[..sub] {
            for (m, x) in max.iter_mut().zip(v) {
                *m = m.max(x.abs());
            }
        }
        let scale: Vec<f32> = max.iter().map(|m| (m / 127.0).max(1e-12)).collect();
        let q8 = |v: &[f32]| -> Vec<f32> {
            v.iter().zip(&scale).map(|(x, s)| (x / s).round().clamp(-127.0, 127.0) * s).collect()
        };
        let deq: Vec<Vec<f32>> = data[..sub].par_iter().map(|v| q8(v)).collect();
        let per_vec: Vec<Vec<f32>> = data[..sub]
            .par_iter()
            .map(|v| {
                let (c, s) = quantize(v);
                c.iter().map(|&x| f32::from(x) * s).collect()
            })
            .collect();
        let recall = |stored: &[Vec<f32>], quant_q: bool| -> f64 {
            let hits: usize = queries
                .par_iter()
                .map(|q| {
                    let qq = if quant_q { q8(q) } else { q.clone() };
                    let top = |vs: &[Vec<f32>], q: &[f32]| -> Vec<u32> {
                        let mut s: Vec<(f32, u32)> =
                            vs.iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
                        s.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
                        s.truncate(10);
                        s.into_iter().map(|(_, i)| i).collect()
                    };
                    let want = top(&data[..sub], q);
                    let got = top(stored, &qq);
                    got.iter().filter(|g| want.contains(g)).count()
                })
                .sum();
            hits as f64 / (queries.len() * 10) as f64
        };
        let q_per_vec: Vec<Vec<f32>> = queries
            .iter()
            .map(|q| {
                let (c, s) = quantize(q);
                c.iter().map(|&x| f32::from(x) * s).collect()
            })
            .collect();
        // Per-vector: both sides quantized, as the index scores.
        let pv = {
            let hits: usize = queries
                .par_iter()
                .zip(&q_per_vec)
                .map(|(q, qq)| {
                    let top = |vs: &[Vec<f32>], q: &[f32]| -> Vec<u32> {
                        let mut s: Vec<(f32, u32)> =
                            vs.iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
                        s.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
                        s.truncate(10);
                        s.into_iter().map(|(_, i)| i).collect()
                    };
                    let want = top(&data[..sub], q);
                    top(&per_vec, qq).iter().filter(|g| want.contains(g)).count()
                })
                .sum();
            hits as f64 / (queries.len() * 10) as f64
        };
        (pv, recall(&deq, true))
    };
    eprintln!(
        "N = {n}: quantized-only exact scan Recall@10 on {sub}: per vector {:.4}, per dimension {:.4}",
        per_dim.0, per_dim.1
    );

    // The int8 index.
    let dir = tempfile::tempdir()?;
    let rss0 = rss_bytes();
    let t = Instant::now();
    let mut idx = VectorIndex::open(dir.path(), DIM)?;
    for (c, chunk) in data.chunks(10_000).enumerate() {
        let items: Vec<(String, u64, Vec<f32>)> =
            chunk.iter().enumerate().map(|(i, v)| (format!("p{}", c * 10_000 + i), 0, v.clone())).collect();
        idx.upsert(&items)?;
    }
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    idx.checkpoint(true)?;
    let snap = t.elapsed().as_secs_f64();
    let rss_int8 = rss_bytes().saturating_sub(rss0);
    let mem = idx.memory();
    let t = Instant::now();
    drop(idx);
    let mut idx = VectorIndex::open(dir.path(), DIM)?;
    let reopen = t.elapsed().as_secs_f64();
    idx.exact_below = 0;
    let node = |k: &str| k[1..].parse::<u32>().unwrap_or(u32::MAX);
    let mut rows = Vec::new();
    let mut graph_p50 = 0.0;
    let mut exact_p50 = 0.0;
    for rescore in [0, 1, 2, 4, 8] {
        idx.rescore = rescore;
        let (r, ms) =
            measure(&queries, &truth, |q| idx.search(q, 10, &|_| true).iter().map(|h| node(&h.key)).collect());
        if rescore == vectors_default() {
            graph_p50 = pct(ms.clone(), 0.5);
        }
        rows.push((format!("graph int8, re-score {}", rescore * 10), r, ms));
    }
    for rescore in [0, 4] {
        idx.rescore = rescore;
        let (r, ms) =
            measure(&queries, &truth, |q| idx.search_exact(q, 10, &|_| true).iter().map(|h| node(&h.key)).collect());
        if rescore == vectors_default() {
            exact_p50 = pct(ms.clone(), 0.5);
        }
        rows.push((format!("exact scan int8, re-score {}", rescore * 10), r, ms));
    }
    let snapshot_size = std::fs::metadata(dir.path().join("vectors.bin"))?.len();
    drop(idx);
    // Print as soon as measured: the f32 reference below takes longer.
    for (path, r, ms) in &rows {
        println!("| {n} | {kind} | {path} | {r:.4} | {:.3} | {:.3} | |", pct(ms.clone(), 0.5), pct(ms.clone(), 0.99));
    }
    eprintln!(
        "N = {n}: int8 build {build:.1} s + snapshot {snap:.1} s, reopen {reopen:.2} s; memory {mem:?}; RSS delta {}; snapshot {}",
        mib(rss_int8),
        mib(snapshot_size as usize)
    );
    let int8_rows = rows.len();

    // The f32 graph, as the index was before (same parameters), and an f32 scan.
    let mut f32_note = String::from("f32 graph not built (--no-f32)");
    let mut f32_graph_p50 = f64::NAN;
    let mut f32_exact_p50 = f64::NAN;
    if with_f32 {
        let rss0 = rss_bytes();
        let t = Instant::now();
        let mut g: Hnsw<F32Store> = Hnsw::new(DIM, HnswParams::default());
        for v in &data {
            g.insert(v);
        }
        let build_f32 = t.elapsed().as_secs_f64();
        let rss_f32 = rss_bytes().saturating_sub(rss0);
        let (r, ms) = measure(&queries, &truth, |q| g.search(q, 256).iter().take(10).map(|s| s.node).collect());
        f32_graph_p50 = pct(ms.clone(), 0.5);
        rows.push(("graph f32 (before)".into(), r, ms));
        f32_note = format!(
            "f32 graph: build {build_f32:.1} s, vectors {} + links {}, RSS delta {}",
            mib(g.vector_bytes()),
            mib(g.link_bytes()),
            mib(rss_f32)
        );
        drop(g);
        let (r, ms) = measure(&queries, &truth, |q| {
            let mut s: Vec<(f32, u32)> = data.par_iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
            s.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
            s.truncate(10);
            s.into_iter().map(|(_, i)| i).collect()
        });
        f32_exact_p50 = pct(ms.clone(), 0.5);
        rows.push(("exact scan f32 (in RAM)".into(), r, ms));
    }
    for (path, r, ms) in &rows[int8_rows..] {
        let p50 = pct(ms.clone(), 0.5);
        let ours = if path.starts_with("graph") { graph_p50 } else { exact_p50 };
        println!(
            "| {n} | {kind} | {path} | {r:.4} | {p50:.3} | {:.3} | int8 (re-score 40) / f32 = {:.2}x |",
            pct(ms.clone(), 0.99),
            ours / p50
        );
    }
    let _ = (f32_graph_p50, f32_exact_p50);
    Ok(format!(
        "N = {n} ({kind}): int8 index build {build:.1} s + snapshot {snap:.1} s, reopen {reopen:.2} s; \
         memory: int8 vectors {} + links {} + keys {} + disk locations {} = {}; RSS delta {}; snapshot file {}. \
         {f32_note}. Quantized-only exact scan Recall@10 on {sub} vectors: scale per vector {:.4}, per dimension {:.4}.",
        mib(mem.vectors),
        mib(mem.links),
        mib(mem.keys),
        mib(mem.locations),
        mib(mem.total()),
        mib(rss_int8),
        mib(snapshot_size as usize),
        per_dim.0,
        per_dim.1,
    ))
}

fn vectors_default() -> usize {
    paperboy_search::vectors::RESCORE
}
