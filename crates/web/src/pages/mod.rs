//! The server-rendered HTML site: feed pages, paper pages with their
//! discussion, the search page, account pages (sign-up, login, password
//! reset, settings), submitting a paper, members' profiles and reading
//! lists, the code-trending view, a member's For-you pages, and error
//! pages, all in one [`layout`].

pub mod account;
pub mod admin_digest;
pub mod admin_harvest;
pub mod comments;
pub mod error;
pub mod feed;
pub mod for_you;
pub mod interests;
pub mod layout;
pub mod library;
pub mod members;
pub mod paper;
pub mod search;
pub mod settings;
pub mod submit;
pub mod subscribe;
pub mod trending;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An HTML response with the right content type.
pub fn html_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}
