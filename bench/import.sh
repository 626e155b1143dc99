#!/usr/bin/env bash
# Import benchmark: all records of the shared arXiv data set into a fresh
# store, with records/s and peak memory. The floor it is compared with, in the
# same run, is plain decompression of the same file (`zstd -dc > /dev/null`).
# Prints a Markdown table. Skips (exit 0) when ../shared is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${PAPERBOY_BENCH_DATA:-../shared/data/arxiv/arxiv-2025-2026.jsonl.zst}"
if [ ! -f "$DATA" ]; then
  echo "SKIPPED: $DATA not found (the import benchmark needs ../shared beside the repository)"
  exit 0
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time"; exit 1; }
cargo build --release --locked -q -p paperboy
BIN="${CARGO_TARGET_DIR:-target}/release/paperboy"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

floor_start=$(date +%s.%N); zstd -dc "$DATA" > /dev/null; floor_end=$(date +%s.%N)
floor=$(python3 -c "print($floor_end - $floor_start)")

/usr/bin/time -v "$BIN" --data-dir "$tmp/fresh" --log warn import "$DATA" > "$tmp/out.txt" 2> "$tmp/time.txt" || true
line=$(grep '^imported' "$tmp/out.txt")
records=$(echo "$line" | awk '{print $2}')
secs=$(echo "$line" | sed -E 's/.* in ([0-9.]+)s.*/\1/')
rate=$(echo "$line" | sed -E 's/.*\(([0-9]+) records\/s\).*/\1/')
rss_kb=$(grep 'Maximum resident set size' "$tmp/time.txt" | awk '{print $NF}')
db_mb=$(du -sm "$tmp/fresh" | awk '{print $1}')

/usr/bin/time -v "$BIN" --data-dir "$tmp/fresh" --log warn import "$DATA" > "$tmp/out2.txt" 2> "$tmp/time2.txt" || true
line2=$(grep '^imported' "$tmp/out2.txt")
rate2=$(echo "$line2" | sed -E 's/.*\(([0-9]+) records\/s\).*/\1/')
rss2_kb=$(grep 'Maximum resident set size' "$tmp/time2.txt" | awk '{print $NF}')

echo "| run | records | seconds | records/s | peak RSS | vs. decompression alone ($(printf %.2f "$floor") s) |"
echo "|---|---|---|---|---|---|"
echo "| fresh store | $records | $secs | $rate | $((rss_kb / 1024)) MiB | $(python3 -c "print(f'{$secs / $floor:.1f}')")x the time |"
echo "| same file again (all unchanged) | $records | $(echo "$line2" | sed -E 's/.* in ([0-9.]+)s.*/\1/') | $rate2 | $((rss2_kb / 1024)) MiB | |"
echo
echo "database after import: ${db_mb} MiB; summary line: $line"
