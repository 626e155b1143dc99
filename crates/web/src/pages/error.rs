//! Error pages: 400, 401, 403, 404, 405, 408, 413, 429, 500 and 503 in the site's layout.

use maud::html;
use paperboy_core::PaperId;

use crate::WebSettings;
use crate::error::WebError;
use crate::pages::layout::{Head, Nav, page};

/// The page for `err`.
pub fn render(config: &WebSettings, err: &WebError) -> String {
    let status = err.status();
    let heading = match err {
        WebError::BadRequest(_) => "That request doesn't look right",
        WebError::UnknownPaper(_) => "Paper not found",
        WebError::NoRoute(_) => "Page not found",
        WebError::MethodNotAllowed => "Method not allowed",
        WebError::Unauthorized(_) => "Please log in",
        WebError::Forbidden(_) => "Not allowed",
        WebError::NotFound(_) => "Not found",
        WebError::Gone(_) => "This link has expired",
        WebError::TooLarge | WebError::TooLargeUpload(_) => "Too large",
        WebError::SlowBody => "Too slow",
        WebError::TooManyAttempts { .. } => "Too many attempts",
        WebError::RateLimited { .. } => "Slow down",
        WebError::Busy { .. } => "Busy",
        WebError::SearchOff => "Search is not set up",
        WebError::Store(_) | WebError::Search(_) | WebError::Internal(_) | WebError::Panicked { .. } => {
            "Something went wrong"
        }
    };
    let title = format!("{} {heading}", status.as_u16());
    let message = err.public_message();
    let body = html! {
        section.notice {
            p.status { (status.as_u16()) }
            h1 { (heading) }
            p.message { (message) }
            @if let WebError::UnknownPaper(PaperId::Arxiv(id)) = err {
                p {
                    "It may be on arXiv: "
                    a href=(format!("https://arxiv.org/abs/{id}")) rel="nofollow" { "arxiv.org/abs/" (id) }
                }
            }
            p { a href="/" { "← Back to the latest papers" } }
        }
    };
    let head = Head { title: &title, noindex: true, ..Head::default() };
    page(config, &head, &Nav::default(), body)
}
