//! The JSON API (`src/api.rs`) over real HTTP: Hugging Face shapes of
//! `/api/daily_papers`, pagination in headers, JSON errors, and a paper by id.

use crate::common;

use common::catalog::start;
use common::header;
use common::json::{ITEM_KEYS, PAPER_KEYS, keys, set};
use paperboy_core::PaperId;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn daily_papers_has_hugging_face_shapes() {
    let s = start(30).await;
    let r = s.get("/api/daily_papers?date=2026-03-12").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "5");
    let v: Value = r.json().await.unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 5);
    for item in items {
        assert_eq!(keys(item), set(ITEM_KEYS));
        assert_eq!(keys(&item["paper"]), set(PAPER_KEYS));
        assert_eq!(item["numComments"], 0);
        assert!(item["thumbnail"].is_null());
        assert_eq!(item["title"], item["paper"]["title"]);
        assert_eq!(item["submittedOnDailyAt"], "2026-03-12T00:00:00.000Z");
    }
    let moe = items.iter().find(|i| i["paper"]["id"] == "2603.00101").unwrap();
    let p = &moe["paper"];
    assert_eq!(p["authors"][0], serde_json::json!({ "name": "Grace Hopper" }));
    assert_eq!(p["authors"].as_array().unwrap().len(), 5);
    assert_eq!(p["publishedAt"], "2026-03-10T12:00:00.000Z");
    assert_eq!(moe["publishedAt"], "2026-03-10T12:00:00.000Z");
    assert_eq!(p["updatedAt"], "2026-03-11T08:30:00.000Z");
    assert_eq!(p["listedOn"], "2026-03-12");
    assert_eq!(p["categories"], serde_json::json!(["cs.CV", "cs.LG"]));
    assert_eq!(p["primaryCategory"], "cs.CV");
    assert_eq!(p["version"], 2);
    assert_eq!(p["githubRepo"], "https://github.com/example/moe");
    assert_eq!(p["projectPage"], "https://moe.example.org/");
    assert_eq!(p["doi"], "10.1000/xyz123");
    assert_eq!(p["journalRef"], "Journal of Tests 1 (2026) 1-12");
    assert_eq!(p["comment"], "12 pages, 4 figures");
    assert_eq!(p["withdrawn"], false);
    assert_eq!(p["upvotes"], 0);
    assert_eq!(p["arxivUrl"], "https://arxiv.org/abs/2603.00101");
    assert_eq!(p["pdfUrl"], "https://arxiv.org/pdf/2603.00101");
    // Newest first, then by id descending.
    assert_eq!(items[0]["paper"]["id"], "2603.00105");

    // No period: the latest day.
    let latest = s.json("/api/daily_papers", StatusCode::OK).await;
    assert_eq!(latest.as_array().unwrap().len(), 5);
    let week = s.json("/api/daily_papers?week=2026-W11&limit=100", StatusCode::OK).await;
    assert_eq!(week.as_array().unwrap().len(), 12);
    let month = s.json("/api/daily_papers?month=2026-02", StatusCode::OK).await;
    assert_eq!(month.as_array().unwrap().len(), 2);
    let cat = s.json("/api/daily_papers?month=2026-03&cat=cs.CV", StatusCode::OK).await;
    assert_eq!(cat.as_array().unwrap().len(), 5);
    s.json("/api/daily_papers?sort=new", StatusCode::OK).await;
}

#[tokio::test]
async fn daily_papers_paginates_in_headers() {
    let s = start(30).await;
    let r = s.get("/api/daily_papers?week=2026-W11&limit=5&cat=cs").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "11");
    let link = header(&r, "link");
    let b = &s.base;
    assert!(link.contains(&format!("<{b}/api/daily_papers?week=2026-W11&cat=cs&p=1&limit=5>; rel=\"next\"")), "{link}");
    assert!(!link.contains("rel=\"prev\""));
    assert!(link.contains("&p=2&limit=5>; rel=\"last\""), "{link}");
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 5);

    let r = s.get("/api/daily_papers?week=2026-W11&limit=5&cat=cs&p=1").await;
    let link = header(&r, "link");
    assert!(link.contains("&p=0&limit=5>; rel=\"prev\""), "{link}");
    assert!(link.contains("&p=2&limit=5>; rel=\"next\""), "{link}");
    let second: Value = r.json().await.unwrap();
    assert_ne!(second[0]["paper"]["id"], page[0]["paper"]["id"]);

    // Past the end: an empty array, still with the total.
    let r = s.get("/api/daily_papers?date=2026-03-12&p=7").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-total-count"), "5");
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!([]));

    // Without a period the links pin the resolved day.
    let r = s.get("/api/daily_papers?limit=2").await;
    assert!(header(&r, "link").contains("?date=2026-03-12&p=1&limit=2>; rel=\"next\""));
}

#[tokio::test]
async fn api_errors_are_json() {
    let s = start(30).await;
    for (path, needle) in [
        ("/api/daily_papers?limit=0", "from 1 to 100"),
        ("/api/daily_papers?limit=101", "from 1 to 100"),
        ("/api/daily_papers?limit=ten", "from 1 to 100"),
        ("/api/daily_papers?p=x", "not a page number"),
        ("/api/daily_papers?date=2026-03-12&week=2026-W11", "at most one"),
        ("/api/daily_papers?date=12/03/2026", "is not a date"),
        ("/api/daily_papers?week=2026-W99", "is not a week"),
        ("/api/daily_papers?month=2026-3", "is not a month"),
        ("/api/daily_papers?sort=hot", "unknown sort"),
        ("/api/daily_papers?cat=a%20b", "is not a category"),
        ("/api/papers/hello", "is not an arXiv identifier"),
        ("/api/papers/%FF%FE", ""),
    ] {
        let v = s.json(path, StatusCode::BAD_REQUEST).await;
        let msg = v["error"].as_str().unwrap_or_else(|| panic!("{path}: {v}"));
        assert!(msg.contains(needle), "{path}: {msg}");
        assert_eq!(keys(&v), set(&["error"]));
    }
    let v = s.json("/api/papers/2312.99999", StatusCode::NOT_FOUND).await;
    assert_eq!(v["error"], "We don't have 2312.99999 yet");
    let v = s.json("/api/nothing/here", StatusCode::NOT_FOUND).await;
    assert!(v["error"].as_str().unwrap().contains("/api/nothing/here"));
}

#[tokio::test]
async fn api_paper_by_id() {
    let s = start(30).await;
    let v = s.json("/api/papers/hep-th/9901001", StatusCode::OK).await;
    assert_eq!(keys(&v), set(PAPER_KEYS));
    assert_eq!(v["id"], "hep-th/9901001");
    assert_eq!(v["title"], "Old-Style Strings and Branes");
    assert_eq!(v["arxivUrl"], "https://arxiv.org/abs/hep-th/9901001");
    let v = s.json("/api/papers/2603.00101v2", StatusCode::OK).await;
    assert_eq!(v["id"], "2603.00101");
    let local = PaperId::local_from_title("A Pasted Paper Without an arXiv Id");
    let v = s.json(&format!("/api/papers/{local}"), StatusCode::OK).await;
    assert_eq!(v["id"], local.to_string());
    assert!(v["arxivUrl"].is_null() && v["pdfUrl"].is_null());
    let v = s.json("/api/papers/2603.00093", StatusCode::OK).await;
    assert_eq!(v["withdrawn"], true);
}
