//! A member's recommendations (issue 16, docs/RECOMMENDATIONS.md): the
//! `/for-you` pages, `GET /api/recommendations`, the private Atom feed and
//! the personal digest all call [`RecsService::for_member`].
//!
//! It gathers what the engine (`paperboy_recs`, pure) needs: the member's
//! signals ([`Interests::interest_profile`]), the period's listed papers as
//! candidates (with their trending score as the popularity prior), the
//! member's saved searches matched by the search engine among those
//! candidates, and each paper's sentence vector when the index has one; then
//! it ranks with [`Recommender::rank`]. A member with no signal at all
//! (a cold start) gets the period's popular papers.
//!
//! The engine's per-paper representation ([`Features`]) is kept in a
//! bounded cache keyed by paper id and a fingerprint of the paper's text, so
//! a page view does not re-tokenise the same papers; a period's candidates
//! are kept until the catalog changes, and a member's ranking until their
//! profile or the candidates change. The profile is read on every request,
//! so the next request after a like already ranks with it.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};

use chrono::{DateTime, Utc};
use paperboy_core::ranking::{age_hours, listed_at};
use paperboy_core::trending::{self, SignalInputs, SignalWeights};
use paperboy_core::{FeedPeriod, FeedSort, PaperId, RankingSettings, UserId};
use paperboy_recs::{Candidate, Features, Item, Profile, Reason, Recommender, Scored, SearchMatch};
use paperboy_search::{SearchEngine, SearchMode, SearchOptions};
use paperboy_store::{Database, FeedQuery, InterestProfile, StoreError, StoredPaper};
use thiserror::Error;

/// Signals read per list of the member's profile (liked papers, library
/// texts, negatives).
pub const PROFILE_LIMIT: u32 = 500;
/// Candidates considered per period at most (the most popular first).
pub const MAX_CANDIDATES: u32 = 5_000;
/// Per-paper features kept at most; past it, the oldest half is dropped.
pub const FEATURE_CACHE_ENTRIES: usize = 20_000;
/// Periods whose candidates are kept (a day, a week and a month of a few
/// periods back); past it, the cache starts over.
const CANDIDATE_PERIODS: usize = 16;
/// Rankings kept (a few hundred bytes each); past it, the cache starts over.
const RANKING_CACHE_ENTRIES: usize = 10_000;
/// Papers a saved search contributes at most.
const SEARCH_MATCHES: usize = 200;
/// How many of the latest "not for me" papers a [`ForYou`] names (for undo).
const RECENT_NOT_FOR_ME: usize = 3;
/// Below this many likes, the For-you page offers papers to like.
pub const ONBOARDING_LIKES: usize = 3;
/// Categories the onboarding suggestions draw from at most.
const SUGGESTION_CATEGORIES: usize = 12;
/// Suggestions are papers listed at most this many days before the latest day.
const SUGGESTION_DAYS: i64 = 30;

/// Why recommendations could not be made.
#[derive(Debug, Error)]
pub enum RecsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The search engine failed while matching saved searches or reading
    /// vectors.
    #[error("the search index failed while ranking recommendations: {0}; check the index (paperboy index status)")]
    Search(String),
}

/// A member's picks for one period.
#[derive(Debug, Clone)]
pub struct ForYou {
    pub period: FeedPeriod,
    /// Best first.
    pub picks: Vec<Pick>,
    /// The member has no signal yet: the picks are the period's popular
    /// papers (the page offers onboarding).
    pub cold_start: bool,
    /// The member's latest "not for me" papers (id, title), most recent
    /// first, so a page can offer to undo them.
    pub recent_not_for_me: Vec<(PaperId, String)>,
    /// The categories the member follows.
    pub followed_categories: Vec<String>,
    /// How many papers and library entries the member likes (up to
    /// [`PROFILE_LIMIT`] each); below [`ONBOARDING_LIKES`] a page offers
    /// papers to like.
    pub likes: usize,
}

/// Everything the For-you page shows.
#[derive(Debug, Clone)]
pub struct ForYouPage {
    pub for_you: ForYou,
    /// Papers to like while the member likes fewer than
    /// [`ONBOARDING_LIKES`] (from followed categories, when any), else empty;
    /// never one they already upvote.
    pub suggestions: Vec<StoredPaper>,
    /// Which of the picks and suggestions the member upvotes.
    pub voted: Vec<PaperId>,
}

/// One recommended paper and why.
#[derive(Debug, Clone)]
pub struct Pick {
    pub paper: StoredPaper,
    pub score: f32,
    pub reason: Reason,
}

/// What the popularity prior is computed with (the site's `[ranking]`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Popularity {
    pub params: RankingSettings,
    pub weights: SignalWeights,
}

impl Popularity {
    /// The trending score of `p` at `now`, the engine's popularity prior.
    fn of(&self, p: &StoredPaper, now: DateTime<Utc>) -> f32 {
        let s = &p.signals;
        let inputs = SignalInputs {
            local_votes: p.upvotes,
            hf_upvotes: s.hf_upvotes,
            weekly_stars: s.stars_this_week,
            total_stars: s.github_stars,
            repo: None,
            age_hours: age_hours(listed_at(p.paper.listed_on, None), now),
        };
        let total = trending::score(&inputs, &self.weights, &self.params).total as f32;
        if total.is_finite() { total.max(0.0) } else { 0.0 }
    }
}

/// Cached engine features of one paper.
struct CachedFeatures {
    fingerprint: u64,
    features: Arc<Features>,
    /// When it was last used (a counter), for eviction.
    used: u64,
}

#[derive(Default)]
struct FeatureCache {
    entries: HashMap<String, CachedFeatures>,
    clock: u64,
}

impl FeatureCache {
    /// The features of `item` (fingerprint `fp`), computed if absent or stale.
    fn get_or_compute(&mut self, recommender: &Recommender, item: &Item<'_>, fp: u64) -> Arc<Features> {
        self.clock += 1;
        let clock = self.clock;
        if let Some(c) = self.entries.get_mut(item.id)
            && c.fingerprint == fp
        {
            c.used = clock;
            return Arc::clone(&c.features);
        }
        let features = Arc::new(recommender.features(item));
        if self.entries.len() >= FEATURE_CACHE_ENTRIES && !self.entries.contains_key(item.id) {
            self.evict_oldest_half();
        }
        self.entries.insert(
            item.id.to_string(),
            CachedFeatures { fingerprint: fp, features: Arc::clone(&features), used: clock },
        );
        features
    }

    fn evict_oldest_half(&mut self) {
        let mut used: Vec<u64> = self.entries.values().map(|c| c.used).collect();
        let mid = used.len() / 2;
        let (_, cut, _) = used.select_nth_unstable(mid);
        let cut = *cut;
        self.entries.retain(|_, c| c.used > cut);
    }
}

/// What a ranking depends on besides the candidates: the member, the
/// period, the length, every signal in the profile with its time, and the
/// saved searches. Any new like, "not for me", follow or import changes it.
fn ranking_key(user: UserId, period: FeedPeriod, limit: u32, p: &InterestProfile, queries: &[String]) -> u64 {
    let mut h = DefaultHasher::new();
    (user.0, period, limit).hash(&mut h);
    for l in &p.liked {
        (l.paper.id.to_string(), l.at.timestamp_micros(), l.source as u8).hash(&mut h);
    }
    for t in &p.library_texts {
        (t.entry, &t.title).hash(&mut h);
    }
    for (paper, at) in &p.not_for_me {
        (paper.id.to_string(), at.timestamp_micros()).hash(&mut h);
    }
    (&p.authors, &p.categories, queries).hash(&mut h);
    h.finish()
}

/// A fingerprint of what the engine reads of a paper.
fn fingerprint(item: &Item<'_>) -> u64 {
    let mut h = DefaultHasher::new();
    item.title.hash(&mut h);
    item.text.hash(&mut h);
    item.authors.hash(&mut h);
    item.categories.hash(&mut h);
    h.finish()
}

/// A period's candidates and the catalog change they were read at.
type PeriodCandidates = (u64, Arc<Vec<StoredPaper>>);
/// A member's ranking and the candidates (held weakly) its indexes are into.
type KeptRanking = (Weak<Vec<StoredPaper>>, Vec<Scored>);

struct Inner {
    search: Option<Arc<SearchEngine>>,
    recommender: Recommender,
    popularity: Popularity,
    features: Mutex<FeatureCache>,
    /// The candidates of recently asked periods, with the catalog's change
    /// sequence number they were read at.
    candidates: Mutex<HashMap<FeedPeriod, PeriodCandidates>>,
    /// Recent rankings by [`ranking_key`], with the candidates they index.
    rankings: Mutex<HashMap<u64, KeptRanking>>,
}

/// Recommendations for members (see the module documentation). Cheap to
/// clone: one shared engine and feature cache.
#[derive(Clone)]
pub struct RecsService {
    inner: Arc<Inner>,
}

impl RecsService {
    /// A service over `search` (`None`: no vectors and no saved-search
    /// matches, text features only), scoring popularity with `popularity`.
    pub fn new(search: Option<Arc<SearchEngine>>, popularity: Popularity) -> RecsService {
        RecsService {
            inner: Arc::new(Inner {
                search,
                recommender: Recommender::default(),
                popularity,
                features: Mutex::new(FeatureCache::default()),
                candidates: Mutex::default(),
                rankings: Mutex::default(),
            }),
        }
    }

    /// How many papers' features the cache holds.
    pub fn cached_features(&self) -> usize {
        self.inner.features.lock().unwrap_or_else(|p| p.into_inner()).entries.len()
    }

    /// The member's picks in `period`, best first, at most `limit`.
    pub async fn for_member(
        &self,
        db: &dyn Database,
        user: UserId,
        period: FeedPeriod,
        limit: u32,
    ) -> Result<ForYou, RecsError> {
        let started = std::time::Instant::now();
        let (profile, candidates) = tokio::join!(db.interest_profile(user, PROFILE_LIMIT), self.candidates(db, period));
        let (profile, candidates) = (profile?, candidates?);
        let read = started.elapsed();
        let followed_categories = profile.categories.clone();
        let likes = profile.liked.len() + profile.library_texts.len();
        let recent_not_for_me =
            profile.not_for_me.iter().take(RECENT_NOT_FOR_ME).map(|(p, _)| (p.id.clone(), p.title.clone())).collect();
        let now = Utc::now();
        if profile.is_empty() {
            let hidden: HashSet<&PaperId> = profile.not_for_me.iter().map(|(p, _)| &p.id).collect();
            let picks = candidates
                .iter()
                .filter(|p| !hidden.contains(&p.paper.id))
                .take(limit as usize)
                .map(|p| Pick { paper: p.clone(), score: self.inner.popularity.of(p, now), reason: Reason::Popular })
                .collect();
            let picks = fresh(db, picks).await?;
            return Ok(ForYou { period, picks, cold_start: true, recent_not_for_me, followed_categories, likes });
        }
        let queries = self.saved_queries(db, user).await?;
        let key = ranking_key(user, period, limit, &profile, &queries);
        let scored = match self.cached_ranking(key, &candidates) {
            Some(scored) => scored,
            None => {
                let searches = self.match_searches(queries, &period, &candidates).await?;
                let vectors = self.vectors(&candidates, &profile).await?;
                let gathered = started.elapsed();
                let (this, ranked) = (self.clone(), Arc::clone(&candidates));
                let scored = tokio::task::spawn_blocking(move || {
                    this.rank(&profile, &ranked, &searches, &vectors, now, limit as usize)
                })
                .await
                .map_err(|e| RecsError::Search(format!("ranking task failed: {e}")))?;
                tracing::debug!(
                    read_ms = read.as_millis() as u64,
                    search_and_vectors_ms = (gathered - read).as_millis() as u64,
                    rank_ms = (started.elapsed() - gathered).as_millis() as u64,
                    "for-you ranked"
                );
                self.keep_ranking(key, &candidates, &scored);
                scored
            }
        };
        let picks = scored
            .into_iter()
            .map(|s| Pick { paper: candidates[s.index].clone(), score: s.score, reason: s.reason })
            .collect();
        let picks = fresh(db, picks).await?;
        Ok(ForYou { period, picks, cold_start: false, recent_not_for_me, followed_categories, likes })
    }

    /// The listed papers of `period`, most popular first (at most
    /// [`MAX_CANDIDATES`]), from the candidate cache while the catalog has
    /// not changed (its change sequence number), else from the store. Their
    /// vote counts may lag behind (they only set the popularity prior);
    /// [`fresh`] re-reads the picks.
    async fn candidates(&self, db: &dyn Database, period: FeedPeriod) -> Result<Arc<Vec<StoredPaper>>, StoreError> {
        let seq = db.last_change_seq().await?;
        if let Some((at, papers)) = self.inner.candidates.lock().unwrap_or_else(|p| p.into_inner()).get(&period)
            && *at == seq
        {
            return Ok(Arc::clone(papers));
        }
        let query = FeedQuery {
            from: Some(period.start()),
            until: Some(period.end()),
            sort: FeedSort::Trending,
            limit: MAX_CANDIDATES,
            ..FeedQuery::default()
        };
        let papers = Arc::new(db.feed(&query).await?.items);
        let mut cache = self.inner.candidates.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CANDIDATE_PERIODS && !cache.contains_key(&period) {
            cache.clear();
        }
        cache.insert(period, (seq, Arc::clone(&papers)));
        Ok(papers)
    }

    /// The period of `kind` (`day`, `week`, `month`) that holds the latest
    /// listing day; `None` for an empty catalog.
    pub async fn latest_period(db: &dyn Database, kind: &str) -> Result<Option<FeedPeriod>, RecsError> {
        Ok(db.latest_listing_date().await?.map(|day| match kind {
            "day" => FeedPeriod::Day(day),
            "month" => FeedPeriod::month_of(day),
            _ => FeedPeriod::week_of(day),
        }))
    }

    /// The For-you page of `period` (`None`: the week of the latest listing
    /// day; `Ok(None)` when the catalog is empty): at most `limit` picks,
    /// and, while the member likes nothing, `suggest` papers to like.
    pub async fn page(
        &self,
        db: &dyn Database,
        user: UserId,
        period: Option<FeedPeriod>,
        limit: u32,
        suggest: u32,
    ) -> Result<Option<ForYouPage>, RecsError> {
        let period = match period {
            Some(p) => p,
            None => match Self::latest_period(db, "week").await? {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        let for_you = self.for_member(db, user, period, limit).await?;
        let mut suggestions = if for_you.likes >= ONBOARDING_LIKES {
            Vec::new()
        } else {
            // Room for the ones already upvoted, which are left out below.
            self.suggestions(db, &for_you.followed_categories, suggest + ONBOARDING_LIKES as u32).await?
        };
        let ids: Vec<PaperId> = for_you
            .picks
            .iter()
            .map(|p| p.paper.paper.id.clone())
            .chain(suggestions.iter().map(|p| p.paper.id.clone()))
            .collect();
        let voted = if ids.is_empty() { Vec::new() } else { db.voted_among(user, &ids).await? };
        suggestions.retain(|p| !voted.contains(&p.paper.id));
        suggestions.truncate(suggest as usize);
        Ok(Some(ForYouPage { for_you, suggestions, voted }))
    }

    /// The member a private-feed secret belongs to, and their picks of the
    /// week of the latest listing day (`None`: unknown or rotated secret).
    pub async fn for_feed_secret(
        &self,
        db: &dyn Database,
        secret: &str,
        limit: u32,
    ) -> Result<Option<ForYou>, RecsError> {
        let Some(user) = db.feed_secret_user(secret).await? else {
            return Ok(None);
        };
        let period =
            Self::latest_period(db, "week").await?.unwrap_or_else(|| FeedPeriod::week_of(Utc::now().date_naive()));
        Ok(Some(self.for_member(db, user, period, limit).await?))
    }

    /// Papers to like on the onboarding page: recent papers in
    /// `categories` (all categories when empty), the most popular first,
    /// taking from each category in turn; at most `limit`.
    pub async fn suggestions(
        &self,
        db: &dyn Database,
        categories: &[String],
        limit: u32,
    ) -> Result<Vec<StoredPaper>, RecsError> {
        let Some(latest) = db.latest_listing_date().await? else {
            return Ok(Vec::new());
        };
        let base = FeedQuery {
            from: Some(latest - chrono::Duration::days(SUGGESTION_DAYS)),
            until: Some(latest + chrono::Duration::days(1)),
            sort: FeedSort::Trending,
            limit,
            ..FeedQuery::default()
        };
        if categories.is_empty() {
            return Ok(db.feed(&base).await?.items);
        }
        let mut lists = Vec::new();
        for c in categories.iter().take(SUGGESTION_CATEGORIES) {
            let q = FeedQuery { category: Some(c.clone()), ..base.clone() };
            lists.push(db.feed(&q).await?.items.into_iter());
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        'fill: loop {
            let mut any = false;
            for list in &mut lists {
                if let Some(p) = list.next() {
                    any = true;
                    if seen.insert(p.paper.id.clone()) {
                        out.push(p);
                        if out.len() >= limit as usize {
                            break 'fill;
                        }
                    }
                }
            }
            if !any {
                break;
            }
        }
        Ok(out)
    }

    /// A ranking kept for `key` over these very candidates, if any.
    fn cached_ranking(&self, key: u64, candidates: &Arc<Vec<StoredPaper>>) -> Option<Vec<Scored>> {
        let cache = self.inner.rankings.lock().unwrap_or_else(|p| p.into_inner());
        let (over, scored) = cache.get(&key)?;
        Weak::ptr_eq(over, &Arc::downgrade(candidates)).then(|| scored.clone())
    }

    fn keep_ranking(&self, key: u64, candidates: &Arc<Vec<StoredPaper>>, scored: &[Scored]) {
        let mut cache = self.inner.rankings.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= RANKING_CACHE_ENTRIES && !cache.contains_key(&key) {
            cache.clear();
        }
        cache.insert(key, (Arc::downgrade(candidates), scored.to_vec()));
    }

    /// The queries of the member's saved searches (of their linked
    /// subscription); none without a search engine, which matches them.
    async fn saved_queries(&self, db: &dyn Database, user: UserId) -> Result<Vec<String>, RecsError> {
        if self.inner.search.is_none() {
            return Ok(Vec::new());
        }
        let Some(sub) = db.subscriber_for_user(user).await? else {
            return Ok(Vec::new());
        };
        Ok(db.saved_searches(sub.id).await?.into_iter().map(|s| s.query).collect())
    }

    /// The candidates each saved search matches (searches matching none
    /// are left out).
    async fn match_searches(
        &self,
        queries: Vec<String>,
        period: &FeedPeriod,
        candidates: &[StoredPaper],
    ) -> Result<Vec<(String, HashSet<String>)>, RecsError> {
        let Some(engine) = self.inner.search.clone() else {
            return Ok(Vec::new());
        };
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        let ids: HashSet<String> = candidates.iter().map(|p| p.paper.id.to_string()).collect();
        let opts = SearchOptions {
            mode: SearchMode::Hybrid,
            limit: SEARCH_MATCHES,
            since: Some(period.start()),
            until: Some(period.end() - chrono::Duration::days(1)),
            highlights: false,
            ..SearchOptions::default()
        };
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::with_capacity(queries.len());
            for q in queries {
                let hits = engine.search(&q, &opts).map_err(|e| RecsError::Search(e.to_string()))?;
                let matched: HashSet<String> =
                    hits.hits.into_iter().map(|h| h.id.to_string()).filter(|id| ids.contains(id)).collect();
                if !matched.is_empty() {
                    out.push((q, matched));
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| RecsError::Search(format!("saved-search task failed: {e}")))?
    }

    /// Sentence vectors by paper id, for the candidates and the member's
    /// liked and disliked papers that the index has one for.
    async fn vectors(
        &self,
        candidates: &[StoredPaper],
        profile: &InterestProfile,
    ) -> Result<HashMap<String, Vec<f32>>, RecsError> {
        let Some(engine) = self.inner.search.clone() else {
            return Ok(HashMap::new());
        };
        let ids: Vec<PaperId> = candidates
            .iter()
            .map(|p| p.paper.id.clone())
            .chain(profile.liked.iter().map(|l| l.paper.id.clone()))
            .chain(profile.not_for_me.iter().map(|(p, _)| p.id.clone()))
            .collect();
        tokio::task::spawn_blocking(move || {
            ids.into_iter().filter_map(|id| engine.vector(&id).map(|v| (id.to_string(), v))).collect()
        })
        .await
        .map_err(|e| RecsError::Search(format!("vector task failed: {e}")))
    }

    /// Ranks `candidates` for `profile` (blocking: run off the async threads).
    fn rank(
        &self,
        profile: &InterestProfile,
        candidates: &[StoredPaper],
        searches: &[(String, HashSet<String>)],
        vectors: &HashMap<String, Vec<f32>>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Scored> {
        let ids: Vec<String> = candidates.iter().map(|p| p.paper.id.to_string()).collect();
        let liked_ids: Vec<String> = profile.liked.iter().map(|l| l.paper.id.to_string()).collect();
        let disliked_ids: Vec<String> = profile.not_for_me.iter().map(|(p, _)| p.id.to_string()).collect();
        let library_ids: Vec<String> = profile.library_texts.iter().map(|t| format!("library-{}", t.entry)).collect();
        let no_categories: [String; 0] = [];
        // The latest word counts: a paper liked after it was marked "not for
        // me" is liked, and the other way round.
        let marked: HashMap<&PaperId, DateTime<Utc>> = profile.not_for_me.iter().map(|(p, at)| (&p.id, *at)).collect();
        let liked_at: HashMap<&PaperId, DateTime<Utc>> = profile.liked.iter().map(|l| (&l.paper.id, l.at)).collect();
        let vector = |id: &str| vectors.get(id).map(Vec::as_slice);

        let mut liked: Vec<Item<'_>> = Vec::with_capacity(profile.liked.len() + profile.library_texts.len());
        for (l, id) in profile.liked.iter().zip(&liked_ids) {
            if marked.get(&l.paper.id).is_some_and(|at| *at > l.at) {
                continue;
            }
            liked.push(Item {
                id,
                title: &l.paper.title,
                text: &l.paper.abstract_text,
                authors: &l.paper.authors,
                categories: &l.paper.categories,
                vector: vector(id),
            });
        }
        for (t, id) in profile.library_texts.iter().zip(&library_ids) {
            liked.push(Item {
                id,
                title: &t.title,
                text: &t.abstract_text,
                authors: &t.authors,
                categories: &no_categories,
                vector: None,
            });
        }
        let disliked: Vec<Item<'_>> = profile
            .not_for_me
            .iter()
            .zip(&disliked_ids)
            .filter(|((p, at), _)| liked_at.get(&p.id).is_none_or(|l| l <= at))
            .map(|((p, _), id)| Item {
                id,
                title: &p.title,
                text: &p.abstract_text,
                authors: &p.authors,
                categories: &p.categories,
                vector: vector(id),
            })
            .collect();
        let search_matches: Vec<SearchMatch<'_>> = searches
            .iter()
            .map(|(q, ids)| SearchMatch { query: q, ids: ids.iter().map(String::as_str).collect() })
            .collect();
        let rec_profile = Profile {
            liked,
            disliked,
            authors: &profile.authors,
            categories: &profile.categories,
            searches: search_matches,
        };

        let items: Vec<Item<'_>> = candidates
            .iter()
            .zip(&ids)
            .map(|(p, id)| Item {
                id,
                title: &p.paper.title,
                text: &p.paper.abstract_text,
                authors: &p.paper.authors,
                categories: &p.paper.categories,
                vector: vector(id),
            })
            .collect();
        // Every text the engine reads, through the cache: candidates,
        // liked and disliked papers, library entries.
        let features: HashMap<&str, Arc<Features>> = {
            let mut cache = self.inner.features.lock().unwrap_or_else(|p| p.into_inner());
            items
                .iter()
                .chain(&rec_profile.liked)
                .chain(&rec_profile.disliked)
                .map(|item| (item.id, cache.get_or_compute(&self.inner.recommender, item, fingerprint(item))))
                .collect()
        };
        let ranked: Vec<Candidate<'_>> = items
            .iter()
            .zip(candidates)
            .map(|(item, p)| Candidate { item: *item, popularity: self.inner.popularity.of(p, now) })
            .collect();
        self.inner
            .recommender
            .rank_with(&rec_profile, &ranked, |item| features.get(item.id).map(Arc::as_ref))
            .into_iter()
            .take(limit)
            .collect()
    }
}

/// The picks as the catalog has them now (vote counts, signals), leaving
/// out any hidden since the candidates were read.
async fn fresh(db: &dyn Database, picks: Vec<Pick>) -> Result<Vec<Pick>, StoreError> {
    if picks.is_empty() {
        return Ok(picks);
    }
    let ids: Vec<PaperId> = picks.iter().map(|p| p.paper.paper.id.clone()).collect();
    let mut now: HashMap<PaperId, StoredPaper> =
        db.papers_by_ids(&ids).await?.into_iter().map(|p| (p.paper.id.clone(), p)).collect();
    Ok(picks.into_iter().filter_map(|p| now.remove(&p.paper.paper.id).map(|paper| Pick { paper, ..p })).collect())
}

/// Sets which of `offered` categories `user` follows: those in `chosen`
/// (the onboarding form's checkboxes); followed categories not offered are
/// left alone.
pub async fn follow_categories(
    db: &dyn Database,
    user: UserId,
    offered: &[&str],
    chosen: &[&str],
) -> Result<(), StoreError> {
    let now = Utc::now();
    for c in offered {
        db.follow_category(user, c, chosen.contains(c), now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_text() {
        let (a, c): (Vec<String>, Vec<String>) = (vec!["A. Author".into()], vec!["cs.CL".into()]);
        let item =
            |title| Item { id: "2603.00101", title, text: "abstract", authors: &a, categories: &c, vector: None };
        assert_eq!(fingerprint(&item("Title")), fingerprint(&item("Title")));
        assert_ne!(fingerprint(&item("Title")), fingerprint(&item("Title, revised")));
    }
}
