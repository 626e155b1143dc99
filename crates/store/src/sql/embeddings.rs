//! [`Embeddings`] in portable SQL (migration 0011): papers' vectors, the
//! shared embedding backlog under claims, the vector feed and its audit, the
//! same statements on both backends; and the backfill of `papers.embed_hash`
//! that both backends run at open ([`backfill_embed_hashes`]).
//!
//! * A paper *waits* for a model when it is visible, has an `embed_hash`, and
//!   has no row in `paper_embeddings` for the model with that hash. The
//!   waiting query walks `papers_embed` (visible papers in pk order, with
//!   their hash) and anti-joins the model's vectors and live claims by their
//!   primary keys, oldest first, with a LIMIT: it stops at the first `max`
//!   papers it finds.
//! * `embedding_models.waiting_from` bounds that walk from below (no paper
//!   waiting for the model has a smaller pk): claims move it up, writes
//!   that make an older paper wait again move it down ([`waits_again`]);
//!   migration 0011 explains why new papers need nothing.
//! * Claims are per paper (`embedding_claims`, primary key (model, paper)):
//!   a claim inserts its papers' rows, and takes over a row only if it has
//!   expired (`ON CONFLICT … DO UPDATE … WHERE expires_at < now`), so two
//!   claims can never both hold a paper, whatever the backend's isolation.
//!   Expired claims are swept at the start of each claim (their papers are
//!   free either way; a swept row cannot hold `waiting_from` down).
//! * Claims and stores of one model take turns: each transaction starts by
//!   updating the model's row in `embedding_models` ([`TAKE_TURN`]). On
//!   SQLite that first write takes the database's write lock; on PostgreSQL
//!   it takes the row's lock until commit, so the claims of many processes
//!   queue (each sees what the one before claimed: no two processes pick the
//!   same candidates and then block on each other's inserts), and a store
//!   takes its feed numbers (`last_seq + n`) only after the previous store of
//!   the model committed: feed numbers become visible in increasing order.
//!   No `Backend` hook is needed: the same statement does both jobs.
//! * Vectors are little-endian f32 bytes (BLOB / BYTEA): the paper's vector,
//!   then its evidence vectors, if any, each `dim` numbers; checked against
//!   the model's `dim` when read: a row whose length is not a whole number
//!   of vectors is `Corrupt`.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::PaperId;
use paperboy_core::embedding::embedding_hash;

use super::backend::Backend;
use super::exec::{Exec, Query, Row, Tx};
use super::rows::{Cells, corrupt};
use super::{LOOKUP_CHUNK, SqlStore, fmt_ts, parse_ts, placeholders};
use crate::StoreError;
use crate::domain::embeddings::{
    ClaimInfo, EmbedClaim, EmbedTask, EmbeddingBacklog, Embeddings, ModelKey, ModelRegistration, NewEmbedding,
    StoredBatch, StoredEmbedding,
};
use crate::secret::random_hex;

/// Papers whose `embed_hash` is filled in per backfill statement.
const BACKFILL_BATCH: usize = 2000;

/// Vectors per multi-row insert (6 values each).
const STORE_ROWS: usize = 100;

/// Registers a model once. Binds: name, fingerprint, dim, registered at.
const REGISTER: &str = "INSERT INTO embedding_models (name, fingerprint, dim, last_seq, registered_at) \
     VALUES (?, ?, ?, 0, ?) ON CONFLICT (name, fingerprint, dim) DO NOTHING";

/// Binds: name, fingerprint, dim.
const MODEL_ID: &str =
    "SELECT id, last_seq, waiting_from FROM embedding_models WHERE name = ? AND fingerprint = ? AND dim = ?";

/// Whether any paper lacks its `embed_hash`. No binds.
const ANY_MISSING: &str = "SELECT pk FROM papers WHERE embed_hash IS NULL LIMIT 1";

/// Moves every model's `waiting_from` down to ?1 where it is above.
const LOWER: &str = "UPDATE embedding_models SET waiting_from = ?1 WHERE waiting_from > ?1";

/// Frees the expired claims of model ?1 at ?2 (swept, so that a claim whose
/// papers no longer wait cannot hold `waiting_from` down).
const SWEEP: &str = "DELETE FROM embedding_claims WHERE model_id = ?1 AND expires_at < ?2";

/// After a claim: no waiting paper of model ? is below the smallest live
/// claim (the claim took the oldest free ones), or, with no claims, past
/// the newest paper. Binds: model, model.
const RAISE: &str = "UPDATE embedding_models SET waiting_from = COALESCE( \
     (SELECT MIN(paper_pk) FROM embedding_claims WHERE model_id = ?1), \
     (SELECT MAX(pk) + 1 FROM papers), 0) WHERE id = ?1";

/// Binds: model.
const WAITING_FROM: &str = "SELECT waiting_from FROM embedding_models WHERE id = ?";

/// The first statement of every claim and store of a model: a write to the
/// model's row, which makes them take turns (module documentation).
/// Binds: model.
const TAKE_TURN: &str = "UPDATE embedding_models SET last_seq = last_seq WHERE id = ?";

/// Visible papers waiting for model ?1 from pk ?7 on that no live claim
/// holds, oldest first, at most ?6, claimed as ?2 by ?3 until ?4; an expired
/// claim's row is taken over, a live one never (the conflict clause
/// re-checks it).
const CLAIM: &str = "INSERT INTO embedding_claims (model_id, paper_pk, claim, holder, expires_at) \
     SELECT ?1, p.pk, ?2, ?3, ?4 FROM papers p \
     LEFT JOIN paper_embeddings e ON e.model_id = ?1 AND e.paper_pk = p.pk \
     LEFT JOIN embedding_claims c ON c.model_id = ?1 AND c.paper_pk = p.pk \
     WHERE p.pk >= ?7 AND p.hidden_at IS NULL AND p.embed_hash IS NOT NULL \
     AND (e.text_hash IS NULL OR e.text_hash <> p.embed_hash) \
     AND (c.expires_at IS NULL OR c.expires_at < ?5) \
     ORDER BY p.pk LIMIT ?6 \
     ON CONFLICT (model_id, paper_pk) DO UPDATE SET claim = excluded.claim, holder = excluded.holder, \
     expires_at = excluded.expires_at WHERE embedding_claims.expires_at < ?5";

/// The papers of claim ?, as tasks.
const CLAIMED: &str = "SELECT p.paper_id, p.embed_hash, p.title, p.abstract FROM embedding_claims c \
     JOIN papers p ON p.pk = c.paper_pk WHERE c.claim = ? ORDER BY p.pk";

/// Binds: expires, claim, holder.
const RENEW: &str = "UPDATE embedding_claims SET expires_at = ? WHERE claim = ? AND holder = ?";

/// Binds: claim, holder.
const RELEASE: &str = "DELETE FROM embedding_claims WHERE claim = ? AND holder = ?";

/// Takes `n` feed numbers. Binds: n, model. Returns the newest.
const TAKE_SEQS: &str = "UPDATE embedding_models SET last_seq = last_seq + ? WHERE id = ? RETURNING last_seq";

/// The feed. Binds: model, after, limit.
/// The feed of model ?1 after ?2, ?3 rows, in feed order: a range scan of
/// `paper_embeddings_feed`. Whether each vector is still current (its paper
/// visible, with that text hash) is checked by [`CURRENT_PAPERS`] after.
/// One statement joining `papers` here was planned badly by PostgreSQL at a
/// million rows: it multiplies the selectivities of `p.pk = e.paper_pk` and
/// `p.embed_hash = e.text_hash` (which are not independent: a current
/// vector matches both), expects one row, and picks a hash join of both
/// tables and a sort (13 s per batch) over the ordered index walk with a
/// LIMIT (35 ms).
const SINCE: &str = "SELECT e.seq, e.paper_pk, e.text_hash, e.vector FROM paper_embeddings e \
     WHERE e.model_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?";

/// Visible papers among the pks bound (placeholders appended), with their
/// id and text hash.
const CURRENT_PAPERS: &str = "SELECT pk, paper_id, embed_hash FROM papers WHERE hidden_at IS NULL AND pk IN";

/// Visible papers. No binds.
const VISIBLE: &str = "SELECT COUNT(*) FROM papers WHERE hidden_at IS NULL";

/// Visible papers waiting for model ?1, from pk ?2 on.
const WAITING: &str = "SELECT COUNT(*) FROM papers p \
     LEFT JOIN paper_embeddings e ON e.model_id = ?1 AND e.paper_pk = p.pk \
     WHERE p.pk >= ?2 AND p.hidden_at IS NULL AND p.embed_hash IS NOT NULL \
     AND (e.text_hash IS NULL OR e.text_hash <> p.embed_hash)";

/// Live claims of model ?1 at ?2, by holder.
const CLAIMS: &str = "SELECT holder, COUNT(*), MAX(expires_at) FROM embedding_claims \
     WHERE model_id = ?1 AND expires_at >= ?2 GROUP BY holder ORDER BY holder";

/// Vectors of model ?1 stored since ?2, and the newest store time.
const STORED_SINCE: &str = "SELECT COUNT(*) FROM paper_embeddings WHERE model_id = ? AND stored_at >= ?";
const LAST_STORED: &str = "SELECT MAX(stored_at) FROM paper_embeddings WHERE model_id = ?";

/// Other models with vectors here. Binds: model.
const OTHER_MODELS: &str = "SELECT m.name, m.fingerprint, COUNT(*) FROM paper_embeddings e \
     JOIN embedding_models m ON m.id = e.model_id WHERE e.model_id <> ? \
     GROUP BY m.id, m.name, m.fingerprint ORDER BY m.id";

/// The audit. Binds: model.
const STORE_COUNTS: &str = "SELECT p.paper_id, s.stores FROM embedding_stores s \
     JOIN papers p ON p.pk = s.paper_pk WHERE s.model_id = ? ORDER BY p.pk";

/// Fills in `papers.embed_hash` where it is NULL (rows written before
/// migration 0011), in batches of [`BACKFILL_BATCH`], each its own write
/// transaction; returns how many rows it filled. Idempotent, and safe while
/// other processes write: a row is only set while still NULL, and every
/// write of a paper's text sets the hash itself. Runs at every open (once
/// nothing is NULL it is one indexed query), and before a claim when a
/// paper has no hash (written by SQL outside the store).
pub(crate) async fn backfill_embed_hashes(backend: &dyn Backend) -> Result<u64, StoreError> {
    let mut filled = 0u64;
    let mut after = i64::MIN;
    let mut first = true;
    loop {
        let rows = Query::new(
            "SELECT pk, title, abstract FROM papers WHERE embed_hash IS NULL AND pk > ? ORDER BY pk LIMIT ?",
        )
        .bind(after)
        .bind(BACKFILL_BATCH as i64)
        .fetch_all(backend.pool())
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.int(0);
        let mut sql = String::with_capacity(40 + rows.len() * 24);
        sql.push_str("UPDATE papers SET embed_hash = CASE pk");
        for _ in &rows {
            sql.push_str(" WHEN ? THEN ?");
        }
        sql.push_str(&format!(" END WHERE embed_hash IS NULL AND pk IN ({})", placeholders(rows.len())));
        let mut q = Query::with_capacity(sql, rows.len() * 3);
        for r in &rows {
            q = q.bind(r.int(0)).bind(embedding_hash(&r.text(1), &r.text(2)) as i64);
        }
        for r in &rows {
            q = q.bind(r.int(0));
        }
        let mut tx = backend.begin_write().await?;
        filled += q.execute(&mut tx).await?;
        if first {
            // These papers wait from now on, however old.
            waits_again(&mut tx, rows[0].int(0)).await?;
            first = false;
        }
        tx.commit().await?;
    }
    if filled > 0 {
        tracing::info!(papers = filled, backend = backend.name(), "filled in the embedding-text hashes of papers");
    }
    Ok(filled)
}

/// Paper `pk` may wait for vectors again (its text changed, it was merged,
/// shown again, or its hash was filled in): every model's `waiting_from`
/// moves down to it, in the caller's transaction. One indexed statement that
/// changes no row in the usual case (new papers are above it already).
pub(crate) async fn waits_again(tx: &mut Tx<'_>, pk: i64) -> Result<(), sqlx::Error> {
    Query::new(LOWER).bind(pk).execute(&mut *tx).await?;
    Ok(())
}

/// A paper's vectors as stored: the vector then its evidence, as
/// little-endian f32 bytes.
fn encode(vector: &[f32], evidence: &[Vec<f32>]) -> Vec<u8> {
    vector.iter().chain(evidence.iter().flatten()).flat_map(|x| x.to_le_bytes()).collect()
}

/// The stored vectors of paper `paper_id`: a whole number (at least one) of
/// `dim`-number vectors, the first the paper's, the rest its evidence.
fn decode(bytes: &[u8], dim: u32, paper_id: &str) -> Result<(Vec<f32>, Vec<Vec<f32>>), StoreError> {
    let width = dim as usize * 4;
    if width == 0 || bytes.is_empty() || !bytes.len().is_multiple_of(width) {
        return Err(corrupt(
            paper_id,
            format!(
                "its stored vectors have {} bytes, not a whole number of the model's {dim}-number vectors \
                 ({width} bytes each; prune the vectors and let them be computed again)",
                bytes.len(),
            ),
        ));
    }
    let mut vectors = bytes
        .chunks_exact(width)
        .map(|v| v.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect::<Vec<f32>>());
    let first = vectors.next().unwrap_or_default();
    Ok((first, vectors.collect()))
}

fn until(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(365))
}

fn paper_id(raw: String) -> Result<PaperId, StoreError> {
    PaperId::parse(&raw).map_err(|e| corrupt(&raw, e.to_string()))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// What one vector of a batch finds in the database.
struct Target {
    pk: i64,
    embed_hash: Option<i64>,
    visible: bool,
    current: Option<i64>,
}

impl SqlStore {
    /// The id of `model` in `embedding_models`, its newest feed number and
    /// its `waiting_from`, if any process registered it.
    async fn model_row(&self, on: Exec<'_>, model: &ModelKey) -> Result<Option<(i64, i64, i64)>, StoreError> {
        let row = Query::new(MODEL_ID)
            .bind(model.name.as_str())
            .bind(model.fingerprint.as_str())
            .bind(i64::from(model.dim))
            .fetch_optional(on)
            .await?;
        Ok(row.map(|r| (r.int(0), r.int(1), r.int(2))))
    }

    /// Registers `model` if no process has; its id, and whether it is new.
    async fn ensure_model(&self, model: &ModelKey) -> Result<(i64, bool), StoreError> {
        let added = Query::new(REGISTER)
            .bind(model.name.as_str())
            .bind(model.fingerprint.as_str())
            .bind(i64::from(model.dim))
            .bind(fmt_ts(Utc::now()))
            .execute(self.pool())
            .await?;
        let (id, _, _) = self.model_row(self.pool(), model).await?.ok_or_else(|| {
            corrupt(&format!("embedding model {}", model.name), "registered but not found".to_string())
        })?;
        Ok((id, added > 0))
    }

    /// (visible papers, of them waiting for model `id`, whose `waiting_from`
    /// is `from`): only the papers from `from` on are looked at.
    async fn embedding_counts(&self, model: Option<(i64, i64)>) -> Result<(u64, u64), StoreError> {
        let papers = count(Query::new(VISIBLE).fetch_one(self.pool()).await?.int(0));
        let waiting = match model {
            Some((id, from)) => count(Query::new(WAITING).bind(id).bind(from).fetch_one(self.pool()).await?.int(0)),
            None => papers,
        };
        Ok((papers, waiting))
    }

    /// What the papers of `ids` are now, as far as storing model `model`'s
    /// vectors is concerned, by paper id.
    async fn store_targets(
        tx: &mut super::exec::Tx<'_>,
        model: i64,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, Target>, StoreError> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT p.paper_id, p.pk, p.embed_hash, p.hidden_at IS NULL, e.text_hash FROM papers p \
                 LEFT JOIN paper_embeddings e ON e.model_id = ? AND e.paper_pk = p.pk WHERE p.paper_id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = Query::new(sql).bind(model);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&mut *tx).await? {
                let target =
                    Target { pk: r.int(1), embed_hash: r.opt_int(2), visible: r.flag(3), current: r.opt_int(4) };
                out.insert(r.text(0), target);
            }
        }
        Ok(out)
    }
}

fn to_task(r: &Row) -> Result<EmbedTask, StoreError> {
    let id = paper_id(r.text(0))?;
    Ok(EmbedTask { id, text_hash: r.int(1) as u64, title: r.text(2), abstract_text: r.text(3) })
}

#[async_trait]
impl Embeddings for SqlStore {
    async fn register_embedding_model(&self, model: &ModelKey) -> Result<ModelRegistration, StoreError> {
        let (id, new_model) = self.ensure_model(model).await?;
        let from = Query::new(WAITING_FROM).bind(id).fetch_one(self.pool()).await?.int(0);
        let (papers, waiting) = self.embedding_counts(Some((id, from))).await?;
        let rows = Query::new(OTHER_MODELS).bind(id).fetch_all(self.pool()).await?;
        let other_models = rows.iter().map(|r| (r.text(0), r.text(1), count(r.int(2)))).collect();
        Ok(ModelRegistration { new_model, current: papers.saturating_sub(waiting), waiting, other_models })
    }

    async fn claim_embedding_work(
        &self,
        model: &ModelKey,
        holder: &str,
        max: u32,
        ttl: Duration,
    ) -> Result<Option<EmbedClaim>, StoreError> {
        if max == 0 {
            return Ok(None);
        }
        let (id, _) = self.ensure_model(model).await?;
        // Papers written without their hash (by SQL outside the store, since
        // this process opened) get it now: one index probe when there are none.
        if Query::new(ANY_MISSING).fetch_optional(self.pool()).await?.is_some() {
            backfill_embed_hashes(self.backend()).await?;
        }
        let claim = random_hex()?;
        let now = fmt_ts(Utc::now());
        let expires_at = until(ttl);
        let mut tx = self.backend().begin_write().await?;
        Query::new(TAKE_TURN).bind(id).execute(&mut tx).await?;
        Query::new(SWEEP).bind(id).bind(now.as_str()).execute(&mut tx).await?;
        let from = Query::new(WAITING_FROM).bind(id).fetch_one(&mut tx).await?.int(0);
        let taken = Query::new(CLAIM)
            .bind(id)
            .bind(claim.as_str())
            .bind(holder)
            .bind(fmt_ts(expires_at))
            .bind(now.as_str())
            .bind(i64::from(max))
            .bind(from)
            .execute(&mut tx)
            .await?;
        Query::new(RAISE).bind(id).execute(&mut tx).await?;
        if taken == 0 {
            tx.commit().await?;
            return Ok(None);
        }
        let rows = Query::new(CLAIMED).bind(claim.as_str()).fetch_all(&mut tx).await?;
        tx.commit().await?;
        let tasks = rows.iter().map(to_task).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(EmbedClaim { claim, holder: holder.to_string(), expires_at, tasks }))
    }

    async fn renew_embedding_claim(&self, claim: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let done = Query::new(RENEW).bind(fmt_ts(until(ttl))).bind(claim).bind(holder).execute(self.pool()).await?;
        Ok(done > 0)
    }

    async fn store_embeddings(
        &self,
        model: &ModelKey,
        claim: &str,
        holder: &str,
        vectors: &[NewEmbedding],
    ) -> Result<StoredBatch, StoreError> {
        let dim = model.dim as usize;
        if let Some((bad, found)) = vectors.iter().find_map(|v| {
            std::iter::once(&v.vector).chain(&v.evidence).map(Vec::len).find(|&n| n != dim).map(|n| (v, n))
        }) {
            return Err(StoreError::WrongVectorLength {
                paper_id: bad.id.to_string(),
                model: model.name.clone(),
                found,
                expected: model.dim,
            });
        }
        let (id, _) = self.ensure_model(model).await?;
        let ids: Vec<String> = vectors.iter().map(|v| v.id.to_string()).collect();
        let mut tx = self.backend().begin_write().await?;
        Query::new(TAKE_TURN).bind(id).execute(&mut tx).await?;
        let targets = Self::store_targets(&mut tx, id, &ids).await?;

        // The vectors to store, as (paper pk, text hash, vector).
        let mut chosen: Vec<(i64, i64, &NewEmbedding)> = Vec::with_capacity(vectors.len());
        let mut seen: HashSet<i64> = HashSet::with_capacity(vectors.len());
        for (v, pid) in vectors.iter().zip(&ids) {
            let Some(t) = targets.get(pid) else { continue };
            let hash = v.text_hash as i64;
            let fresh = t.visible && t.embed_hash == Some(hash) && t.current != t.embed_hash;
            if fresh && seen.insert(t.pk) {
                chosen.push((t.pk, hash, v));
            }
        }
        if !chosen.is_empty() {
            let n = chosen.len() as i64;
            let last = Query::new(TAKE_SEQS).bind(n).bind(id).fetch_one(&mut tx).await?.int(0);
            let stored_at = fmt_ts(Utc::now());
            let mut seq = last - n;
            for rows in chosen.chunks(STORE_ROWS) {
                let sql = format!(
                    "INSERT INTO paper_embeddings (model_id, paper_pk, text_hash, seq, stored_at, vector) VALUES {} \
                     ON CONFLICT (model_id, paper_pk) DO UPDATE SET text_hash = excluded.text_hash, \
                     seq = excluded.seq, stored_at = excluded.stored_at, vector = excluded.vector",
                    vec!["(?, ?, ?, ?, ?, ?)"; rows.len()].join(", ")
                );
                let mut q = Query::with_capacity(sql, rows.len() * 6);
                for &(pk, hash, v) in rows {
                    seq += 1;
                    q = q
                        .bind(id)
                        .bind(pk)
                        .bind(hash)
                        .bind(seq)
                        .bind(stored_at.as_str())
                        .bind(encode(&v.vector, &v.evidence));
                }
                q.execute(&mut tx).await?;
                let sql = format!(
                    "INSERT INTO embedding_stores (model_id, paper_pk, stores) VALUES {} \
                     ON CONFLICT (model_id, paper_pk) DO UPDATE SET stores = embedding_stores.stores + 1",
                    vec!["(?, ?, 1)"; rows.len()].join(", ")
                );
                let mut q = Query::with_capacity(sql, rows.len() * 2);
                for &(pk, _, _) in rows {
                    q = q.bind(id).bind(pk);
                }
                q.execute(&mut tx).await?;
            }
        }
        Query::new(RELEASE).bind(claim).bind(holder).execute(&mut tx).await?;
        tx.commit().await?;
        let stored = chosen.len() as u64;
        Ok(StoredBatch { stored, dropped: vectors.len() as u64 - stored })
    }

    async fn release_embedding_claim(&self, claim: &str, holder: &str) -> Result<(), StoreError> {
        Query::new(RELEASE).bind(claim).bind(holder).execute(self.pool()).await?;
        Ok(())
    }

    async fn embeddings_since(
        &self,
        model: &ModelKey,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEmbedding>, StoreError> {
        let Some((id, _, _)) = self.model_row(self.pool(), model).await? else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(limit as usize);
        let mut after = i64::try_from(after).unwrap_or(i64::MAX);
        // Windows of the feed until `limit` current vectors are found or the
        // feed ends (stale or hidden ones are skipped, so a window may yield
        // fewer than it read).
        loop {
            let want = limit as usize - out.len();
            let rows = Query::new(SINCE).bind(id).bind(after).bind(want as i64).fetch_all(self.pool()).await?;
            let Some(last) = rows.last() else { break };
            after = last.int(0);
            let pks: Vec<i64> = rows.iter().map(|r| r.int(1)).collect();
            let mut current: std::collections::HashMap<i64, (String, Option<i64>)> =
                std::collections::HashMap::with_capacity(pks.len());
            for chunk in pks.chunks(LOOKUP_CHUNK) {
                let mut q = Query::new(format!("{CURRENT_PAPERS} ({})", placeholders(chunk.len())));
                for pk in chunk {
                    q = q.bind(*pk);
                }
                for r in q.fetch_all(self.pool()).await? {
                    current.insert(r.int(0), (r.text(1), r.opt_int(2)));
                }
            }
            let read = rows.len();
            for r in &rows {
                let text_hash = r.int(2);
                let Some((raw, hash)) = current.get(&r.int(1)) else { continue };
                if *hash != Some(text_hash) {
                    continue;
                }
                let (vector, evidence) = decode(&r.bytes(3), model.dim, raw)?;
                out.push(StoredEmbedding {
                    seq: count(r.int(0)),
                    id: paper_id(raw.clone())?,
                    text_hash: text_hash as u64,
                    vector,
                    evidence,
                });
            }
            if read < want || out.len() >= limit as usize {
                break;
            }
        }
        Ok(out)
    }

    async fn embedding_backlog(&self, model: &ModelKey) -> Result<EmbeddingBacklog, StoreError> {
        let found = self.model_row(self.pool(), model).await?;
        let (papers, waiting) = self.embedding_counts(found.map(|f| (f.0, f.2))).await?;
        let mut backlog = EmbeddingBacklog {
            papers,
            current: papers.saturating_sub(waiting),
            waiting,
            claims: Vec::new(),
            stored_last_hour: 0,
            last_stored_at: None,
            last_seq: 0,
        };
        let Some((id, last_seq, _)) = found else { return Ok(backlog) };
        let now = Utc::now();
        let rows = Query::new(CLAIMS).bind(id).bind(fmt_ts(now)).fetch_all(self.pool()).await?;
        for r in &rows {
            let holder = r.text(0);
            let expires_at = parse_ts(Some(r.text(2)))
                .ok_or_else(|| corrupt(&format!("embedding claim of {holder}"), "unreadable expiry".to_string()))?;
            backlog.claims.push(ClaimInfo { holder, papers: count(r.int(1)), expires_at });
        }
        let hour_ago = fmt_ts(now - chrono::Duration::hours(1));
        backlog.stored_last_hour =
            count(Query::new(STORED_SINCE).bind(id).bind(hour_ago).fetch_one(self.pool()).await?.int(0));
        backlog.last_stored_at = parse_ts(Query::new(LAST_STORED).bind(id).fetch_one(self.pool()).await?.opt_text(0));
        backlog.last_seq = count(last_seq);
        Ok(backlog)
    }

    async fn embedding_store_counts(&self, model: &ModelKey) -> Result<Vec<(PaperId, u64)>, StoreError> {
        let Some((id, _, _)) = self.model_row(self.pool(), model).await? else { return Ok(Vec::new()) };
        let rows = Query::new(STORE_COUNTS).bind(id).fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((paper_id(r.text(0))?, count(r.int(1))))).collect()
    }

    async fn prune_other_embeddings(&self, keep: &ModelKey) -> Result<u64, StoreError> {
        let (id, _) = self.ensure_model(keep).await?;
        let mut tx = self.backend().begin_write().await?;
        let deleted = Query::new("DELETE FROM paper_embeddings WHERE model_id <> ?").bind(id).execute(&mut tx).await?;
        Query::new("DELETE FROM embedding_stores WHERE model_id <> ?").bind(id).execute(&mut tx).await?;
        Query::new("DELETE FROM embedding_claims WHERE model_id <> ?").bind(id).execute(&mut tx).await?;
        // Every paper waits for the pruned models again, should one come back.
        Query::new("UPDATE embedding_models SET waiting_from = 0 WHERE id <> ?").bind(id).execute(&mut tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
