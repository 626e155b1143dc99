#!/usr/bin/env bash
# Email digest benchmark: builds and delivers personalised digests (two saved
# searches each) to a local aiosmtpd sink that only counts messages, and
# prints messages per second and the time in search, rendering, the store
# and SMTP. Results go into docs/BENCHMARKS.md ("Email digests").
#
# Runs in the dev profile (dependencies at opt-level 2, as in tests).
# usage: bench/digest.sh [SUBSCRIBERS] [PAPERS] [MEMBERS]  (members: subscribers who also get
# their recommendations, content "both")
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers="${1:-10000}"
papers="${2:-3000}"
members="${3:-0}"
if [ ! -x .test-venv/bin/python ] || ! .test-venv/bin/python -c 'import aiosmtpd' >/dev/null 2>&1; then
  python3 -m venv .test-venv
  .test-venv/bin/pip install -q -r tests/fixtures/smtp/requirements.txt
fi
sinkdir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
.test-venv/bin/python tests/fixtures/smtp/sink.py --dir "$sinkdir" --port "$port" --discard > "$sinkdir/log" &
sink=$!
trap 'kill $sink 2>/dev/null || true; wait $sink 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$sinkdir/log" && break; sleep 0.1; done
cargo run --quiet --example bench_digest -- --port "$port" --subscribers "$subscribers" --papers "$papers" --members "$members"
kill "$sink"; wait "$sink" 2>/dev/null || true
trap - EXIT
echo "sink received: $(cat "$sinkdir/count")"
rm -rf "$sinkdir"
