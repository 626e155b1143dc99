//! `paperboy status [--json]`: the state of a deployment read from its
//! database alone (SQLite or PostgreSQL; no server needs to run): catalog
//! size, the embedding backlog with an ETA and the live claims by holder,
//! the last harvest, the last digest build and the outbox, and the leases
//! the background jobs take (harvest, digest, signals) with their holders
//! and expiry.

use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Args;
use paperboy_services::jobs::{signals_github, signals_hf};
use paperboy_services::lease::{DIGEST_LEASE, HARVEST_LEASE};
use paperboy_store::{Database, ModelKey};
use serde::Serialize;

use crate::config::Settings;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print one JSON object (for scripts) instead of text
    #[arg(long)]
    pub json: bool,
}

/// Everything `status` reports.
#[derive(Debug, Serialize)]
pub struct Status {
    pub at: DateTime<Utc>,
    pub papers: u64,
    /// `None` when the server's model is not known to this command or the
    /// store cannot say (see `note`).
    pub embeddings: Option<Backlog>,
    pub embeddings_note: Option<String>,
    pub harvest: Option<HarvestStatus>,
    pub digest: DigestStatus,
    pub leases: Vec<LeaseStatus>,
}

#[derive(Debug, Serialize)]
pub struct Backlog {
    pub model: String,
    pub papers: u64,
    pub current: u64,
    pub waiting: u64,
    pub stored_last_hour: u64,
    /// Seconds until the backlog is empty at the last hour's rate (`None`:
    /// nothing stored in the last hour, or nothing waiting).
    pub eta_seconds: Option<u64>,
    pub last_stored_at: Option<DateTime<Utc>>,
    /// Live claims, by holder.
    pub claims: Vec<Claim>,
}

#[derive(Debug, Serialize)]
pub struct Claim {
    pub holder: String,
    pub papers: u64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct HarvestStatus {
    pub id: i64,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub records: u64,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub rejected: u64,
    pub errors: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DigestStatus {
    /// When a digest build last started (its lease was taken).
    pub last_build_started_at: Option<DateTime<Utc>>,
    pub outbox_pending: u64,
    pub outbox_sent: u64,
    pub outbox_failed: u64,
}

#[derive(Debug, Serialize)]
pub struct LeaseStatus {
    pub name: String,
    pub holder: Option<String>,
    pub acquired_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Held now (taken and not expired).
    pub held: bool,
}

/// The leases the background jobs take, by the names they use.
pub const LEASES: [&str; 4] = [HARVEST_LEASE, DIGEST_LEASE, signals_github::LEASE, signals_hf::LEASE];

/// The key the servers' vectors are stored under: that of the model these
/// settings load, as `serve` would (`None`: no model, so no backlog).
pub fn server_model_key(settings: &Settings) -> Result<Option<ModelKey>> {
    Ok(super::load_embedder(settings)?.map(|e| paperboy_services::model::store_key(&e)))
}

pub async fn run(args: StatusArgs, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let db = store.into_database();
    let status = collect(db.as_ref(), server_model_key(settings)?.as_ref(), Utc::now()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", text(&status));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the status from `db`; the embedding backlog of `model` when given.
pub async fn collect(db: &dyn Database, model: Option<&ModelKey>, now: DateTime<Utc>) -> Result<Status> {
    let papers = db.count_papers().await?;
    let (embeddings, embeddings_note) = match backlog(db, model).await {
        Ok(b) => (b, None),
        Err(e) => (None, Some(e)),
    };
    let harvest = db.recent_harvests(1).await?.into_iter().next().map(|r| HarvestStatus {
        id: r.id,
        status: r.status.as_str().to_string(),
        started_at: r.started_at,
        finished_at: r.finished_at,
        records: r.counts.records,
        inserted: r.counts.inserted,
        updated: r.counts.updated,
        deleted: r.counts.deleted,
        rejected: r.counts.rejected,
        errors: r.errors,
        last_error: r.last_error,
    });
    let mut leases = Vec::new();
    for name in LEASES {
        let lease = db.lease(name).await?;
        leases.push(LeaseStatus {
            name: name.to_string(),
            held: lease.as_ref().is_some_and(|l| l.expires_at > now),
            holder: lease.as_ref().map(|l| l.holder.clone()),
            acquired_at: lease.as_ref().map(|l| l.acquired_at),
            expires_at: lease.as_ref().map(|l| l.expires_at),
        });
    }
    let outbox = db.outbox_counts().await?;
    let digest = DigestStatus {
        last_build_started_at: leases.iter().find(|l| l.name == DIGEST_LEASE).and_then(|l| l.acquired_at),
        outbox_pending: outbox.pending,
        outbox_sent: outbox.sent,
        outbox_failed: outbox.failed,
    };
    Ok(Status { at: now, papers, embeddings, embeddings_note, harvest, digest, leases })
}

/// The embedding backlog of `model`, or why it is not shown.
async fn backlog(db: &dyn Database, model: Option<&ModelKey>) -> Result<Option<Backlog>, String> {
    let Some(model) = model else {
        return Err("no embedding model found (`paperboy model fetch`), so no backlog to measure".to_string());
    };
    let b = db.embedding_backlog(model).await.map_err(|e| format!("the store cannot report the backlog: {e}"))?;
    let eta_seconds =
        (b.waiting > 0 && b.stored_last_hour > 0).then(|| b.waiting.saturating_mul(3600) / b.stored_last_hour);
    let mut claims: Vec<Claim> =
        b.claims.into_iter().map(|c| Claim { holder: c.holder, papers: c.papers, expires_at: c.expires_at }).collect();
    claims.sort_by(|a, b| a.holder.cmp(&b.holder));
    Ok(Some(Backlog {
        model: model.name.clone(),
        papers: b.papers,
        current: b.current,
        waiting: b.waiting,
        stored_last_hour: b.stored_last_hour,
        eta_seconds,
        last_stored_at: b.last_stored_at,
        claims,
    }))
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{:.1} h", s as f64 / 3600.0),
    }
}

/// The text form.
pub fn text(s: &Status) -> String {
    let mut out = String::new();
    out.push_str(&format!("Catalog: {} papers\n", s.papers));
    match (&s.embeddings, &s.embeddings_note) {
        (Some(b), _) => {
            let eta = match b.eta_seconds {
                Some(eta) => format!("ETA {} at {}/h", duration(eta), b.stored_last_hour),
                None if b.waiting == 0 => "nothing waiting".to_string(),
                None => "no vectors stored in the last hour".to_string(),
            };
            out.push_str(&format!(
                "Embeddings ({}): {} of {} papers current, {} waiting ({eta}); last stored {}\n",
                b.model,
                b.current,
                b.papers,
                b.waiting,
                when(b.last_stored_at)
            ));
            for c in &b.claims {
                out.push_str(&format!(
                    "  claim: {} holds {} papers until {}\n",
                    c.holder,
                    c.papers,
                    when(Some(c.expires_at))
                ));
            }
        }
        (None, Some(note)) => out.push_str(&format!("Embeddings: not shown ({note})\n")),
        (None, None) => out.push_str("Embeddings: not shown\n"),
    }
    match &s.harvest {
        Some(h) => out.push_str(&format!(
            "Last harvest: #{} {}, started {}, finished {}: {} records ({} new, {} updated, {} deleted, {} rejected), {} errors{}\n",
            h.id,
            h.status,
            when(Some(h.started_at)),
            when(h.finished_at),
            h.records,
            h.inserted,
            h.updated,
            h.deleted,
            h.rejected,
            h.errors,
            h.last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default()
        )),
        None => out.push_str("Last harvest: never\n"),
    }
    out.push_str(&format!(
        "Digest: last build started {}; outbox {} pending, {} sent, {} failed\n",
        when(s.digest.last_build_started_at),
        s.digest.outbox_pending,
        s.digest.outbox_sent,
        s.digest.outbox_failed
    ));
    out.push_str("Leases:\n");
    for l in &s.leases {
        match (&l.holder, l.held) {
            (Some(holder), true) => {
                out.push_str(&format!("  {}: held by {holder} until {}\n", l.name, when(l.expires_at)))
            }
            (Some(holder), false) => {
                out.push_str(&format!("  {}: free (last held by {holder}, expired {})\n", l.name, when(l.expires_at)))
            }
            (None, _) => out.push_str(&format!("  {}: never taken\n", l.name)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(5 * 3600), "5.0 h");
    }
}
