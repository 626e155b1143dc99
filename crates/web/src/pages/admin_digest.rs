//! `GET /admin/digest?period=daily|weekly&format=html|text&content=…`: an
//! admin sees the digest as it would be mailed now: their own
//! subscription's (saved searches, categories and, when it asks for them,
//! their own recommendations included) when they have one, else their own
//! recommendations and the trending papers. `content=trending|recommended|both`
//! previews another choice of what the digest carries. Nothing is queued or
//! sent.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use paperboy_core::Role;
use paperboy_mail::Period;
use paperboy_store::{DigestContent, Frequency, Subscriber, SubscriberId};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{WebError, html_result};
use crate::pages::subscribe::postman;
use crate::params::QueryString;

/// `GET /admin/digest`.
pub async fn preview(State(st): State<AppState>, CurrentUser(v): CurrentUser, RawQuery(q): RawQuery) -> Response {
    let result = async {
        if v.user().role != Role::Admin {
            return Err(WebError::Forbidden("Only admins can preview the digest.".to_string()));
        }
        let mail = postman(&st)?;
        let q = QueryString::parse(q.as_deref())?;
        let frequency = match q.get("period") {
            None => Frequency::Daily,
            Some(p) => Frequency::parse(p).ok_or_else(|| WebError::bad("period must be daily or weekly"))?,
        };
        let text = match q.get("format") {
            None | Some("html") => false,
            Some("text") => true,
            Some(_) => return Err(WebError::bad("format must be html or text")),
        };
        let content = match q.get("content") {
            None => None,
            Some(c) => Some(
                DigestContent::parse(c)
                    .ok_or_else(|| WebError::bad("content must be trending, recommended or both"))?,
            ),
        };
        let builder = &mail.builder;
        let period = Period::at(frequency, Utc::now(), builder.site.tz);
        let user = v.user();
        let mut sub = st.store.subscriber_for_user(user.id).await?.unwrap_or_else(|| Subscriber {
            id: SubscriberId(0),
            email: user.email.clone(),
            user: Some(user.id),
            frequency,
            categories: Vec::new(),
            content: DigestContent::Both,
            created_at: Utc::now(),
            confirmed_at: Some(Utc::now()),
            unsubscribed_at: None,
            paused_at: None,
            bounces: 0,
        });
        if let Some(content) = content {
            sub.content = content;
        }
        let trending = builder.trending(&period).await.map_err(|e| WebError::Internal(e.to_string()))?;
        let mut spent = std::time::Duration::ZERO;
        let digest = builder
            .digest_for(&sub, &period, &trending, &mut spent)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
        let (body, kind) = if text {
            (digest.text(), "text/plain; charset=utf-8")
        } else {
            (digest.html(), "text/html; charset=utf-8")
        };
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if digest.is_empty() {
            r.headers_mut().insert("x-digest-empty", HeaderValue::from_static("true"));
        }
        Ok(r)
    };
    html_result(&st.config, result.await)
}
