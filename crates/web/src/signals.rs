//! How the site shows a paper's trending signals (issue 15, docs/RANKING.md
//! "Trending signals"): its combined score and the parts of it, the one-line
//! reason on every card, its repository with a link and its stars, and the
//! recorded rank on a source page ("#3 on Trending Papers"). Cards, the paper
//! page, the feeds and the JSON API all read a paper's signals through
//! [`Explained`], so that they say the same thing.

use chrono::{DateTime, Utc};
use paperboy_core::ranking::{age_hours, listed_at};
use paperboy_core::trending::{self, Score, SignalInputs, SignalWeights};
use paperboy_core::{PaperId, RankingSettings};
use paperboy_store::StoredPaper;

use crate::error::WebError;
use crate::params::{QueryString, quote};

/// The ranking parameters the site explains scores with: the same as the
/// store ranks with (`[ranking]`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ranking {
    pub params: RankingSettings,
    pub weights: SignalWeights,
}

/// One paper's signals, scored at one moment, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    pub score: Score,
    /// The repository, `owner/name`: the one a signal job recorded, else the
    /// one the paper's code link names.
    pub repo: Option<String>,
    /// Its stars at the last observation.
    pub stars: Option<u64>,
    /// Stars gained in the last 7 days, when known.
    pub stars_this_week: Option<i64>,
    /// Upvotes on Hugging Face Papers.
    pub hf_upvotes: Option<u64>,
    pub local_votes: i64,
    /// "#3 on Trending Papers", when a source page's rank was recorded.
    pub source_rank: Option<String>,
    /// The paper's page on Hugging Face Papers (arXiv papers only).
    pub hf_url: Option<String>,
}

impl Explained {
    /// Scores `stored` at `now` with `ranking`.
    pub fn of(stored: &StoredPaper, ranking: &Ranking, now: DateTime<Utc>) -> Self {
        let s = &stored.signals;
        let repo = s.github_repo.clone().or_else(|| stored.paper.links.code.as_deref().and_then(github_repo_of));
        let inputs = SignalInputs {
            local_votes: stored.upvotes,
            hf_upvotes: s.hf_upvotes,
            weekly_stars: s.stars_this_week,
            total_stars: s.github_stars,
            repo: repo.clone(),
            // Members' submissions count from their feed day here; the store
            // ranks them from the submission time, hours apart at most.
            age_hours: age_hours(listed_at(stored.paper.listed_on, None), now),
        };
        let score = trending::score(&inputs, &ranking.weights, &ranking.params);
        let hf_url = match &stored.paper.id {
            PaperId::Arxiv(id) => Some(format!("https://huggingface.co/papers/{id}")),
            PaperId::Local(_) => None,
        };
        Explained {
            score,
            repo,
            stars: s.github_stars,
            stars_this_week: s.stars_this_week,
            hf_upvotes: s.hf_upvotes,
            local_votes: stored.upvotes,
            source_rank: s.source_rank.as_ref().map(|r| format!("#{} on {}", r.rank, r.page)),
            hf_url,
        }
    }

    /// The line under a card's title: the score's reason, and the recorded
    /// source rank when there is one ("#3 on Trending Papers").
    pub fn card_reason(&self) -> String {
        let reason = &self.score.reason;
        match (&self.source_rank, reason.as_str()) {
            (Some(rank), "no votes yet") => rank.clone(),
            (Some(rank), _) => format!("{reason} · {rank}"),
            (None, _) => reason.clone(),
        }
    }

    /// The repository's page on GitHub.
    pub fn repo_url(&self) -> Option<String> {
        self.repo.as_deref().map(|r| format!("https://github.com/{r}"))
    }
}

/// Whether `?has_code=1` keeps the paper: a signal job recorded its
/// repository, or it has a code link.
pub fn has_code_repo(stored: &StoredPaper) -> bool {
    stored.signals.github_repo.is_some() || stored.paper.links.code.is_some()
}

/// `owner/name` of a `https://github.com/owner/name[/…]` link, when both
/// parts are names GitHub allows (letters, digits, `-`, `_`, `.`).
pub fn github_repo_of(url: &str) -> Option<String> {
    let s = url.trim();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"))?;
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let rest = rest.strip_prefix("github.com/")?;
    let mut parts = rest.split(['/', '?', '#']);
    let owner = parts.next()?;
    let name = parts.next()?.trim_end_matches(".git");
    let ok = |s: &str| {
        (1..=100).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && s != "."
            && s != ".."
    };
    (ok(owner) && ok(name)).then(|| format!("{owner}/{name}"))
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `has_code`: `1` or `true` keeps only papers with a code repository;
/// `0`, `false` or nothing keeps all.
pub fn has_code(q: &QueryString) -> Result<bool, WebError> {
    match q.get("has_code") {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(_) => Err(WebError::bad(format!(
            "has_code={:?} is not a yes or no: use has_code=1 for papers with code, or leave it out",
            quote(q.get("has_code").unwrap_or(""))
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use paperboy_core::Paper;
    use paperboy_store::{PaperSignals, SourceRank};

    fn stored(signals: PaperSignals, votes: i64, code: Option<&str>) -> StoredPaper {
        let day = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        let mut paper = Paper::new(PaperId::parse("2603.01234").unwrap(), "A paper", day);
        paper.links.code = code.map(str::to_string);
        StoredPaper { paper, upvotes: votes, submitted_by: None, hidden_at: None, signals }
    }

    #[test]
    fn explains_every_part_with_its_source() {
        let now = Utc.with_ymd_and_hms(2026, 3, 12, 0, 0, 0).unwrap();
        let signals = PaperSignals {
            github_repo: Some("owner/repo".into()),
            github_stars: Some(12_345),
            stars_this_week: Some(312),
            hf_upvotes: Some(45),
            source_rank: Some(SourceRank { page: "Trending Papers".into(), rank: 3 }),
            ..PaperSignals::default()
        };
        let e = Explained::of(&stored(signals, 3, None), &Ranking::default(), now);
        assert_eq!(
            e.card_reason(),
            "+312 stars this week on owner/repo · 45 upvotes on Hugging Face · 3 votes here · #3 on Trending Papers"
        );
        // docs/RANKING.md's worked numbers: all three at 24 h.
        assert!((e.score.total - 0.1238).abs() < 1e-3, "{}", e.score.total);
        assert_eq!(e.repo_url().as_deref(), Some("https://github.com/owner/repo"));
        assert_eq!(e.hf_url.as_deref(), Some("https://huggingface.co/papers/2603.01234"));
        let ranked_only = PaperSignals {
            source_rank: Some(SourceRank { page: "Trending Papers".into(), rank: 7 }),
            ..PaperSignals::default()
        };
        assert_eq!(
            Explained::of(&stored(ranked_only, 0, None), &Ranking::default(), now).card_reason(),
            "#7 on Trending Papers"
        );
        let from_link = Explained::of(
            &stored(PaperSignals::default(), 0, Some("https://github.com/NVlabs/MaskLLM")),
            &Ranking::default(),
            now,
        );
        assert_eq!(from_link.repo.as_deref(), Some("NVlabs/MaskLLM"));
        assert_eq!(from_link.card_reason(), "no votes yet");
    }

    #[test]
    fn reads_github_links_and_flags() {
        assert_eq!(github_repo_of("https://github.com/a-b/c.d.git").as_deref(), Some("a-b/c.d"));
        assert_eq!(github_repo_of("https://www.github.com/x/y/tree/main").as_deref(), Some("x/y"));
        assert_eq!(github_repo_of("https://github.com/x"), None);
        assert_eq!(github_repo_of("https://gitlab.com/x/y"), None);
        assert_eq!(github_repo_of("https://github.com/x/<script>"), None);
        assert_eq!(grouped(1_234_567), "1,234,567");
        let q = |raw: &str| has_code(&QueryString::parse(Some(raw)).unwrap());
        assert!(q("has_code=1").unwrap() && q("has_code=true").unwrap());
        assert!(q("has_code=TRUE").is_err());
        assert!(!q("has_code=0").unwrap() && !q("x=1").unwrap());
        assert!(q("has_code=maybe").unwrap_err().to_string().contains("has_code=1"));
    }
}
