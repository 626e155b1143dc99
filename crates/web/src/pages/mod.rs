//! The server-rendered HTML site: feed pages, paper pages, the search page
//! and error pages, all in one [`layout`].

pub mod error;
pub mod feed;
pub mod layout;
pub mod paper;
pub mod search;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An HTML response with the right content type.
pub fn html_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}
