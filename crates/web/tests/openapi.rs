//! `GET /api/openapi.json` (`src/openapi.rs`): the document describes the
//! API the server really serves.

use crate::common;

use std::collections::BTreeSet;

use common::catalog::start;
use common::json::{ITEM_KEYS, PAPER_KEYS, keys, set};
use reqwest::StatusCode;

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let s = start(30).await;
    let doc = s.json("/api/openapi.json", StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["servers"][0]["url"], s.base.as_str());
    let paths = keys(&doc["paths"]);
    for p in ["/api/daily_papers", "/api/papers/{id}", "/api/openapi.json"] {
        assert!(paths.contains(p), "{p}");
    }
    let params: BTreeSet<String> = doc["paths"]["/api/daily_papers"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(params, set(&["date", "week", "month", "cat", "sort", "has_code", "p", "limit"]));
    // The documented schemas match what the server sends.
    let schemas = &doc["components"]["schemas"];
    let paper_props = keys(&schemas["Paper"]["properties"]);
    assert_eq!(paper_props, set(PAPER_KEYS));
    assert_eq!(keys(&schemas["DailyPaper"]["properties"]), set(ITEM_KEYS));
    assert!(schemas["Error"]["properties"]["error"].is_object());
}
