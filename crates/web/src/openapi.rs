//! `GET /api/openapi.json`: the hand-written OpenAPI 3.1 description of
//! the JSON API (`openapi.json` beside this file), with this server's base
//! URL filled in as `servers`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::{WebError, json_result};

/// The document as written.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The document with `servers` set to `base_url`.
pub fn document_for(base_url: &str) -> Result<String, WebError> {
    let mut doc: serde_json::Value =
        serde_json::from_str(OPENAPI_JSON).map_err(|e| WebError::Internal(format!("openapi.json: {e}")))?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("servers".to_string(), serde_json::json!([{ "url": base_url }]));
    }
    Ok(doc.to_string())
}

/// `GET /api/openapi.json`.
pub async fn document(State(st): State<AppState>) -> Response {
    json_result(
        document_for(&st.config.base_url)
            .map(|body| (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_parses_and_names_every_endpoint() {
        let doc: serde_json::Value = serde_json::from_str(&document_for("http://x").unwrap()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], "http://x");
        for path in [
            "/api/daily_papers",
            "/api/papers/{id}",
            "/api/papers/search",
            "/api/papers/{id}/similar",
            "/api/recommendations",
            "/api/openapi.json",
        ] {
            assert!(doc["paths"][path]["get"].is_object(), "{path}");
        }
        for method in ["post", "delete"] {
            let op = &doc["paths"]["/api/papers/{id}/upvote"][method];
            assert_eq!(op["security"][0]["bearer"], serde_json::json!([]), "{method}");
            assert!(op["responses"]["401"].is_object(), "{method}");
        }
        let recs = &doc["paths"]["/api/recommendations"]["get"];
        assert_eq!(recs["security"][0]["bearer"], serde_json::json!([]));
        assert!(recs["responses"]["401"].is_object());
    }
}
