//! Synthetic papers for the web layer's load benchmarks
//! (`crates/web/examples`): about 40 a day, with realistic field sizes, so
//! that the pages and answers are as heavy as real ones.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use paperboy_core::{Paper, PaperId};

const CATEGORIES: &[&str] = &["cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.RO", "stat.ML", "eess.IV"];

/// `count` papers with ids `2601.00001…`, listed from 5 January 2026 on.
pub fn papers(count: u32) -> Result<Vec<Paper>, Box<dyn std::error::Error>> {
    let first = NaiveDate::from_ymd_opt(2026, 1, 5).ok_or("date")?;
    (0..count)
        .map(|i| {
            let day = first + Duration::days(i64::from(i / 40));
            let id = PaperId::parse(&format!("2601.{:05}", i + 1))?;
            let mut p = Paper::new(id, format!("A Study of Scalable Method Number {i} for Visual and Textual Reasoning"), day);
            p.authors = (0..6).map(|a| format!("Author {a} Surname{i}")).collect();
            p.abstract_text = "We propose a method that improves the state of the art on several benchmarks while using less compute. "
                .repeat(12);
            p.categories = vec![
                CATEGORIES[i as usize % CATEGORIES.len()].to_string(),
                CATEGORIES[(i as usize + 3) % CATEGORIES.len()].to_string(),
            ];
            p.submitted_at = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).ok_or("time")?).into();
            p.version = Some(1);
            if i % 3 == 0 {
                p.links.code = Some(format!("https://github.com/example/repo{i}"));
            }
            p.normalize();
            Ok(p)
        })
        .collect()
}
