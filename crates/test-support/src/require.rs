//! What a test does when a real component it needs is not there (Python with
//! aiosmtpd, a PostgreSQL server): outside CI it says so and is skipped; under
//! `CI=true`, where `scripts/test.sh` provides every component, it fails.

/// Whether this run is CI (`CI=true`), where every component must be there.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A component is missing, for the reason `why` (which says how to provide
/// it): panics under CI; otherwise prints `SKIPPED: why` and returns `None`,
/// for the caller to hand on so that the test returns early.
#[track_caller]
pub fn missing<T>(why: &str) -> Option<T> {
    if in_ci() {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}
