//! `/settings` (`src/pages/settings.rs`): a member whose address is not
//! confirmed can ask for a new confirmation link, a few times an hour.

use crate::common;

use common::{Browser, Launch};
use paperboy_core::Role;
use paperboy_services::accounts::{self, SignUp};
use reqwest::StatusCode;

const PW: &str = "correct horse battery";

#[tokio::test]
async fn an_unconfirmed_member_can_ask_for_a_new_confirmation_link() {
    let (dir, store) = common::sqlite().await;
    let form =
        SignUp { username: "una", email: "una@example.org", password: PW, role: Role::Member, email_verified: false };
    accounts::sign_up(&store, &form).await.unwrap();
    let site = Launch::bind().await.keep(dir).serve(store);
    let mut b = Browser::new(&site);
    assert_eq!(b.log_in("una", PW).await.status, StatusCode::SEE_OTHER);
    let page = b.get("/settings").await;
    assert!(page.body.contains("not confirmed yet"));
    assert!(page.body.contains("action=\"/settings/verify\""), "a way to confirm the address");
    let csrf = page.csrf();
    for _ in 0..settings_limit() {
        let r = b.post("/settings/verify", &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("We sent a new confirmation link to una@example.org"));
    }
    let r = b.post("/settings/verify", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "limited");
}

fn settings_limit() -> u32 {
    paperboy_services::limits::VERIFY_MAILS
}
