//! Query strings and forms (`src/params.rs`) over real HTTP: a request
//! with thousands of parameters, distinct or repeated, is a quick 400 with a
//! readable message on the site and in the JSON API, never seconds of work.

use std::time::Instant;

use crate::common;

use common::catalog::start;
use reqwest::StatusCode;

/// `k0=&k1=&…`: `n` distinct names, as long as a URL may be (hyper
/// refuses request targets of 64 KiB and more with 414).
fn distinct(n: usize) -> String {
    (0..n).map(|i| format!("{i:x}=")).collect::<Vec<_>>().join("&")
}

#[tokio::test]
async fn thousands_of_parameters_are_a_quick_400() {
    let s = start(30).await;
    let many = distinct(10_000);
    assert!(many.len() < 65_000, "{}", many.len());
    let t = Instant::now();
    let r = s.get(&format!("/papers?{many}")).await;
    eprintln!("10,000 distinct parameters ({} bytes): {:?}", many.len(), t.elapsed());
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "10,000 distinct parameters");
    let page = r.text().await.unwrap();
    assert!(page.contains("too many parameters: this site reads at most 100"), "{page}");
    let t = Instant::now();
    let r = s.get(&format!("/api/daily_papers?{many}")).await;
    eprintln!("the same on the API: {:?}", t.elapsed());
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "10,000 distinct parameters on the API");
    let api: serde_json::Value = r.json().await.unwrap();
    assert!(api["error"].as_str().unwrap().contains("too many parameters"), "{api}");

    let repeated = "p=1&".repeat(15_000);
    let r = s.get(&format!("/papers?{repeated}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "15,000 repeated parameters");
    let page = r.text().await.unwrap();
    assert!(page.contains("is given more than once"), "{page}");

    // A hundred is fine (unknown names are ignored).
    let ok = distinct(99);
    s.text(&format!("/papers?{ok}&p=0"), StatusCode::OK).await;
}
