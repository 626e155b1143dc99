//! The stylesheet (`src/assets.rs`): linked with its content hash and served
//! with a long cache lifetime.

use crate::common;

use common::catalog::start;
use common::{content_type, header};
use reqwest::StatusCode;

#[tokio::test]
async fn stylesheet_is_linked_and_cached() {
    let s = start(30).await;
    let body = s.text("/", StatusCode::OK).await;
    let at = body.find("/static/style.css?v=").expect("stylesheet link");
    let href: String = body[at..].chars().take_while(|c| *c != '"').collect();
    let r = s.get(&href).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(content_type(&r), "text/css; charset=utf-8");
    assert!(header(&r, "cache-control").contains("max-age=31536000"));
    assert!(r.text().await.unwrap().contains("system-ui"));
    assert!(!body.contains("<script"), "no JavaScript at all");
}
