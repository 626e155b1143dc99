//! The job supervisor, with small test jobs on a real SQLite file: jobs run
//! on a short schedule or on a manual clock, their state is recorded, a
//! failing (or panicking) job is retried with growing pauses while the
//! others go on, shutdown cancels a running job (and stops one that does not
//! listen, after the bound), and a job under a lease never runs in two
//! supervisors at once.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::schedule::Days;
use paperboy_services::jobs::{
    Job, JobContext, JobError, ManualClock, Outcome, Ran, Retry, Schedule, StatusBoard, Supervisor, WhenBusy,
};
use paperboy_store::{Database, SqlStore};

async fn open_db(dir: &tempfile::TempDir) -> Arc<dyn Database> {
    Arc::new(SqlStore::open_sqlite(&dir.path().join("jobs.db")).await.unwrap())
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Waits (up to 10 s) until `what` holds of the board.
async fn until(board: &StatusBoard, what: &str, ok: impl Fn(&StatusBoard) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok(board) {
        assert!(Instant::now() < deadline, "timed out waiting until {what}: {:#?}", board.snapshot());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Counts its runs; remembers each run's `due` and whether it was stopped.
struct Counter {
    name: &'static str,
    schedule: Schedule,
    runs: Arc<AtomicU32>,
    dues: Arc<Mutex<Vec<DateTime<Utc>>>>,
    stopped: Arc<AtomicBool>,
}

impl Counter {
    fn new(name: &'static str, schedule: Schedule) -> Counter {
        Counter { name, schedule, runs: Arc::default(), dues: Arc::default(), stopped: Arc::default() }
    }
}

#[async_trait]
impl Job for Counter {
    fn name(&self) -> &str {
        self.name
    }
    fn schedule(&self) -> Schedule {
        self.schedule
    }
    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        self.dues.lock().unwrap().push(ctx.due);
        Ok(Ran::did(format!("run {n}")))
    }
    async fn stopped(&self, _ctx: &JobContext) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_job_runs_on_a_short_schedule_and_its_state_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let job = Counter::new("counter", Schedule::Every(Duration::from_millis(20)));
    let (runs, stopped) = (Arc::clone(&job.runs), Arc::clone(&job.stopped));
    let mut sup = Supervisor::new(open_db(&dir).await);
    sup.register(job);
    assert_eq!(sup.job_names(), vec!["counter".to_string()]);
    let started = Utc::now();
    let running = sup.start();
    let board = running.status();
    until(&board, "three runs", |b| b.get("counter").unwrap().runs >= 3).await;
    let s = board.get("counter").unwrap();
    assert_eq!((s.failures, s.failures_in_row, s.busy), (0, 0, 0));
    assert_eq!(s.schedule, "every 0.02s");
    assert_eq!(s.lease, None);
    assert!(matches!(&s.last_outcome, Some(Outcome::Done(note)) if note.starts_with("run ")), "{s:?}");
    assert!(s.last_started.unwrap() >= started && s.last_finished.unwrap() >= s.last_started.unwrap());
    assert!(s.next_run.unwrap() > s.last_finished.unwrap(), "the next run is after the last one ended");
    assert!(s.last_duration.is_some());
    assert!(runs.load(Ordering::SeqCst) >= 3);
    assert!(running.shutdown(Duration::from_secs(5)).await.is_empty(), "stopped on its own");
    assert!(stopped.load(Ordering::SeqCst), "the stop hook ran");
    let s = board.get("counter").unwrap();
    assert_eq!(s.next_run, None, "nothing is due after the shutdown");
    let after = runs.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(runs.load(Ordering::SeqCst), after, "no run after the shutdown");
}

#[tokio::test]
async fn a_daily_job_runs_at_its_time_on_a_manual_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(utc("2026-12-03T06:00:00Z")));
    let times = paperboy_core::schedule::Schedule::parse("07:00", "Europe/London", Days::Every).unwrap();
    let job = Counter::new("daily", Schedule::At { times, catch_up: None });
    let (runs, dues) = (Arc::clone(&job.runs), Arc::clone(&job.dues));
    // Fired two hours before the start, with a day's catch-up: runs at once.
    let late = paperboy_core::schedule::Schedule::parse("04:00", "UTC", Days::Every).unwrap();
    let catch_up = Counter::new("catch-up", Schedule::At { times: late, catch_up: Some(chrono::Duration::hours(20)) });
    let caught = Arc::clone(&catch_up.runs);
    let mut sup = Supervisor::new(open_db(&dir).await).with_clock(clock.clone());
    sup.register(job).register(catch_up);
    let running = sup.start();
    let board = running.status();
    until(&board, "the catch-up ran", |b| b.get("catch-up").unwrap().runs == 1).await;
    assert_eq!(board.get("catch-up").unwrap().next_run, Some(utc("2026-12-04T04:00:00Z")));
    assert_eq!(board.get("daily").unwrap().next_run, Some(utc("2026-12-03T07:00:00Z")));
    tokio::time::sleep(Duration::from_millis(50)).await;
    clock.advance(chrono::Duration::minutes(59));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0, "not before 07:00");
    clock.advance(chrono::Duration::minutes(1));
    until(&board, "the 07:00 run", |b| b.get("daily").unwrap().runs == 1).await;
    assert_eq!(dues.lock().unwrap().clone(), vec![utc("2026-12-03T07:00:00Z")], "the run knows its firing");
    until(&board, "the next firing is set", |b| b.get("daily").unwrap().next_run == Some(utc("2026-12-04T07:00:00Z")))
        .await;
    clock.advance(chrono::Duration::hours(12));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "once a day");
    assert_eq!(caught.load(Ordering::SeqCst), 1);
    assert!(running.shutdown(Duration::from_secs(5)).await.is_empty());
}

/// Fails (or panics) the first `fail` runs, then succeeds; records when each run started.
struct Flaky {
    fail: u32,
    panic: bool,
    starts: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl Job for Flaky {
    fn name(&self) -> &str {
        if self.panic { "panicky" } else { "flaky" }
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_secs(3600))
    }
    fn retry(&self) -> Retry {
        Retry { first: Duration::from_millis(40), max: Duration::from_secs(1), attempts: 10 }
    }
    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let n = {
            let mut starts = self.starts.lock().unwrap();
            starts.push(Instant::now());
            starts.len() as u32
        };
        assert_eq!(ctx.attempt, n, "attempts are counted");
        if n <= self.fail {
            if self.panic {
                panic!("run {n} panicked");
            }
            return Err(JobError::Failed(format!("run {n} failed")));
        }
        Ok(Ran::did("worked"))
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_and_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky { fail: 3, panic: false, starts: Arc::default() };
    let panicky = Flaky { fail: 1, panic: true, starts: Arc::default() };
    let starts = Arc::clone(&flaky.starts);
    let steady = Counter::new("steady", Schedule::Every(Duration::from_millis(10)));
    let steady_runs = Arc::clone(&steady.runs);
    let mut sup = Supervisor::new(open_db(&dir).await);
    sup.register(flaky).register(panicky).register(steady);
    let running = sup.start();
    let board = running.status();
    until(&board, "the first failure", |b| b.get("flaky").unwrap().failures == 1).await;
    let s = board.get("flaky").unwrap();
    assert_eq!(s.last_outcome, Some(Outcome::Failed("run 1 failed".to_string())));
    until(&board, "the flaky job succeeded", |b| {
        b.get("flaky").unwrap().last_outcome == Some(Outcome::Done("worked".into()))
    })
    .await;
    let s = board.get("flaky").unwrap();
    assert_eq!((s.runs, s.failures, s.failures_in_row), (4, 3, 0));
    let starts = starts.lock().unwrap().clone();
    let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, least) in gaps.iter().zip([40, 80, 160]) {
        assert!(*gap >= Duration::from_millis(least), "pauses double: {gaps:?}");
    }
    until(&board, "the panicking job recovered", |b| b.get("panicky").unwrap().runs == 2).await;
    let p = board.get("panicky").unwrap();
    assert_eq!((p.failures, p.last_outcome), (1, Some(Outcome::Done("worked".into()))));
    assert!(steady_runs.load(Ordering::SeqCst) >= 10, "the steady job kept running meanwhile");
    assert_eq!(board.get("steady").unwrap().failures, 0);
    assert!(running.shutdown(Duration::from_secs(5)).await.is_empty());
}

/// Works until cancelled (`listens`) or for an hour regardless.
struct Long {
    name: &'static str,
    listens: bool,
}

#[async_trait]
impl Job for Long {
    fn name(&self) -> &str {
        self.name
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_secs(3600))
    }
    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        if self.listens {
            ctx.cancelled().await;
            return Err(JobError::Cancelled);
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(Ran::did("an hour later"))
    }
}

#[tokio::test]
async fn shutdown_cancels_a_running_job_and_stops_a_deaf_one_after_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut sup = Supervisor::new(open_db(&dir).await);
    sup.register(Long { name: "listens", listens: true }).register(Long { name: "deaf", listens: false });
    let running = sup.start();
    let board = running.status();
    until(&board, "both run", |b| b.snapshot().iter().all(|s| s.running)).await;
    let t = Instant::now();
    let forced = running.shutdown(Duration::from_millis(300)).await;
    let took = t.elapsed();
    assert_eq!(forced, vec!["deaf".to_string()], "only the deaf job had to be stopped");
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(5), "bounded: {took:?}");
    assert_eq!(board.get("listens").unwrap().last_outcome, Some(Outcome::Cancelled));
    assert!(!board.get("listens").unwrap().running);
}

/// Under a lease: counts how many runs are inside at once, across supervisors.
struct Exclusive {
    inside: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
}

#[async_trait]
impl Job for Exclusive {
    fn name(&self) -> &str {
        "exclusive"
    }
    fn schedule(&self) -> Schedule {
        Schedule::Every(Duration::from_millis(5))
    }
    fn lease(&self) -> Option<&str> {
        Some("test-exclusive")
    }
    fn when_busy(&self) -> WhenBusy {
        WhenBusy::Retry
    }
    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let held = ctx.db.lease("test-exclusive").await?.expect("held while running");
        assert_eq!(held.holder, ctx.holder, "held by this job");
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.inside.fetch_sub(1, Ordering::SeqCst);
        self.runs.fetch_add(1, Ordering::SeqCst);
        Ok(Ran::did("alone"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leased_job_never_runs_in_two_supervisors_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (inside, most, runs) =
        (Arc::<AtomicUsize>::default(), Arc::<AtomicUsize>::default(), Arc::<AtomicUsize>::default());
    let mut servers = Vec::new();
    for _ in 0..2 {
        // Each supervisor has its own connection pool on the one database file.
        let mut sup = Supervisor::new(open_db(&dir).await)
            .with_lease_ttl(Duration::from_secs(2))
            .with_busy_pause(Duration::from_millis(5));
        sup.register(Exclusive { inside: Arc::clone(&inside), most: Arc::clone(&most), runs: Arc::clone(&runs) });
        servers.push(sup.start());
    }
    let boards: Vec<StatusBoard> = servers.iter().map(|s| s.status()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while runs.load(Ordering::SeqCst) < 10 || boards.iter().map(|b| b.get("exclusive").unwrap().busy).sum::<u64>() == 0
    {
        assert!(
            Instant::now() < deadline,
            "too few runs or no busy lease: {:?}",
            boards.iter().map(|b| b.snapshot()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for s in servers {
        assert!(s.shutdown(Duration::from_secs(5)).await.is_empty());
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two runs at once");
    let statuses: Vec<_> = boards.iter().map(|b| b.get("exclusive").unwrap()).collect();
    assert_eq!(statuses.iter().map(|s| s.failures).sum::<u64>(), 0);
    assert!(
        statuses.iter().any(|s| matches!(&s.last_outcome, Some(Outcome::Busy { .. })) || s.busy > 0),
        "one of them found the lease busy"
    );
    assert_eq!(statuses[0].lease.as_deref(), Some("test-exclusive"));
}
