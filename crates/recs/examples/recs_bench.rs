//! The recommender's speed at catalog scale (docs/BENCHMARKS.md): over the
//! 74,728 records of `../shared/data/arxiv/arxiv-2025-2026.jsonl.zst`, a
//! member with 500 liked papers, the candidates of one week and of one month
//! (every paper listed then), with MiniLM-shaped vectors (384 dimensions,
//! random unit vectors: the timing does not depend on their values).
//!
//! Times `rank_with` on cached features (the served path), `rank` cold
//! (every text tokenised), and the update after one more like (a re-rank
//! with 501 likes: the model is nothing but the features, so that is all an
//! update costs). Medians of several runs.
//!
//! `cargo run --release --example recs_bench [-- PATH]`; skips, saying so,
//! when the data file is absent.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use paperboy_recs::{Candidate, Features, Item, Profile, Recommender};

#[derive(serde::Deserialize)]
struct Record {
    id: String,
    title: String,
    #[serde(default, rename = "abstract")]
    text: String,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    listing_date: String,
}

const DIM: usize = 384;
const LIKED: usize = 500;
const RUNS: usize = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/arxiv/arxiv-2025-2026.jsonl.zst")
    });
    if !path.exists() {
        println!("skipped: no data file at {} (pass its path as the first argument)", path.display());
        return Ok(());
    }
    let t = Instant::now();
    let reader = std::io::BufReader::new(zstd::Decoder::new(std::fs::File::open(&path)?)?);
    let mut records: Vec<Record> = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if !line.trim().is_empty() {
            records.push(serde_json::from_str(&line)?);
        }
    }
    records.sort_by(|a, b| a.listing_date.cmp(&b.listing_date).then_with(|| a.id.cmp(&b.id)));
    println!("{} records read in {:.1} s", records.len(), t.elapsed().as_secs_f64());

    // Random unit vectors from a fixed-seed generator.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    let vectors: Vec<Vec<f32>> = records
        .iter()
        .map(|_| {
            let v: Vec<f32> = (0..DIM).map(|_| next()).collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        })
        .collect();
    let items: Vec<Item> = records
        .iter()
        .zip(&vectors)
        .map(|(r, v)| Item {
            id: &r.id,
            title: &r.title,
            text: &r.text,
            authors: &r.authors,
            categories: &r.categories,
            vector: Some(v),
        })
        .collect();

    let recommender = Recommender::default();
    let t = Instant::now();
    let features: Vec<Features> = items.iter().map(|i| recommender.features(i)).collect();
    let all_features = t.elapsed();
    let cache: HashMap<&str, &Features> = items.iter().zip(&features).map(|(i, f)| (i.id, f)).collect();

    // The busiest month, and its busiest ISO week.
    let mut months: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        *months.entry(&r.listing_date[..7.min(r.listing_date.len())]).or_default() += 1;
    }
    let month = months.iter().max_by_key(|(m, n)| (**n, *m)).map(|(m, _)| m.to_string()).unwrap_or_default();
    let in_month: Vec<usize> = (0..records.len()).filter(|&i| records[i].listing_date.starts_with(&month)).collect();
    let mut weeks: HashMap<u32, Vec<usize>> = HashMap::new();
    for &i in &in_month {
        let d = chrono_free_day(&records[i].listing_date);
        weeks.entry(d / 7).or_default().push(i);
    }
    let week = weeks.into_values().max_by_key(|w| (w.len(), w[0])).unwrap_or_default();
    // 500 liked papers listed before that month, from the month's most
    // common first category (a member reading one field).
    let first = in_month.first().copied().unwrap_or(0);
    let field = top_category(&records, &in_month);
    let liked_pool: Vec<usize> =
        (0..first).filter(|&i| records[i].categories.first().is_some_and(|c| *c == field)).collect();
    let step = (liked_pool.len() / (LIKED + 1)).max(1);
    let liked: Vec<Item> = liked_pool.iter().step_by(step).take(LIKED + 1).map(|&i| items[i]).collect();
    println!(
        "features of all {} papers: {:.2} s; liked: {} papers of {field}; week: {} candidates, month {month}: {}",
        items.len(),
        all_features.as_secs_f64(),
        LIKED,
        week.len(),
        in_month.len()
    );
    println!("vectors: random unit vectors, {DIM} dimensions (MiniLM's shape; timing does not depend on values)");
    println!();
    println!(
        "| candidates | rank, cached features (served) | rank, cold (tokenise all) | update: re-rank with {} likes |",
        LIKED + 1
    );
    println!("|---|---|---|---|");
    for (label, set) in [("week", &week), ("month", &in_month)] {
        let cands: Vec<Candidate> = set.iter().map(|&i| Candidate { item: items[i], popularity: 0.0 }).collect();
        let profile = Profile { liked: liked[..LIKED].to_vec(), ..Profile::default() };
        let more = Profile { liked: liked.clone(), ..Profile::default() };
        let cached = median(|| {
            std::hint::black_box(recommender.rank_with(&profile, &cands, |it| cache.get(it.id).copied()));
        });
        let cold = median(|| {
            std::hint::black_box(recommender.rank(&profile, &cands));
        });
        let update = median(|| {
            std::hint::black_box(recommender.rank_with(&more, &cands, |it| cache.get(it.id).copied()));
        });
        println!(
            "| {label} ({} papers) | {:.1} ms | {:.1} ms | {:.1} ms |",
            cands.len(),
            ms(cached),
            ms(cold),
            ms(update)
        );
    }
    Ok(())
}

/// Days since 2000-01-03 (a Monday) of a `YYYY-MM-DD` date, so `/ 7` gives
/// Monday-based weeks.
fn chrono_free_day(date: &str) -> u32 {
    let p = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let (y, m, d) = (p(0..4), p(5..7), p(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468; // days since 1970-01-01
    (days - 10_959).max(0) as u32 // 2000-01-03 is day 10,959
}

fn top_category(records: &[Record], among: &[usize]) -> String {
    let mut n: HashMap<&str, usize> = HashMap::new();
    for &i in among {
        if let Some(c) = records[i].categories.first() {
            *n.entry(c).or_default() += 1;
        }
    }
    n.into_iter().max_by_key(|(c, k)| (*k, *c)).map(|(c, _)| c.to_string()).unwrap_or_default()
}

fn median(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
