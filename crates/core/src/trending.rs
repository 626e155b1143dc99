//! The combined trending score: local votes, Hugging Face upvotes and GitHub
//! star velocity in one number, with its parts and a one-line reason
//! ("+312 stars this week on owner/repo · 45 upvotes on Hugging Face · 3
//! votes here"). docs/RANKING.md ("Trending signals") explains the formula:
//!
//! ```text
//! score = (local_vote·votes + hf_upvote·upvotes) / (age_hours + base_hours)^gravity
//!       + weekly_star·max(0, stars_this_week) / (STAR_VOTE_AGE_HOURS + base_hours)^gravity
//! ```
//!
//! Votes and upvotes pile up over a paper's life, so they decay with its
//! listing age (Hacker News gravity, as today). Stars gained this week are
//! already recent by construction: they count as votes cast half a week ago,
//! whatever the paper's age. Without external signals and with the default
//! `local_vote` of 1 the score is exactly today's
//! [`paperboy_core::ranking::trending_score`].

use crate::RankingSettings;
use crate::ranking::trending_score;
use thiserror::Error;

/// The age (hours) at which a week's stars count as votes: half the week,
/// the mean age of stars spread evenly over it.
pub const STAR_VOTE_AGE_HOURS: f64 = 84.0;

/// How much each signal weighs, in local votes. Future `[ranking]` keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalWeights {
    /// One local vote. Default 1 (today's score).
    pub local_vote: f64,
    /// One Hugging Face upvote. Default 0.5: a much larger audience than
    /// one installation, so each upvote says less about this community.
    pub hf_upvote: f64,
    /// One star gained this week. Default 0.5: stars are cheap and come from
    /// everyone on GitHub, not only readers of papers.
    pub weekly_star: f64,
}

impl Default for SignalWeights {
    fn default() -> Self {
        SignalWeights { local_vote: 1.0, hf_upvote: 0.5, weekly_star: 0.5 }
    }
}

/// A weight out of range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("ranking weight `{name}` must be a number from 0 to 1000 (the default is {default})")]
pub struct BadWeight {
    pub name: &'static str,
    pub default: &'static str,
}

impl SignalWeights {
    /// Checked weights: each a finite number from 0 to 1000 (0 turns a
    /// signal off).
    pub fn new(local_vote: f64, hf_upvote: f64, weekly_star: f64) -> Result<Self, BadWeight> {
        for (name, value, default) in
            [("local_vote", local_vote, "1"), ("hf_upvote", hf_upvote, "0.5"), ("weekly_star", weekly_star, "0.5")]
        {
            if !value.is_finite() || !(0.0..=1000.0).contains(&value) {
                return Err(BadWeight { name, default });
            }
        }
        Ok(SignalWeights { local_vote, hf_upvote, weekly_star })
    }
}

/// One paper's signals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalInputs {
    /// Upvotes here.
    pub local_votes: i64,
    /// Upvotes on Hugging Face Papers, if it lists the paper.
    pub hf_upvotes: Option<u64>,
    /// Stars its repository gained in the last 7 days, if known.
    pub weekly_stars: Option<i64>,
    /// Its repository's star count, if known.
    pub total_stars: Option<u64>,
    /// The repository, `owner/name`.
    pub repo: Option<String>,
    /// Hours since the paper was listed here (`paperboy_core::ranking::age_hours`).
    pub age_hours: f64,
}

/// A score and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub total: f64,
    /// The local-votes term.
    pub local: f64,
    /// The Hugging Face term.
    pub huggingface: f64,
    /// The star-velocity term.
    pub stars: f64,
    /// One line for a card: "+312 stars this week on owner/repo · 45 upvotes
    /// on Hugging Face · 3 votes here".
    pub reason: String,
}

/// The combined score of one paper (see the module documentation).
pub fn score(inputs: &SignalInputs, weights: &SignalWeights, params: &RankingSettings) -> Score {
    let local = weights.local_vote * trending_score(inputs.local_votes, inputs.age_hours, params);
    let upvotes = inputs.hf_upvotes.unwrap_or(0).min(i64::MAX as u64) as i64;
    let huggingface = weights.hf_upvote * trending_score(upvotes, inputs.age_hours, params);
    let weekly = inputs.weekly_stars.unwrap_or(0);
    let stars = weights.weekly_star * trending_score(weekly, STAR_VOTE_AGE_HOURS, params);
    Score { total: local + huggingface + stars, local, huggingface, stars, reason: reason(inputs) }
}

/// The one-line reason: the repository's stars (gained this week, or its
/// total when nothing was gained or the gain is unknown), Hugging Face
/// upvotes, local votes; parts without a signal are left out.
pub fn reason(inputs: &SignalInputs) -> String {
    let mut parts = Vec::new();
    if let Some(repo) = &inputs.repo {
        match (inputs.weekly_stars, inputs.total_stars) {
            (Some(w), _) if w > 0 => {
                parts.push(format!("+{} {} this week on {repo}", grouped(w as u64), plural(w as u64, "star")))
            }
            (_, Some(t)) => parts.push(format!("{} {} on {repo}", grouped(t), plural(t, "star"))),
            _ => {}
        }
    }
    if let Some(u) = inputs.hf_upvotes.filter(|u| *u > 0) {
        parts.push(format!("{} {} on Hugging Face", grouped(u), plural(u, "upvote")));
    }
    if inputs.local_votes > 0 {
        let v = inputs.local_votes as u64;
        parts.push(format!("{} {} here", grouped(v), plural(v, "vote")));
    }
    if parts.is_empty() { "no votes yet".to_string() } else { parts.join(" · ") }
}

/// The default age limit of the code-trending view, in days.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 180;

/// A paper competing for the code-trending view (`/trending`).
#[derive(Debug, Clone, PartialEq)]
pub struct CodeCandidate {
    /// The canonical paper id (the last tie-break).
    pub id: String,
    /// Stars its repository gained this week, if known (unknown ranks as 0).
    pub weekly_stars: Option<i64>,
    pub total_stars: u64,
    /// Days since the paper was listed here.
    pub age_days: f64,
}

/// The code-trending view: papers listed at most `max_age_days` ago, most
/// stars gained this week first, then most stars, then the younger paper,
/// then the greater id. Hugging Face's Trending Papers order.
pub fn rank_code_trending(mut candidates: Vec<CodeCandidate>, max_age_days: u32) -> Vec<CodeCandidate> {
    candidates.retain(|c| c.age_days <= f64::from(max_age_days));
    candidates.sort_by(|a, b| {
        b.weekly_stars
            .unwrap_or(0)
            .cmp(&a.weekly_stars.unwrap_or(0))
            .then_with(|| b.total_stars.cmp(&a.total_stars))
            .then_with(|| a.age_days.total_cmp(&b.age_days))
            .then_with(|| b.id.cmp(&a.id))
    });
    candidates
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(local: i64, hf: Option<u64>, weekly: Option<i64>, age: f64) -> SignalInputs {
        SignalInputs {
            local_votes: local,
            hf_upvotes: hf,
            weekly_stars: weekly,
            total_stars: weekly.map(|w| w as u64 * 10),
            repo: weekly.map(|_| "owner/repo".to_string()),
            age_hours: age,
        }
    }

    #[test]
    fn without_external_signals_it_is_todays_score() {
        let p = RankingSettings::default();
        let w = SignalWeights::default();
        for (votes, age) in [(10, 0.0), (10, 6.0), (50, 46.0), (3, 4.0), (0, 1.0)] {
            let s = score(&inputs(votes, None, None, age), &w, &p);
            assert_eq!(s.total, trending_score(votes, age, &p), "{votes} votes at {age} h");
            assert_eq!((s.huggingface, s.stars), (0.0, 0.0));
        }
    }

    #[test]
    fn the_documented_numbers() {
        // docs/RANKING.md, "Trending signals", worked numbers.
        let p = RankingSettings::default();
        let w = SignalWeights::default();
        let s = score(&inputs(0, None, Some(312), 24.0 * 30.0), &w, &p);
        assert!((s.total - 0.0514).abs() < 1e-4, "{}", s.total);
        let s = score(&inputs(0, Some(45), None, 24.0), &w, &p);
        assert!((s.total - 0.0639).abs() < 1e-4, "{}", s.total);
        let s = score(&inputs(3, Some(45), Some(312), 24.0), &w, &p);
        assert!((s.total - (0.0514 + 0.0639 + 0.0085)).abs() < 1e-3, "{}", s.total);
        assert!((s.local - 0.0085).abs() < 1e-4, "{}", s.local);
    }

    #[test]
    fn a_fresh_installation_ranks_by_external_signals() {
        let p = RankingSettings::default();
        let w = SignalWeights::default();
        let hot_repo = score(&inputs(0, Some(5), Some(800), 48.0), &w, &p).total;
        let upvoted = score(&inputs(0, Some(60), None, 48.0), &w, &p).total;
        let quiet = score(&inputs(0, Some(2), Some(1), 48.0), &w, &p).total;
        let nothing = score(&inputs(0, None, None, 48.0), &w, &p).total;
        assert!(hot_repo > upvoted && upvoted > quiet && quiet > nothing && nothing == 0.0);
        // Star velocity does not fade with the paper's age; votes do.
        let old = score(&inputs(0, None, Some(300), 24.0 * 150.0), &w, &p);
        let young = score(&inputs(0, None, Some(300), 1.0), &w, &p);
        assert_eq!(old.total, young.total);
        assert!(
            score(&inputs(0, Some(40), None, 200.0), &w, &p).total
                < score(&inputs(0, Some(40), None, 20.0), &w, &p).total
        );
    }

    #[test]
    fn weights_scale_and_switch_off_their_terms() {
        let p = RankingSettings::default();
        let i = inputs(3, Some(45), Some(312), 24.0);
        let base = score(&i, &SignalWeights::default(), &p);
        let double = score(&i, &SignalWeights::new(1.0, 1.0, 1.0).unwrap(), &p);
        assert!((double.huggingface - 2.0 * base.huggingface).abs() < 1e-12);
        assert!((double.stars - 2.0 * base.stars).abs() < 1e-12);
        let off = score(&i, &SignalWeights::new(1.0, 0.0, 0.0).unwrap(), &p);
        assert_eq!(off.total, trending_score(3, 24.0, &p));
        for bad in [(-1.0, 0.5, 0.5), (1.0, f64::NAN, 0.5), (1.0, 0.5, 1e6)] {
            let e = SignalWeights::new(bad.0, bad.1, bad.2).unwrap_err().to_string();
            assert!(e.contains("default"), "{e}");
        }
    }

    #[test]
    fn reasons_read_as_one_line() {
        let full = inputs(3, Some(45), Some(312), 5.0);
        assert_eq!(reason(&full), "+312 stars this week on owner/repo · 45 upvotes on Hugging Face · 3 votes here");
        let one = SignalInputs { local_votes: 1, hf_upvotes: Some(1), ..inputs(0, None, Some(1), 1.0) };
        assert_eq!(reason(&one), "+1 star this week on owner/repo · 1 upvote on Hugging Face · 1 vote here");
        let quiet =
            SignalInputs { weekly_stars: Some(0), total_stars: Some(12_345), ..inputs(0, Some(0), Some(0), 1.0) };
        assert_eq!(reason(&quiet), "12,345 stars on owner/repo");
        assert_eq!(reason(&inputs(0, None, None, 1.0)), "no votes yet");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn code_trending_is_by_weekly_stars_within_the_age_limit() {
        let c = |id: &str, weekly: Option<i64>, total: u64, age: f64| CodeCandidate {
            id: id.into(),
            weekly_stars: weekly,
            total_stars: total,
            age_days: age,
        };
        let ranked = rank_code_trending(
            vec![
                c("old-hot", Some(900), 20_000, 170.0),
                c("too-old", Some(5_000), 90_000, 181.0),
                c("new-warm", Some(300), 400, 2.0),
                c("unknown", None, 50_000, 10.0),
                c("quiet-big", Some(0), 40_000, 30.0),
                c("tie-young", Some(300), 400, 1.0),
            ],
            DEFAULT_MAX_AGE_DAYS,
        );
        let ids: Vec<&str> = ranked.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["old-hot", "tie-young", "new-warm", "unknown", "quiet-big"]);
    }
}
