#!/usr/bin/env bash
# Trending-signals refresh: 10,000 repositories fetched by GithubClient from
# the synthetic replay server (crates/signals/tests/replay.rs) on loopback,
# three passes: a first fetch, a refresh without ETags (every answer a 200)
# and a refresh with the stored ETags (every answer a 304, which GitHub does
# not count against the rate limit). Pacing is GitHub's token budget (5,000
# requests an hour, one every 0.72 s) scaled down 1,000 times: 720 us.
#
# Runs in the dev profile (dependencies at opt-level 2, as the workspace sets
# them): the work is HTTP on loopback and the client, not our arithmetic.
#
#   bash bench/signals.sh [REPOS] [INTERVAL_US]     (default 10000 720)
set -euo pipefail
cd "$(dirname "$0")/.."
export PAPERBOY_BENCH_REPOS="${1:-10000}" PAPERBOY_BENCH_INTERVAL_US="${2:-720}"
echo "machine: $(nproc) cores, $(uname -sr)"
cargo test -q -p paperboy-signals --test it -- --ignored --nocapture bench_refresh_10k 2>&1 | grep '^bench'
# The same repositories through the GitHub job into a SQLite store
# (crates/services/tests/signals.rs, bench_job_10k): links, first fetch with
# a stargazer page each, refresh with ETags, refresh without.
cargo test -q -p paperboy-services --test it -- --ignored --nocapture bench_job_10k 2>&1 | grep '^bench'
