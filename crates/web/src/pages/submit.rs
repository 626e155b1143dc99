//! `/papers/submit`: a member submits an arXiv paper by id or URL.
//!
//! The workflow is [`paperboy_services::submit`]: a paper already in the
//! catalog is simply upvoted; otherwise it is fetched from arXiv (the
//! endpoint is [`crate::WebSettings::arxiv_base_url`]) and accepted only when
//! its first version appeared within
//! [`crate::WebSettings::submit_window_days`] days. Either way the member
//! lands on the paper's page (303); a refusal is the form again, with the
//! reason.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::html;
use paperboy_core::ArxivId;
use paperboy_services::submit::{self, SubmitError};

use crate::AppState;
use crate::auth::{CurrentUser, Form, see_other};
use crate::dates::human_day;
use crate::error::{WebError, capitalize, html_result};
use crate::links::paper_path;
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};

pub use paperboy_services::submit::Fetcher;

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
    form: Form,
) -> Response {
    let result = async {
        let typed = form.get("id").unwrap_or("");
        let refuse =
            |status: StatusCode, msg: String| Ok(html_response(status, form_page(&st, v.csrf(), typed, Some(&msg))));
        let id = match ArxivId::parse(typed) {
            Ok(id) => id,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, capitalize(&e.to_string())),
        };
        let window = st.config.submit_window_days;
        match submit::submit(st.store.as_ref(), &fetcher, v.user(), &id, window, Utc::now()).await {
            Ok(done) => Ok(see_other(&paper_path(done.paper_id()))),
            Err(SubmitError::Store(e)) => Err(WebError::from(e)),
            Err(e) => {
                let (status, msg) = refusal(&e);
                refuse(status, msg)
            }
        }
    };
    html_result(&st.config, result.await)
}

/// The status and message of a refused submission.
fn refusal(e: &SubmitError) -> (StatusCode, String) {
    match e {
        SubmitError::Off => {
            (StatusCode::SERVICE_UNAVAILABLE, "Submissions are off: this server cannot reach arXiv.".into())
        }
        SubmitError::NotFound(_) => (StatusCode::NOT_FOUND, capitalize(&e.to_string())),
        SubmitError::Unavailable(_) => (StatusCode::BAD_GATEWAY, format!("{}.", capitalize(&e.to_string()))),
        SubmitError::TooOld { id, first, window_days } => (
            StatusCode::BAD_REQUEST,
            format!(
                "{id} first appeared on arXiv on {}, more than {window_days} days ago: only recent papers can be submitted",
                human_day(first.date_naive()),
            ),
        ),
        SubmitError::Refused(_) | SubmitError::NoDate(_) | SubmitError::Store(_) => {
            (StatusCode::BAD_REQUEST, capitalize(&e.to_string()))
        }
    }
}
