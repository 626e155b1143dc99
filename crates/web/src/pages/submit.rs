//! `/papers/submit`: a member submits an arXiv paper by id or URL.
//!
//! A paper already in the catalog is simply upvoted (no arXiv request).
//! Otherwise it is fetched through the arXiv API (paced, one request every
//! three seconds for the whole server; the endpoint is
//! [`crate::WebSettings::arxiv_base_url`]) and accepted only when its first
//! version appeared within [`crate::WebSettings::submit_window_days`] days:
//! the site is about new research. An accepted paper is listed today, with
//! the member as submitter and first upvote. Either way the member lands on
//! the paper's page (303).

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::html;
use paperboy_arxiv::{ArxivClient, ArxivError, ArxivSettings};
use paperboy_core::{ArxivId, PaperId};

use crate::auth::{CurrentUser, Form, see_other};
use crate::dates::human_day;
use crate::error::html_result;
use crate::links::paper_path;
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};
use crate::{AppState, WebSettings};

/// The arXiv client shared by all submissions (so its pacing is too);
/// `None` when it could not be built (the reason is logged and shown).
#[derive(Clone)]
pub struct Fetcher(Option<Arc<ArxivClient>>);

impl Fetcher {
    pub fn new(config: &WebSettings) -> Self {
        let arxiv = ArxivSettings {
            base_url: config.arxiv_base_url.clone(),
            // A member is waiting: fail sooner than a batch job would.
            max_retries: 1,
            timeout: Duration::from_secs(20),
            ..ArxivSettings::default()
        };
        match ArxivClient::with_config(arxiv) {
            Ok(c) => Fetcher(Some(Arc::new(c))),
            Err(e) => {
                tracing::error!(error = %e, "the arXiv client could not be set up; submissions are off");
                Fetcher(None)
            }
        }
    }
}

fn form_page(st: &AppState, csrf: &str, value: &str, error: Option<&str>) -> String {
    let days = st.config.submit_window_days;
    let body = html! {
        section.account-form {
            h1 { "Submit a paper" }
            p { "Share a paper from arXiv that appeared in the last " (days) " days. "
                "If it is already listed, your submission counts as an upvote." }
            @if let Some(e) = error { p.form-error role="alert" { (e) } }
            form method="post" action="/papers/submit" {
                input type="hidden" name="csrf" value=(csrf);
                label { "arXiv id or URL"
                    input type="text" name="id" value=(value) required placeholder="2312.00752 or https://arxiv.org/abs/2312.00752"; }
                button type="submit" { "Submit" }
            }
        }
    };
    let head = Head { title: "Submit a paper", noindex: true, ..Head::default() };
    page(&st.config, &head, &Nav::default(), body)
}

/// `GET /papers/submit` (members only).
pub async fn show(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    html_response(StatusCode::OK, form_page(&st, v.csrf(), "", None))
}

/// `POST /papers/submit` with `id`.
pub async fn submit(
    State(st): State<AppState>,
    Extension(fetcher): Extension<Fetcher>,
    CurrentUser(v): CurrentUser,
    body: Bytes,
) -> Response {
    let result = async {
        let form = Form::parse(&body)?;
        let typed = form.get("id").unwrap_or("");
        let refuse =
            |status: StatusCode, msg: String| Ok(html_response(status, form_page(&st, v.csrf(), typed, Some(&msg))));
        let arxiv_id = match ArxivId::parse(typed) {
            Ok(id) => id.without_version(),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, crate::error::capitalize(&e.to_string())),
        };
        let paper_id = PaperId::Arxiv(arxiv_id.clone());
        if st.store.get_paper(&paper_id).await?.is_some() {
            st.store.set_vote(v.user().id, &paper_id, true).await?;
            return Ok(see_other(&paper_path(&paper_id)));
        }
        let Some(client) = &fetcher.0 else {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "Submissions are off: this server cannot reach arXiv.".into(),
            );
        };
        let paper = match client.fetch_paper(&arxiv_id).await {
            Ok(p) => p,
            Err(e @ ArxivError::NotFound(_)) => {
                return refuse(StatusCode::NOT_FOUND, crate::error::capitalize(&e.to_string()));
            }
            Err(e @ ArxivError::Api(_)) => {
                return refuse(StatusCode::BAD_REQUEST, crate::error::capitalize(&e.to_string()));
            }
            Err(e) => {
                tracing::warn!(error = %e, id = %arxiv_id, "a submission could not be fetched from arXiv");
                return refuse(
                    StatusCode::BAD_GATEWAY,
                    "arXiv did not answer properly just now; please try again in a few minutes.".into(),
                );
            }
        };
        let now = Utc::now();
        let Some(first) = paper.submitted_at.or(paper.updated_at) else {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("arXiv gave no date for {arxiv_id}, so it cannot be submitted"),
            );
        };
        let window = chrono::Duration::days(i64::from(st.config.submit_window_days));
        if now - first > window {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "{arxiv_id} first appeared on arXiv on {}, more than {} days ago: only recent papers can be submitted",
                    human_day(first.date_naive()),
                    st.config.submit_window_days
                ),
            );
        }
        let done = st.store.submit_paper(v.user().id, &paper, now).await?;
        tracing::info!(user = %v.user().username, paper = %arxiv_id, outcome = ?done.outcome, "paper submitted");
        Ok(see_other(&paper_path(&paper.id)))
    };
    html_result(&st.config, result.await)
}
