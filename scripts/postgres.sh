#!/usr/bin/env bash
# A private, throwaway PostgreSQL server for the store's tests.
#
#   scripts/postgres.sh bindir        prints the directory holding initdb and pg_ctl (fails if not installed)
#   scripts/postgres.sh start DIR     creates a cluster in DIR (an empty directory), starts it listening only
#                                     on a unix socket inside DIR, and prints its URL for PAPERBOY_TEST_PG_URL
#   scripts/postgres.sh stop DIR      stops that server and removes DIR
#
# initdb refuses to run as root, so as root the server runs as the `postgres`
# user (which Debian's package creates), or `nobody` when there is none; DIR is
# handed to that user. Authentication is `trust`, which is safe only because
# there is no TCP listener and the socket lives in DIR, which only its owner
# (and root) can enter.
set -euo pipefail

bindir() {
  local d
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  echo "postgres.sh: PostgreSQL is not installed (no initdb): apt-get install postgresql" >&2
  return 1
}

# Runs a command as the server's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$OWNER" -- "$@"
  else
    "$@"
  fi
}

pick_owner() {
  if [ "$(id -u)" != 0 ]; then
    OWNER="$(id -un)"
  elif id postgres >/dev/null 2>&1; then
    OWNER=postgres
  else
    OWNER=nobody
  fi
}

start() {
  local dir="$1" bin port=5432
  bin="$(bindir)"
  pick_owner
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown "$OWNER" "$dir"; fi
  if ! as_owner test -w "$dir"; then
    echo "postgres.sh: $OWNER cannot write to $dir (a parent directory is closed to it): use a DIR under /tmp" >&2
    return 1
  fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  echo "postgres://postgres@localhost:$port/postgres?host=$dir"
}

stop() {
  local dir="$1" bin
  [ -d "$dir/data" ] || { rm -rf "$dir"; return 0; }
  bin="$(bindir)"
  pick_owner
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  bindir) bindir ;;
  start) start "${2:?usage: postgres.sh start DIR}" ;;
  stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
  *) echo "usage: postgres.sh bindir | start DIR | stop DIR" >&2; exit 2 ;;
esac
