//! The supervisor: runs every registered [`Job`] on its schedule, each in
//! its own task, under its lease when it names one; logs every run; retries
//! failures with backoff; keeps each job's [`JobStatus`]; and on shutdown
//! cancels the jobs and waits for them, up to a bound.
//!
//! Each run is a task of its own, so a run that panics is a failed run
//! (retried like any other) and never takes the supervisor or the other
//! jobs with it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use paperboy_store::Database;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::{Clock, Job, JobContext, JobError, JobStatus, Ran, Schedule, SystemClock, WhenBusy, chrono_duration};
use crate::lease::{DEFAULT_LEASE, LeaseError, holder_id, with_lease};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the run's note (empty when there was nothing to do).
    Done(String),
    /// Not run: another process holds the lease.
    Busy { holder: String },
    /// Failed with this error; retried.
    Failed(String),
    /// Stopped by the shutdown.
    Cancelled,
}

/// Builds the job list, then [`Supervisor::start`]s it.
pub struct Supervisor {
    db: Arc<dyn Database>,
    clock: Arc<dyn Clock>,
    lease_ttl: Duration,
    busy_pause: Duration,
    holder: String,
    jobs: Vec<Arc<dyn Job>>,
}

impl Supervisor {
    /// A supervisor on the system clock, with the default lease length and a
    /// five-second pause before a job that found its lease busy tries again.
    pub fn new(db: Arc<dyn Database>) -> Supervisor {
        Supervisor {
            db,
            clock: Arc::new(SystemClock),
            lease_ttl: DEFAULT_LEASE,
            busy_pause: Duration::from_secs(5),
            holder: holder_id(),
            jobs: Vec::new(),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Supervisor {
        self.clock = clock;
        self
    }

    /// Length of the leases jobs hold (renewed every third of it while a
    /// run goes on; how long a dead holder blocks the others).
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Supervisor {
        self.lease_ttl = ttl;
        self
    }

    /// The pause before a [`WhenBusy::Retry`] job tries its lease again.
    pub fn with_busy_pause(mut self, pause: Duration) -> Supervisor {
        self.busy_pause = pause;
        self
    }

    /// Adds a job. Names must be unique.
    pub fn register(&mut self, job: impl Job) -> &mut Supervisor {
        debug_assert!(self.jobs.iter().all(|j| j.name() != job.name()), "two jobs named {}", job.name());
        self.jobs.push(Arc::new(job));
        self
    }

    /// The names of the registered jobs, in order.
    pub fn job_names(&self) -> Vec<String> {
        self.jobs.iter().map(|j| j.name().to_string()).collect()
    }

    /// Starts every job in its own task.
    pub fn start(self) -> Running {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut board = Vec::new();
        for job in self.jobs {
            let name = job.name().to_string();
            let schedule = job.schedule();
            let state = Arc::new(Mutex::new(JobStatus {
                name: name.clone(),
                schedule: schedule.describe(),
                lease: job.lease().map(str::to_string),
                running: false,
                runs: 0,
                failures: 0,
                failures_in_row: 0,
                busy: 0,
                last_started: None,
                last_finished: None,
                last_duration: None,
                last_outcome: None,
                next_run: None,
            }));
            board.push(Arc::clone(&state));
            let ctx = JobContext {
                db: Arc::clone(&self.db),
                clock: Arc::clone(&self.clock),
                holder: format!("{}/{name}", self.holder),
                due: self.clock.now(),
                attempt: 1,
                cancel: cancel_rx.clone(),
            };
            let driver = Driver { job, schedule, ctx, state, lease_ttl: self.lease_ttl, busy_pause: self.busy_pause };
            info!(job = %name, schedule = %schedule.describe(), "job started");
            tasks.push((name, tokio::spawn(driver.drive())));
        }
        Running { cancel: cancel_tx, tasks, board: StatusBoard(Arc::new(board)) }
    }
}

/// The started jobs.
pub struct Running {
    cancel: watch::Sender<bool>,
    tasks: Vec<(String, JoinHandle<()>)>,
    board: StatusBoard,
}

impl Running {
    /// A reader of every job's status, to keep after the shutdown too.
    pub fn status(&self) -> StatusBoard {
        self.board.clone()
    }

    /// Cancels every job and waits for them to stop, at most `bound` in all;
    /// a job still running then is stopped where it is (dropped at its
    /// current await point). Returns the names of the jobs stopped that way.
    pub async fn shutdown(self, bound: Duration) -> Vec<String> {
        let _ = self.cancel.send(true);
        let deadline = tokio::time::Instant::now() + bound;
        let mut forced = Vec::new();
        for (name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                warn!(job = %name, bound_s = bound.as_secs_f64(), "the job did not stop in time; stopping it now");
                task.abort();
                let _ = task.await;
                forced.push(name);
            }
        }
        forced
    }
}

/// Reads the jobs' status; cheap to clone.
#[derive(Clone)]
pub struct StatusBoard(Arc<Vec<Arc<Mutex<JobStatus>>>>);

impl StatusBoard {
    /// Every job's status, in registration order.
    pub fn snapshot(&self) -> Vec<JobStatus> {
        self.0.iter().map(|s| lock(s).clone()).collect()
    }

    /// One job's status.
    pub fn get(&self, name: &str) -> Option<JobStatus> {
        self.0.iter().map(|s| lock(s)).find(|s| s.name == name).map(|s| s.clone())
    }
}

fn lock(state: &Mutex<JobStatus>) -> std::sync::MutexGuard<'_, JobStatus> {
    // A panic never happens while the lock is held; recover the state anyway.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Aborts the task it holds when dropped (a driver stopped mid-run stops its run).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How one run ended, as the driver sees it.
enum RunEnd {
    Ran(Ran),
    Busy { holder: String, until: DateTime<Utc> },
    Failed(String),
    Cancelled,
}

/// One job's loop.
struct Driver {
    job: Arc<dyn Job>,
    schedule: Schedule,
    ctx: JobContext,
    state: Arc<Mutex<JobStatus>>,
    lease_ttl: Duration,
    busy_pause: Duration,
}

impl Driver {
    async fn drive(self) {
        let name = self.job.name().to_string();
        let retry = self.job.retry();
        let clock = Arc::clone(&self.ctx.clock);
        let mut due = self.schedule.first_due(clock.now());
        let mut firing = due;
        let mut attempt = 1u32;
        loop {
            lock(&self.state).next_run = Some(due);
            tokio::select! {
                biased;
                () = self.ctx.cancelled() => break,
                () = clock.sleep_until(due) => {}
            }
            let ctx = JobContext { due: firing, attempt, ..self.ctx.clone() };
            {
                let mut s = lock(&self.state);
                s.running = true;
                s.last_started = Some(clock.now());
            }
            let started = Instant::now();
            let end = self.run_once(ctx).await;
            let took = started.elapsed();
            let now = clock.now();
            let took_ms = took.as_millis() as u64;
            let mut s = lock(&self.state);
            s.running = false;
            s.last_finished = Some(now);
            s.last_duration = Some(took);
            match end {
                RunEnd::Ran(ran) => {
                    s.runs += 1;
                    s.failures_in_row = 0;
                    if ran.note.is_empty() {
                        debug!(job = %name, took_ms, "job ran: nothing to do");
                    } else {
                        info!(job = %name, took_ms, outcome = %ran.note, "job ran");
                    }
                    due = self.schedule.next_due(now, ran.more);
                    firing = due;
                    attempt = 1;
                    s.last_outcome = Some(Outcome::Done(ran.note));
                }
                RunEnd::Busy { holder, until } => {
                    s.busy += 1;
                    debug!(job = %name, %holder, %until, "another process holds the job's lease");
                    match self.job.when_busy() {
                        WhenBusy::Skip => {
                            due = self.schedule.next_due(now, false);
                            firing = due;
                            attempt = 1;
                        }
                        WhenBusy::Retry => due = now + chrono_duration(self.busy_pause),
                    }
                    s.last_outcome = Some(Outcome::Busy { holder });
                }
                RunEnd::Failed(error) => {
                    s.runs += 1;
                    s.failures += 1;
                    s.failures_in_row += 1;
                    if self.schedule.is_calendar() && attempt >= retry.attempts {
                        due = self.schedule.next_due(now, false);
                        firing = due;
                        warn!(job = %name, took_ms, attempt, %error, next = %due, "job failed; giving up until its next time");
                        attempt = 1;
                    } else {
                        let pause = retry.delay(attempt);
                        due = now + chrono_duration(pause);
                        warn!(job = %name, took_ms, attempt, %error, retry_in_s = pause.as_secs_f64(), "job failed; retrying");
                        attempt += 1;
                    }
                    s.last_outcome = Some(Outcome::Failed(error));
                }
                RunEnd::Cancelled => {
                    info!(job = %name, took_ms, "job run stopped for the shutdown");
                    s.last_outcome = Some(Outcome::Cancelled);
                }
            }
            drop(s);
            if self.ctx.is_cancelled() {
                break;
            }
        }
        lock(&self.state).next_run = None;
        self.job.stopped(&self.ctx).await;
        debug!(job = %name, "job stopped");
    }

    /// One run in a task of its own, under the job's lease if it names one.
    async fn run_once(&self, ctx: JobContext) -> RunEnd {
        let job = Arc::clone(&self.job);
        let ttl = self.lease_ttl;
        let mut task = AbortOnDrop(tokio::spawn(async move {
            let result = match job.lease() {
                None => job.run(&ctx).await,
                Some(lease) => match with_lease(ctx.db.as_ref(), lease, &ctx.holder, ttl, job.run(&ctx)).await {
                    Ok(result) => result,
                    Err(LeaseError::Busy { holder, until, .. }) => return RunEnd::Busy { holder, until },
                    Err(e) => Err(JobError::Lease(e)),
                },
            };
            match result {
                Ok(ran) => RunEnd::Ran(ran),
                Err(JobError::Cancelled) => RunEnd::Cancelled,
                Err(e) => RunEnd::Failed(e.to_string()),
            }
        }));
        match (&mut task.0).await {
            Ok(end) => end,
            Err(e) if e.is_panic() => RunEnd::Failed(format!("the run panicked: {}", panic_message(e.into_panic()))),
            Err(_) => RunEnd::Cancelled,
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_string(),
            Err(_) => "no message".to_string(),
        },
    }
}
