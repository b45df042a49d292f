#!/usr/bin/env bash
# The PostgreSQL write path without its front ends (issue 27): `trail-bench write` (the store alone, no HTTP) as one
# process and as three processes appending to one tenant of the same database at once. What one process commits
# is what a lease holder that group-commits for everyone could commit at best (the events handed to it for
# free); what three commit together shows whether the database side adds up once the HTTP front ends' CPU is out
# of the way. Each run gets a fresh database; the same total of events and of concurrent appenders (32, split
# 11/11/10) in both; rates are events over the wall time of the whole run, the slowest process included.
# Usage: scripts/bench/pg_store_processes.sh 'postgres://user@127.0.0.1:5432/postgres?sslmode=disable' [events] [rounds]
#   the URL names a database to connect to for CREATE/DROP DATABASE; bench databases are made beside it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ADMIN=${1:?a postgres:// URL of a database to create the benchmark databases from}
EVENTS=${2:-30000}
ROUNDS=${3:-2}
if [ -n "${TRAIL_BENCH_TOOL:-}" ]; then
  TOOL=$TRAIL_BENCH_TOOL
else
  swift build -c release --product trail-bench >/dev/null
  TOOL=$(swift build -c release --show-bin-path)/trail-bench
fi
BASE=${ADMIN%%\?*}
BASE=${BASE%/*}
QUERY=${ADMIN#*\?}
[ "$QUERY" = "$ADMIN" ] && QUERY=""
WORK=$(mktemp -d)
NAME=trail_store_bench
drop() { PGOPTIONS="-c client_min_messages=warning" psql "${ADMIN%%\?*}" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null; }
trap 'drop; rm -rf "$WORK"' EXIT

fresh() { # prints the URL of a new, empty benchmark database
  drop
  psql "${ADMIN%%\?*}" -qc "CREATE DATABASE $NAME" >/dev/null
  echo "$BASE/$NAME${QUERY:+?$QUERY}"
}

run() { # scenario processes
  local scenario=$1 processes=$2 url pids=() i started ended
  rm -f "$WORK"/p*
  url=$(fresh)
  # The schema and the tenant first (one event), so that the processes do not race to migrate.
  "$TOOL" write --scenario "$scenario" --events 1 --concurrency 1 --database "$url" >/dev/null
  started=$(date +%s.%N)
  for i in $(seq 0 $((processes - 1))); do
    "$TOOL" write --scenario "$scenario" --events $((EVENTS / processes)) \
      --concurrency $(( (32 + processes - 1 - i) / processes )) --database "$url" > "$WORK/p$i" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  ended=$(date +%s.%N)
  awk -v s="$started" -v e="$ended" -v n=$(( EVENTS / processes * processes )) -v p="$processes" -v sc="$scenario" \
    'BEGIN { printf "%-8s %d process(es): %d events in %.2f s = %d events/s\n", sc, p, n, e - s, n / (e - s) }'
  sed 's/^/    /' "$WORK"/p*
}

for round in $(seq 1 "$ROUNDS"); do
  for scenario in creates updates; do
    run "$scenario" 1
    run "$scenario" 3
  done
done
