#!/usr/bin/env bash
# Builds Paperboy and runs the demo: imports the bundled papers (idempotent)
# and serves them on http://127.0.0.1:8080 (override with --addr HOST:PORT).
# Extra arguments go to `paperboy demo`, e.g. `scripts/demo.sh --addr 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p paperboy
exec ./target/release/paperboy demo "$@"
