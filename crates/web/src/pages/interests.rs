//! `/settings/interests`: the one page where a member sees and controls
//! everything their recommendations (`/for-you`) are made from: followed
//! categories and authors (add, remove), papers marked "not for me" (undo),
//! the imported library (count, link to `/settings/library`), clearing
//! each kind or everything (after a confirmation page), and the private
//! feed's secret URL (rotated here, shown once).
//!
//! Every route needs a login, every POST a CSRF token (the middleware), and
//! every answer is `Cache-Control: private, no-store`: nothing here is ever
//! shown to anyone but the member.
//!
//! Routes: `GET /settings/interests`, `POST /settings/interests/categories`
//! (`category`, `on=1|0`), `POST /settings/interests/authors` (`name`,
//! `on=1|0`, `next`: the paper page's follow buttons post here too),
//! `POST /settings/interests/not-for-me` (`paper`: undo),
//! `GET|POST /settings/interests/clear` (`kind`), and
//! `POST /settings/interests/feed-secret`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use paperboy_core::PaperId;
use paperboy_store::{InterestKind, MAX_FOLLOWS, MAX_LIBRARY_ENTRIES, StoreError};

use crate::AppState;
use crate::auth::{CurrentUser, Form, Viewer, safe_next, see_other};
use crate::error::WebError;
use crate::links::paper_path;
use crate::pages::feed::short_authors;
use crate::pages::html_response;
use crate::pages::layout::{Head, Nav, page};
use crate::params::QueryString;

/// The page's own path.
pub const PATH: &str = "/settings/interests";
/// "Not for me" papers listed (the newest).
const NOT_FOR_ME_SHOWN: u32 = 200;
/// The longest author name accepted.
const MAX_AUTHOR_CHARS: usize = 200;

/// Categories offered in the add box (any arXiv category may be typed).
const KNOWN_CATEGORIES: &[(&str, &str)] = &[
    ("cs.AI", "Artificial Intelligence"),
    ("cs.CL", "Computation and Language"),
    ("cs.CV", "Computer Vision and Pattern Recognition"),
    ("cs.LG", "Machine Learning"),
    ("cs.IR", "Information Retrieval"),
    ("cs.NE", "Neural and Evolutionary Computing"),
    ("cs.RO", "Robotics"),
    ("cs.CR", "Cryptography and Security"),
    ("cs.DB", "Databases"),
    ("cs.DC", "Distributed, Parallel, and Cluster Computing"),
    ("cs.DS", "Data Structures and Algorithms"),
    ("cs.HC", "Human-Computer Interaction"),
    ("cs.MA", "Multiagent Systems"),
    ("cs.PL", "Programming Languages"),
    ("cs.SE", "Software Engineering"),
    ("cs.SD", "Sound"),
    ("eess.AS", "Audio and Speech Processing"),
    ("eess.IV", "Image and Video Processing"),
    ("eess.SP", "Signal Processing"),
    ("stat.ML", "Machine Learning (Statistics)"),
    ("stat.ME", "Methodology"),
    ("math.OC", "Optimization and Control"),
    ("math.PR", "Probability"),
    ("math.ST", "Statistics Theory"),
    ("q-bio.QM", "Quantitative Methods"),
    ("q-fin.CP", "Computational Finance"),
    ("physics.comp-ph", "Computational Physics"),
    ("quant-ph", "Quantum Physics"),
    ("cond-mat.dis-nn", "Disordered Systems and Neural Networks"),
    ("astro-ph.IM", "Instrumentation and Methods for Astrophysics"),
];

/// What the page says above its sections after an action.
#[derive(Default)]
struct Notice<'a> {
    error: Option<&'a str>,
    /// A feed secret just made, shown this once.
    feed_url: Option<&'a str>,
}

/// The kinds a member can clear, as the forms name them.
const KINDS: &[(&str, InterestKind, &str)] = &[
    ("categories", InterestKind::Categories, "followed categories"),
    ("authors", InterestKind::Authors, "followed authors"),
    ("not-for-me", InterestKind::NotForMe, "“not for me” marks"),
    ("library", InterestKind::Library, "imported library"),
    ("everything", InterestKind::Everything, "everything on this page"),
];

fn kind_of(name: Option<&str>) -> Result<(&'static str, InterestKind, &'static str), WebError> {
    let name = name.unwrap_or("");
    KINDS.iter().find(|(n, _, _)| *n == name).copied().ok_or_else(|| {
        let names: Vec<&str> = KINDS.iter().map(|(n, _, _)| *n).collect();
        WebError::bad(format!("Say what to clear: kind is one of {}", names.join(", ")))
    })
}

/// A response that no shared cache or browser keeps.
pub(crate) fn private(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r
}

fn result(st: &AppState, r: Result<Response, WebError>) -> Response {
    private(r.unwrap_or_else(|e| e.into_html_response(&st.config)))
}

async fn render(st: &AppState, v: &Viewer, notice: Notice<'_>) -> Result<String, WebError> {
    let db = st.store.as_ref();
    let user = v.user().id;
    let profile = db.interest_profile(user, MAX_FOLLOWS as u32).await?;
    let not_for_me = db.not_for_me_papers(user, NOT_FOR_ME_SHOWN, 0).await?;
    let library = db.library(user, MAX_LIBRARY_ENTRIES as u32, 0).await?;
    let matched = library.iter().filter(|e| e.paper.is_some()).count();
    let has_secret = db.has_feed_secret(user).await?;
    let csrf = v.csrf();
    let body = html! {
        section.settings.interests {
            h1 { "Your recommendations" }
            p {
                "Everything " a href="/for-you" { "For you" } " is made from is on this page; only you can see it. "
                "Your upvotes and your " a href="/reading-list" { "reading list" } " count too."
            }
            @if let Some(e) = notice.error { p.form-error role="alert" { (e) } }
            @if let Some(url) = notice.feed_url {
                div.secret role="status" {
                    p { strong { "Your private feed. Copy the address now: it is shown only once." } }
                    p { code.token.feed-url { (url) } }
                    p.muted { "Anyone with this address can read your recommendations; make a new one to revoke it." }
                }
            }

            h2 #categories { "Categories you follow" }
            @if profile.categories.is_empty() {
                p.muted { "None yet." }
            } @else {
                ul.follows {
                    @for c in &profile.categories {
                        li {
                            a.chip href=(format!("/papers?cat={}", crate::params::percent_encode(c))) { (c) }
                            " "
                            (unfollow_form(csrf, "/settings/interests/categories", "category", c))
                        }
                    }
                }
            }
            form.account-form method="post" action="/settings/interests/categories" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="on" value="1";
                label { "Follow a category "
                    input type="text" name="category" list="known-categories" required maxlength="40" placeholder="cs.LG";
                }
                datalist #known-categories {
                    @for (c, name) in KNOWN_CATEGORIES { option value=(c) { (name) } }
                }
                button type="submit" { "Follow" }
            }

            h2 #authors { "Authors you follow" }
            @if profile.authors.is_empty() {
                p.muted { "None yet: add a name here, or use the “+” next to an author on a paper's page." }
            } @else {
                ul.follows {
                    @for a in &profile.authors {
                        li {
                            a href=(format!("/search?q={}", crate::params::percent_encode(&format!("\"{a}\"")))) { (a) }
                            " "
                            (unfollow_form(csrf, "/settings/interests/authors", "name", a))
                        }
                    }
                }
            }
            form.account-form method="post" action="/settings/interests/authors" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="on" value="1";
                label { "Follow an author " input type="text" name="name" required maxlength=(MAX_AUTHOR_CHARS) placeholder="Yoshua Bengio"; }
                button type="submit" { "Follow" }
            }

            h2 #not-for-me { "Not for me" }
            @if not_for_me.is_empty() {
                p.muted { "No paper marked “not for me”." }
            } @else {
                ul.member-papers {
                    @for s in &not_for_me {
                        li data-paper-id=(s.paper.id) {
                            a.paper-title href=(paper_path(&s.paper.id)) { (s.paper.title) }
                            @if !s.paper.authors.is_empty() { " " span.authors { (short_authors(&s.paper.authors)) } }
                            " "
                            form.inline method="post" action="/settings/interests/not-for-me" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="paper" value=(s.paper.id);
                                button.link type="submit" { "undo" }
                            }
                        }
                    }
                }
            }

            h2 #library { "Library" }
            p {
                @if library.is_empty() {
                    "No library imported. "
                } @else {
                    span.library-count { (library.len()) " entries, " (matched) " of them in the catalog. " }
                }
                a href="/settings/library" { "Upload a BibTeX or RIS file, or see your library" }
            }

            h2 #feed { "Private feed" }
            p {
                @if has_secret {
                    "You have a private Atom feed of your recommendations. Making a new address stops the old one."
                } @else {
                    "Read your recommendations in a feed reader at a private address."
                }
            }
            form.inline method="post" action="/settings/interests/feed-secret" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { @if has_secret { "Make a new feed address" } @else { "Make a feed address" } }
            }

            h2 #clear { "Clear" }
            ul.clear {
                @for (name, _, what) in KINDS {
                    li { a href=(format!("/settings/interests/clear?kind={name}")) { "Clear " (what) "…" } }
                }
            }
        }
    };
    let head = Head { title: "Your recommendations", noindex: true, ..Head::default() };
    Ok(page(&st.config, &head, &Nav::default(), body))
}

fn unfollow_form(csrf: &str, action: &str, field: &str, value: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name=(field) value=(value);
            input type="hidden" name="on" value="0";
            button.link type="submit" { "remove" }
        }
    }
}

/// The page again with an error above it, as a 400.
async fn refuse(st: &AppState, v: &Viewer, message: &str) -> Result<Response, WebError> {
    let page = render(st, v, Notice { error: Some(message), ..Notice::default() }).await?;
    Ok(html_response(StatusCode::BAD_REQUEST, page))
}

/// `on=1` (the default) or `on=0`.
fn on(form: &Form) -> Result<bool, WebError> {
    match form.get("on") {
        None | Some("1") => Ok(true),
        Some("0") => Ok(false),
        Some(_) => Err(WebError::bad("on must be 1 (follow) or 0 (stop following)")),
    }
}

/// `GET /settings/interests`.
pub async fn show(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    let r = async { Ok(html_response(StatusCode::OK, render(&st, &v, Notice::default()).await?)) };
    result(&st, r.await)
}

/// `POST /settings/interests/categories`: follows or unfollows a category.
pub async fn category(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let r = async {
        let on = on(&form)?;
        let raw = form.get("category").unwrap_or("");
        let category = match paperboy_services::subscriptions::parse_categories(raw) {
            Ok(list) if list.len() == 1 => list.into_iter().next().unwrap_or_default(),
            Ok(list) if list.is_empty() => return refuse(&st, &v, "Type a category such as cs.LG.").await,
            Ok(_) => return refuse(&st, &v, "Follow one category at a time.").await,
            Err(refusal) => return refuse(&st, &v, &refusal).await,
        };
        match st.store.follow_category(v.user().id, &category, on, Utc::now()).await {
            Ok(()) => Ok(see_other(&format!("{PATH}#categories"))),
            Err(e @ StoreError::TooMany { .. }) => refuse(&st, &v, &crate::error::capitalize(&e.to_string())).await,
            Err(e) => Err(e.into()),
        }
    };
    result(&st, r.await)
}

/// `POST /settings/interests/authors`: follows or unfollows an author; back
/// to `next` (the paper page's buttons) or this page.
pub async fn author(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let r = async {
        let on = on(&form)?;
        let name = paperboy_core::text::normalize_ws(form.get("name").unwrap_or(""));
        if name.is_empty() || name.chars().count() > MAX_AUTHOR_CHARS || name.chars().any(char::is_control) {
            let msg = format!("Type an author's name (at most {MAX_AUTHOR_CHARS} characters).");
            return refuse(&st, &v, &msg).await;
        }
        match st.store.follow_author(v.user().id, &name, on, Utc::now()).await {
            Ok(()) => {
                let next = form.get("next").map(|n| safe_next(Some(n))).unwrap_or_else(|| format!("{PATH}#authors"));
                Ok(see_other(&next))
            }
            Err(e @ StoreError::TooMany { .. }) => refuse(&st, &v, &crate::error::capitalize(&e.to_string())).await,
            Err(e) => Err(e.into()),
        }
    };
    result(&st, r.await)
}

/// `POST /settings/interests/not-for-me` with `paper`: undoes a "not for me".
pub async fn undo_not_for_me(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let r = async {
        let id = PaperId::parse(form.get("paper").unwrap_or(""))?;
        st.store.set_not_for_me(v.user().id, &id, false, Utc::now()).await?;
        Ok(see_other(&format!("{PATH}#not-for-me")))
    };
    result(&st, r.await)
}

/// `GET /settings/interests/clear?kind=…`: asks before clearing.
pub async fn confirm_clear(
    State(st): State<AppState>,
    CurrentUser(v): CurrentUser,
    RawQuery(query): RawQuery,
) -> Response {
    let r = async {
        let q = QueryString::parse(query.as_deref())?;
        let (name, _, what) = kind_of(q.get("kind"))?;
        let body = html! {
            section.settings.confirm {
                h1 { "Clear your " (what) "?" }
                p { "This cannot be undone. Your upvotes and reading list stay as they are." }
                form.inline method="post" action="/settings/interests/clear" {
                    input type="hidden" name="csrf" value=(v.csrf());
                    input type="hidden" name="kind" value=(name);
                    button.danger type="submit" { "Clear " (what) }
                }
                " "
                a.button href=(PATH) { "Cancel" }
            }
        };
        let head = Head { title: "Clear your recommendations", noindex: true, ..Head::default() };
        Ok(html_response(StatusCode::OK, page(&st.config, &head, &Nav::default(), body)))
    };
    result(&st, r.await)
}

/// `POST /settings/interests/clear` with `kind`.
pub async fn clear(State(st): State<AppState>, CurrentUser(v): CurrentUser, form: Form) -> Response {
    let r = async {
        let (_, kind, _) = kind_of(form.get("kind"))?;
        st.store.clear_interests(v.user().id, kind).await?;
        Ok(see_other(PATH))
    };
    result(&st, r.await)
}

/// `POST /settings/interests/feed-secret`: a new private feed address
/// (the old one stops working), shown once.
pub async fn rotate_feed_secret(State(st): State<AppState>, CurrentUser(v): CurrentUser) -> Response {
    let r = async {
        let secret = st.store.rotate_feed_secret(v.user().id, Utc::now()).await?;
        let url = format!("{}/for-you/feed/{}.atom", st.config.base_url, secret.as_str());
        let page = render(&st, &v, Notice { feed_url: Some(&url), ..Notice::default() }).await?;
        Ok(html_response(StatusCode::OK, page))
    };
    result(&st, r.await)
}
