//! `/admin/harvest`: who is harvesting now (the harvest lease) and the
//! recent arXiv harvest runs (status, pages, records, what became of them,
//! errors) for admins; members get 403, visitors are sent to the login page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use paperboy_store::{HarvestRun, HarvestStatus};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{WebError, html_result};
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};

/// Runs shown.
const RUNS: u32 = 50;

fn duration(run: &HarvestRun) -> String {
    let end = run.finished_at.unwrap_or(run.updated_at);
    let secs = (end - run.started_at).num_seconds().max(0);
    if secs < 120 { format!("{secs} s") } else { format!("{} min", secs / 60) }
}

fn args(run: &HarvestRun) -> String {
    let a = &run.args;
    let mut parts = vec![a.metadata_prefix.clone()];
    if let Some(set) = &a.set {
        parts.push(format!("set {set}"));
    }
    if let Some(from) = a.from {
        parts.push(format!("from {from}"));
    }
    if let Some(until) = a.until {
        parts.push(format!("until {until}"));
    }
    parts.join(", ")
}

/// `GET /admin/harvest`.
pub async fn show(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    let result = async {
        if !v.user().is_admin() {
            return Err(WebError::Forbidden("Only admins can see the harvest log.".to_string()));
        }
        let runs = st.store.recent_harvests(RUNS).await?;
        // The lease names the process harvesting now, on whichever server.
        let holder = st
            .store
            .lease(paperboy_services::lease::HARVEST_LEASE)
            .await?
            .filter(|l| l.expires_at > chrono::Utc::now());
        let body = html! {
            section.admin-harvest {
                h1 { "arXiv harvests" }
                p.harvest-lease {
                    @if let Some(lease) = &holder {
                        "Harvesting now: " code { (lease.holder) } " (since "
                        (lease.acquired_at.format("%Y-%m-%d %H:%M:%S")) " UTC)."
                    } @else {
                        "No harvest is running."
                    }
                }
                @if runs.is_empty() {
                    p { "No harvest has run yet. Run " code { "paperboy harvest" } ", or enable the daily harvest in "
                        code { "[harvest]" } " of paperboy.toml." }
                } @else {
                    table.harvest-runs {
                        thead { tr {
                            th { "Run" } th { "Status" } th { "Trigger" } th { "Started (UTC)" } th { "Took" }
                            th { "Request" } th { "Pages" } th { "Records" } th { "New" } th { "Updated" }
                            th { "Unchanged" } th { "Filtered" } th { "Errors" }
                        } }
                        tbody {
                            @for run in &runs {
                                tr class=(format!("status-{}", run.status.as_str())) {
                                    td { (run.id) }
                                    td { (run.status.as_str()) }
                                    td { (run.trigger.as_str()) }
                                    td { (run.started_at.format("%Y-%m-%d %H:%M:%S")) }
                                    td { (duration(run)) }
                                    td { (args(run)) }
                                    td { (run.pages) }
                                    td { (run.counts.records) }
                                    td { (run.counts.inserted) }
                                    td { (run.counts.updated) }
                                    td { (run.counts.unchanged) }
                                    td { (run.counts.filtered) }
                                    td { (run.errors) }
                                }
                                @if let Some(err) = &run.last_error {
                                    tr.harvest-error { td colspan="13" { "Last error: " (err) } }
                                }
                                @if run.status != HarvestStatus::Completed {
                                    @if let Some(token) = &run.next_token {
                                        tr.harvest-checkpoint { td colspan="13" {
                                            "Checkpoint: " code { (token) } " (the next run with the same request resumes here)"
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        let head = Head { title: "Harvests", noindex: true, ..Head::default() };
        Ok(html_response(StatusCode::OK, page(&st.config, &head, &Nav::default(), body)))
    };
    html_result(&st.config, result.await)
}
