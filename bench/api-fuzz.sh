#!/usr/bin/env bash
# API fuzzing from the OpenAPI description: schemathesis (PyPI, in
# .bench-venv) runs every operation of /api/openapi.json against a live
# `paperboy serve` on loopback, once without credentials and once with a
# member's personal API token (`Authorization: Bearer …`). It checks that no
# response is a server error (5xx) and that every status code, content type,
# header and body conforms to the description, and that requests the
# description calls invalid are refused with a 4xx.
#
# The server is a debug build (overflow checks on) over a fresh data
# directory with the test fixtures imported (new- and old-style ids, several
# formats). Server errors are also looked for in the server's own log.
#
# Usage: bash bench/api-fuzz.sh [--write-docs]
#   MAX_EXAMPLES  test cases per operation and phase (default 200)
#   MAX_TIME      seconds each of the two runs may take at most (default 600)
#   SEED          schemathesis seed (default: random)
#   PAPERBOY_BIN  a paperboy binary to test instead of building one
# With --write-docs the summary replaces the API fuzzing section of
# docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MAX_EXAMPLES="${MAX_EXAMPLES:-200}"
MAX_TIME="${MAX_TIME:-600}"
VENV=.bench-venv
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'schemathesis>=4,<5'
fi
ST_VERSION=$("$VENV/bin/st" --version | awk '{print $NF}')

if [ -n "${PAPERBOY_BIN:-}" ]; then
  BIN=$PAPERBOY_BIN
else
  cargo build --locked -q -p paperboy
  BIN="${CARGO_TARGET_DIR:-target}/debug/paperboy"
fi
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
run() { "$BIN" --data-dir "$tmp/data" --log warn "$@"; }

run import tests/fixtures/ingest/jsonl/sample-200.jsonl tests/fixtures/ingest/kaggle/kaggle-snapshot.jsonl \
  tests/fixtures/ingest/oai-pmh/getrecord-should-get-a-record.0.xml > /dev/null
printf '%s\n' "fuzzing-password-$RANDOM$RANDOM" | run admin create-user fuzzer --email fuzzer@example.org --password-stdin > /dev/null
TOKEN=$(run admin create-token fuzzer --name api-fuzz 2> /dev/null | tail -1)
case "$TOKEN" in pb_*) ;; *) echo "could not make an API token (got: $TOKEN)"; exit 1 ;; esac

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" --data-dir "$tmp/data" --log warn serve --addr "127.0.0.1:$PORT" > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 600); do curl -fs "$BASE/healthz" > /dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$BASE/healthz" > /dev/null || { echo "the server did not start:"; cat "$tmp/server.log"; exit 1; }
OPERATIONS=$(curl -fs "$BASE/api/openapi.json" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(sum(1 for item in doc["paths"].values() for m in item if m in ("get", "post", "put", "delete", "patch")))')

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth
# One run: prints "cases failures" (from the JUnit report) and keeps the output.
fuzz() {
  local name=$1; shift
  local seed_args=()
  if [ -n "${SEED:-}" ]; then seed_args=(--seed "$SEED"); fi
  set +e
  # From the scratch directory, where schemathesis keeps its example database.
  (cd "$tmp" && "$ROOT/$VENV/bin/st" --no-color run "$BASE/api/openapi.json" --checks "$CHECKS" --workers 2 \
    --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --request-timeout 30 --continue-on-failure \
    --report junit --report-junit-path "$tmp/$name.xml" --suppress-health-check all \
    "${seed_args[@]}" "$@" > "$tmp/$name.out" 2>&1)
  local rc=$?
  set -e
  python3 - "$tmp/$name.xml" "$rc" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 1"); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
if sys.argv[2] != "0" and failures == 0:
    failures = 1
print(sum(int(s.get("tests", 0)) for s in suites), failures)
EOF
}

read -r anon_ops anon_fail < <(fuzz anonymous)
read -r auth_ops auth_fail < <(fuzz token -H "Authorization: Bearer $TOKEN")
# Schemathesis counts test cases in its output as "N generated" per phase.
cases_of() { grep -Eo '[0-9]+ (generated|test cases)' "$tmp/$1.out" | awk '{s+=$1} END {print s+0}'; }
anon_cases=$(cases_of anonymous)
auth_cases=$(cases_of token)
server_errors=$(grep -ciE 'panicked|request failed' "$tmp/server.log" || true)

summary=$(cat <<EOF
| run | operations | test cases | failures |
|---|---|---|---|
| without a token | $anon_ops of $OPERATIONS | $anon_cases | $anon_fail |
| with \`Authorization: Bearer pb_…\` | $auth_ops of $OPERATIONS | $auth_cases | $auth_fail |

Checks: \`${CHECKS//,/\`, \`}\`. schemathesis $ST_VERSION, all phases (examples, coverage, fuzzing), at most $MAX_EXAMPLES cases per operation and phase, debug build of \`paperboy serve\` over the fixtures in \`tests/fixtures/ingest\` (sample-200 JSONL, Kaggle snapshot, an OAI-PMH record). Panics or server errors in the server's log: $server_errors.
EOF
)
echo "$summary"
for name in anonymous token; do
  if grep -qE 'FAILURES|Failed checks|failed' "$tmp/$name.out"; then
    echo; echo "---- $name: failures ----"; sed -n '/FAILURES/,$p' "$tmp/$name.out" | head -200
  fi
done
if [ "${1:-}" = "--write-docs" ]; then
  python3 - docs/BENCHMARKS.md "$summary" <<'EOF'
import re, sys
path, body = sys.argv[1], sys.argv[2]
heading = "## API fuzzing (`bash bench/api-fuzz.sh`)"
text = open(path).read()
section = f"{heading}\n\n{body}\n"
pattern = re.compile(re.escape(heading) + r"\n.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
EOF
fi
[ "$anon_fail" = 0 ] && [ "$auth_fail" = 0 ] && [ "$server_errors" = 0 ]
