//! The stylesheet, embedded in the binary and served with a long cache
//! lifetime. Pages link it with a content hash in the query string, so a
//! new build's stylesheet is fetched at once despite the cache.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The site's only stylesheet.
pub const STYLE_CSS: &str = include_str!("../static/style.css");

/// `/static/style.css?v=<hash>`.
pub static STYLE_URL: LazyLock<String> = LazyLock::new(|| {
    let hash = paperboy_core::id::fnv1a64(STYLE_CSS.as_bytes());
    format!("/static/style.css?v={:08x}", hash as u32)
});

/// `GET /static/style.css`.
pub async fn style_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLE_CSS,
    )
        .into_response()
}
