//! `GithubClient` against the replay server over `tests/fixtures/github/`:
//! conditional requests, renames, deletions, every kind of rate limit,
//! stargazer pages and pacing, asserted on what the server saw and when.
//! The `bench_refresh_10k` test (ignored) is the benchmark of
//! `bench/signals.sh`.

use std::time::{Duration, Instant, SystemTime};

use chrono::{TimeDelta, Utc};
use paperboy_signals::github::{GithubSettings, StargazerFetch};
use paperboy_signals::velocity::WEEK;
use paperboy_signals::{FetchError, GithubClient, RepoFetch, RepoRef};

use crate::replay::{Replay, gap};

fn repo(s: &str) -> RepoRef {
    RepoRef::parse(s).expect("a repository name")
}

/// No pacing, short waits: the tests set what they test.
fn config(base: &str) -> GithubSettings {
    GithubSettings {
        base_url: base.to_string(),
        token: Some("test-token".into()),
        timeout: Duration::from_secs(5),
        interval: Duration::ZERO,
        max_wait: Duration::from_secs(10),
        max_retries: 2,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        secondary_wait: Duration::from_secs(1),
        ..GithubSettings::default()
    }
}

fn client(base: &str) -> GithubClient {
    GithubClient::new(config(base)).expect("client")
}

#[tokio::test]
async fn a_second_fetch_sends_the_etag_and_gets_304() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    let mamba = repo("state-spaces/mamba");
    let RepoFetch::Fresh(snapshot) = github.repo(&mamba, None).await.unwrap() else { panic!("a fresh answer") };
    assert_eq!(snapshot.full_name, "state-spaces/mamba");
    assert_eq!((snapshot.stars, snapshot.forks, snapshot.id), (15_234, 1_290, Some(725_439_271)));
    assert_eq!(snapshot.pushed_at.unwrap().to_rfc3339(), "2026-03-10T08:12:44+00:00");
    assert_eq!(snapshot.etag.as_deref(), Some("\"5c1f2d9e8a7b\""));

    let again = github.repo(&mamba, snapshot.etag.as_deref()).await.unwrap();
    assert_eq!(again, RepoFetch::NotModified);

    let seen = server.requests("/repos/state-spaces/mamba");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].if_none_match, None, "nothing to match on the first fetch");
    assert_eq!(seen[1].if_none_match.as_deref(), Some("\"5c1f2d9e8a7b\""), "the second fetch sends If-None-Match");
    for s in &seen {
        assert_eq!(s.authorization.as_deref(), Some("Bearer test-token"));
        assert!(s.user_agent.as_deref().unwrap_or("").starts_with("Paperboy/"), "{:?}", s.user_agent);
        assert_eq!(s.accept.as_deref(), Some("application/vnd.github+json"));
    }
    assert_eq!(github.remaining(), Some(4_990));
}

#[tokio::test]
async fn a_renamed_repository_is_followed_and_reported() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    let fetched = github.repo(&repo("old-owner/old-name"), Some("\"stale\"")).await.unwrap();
    let RepoFetch::Moved { to, snapshot } = fetched else { panic!("moved, got {fetched:?}") };
    assert_eq!(to.full_name(), "new-owner/new-name");
    assert_eq!((snapshot.stars, snapshot.id), (812, Some(700_100_200)));
    let log = server.log();
    assert_eq!(
        log.iter().map(|l| l.path.as_str()).collect::<Vec<_>>(),
        ["/repos/old-owner/old-name", "/repositories/700100200"]
    );
    assert_eq!(log[1].if_none_match, None, "the old address's ETag is not sent to the new one");
}

#[tokio::test]
async fn deleted_blocked_and_malformed_repositories() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    assert_eq!(github.repo(&repo("someone/deleted"), None).await.unwrap(), RepoFetch::Gone);

    let blocked = github.repo(&repo("someone/blocked"), None).await.unwrap_err();
    assert!(
        matches!(&blocked, FetchError::Forbidden { message, .. } if message == "Repository access blocked"),
        "{blocked}"
    );
    assert!(!blocked.is_transient());

    let broken = github.repo(&repo("broken/body"), None).await.unwrap_err();
    let text = broken.to_string();
    assert!(matches!(broken, FetchError::Parse { .. }), "{text}");
    assert!(text.contains("/repos/broken/body") && text.contains("EOF"), "{text}");
    assert_eq!(server.requests("/repos/broken/body").len(), 1, "a malformed body is not retried");
}

#[tokio::test]
async fn no_request_is_sent_while_none_remain() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    // The answer says 0 remain until a reset about 2 s away (whole epoch seconds).
    let RepoFetch::Fresh(s) = github.repo(&repo("limits/exhausted"), None).await.unwrap() else { panic!() };
    assert_eq!(s.full_name, "limits/exhausted");
    let reset = server.log()[0].wall.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() + 2;
    let asked = Instant::now();
    let clone = github.clone();
    let fetched = clone.repo(&repo("state-spaces/mamba"), None).await.unwrap();
    assert!(matches!(fetched, RepoFetch::Fresh(_)));
    let log = server.log();
    assert_eq!(log.len(), 2);
    let sent = log[1].wall.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(sent >= reset as f64, "sent at {sent}, before the reset at {reset}");
    assert!(asked.elapsed() >= Duration::from_millis(900), "waited {:?}", asked.elapsed());
}

#[tokio::test]
async fn a_reset_beyond_max_wait_answers_rate_limited_without_sending() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    assert!(matches!(github.repo(&repo("limits/hour"), None).await.unwrap(), RepoFetch::Fresh(_)));
    assert_eq!(github.remaining(), Some(0));
    let started = Instant::now();
    let answer = github.clone().repo(&repo("state-spaces/mamba"), None).await.unwrap();
    let RepoFetch::RateLimited { until } = answer else { panic!("rate-limited, got {answer:?}") };
    assert!(until > Utc::now() + TimeDelta::minutes(59), "until the reset: {until}");
    let stars = github.stargazers(&repo("state-spaces/mamba"), Utc::now() - WEEK).await.unwrap();
    assert!(matches!(stars, StargazerFetch::RateLimited { .. }), "{stars:?}");
    assert_eq!(server.log().len(), 1, "nothing sent while zero remain");
    assert!(started.elapsed() < Duration::from_secs(2), "no waiting either");
}

#[tokio::test]
async fn a_secondary_limit_with_retry_after_is_waited_out() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    let fetched = github.repo(&repo("limits/secondary"), None).await.unwrap();
    let RepoFetch::Fresh(s) = fetched else { panic!("fresh after the wait, got {fetched:?}") };
    assert!(s.archived && s.pushed_at.is_none());
    let seen = server.requests("/repos/limits/secondary");
    assert_eq!(seen.len(), 2);
    assert!(
        gap(&seen[0], &seen[1]) >= Duration::from_millis(950),
        "Retry-After: 1 obeyed: {:?}",
        gap(&seen[0], &seen[1])
    );

    // A secondary limit that only says so in its message: wait `secondary_wait` (1 s here).
    let fetched = github.repo(&repo("limits/quiet"), None).await.unwrap();
    assert!(matches!(fetched, RepoFetch::Fresh(_)), "{fetched:?}");
    let seen = server.requests("/repos/limits/quiet");
    assert_eq!(seen.len(), 2);
    assert!(gap(&seen[0], &seen[1]) >= Duration::from_millis(950), "{:?}", gap(&seen[0], &seen[1]));

    // A primary limit in a 403 (zero remaining): wait for the reset, then go on.
    let fetched = github.repo(&repo("limits/primary"), None).await.unwrap();
    assert!(matches!(fetched, RepoFetch::Fresh(_)), "{fetched:?}");
    let seen = server.requests("/repos/limits/primary");
    assert_eq!(seen.len(), 2);
    let reset = seen[0].wall.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() + 1;
    assert!(seen[1].wall.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64() >= reset as f64);

    // Asked to wait an hour (429): answer at once, and hold every clone.
    let answer = github.repo(&repo("limits/too-long"), None).await.unwrap();
    assert!(
        matches!(answer, RepoFetch::RateLimited { until } if until > Utc::now() + TimeDelta::minutes(59)),
        "{answer:?}"
    );
    let before = server.log().len();
    assert!(matches!(
        github.clone().repo(&repo("state-spaces/mamba"), None).await.unwrap(),
        RepoFetch::RateLimited { .. }
    ));
    assert_eq!(server.log().len(), before, "nothing sent during the Retry-After");
}

#[tokio::test]
async fn stargazer_pages_give_the_weekly_velocity() {
    let server = Replay::start("github").await;
    let github = client(&server.url());
    let mamba = repo("state-spaces/mamba");
    let now = Utc::now();
    let StargazerFetch::Sample(sample) = github.stargazers(&mamba, now - WEEK).await.unwrap() else { panic!() };
    assert_eq!((sample.last_page, sample.pages_read, sample.capped), (3, 3, false));
    assert_eq!(sample.starred_at.len(), 15, "all three pages");
    assert!(sample.starred_at.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let gain = sample.gain(now, WEEK).unwrap();
    assert_eq!((gain.stars, gain.exact), (7, true), "2, 10, 30, 50, 100, 120 and 150 hours ago");
    let pages: Vec<String> = server.log().iter().map(|l| l.path.clone()).collect();
    assert_eq!(
        pages,
        [1, 3, 2].map(|p| format!("/repos/state-spaces/mamba/stargazers?per_page=100&page={p}")),
        "the first page for the Link header, then the newest backwards"
    );
    assert!(server.log().iter().all(|l| l.accept.as_deref() == Some("application/vnd.github.star+json")));

    // A budget of two requests reads the newest page only: a lower bound.
    let tight = GithubClient::new(GithubSettings { stargazer_pages: 2, ..config(&server.url()) }).unwrap();
    let StargazerFetch::Sample(cut) = tight.stargazers(&mamba, now - WEEK).await.unwrap() else { panic!() };
    let gain = cut.gain(now, WEEK).unwrap();
    assert_eq!((cut.pages_read, gain.stars, gain.exact, cut.complete), (2, 5, false, false));

    // One page without a Link header holds every stargazer.
    let StargazerFetch::Sample(small) = github.stargazers(&repo("small/repo"), now - WEEK).await.unwrap() else {
        panic!()
    };
    assert!(small.complete);
    assert_eq!(small.gain(now, WEEK).unwrap().stars, 1);

    let users = github.stargazers(&repo("no/accept"), now - WEEK).await.unwrap_err();
    assert!(users.to_string().contains("starred_at"), "{users}");
    assert_eq!(github.stargazers(&repo("someone/deleted"), now).await.unwrap(), StargazerFetch::Gone);
}

#[tokio::test]
async fn requests_are_paced_across_clones() {
    let server = Replay::start("github").await;
    let interval = Duration::from_millis(150);
    let github = GithubClient::new(GithubSettings { interval, ..config(&server.url()) }).unwrap();
    let mamba = repo("state-spaces/mamba");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (g, r) = (github.clone(), mamba.clone());
            tokio::spawn(async move { g.repo(&r, None).await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), RepoFetch::Fresh(_)));
    }
    let log = server.log();
    assert_eq!(log.len(), 4);
    for pair in log.windows(2) {
        assert!(gap(&pair[0], &pair[1]) >= interval - Duration::from_millis(5), "gap {:?}", gap(&pair[0], &pair[1]));
    }
}

/// The refresh benchmark (`bash bench/signals.sh`): 10,000 repositories from
/// the synthetic replay server at a scaled-down token pacing, once without
/// ETags and once with them. `PAPERBOY_BENCH_REPOS` (10,000) and
/// `PAPERBOY_BENCH_INTERVAL_US` (720: GitHub's 5,000 requests an hour, 0.72
/// s apart, scaled down 1,000 times) set the size and the pacing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bash bench/signals.sh"]
async fn bench_refresh_10k() {
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (repos, interval_us) = (env("PAPERBOY_BENCH_REPOS", 10_000), env("PAPERBOY_BENCH_INTERVAL_US", 720));
    let server = Replay::synthetic(1_000_000).await;
    let github =
        GithubClient::new(GithubSettings { interval: Duration::from_micros(interval_us), ..config(&server.url()) })
            .unwrap();
    let names: Vec<RepoRef> = (0..repos).map(|n| repo(&format!("bench/repo-{n}"))).collect();
    let mut etags: Vec<Option<String>> = vec![None; names.len()];
    for (pass, with_etags) in
        [("first fetch (no ETags yet)", false), ("refresh without ETags", false), ("refresh with ETags", true)]
    {
        let before_log = server.log().len();
        let remaining_before = github.remaining();
        let started = Instant::now();
        let chunks: Vec<_> = names
            .chunks(names.len().div_ceil(8))
            .zip(etags.chunks(names.len().div_ceil(8)))
            .map(|(n, e)| {
                let (g, n, e) = (github.clone(), n.to_vec(), e.to_vec());
                tokio::spawn(async move {
                    let mut out = Vec::with_capacity(n.len());
                    for (r, tag) in n.iter().zip(e) {
                        let tag = if with_etags { tag } else { None };
                        out.push(g.repo(r, tag.as_deref()).await.expect("a bench fetch"));
                    }
                    out
                })
            })
            .collect();
        let mut results = Vec::with_capacity(names.len());
        for c in chunks {
            results.extend(c.await.unwrap());
        }
        let wall = started.elapsed();
        let (mut fresh, mut not_modified) = (0, 0);
        for (i, r) in results.iter().enumerate() {
            match r {
                RepoFetch::Fresh(s) => {
                    fresh += 1;
                    etags[i] = s.etag.clone();
                }
                RepoFetch::NotModified => not_modified += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        let requests = server.log().len() - before_log;
        let used = remaining_before.zip(github.remaining()).map(|(b, a)| b.saturating_sub(a));
        println!(
            "bench {pass}: {repos} repositories, interval {interval_us} us: {requests} requests, {fresh} 200s, \
             {not_modified} 304s, rate limit used {}, wall {:.2} s ({:.0} requests/s); at the real token pacing \
             (0.72 s) that is {:.1} h of requests and {:.1} h of a 5,000/h budget",
            used.map_or("?".to_string(), |u| u.to_string()),
            wall.as_secs_f64(),
            requests as f64 / wall.as_secs_f64(),
            requests as f64 * 0.72 / 3600.0,
            fresh as f64 / 5000.0,
        );
        assert_eq!(requests as u64, repos);
        assert_eq!(if with_etags { not_modified } else { fresh }, repos as usize);
    }
}
