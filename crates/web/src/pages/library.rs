//! `/settings/library`: a member uploads their reference library (a BibTeX
//! or RIS file from Zotero, Mendeley or Google Scholar, or the same text
//! pasted), sees what the upload did (entries matched to catalog papers,
//! with links; entries not in the catalog, which still count through their
//! text; duplicates; entries that could not be read, with their lines), and
//! pages through the library with a remove button per entry.
//!
//! The upload form is `multipart/form-data`; the CSRF middleware reads it
//! (see `crate::multipart`) and checks its `csrf` field like any form's.
//! Login required, private (`Cache-Control: private, no-store`).

use axum::extract::{RawQuery, State};
use axum::http::{Extensions, StatusCode};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use paperboy_services::library::{self, ImportReport, LibraryError};
use paperboy_store::{LibraryEntry, MAX_LIBRARY_ENTRIES, StoreError};

use crate::AppState;
use crate::auth::{CurrentUser, Form, Viewer, see_other};
use crate::error::WebError;
use crate::links::paper_path;
use crate::multipart::Multipart;
use crate::pages::html_response;
use crate::pages::interests::private;
use crate::pages::layout::{Head, Nav, page};
use crate::params::{QueryString, offset};

/// The page's own path.
pub const PATH: &str = "/settings/library";
/// Entries a page of the library lists.
const PAGE_SIZE: u32 = 50;

#[derive(Default)]
struct Notice<'a> {
    error: Option<&'a str>,
    report: Option<&'a ImportReport>,
}

async fn render(st: &AppState, v: &Viewer, page_no: u32, notice: Notice<'_>) -> Result<String, WebError> {
    let db = st.store.as_ref();
    let all = db.library(v.user().id, MAX_LIBRARY_ENTRIES as u32, 0).await?;
    let total = all.len() as u32;
    let start = offset(page_no, PAGE_SIZE)?;
    if start > 0 && start >= total {
        return Err(WebError::NotFound(format!("Your library has no page {page_no}: it has {total} entries")));
    }
    let shown: Vec<&LibraryEntry> = all.iter().skip(start as usize).take(PAGE_SIZE as usize).collect();
    let csrf = v.csrf();
    let body = html! {
        section.settings.library {
            h1 { "Your library" }
            p {
                "Upload what Zotero, Mendeley or Google Scholar export (BibTeX " code { ".bib" } " or RIS " code { ".ris" } ", at most "
                (library::MAX_LIBRARY_BYTES / 1024 / 1024) " MiB). Entries are matched to papers here by arXiv id, DOI or exact title; "
                "the others still shape your " a href="/for-you" { "recommendations" } " through their title and abstract. "
                "Only you can see your library. " a href="/settings/interests" { "All your recommendation settings" } "."
            }
            @if let Some(e) = notice.error { p.form-error role="alert" { (e) } }
            @if let Some(r) = notice.report { (report(r)) }
            form.account-form.upload method="post" action=(PATH) enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                label { "File " input type="file" name="file" accept=".bib,.bibtex,.ris,.txt,text/plain,application/x-bibtex,application/x-research-info-systems"; }
                label { "or paste BibTeX or RIS " textarea name="text" rows="6" placeholder="@article{…}" {} }
                button type="submit" { "Import" }
            }
            h2 { "Entries (" (total) ")" }
            @if all.is_empty() {
                p.muted { "Nothing imported yet." }
            } @else {
                ol.library-entries start=(start + 1) {
                    @for e in &shown { (entry_row(csrf, e)) }
                }
                (pager(page_no, total))
            }
        }
    };
    let head = Head { title: "Your library", noindex: true, ..Head::default() };
    Ok(page(&st.config, &head, &Nav::default(), body))
}

fn entry_title(e: &LibraryEntry) -> Markup {
    html! {
        @if let Some(id) = &e.paper {
            a.paper-title href=(paper_path(id)) { (e.title) }
        } @else {
            span.paper-title { (e.title) }
        }
        @if !e.authors.is_empty() { " " span.authors { (crate::pages::feed::short_authors(&e.authors)) } }
        @if let Some(y) = e.year { " " span.muted { "(" (y) ")" } }
    }
}

fn entry_row(csrf: &str, e: &LibraryEntry) -> Markup {
    html! {
        li data-entry=(e.id) {
            (entry_title(e))
            " "
            @match &e.matched_by {
                Some(how) => span.badge.matched title=(format!("matched by {}", how.replace('_', " "))) { "in catalog" },
                None => span.badge.muted { "not in catalog" },
            }
            " "
            form.inline method="post" action="/settings/library/remove" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="entry" value=(e.id);
                button.link type="submit" { "remove" }
            }
        }
    }
}

fn pager(page_no: u32, total: u32) -> Markup {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    html! {
        @if pages > 1 {
            nav.pager {
                @if page_no > 0 { a rel="prev" href=(format!("{PATH}?p={}", page_no - 1)) { "← Newer" } " " }
                span { "Page " (page_no + 1) " of " (pages) }
                @if page_no + 1 < pages { " " a rel="next" href=(format!("{PATH}?p={}", page_no + 1)) { "Older →" } }
            }
        }
    }
}

fn report(r: &ImportReport) -> Markup {
    let matched: Vec<&LibraryEntry> = r.entries.iter().filter(|e| e.paper.is_some()).collect();
    let unmatched: Vec<&LibraryEntry> = r.entries.iter().filter(|e| e.paper.is_none()).collect();
    html! {
        div.import-report role="status" {
            p {
                strong { "Imported " (r.format.as_str().to_uppercase().replace("BIBTEX", "BibTeX")) ": " }
                span.parsed { (r.parsed) " read" } ", "
                span.added { (r.added) " added" } ", "
                span.matched { (r.matched) " matched to papers here" } ", "
                span.duplicates { (r.duplicates) " already in your library" } ", "
                span.rejected { (r.rejected.len()) " could not be read" } "."
            }
            @if !matched.is_empty() {
                h3 { "Matched" }
                ul.matched { @for e in &matched { li { (entry_title(e)) } } }
            }
            @if !unmatched.is_empty() {
                h3 { "Not in the catalog (they still count through their text)" }
                ul.unmatched { @for e in &unmatched { li { (entry_title(e)) } } }
            }
            @if !r.rejected.is_empty() {
                h3 { "Could not be read" }
                ul.rejected {
                    @for x in &r.rejected { li { "Line " (x.line) ": " (x.why) } }
                }
            }
        }
    }
}

/// `GET /settings/library?p=N`.
pub async fn show(State(st): State<AppState>, CurrentUser(v): CurrentUser, RawQuery(query): RawQuery) -> Response {
    let r = async {
        let page_no = QueryString::parse(query.as_deref())?.page()?;
        Ok(html_response(StatusCode::OK, render(&st, &v, page_no, Notice::default()).await?))
    };
    private(r.await.unwrap_or_else(|e: WebError| e.into_html_response(&st.config)))
}

/// `POST /settings/library`: a file (`file`) or pasted text (`text`),
/// multipart or (text only) an ordinary form.
pub async fn upload(State(st): State<AppState>, CurrentUser(v): CurrentUser, mut ext: Extensions) -> Response {
    let r = async {
        let bytes: Vec<u8> = match ext.remove::<Multipart>() {
            Some(m) => match m.part("file").filter(|p| !p.data.is_empty()) {
                Some(file) => file.data.to_vec(),
                None => m.text("text").unwrap_or("").as_bytes().to_vec(),
            },
            None => ext.remove::<Form>().map(|f| f.raw("text").as_bytes().to_vec()).unwrap_or_default(),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return refuse(
                &st,
                &v,
                StatusCode::BAD_REQUEST,
                "Choose a .bib or .ris file (or paste its text) first: the upload was empty.",
            )
            .await;
        }
        match library::import(st.store.as_ref(), v.user().id, &bytes, Utc::now()).await {
            Ok(done) => {
                let page = render(&st, &v, 0, Notice { report: Some(&done), ..Notice::default() }).await?;
                Ok(html_response(StatusCode::OK, page))
            }
            Err(LibraryError::Store(e)) if !matches!(e, StoreError::TooMany { .. }) => Err(e.into()),
            Err(e) => {
                let status = match e {
                    LibraryError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
                refuse(&st, &v, status, &crate::error::capitalize(&e.to_string())).await
            }
        }
    };
    private(r.await.unwrap_or_else(|e| e.into_html_response(&st.config)))
}

async fn refuse(st: &AppState, v: &Viewer, status: StatusCode, message: &str) -> Result<Response, WebError> {
    let page = render(st, v, 0, Notice { error: Some(message), ..Notice::default() }).await?;
    Ok(html_response(status, page))
}

/// `POST /settings/library/remove` with `entry`: removes one of the
/// member's own entries (404 for anyone else's).
pub async fn remove(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let r = async {
        let entry = form
            .get("entry")
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| WebError::bad("Say which entry to remove (its number)"))?;
        if !st.store.remove_library_entry(v.user().id, entry).await? {
            return Err(WebError::NotFound("Your library has no entry with that number".to_string()));
        }
        Ok(see_other(PATH))
    };
    private(r.await.unwrap_or_else(|e| e.into_html_response(&st.config)))
}
