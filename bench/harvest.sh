#!/usr/bin/env bash
# Harvest throughput: `paperboy harvest` (release build) against a local
# OAI-PMH replay server (bench/harvest_replay.py) serving COPIES pages of the
# recorded 1,000-record arXivRaw page (ids moved so every page is new), with
# pacing 0, into a fresh SQLite store. Measures what the harvester does per
# page: HTTP on loopback, the whole-page check, parsing, announcement days,
# category filter, the upsert transaction and the checkpoint. Reports the
# harvester's own elapsed time (before the search index is brought up to
# date), for a first harvest (all new) and a second one (all unchanged).
#
#   bash bench/harvest.sh [COPIES]        (default 40: 40,000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES="${1:-40}"
cargo build --release -q -p paperboy
BIN="${CARGO_TARGET_DIR:-target}/release/paperboy"
tmp=$(mktemp -d)
python3 bench/harvest_replay.py tests/fixtures/harvest/arxivsync_arXivRaw_47001.xml "$COPIES" > "$tmp/url" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
URL=$(head -n1 "$tmp/url")
harvest() {
  env -u PAPERBOY_CONFIG PAPERBOY_LOG=warn "$BIN" --data-dir "$tmp/data" harvest --base-url "$URL" --format arXivRaw \
    --set "" --categories "" --from 2008-01-01 --pacing 0 | grep '^harvest run'
}
rate() { # "harvest run N completed: P page(s), R record(s) in S s: ..."
  sed -E 's/.* ([0-9]+) record\(s\) in ([0-9.]+)s.*/\1 \2/' | awk '{ printf "%d records in %.2f s: %.0f records/s\n", $1, $2, $1 / $2 }'
}
echo "machine: $(nproc) cores, $(uname -sr)"
first=$(harvest); echo "$first"
echo "first harvest (all new):       $(echo "$first" | rate)"
second=$(harvest); echo "$second"
echo "second harvest (all unchanged): $(echo "$second" | rate)"
