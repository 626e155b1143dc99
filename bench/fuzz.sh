#!/usr/bin/env bash
# The long run of the property tests: every `proptests` test of the crates
# that parse untrusted input (arXiv ids, the search query parser, the comment
# renderer, the importers, OAI-PMH paging and announcement days, mail
# headers), each with many more cases than the test suite's 64.
#
# The test binaries are the ordinary test profile (dependencies at
# opt-level 2, our crates with debug assertions and overflow checks on, so
# an arithmetic overflow is a failure too). Each test runs on its own, timed.
# Prints a Markdown table (test, cases, seconds, result) and the failures.
#
# Usage: bash bench/fuzz.sh [--write-docs]
#   CASES  cases for each light test (default 40000); heavy tests (whole
#          documents, 10,000-character comments) run CASES/HEAVY_DIV
#   HEAVY_DIV  (default 10)
#   JOBS   tests run at once (default 1)
#   TEST_BINARIES  see below
# With --write-docs the table replaces the fuzzing section of
# docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${CASES:-40000}"
JOBS="${JOBS:-1}"
HEAVY_DIV="${HEAVY_DIV:-10}"
CRATES=(paperboy-core paperboy-search paperboy-ingest paperboy-arxiv paperboy-mail paperboy-web)
# Tests that build whole documents or very long inputs get a tenth.
HEAVY='mutated_documents_never_panic|a_cut_json_line_is_rejected_alone|imported_ids_are_canonical|json_lines_round_trip|atom_round_trip|oai_round_trip|listing_round_trip|a_bad_record_is_located_and_the_rest_kept|long_comments_render_safely|long_input_is_cut|pages_parse_whole|cut_pages_are_refused|mutated_pages_never_panic|free_text_never_adds_a_header|addresses_ids_and_links_never_add_a_header'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Build the library test binaries and find them (TEST_BINARIES: a file of
# "crate path" lines, to use binaries built already).
if [ -n "${TEST_BINARIES:-}" ]; then
  cp "$TEST_BINARIES" "$tmp/binaries"
else
args=()
for c in "${CRATES[@]}"; do args+=(-p "$c"); done
cargo test --locked -q --lib "${args[@]}" --no-run --message-format=json 2> "$tmp/build.err" \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["lib"]:
        print(m["target"]["name"], m["executable"])' > "$tmp/binaries" \
  || { cat "$tmp/build.err"; exit 1; }
fi

# One line per test: binary, test name, cases.
while read -r crate bin; do
  "$bin" --list --format terse 2> /dev/null | sed -n 's/: test$//p' | { grep -E '(^|::)proptests::' || true; } | while read -r t; do
    name=${t##*::}
    if [[ "$name" =~ ^($HEAVY)$ ]]; then n=$((CASES / HEAVY_DIV)); else n=$CASES; fi
    echo "$bin $t $n"
  done
done < "$tmp/binaries" > "$tmp/tests"

run_one() {
  local bin=$1 t=$2 n=$3 out start end
  out="$tmp/$(echo "$t" | tr ':' '_').log"
  start=$(date +%s.%N)
  if PROPTEST_CASES=$n "$bin" --exact "$t" --test-threads 1 > "$out" 2>&1; then res=ok; else res=FAILED; fi
  end=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$t" "$n" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" "$res"
}
export -f run_one
export tmp
xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ < "$tmp/tests" > "$tmp/results"

table=$(python3 - "$tmp/results" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rows.sort()
print("| test | cases | seconds | result |")
print("|---|---:|---:|---|")
for t, n, s, r in rows:
    print(f"| `{t.replace('proptests::', '')}` | {int(n):,} | {float(s):.1f} | {r} |")
cases = sum(int(n) for _, n, _, _ in rows)
secs = sum(float(s) for _, _, s, _ in rows)
failed = sum(r != "ok" for *_, r in rows)
print()
print(f"**{len(rows)} properties, {cases:,} cases in {secs/60:.1f} minutes, {failed} failed.**")
EOF
)
echo "$table"
failed=0
while IFS=$'\t' read -r t _ _ res; do
  if [ "$res" != ok ]; then
    failed=1
    echo; echo "---- $t ----"; tail -40 "$tmp/$(echo "$t" | tr ':' '_').log"
  fi
done < "$tmp/results"
if [ "${1:-}" = "--write-docs" ]; then
  python3 - docs/BENCHMARKS.md "$table" "$(date -u +%Y-%m-%d)" "$CASES" <<'EOF'
import re, sys
path, table, day, cases = sys.argv[1:5]
heading = "## Property tests, long run (`bash bench/fuzz.sh`)"
intro = (
    f"Run on {day} with CASES={cases}: each property of the `proptests` modules (arXiv ids, the search "
    "query parser, the comment renderer, every importer, OAI-PMH paging and announcement days, mail "
    "headers) on its own, in the test profile (overflow checks on). The test suite runs the same "
    "properties with 64 cases each (`PROPTEST_CASES`). A panic in the code under test is a failed case, "
    "so 0 failed means 0 panics."
)
text = open(path).read()
section = f"{heading}\n\n{intro}\n\n{table}\n"
pattern = re.compile(re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
EOF
fi
exit $failed
