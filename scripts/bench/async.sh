#!/usr/bin/env bash
# Trail's async ingest benchmark: how fast submissions are accepted (202) and how fast workers drain them.
# Usage: scripts/bench/async.sh [seconds] [connections] [workers]
#   TRAIL_BENCH_DATABASE=postgres://…   on PostgreSQL (a fresh database) instead of a fresh SQLite file
# 1. `trail serve --workers 0` and wrk with `Prefer: respond-async` for the given time: the acceptance rate,
#    with nothing processing the queue.
# 2. `trail serve --workers N` on the same database: the time until the queue is empty, hence the drain rate.
# Bounded: wrk stops after its duration, the drain after 10 minutes; the servers are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
WORKERS=${3:-2}
PORT=${TRAIL_BENCH_PORT:-9099}
. scripts/bench/lib.sh
bench_key "$DATABASE"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
start() { # workers
  "$BIN" serve --host 127.0.0.1 --port "$PORT" --database "$DATABASE" --workers "$1" --log-level warning --rate-limit 0 &
  PID=$!
  wait_ready "$PORT"
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
open_messages() { # pending + processing, through the API (at most 1,000 per page is enough to tell zero)
  local pending processing
  pending=$(curl -fs -H "Authorization: $TRAIL_BENCH_AUTH" "http://127.0.0.1:$PORT/api/v1/messages?status=pending&limit=1" | grep -c message_id || true)
  processing=$(curl -fs -H "Authorization: $TRAIL_BENCH_AUTH" "http://127.0.0.1:$PORT/api/v1/messages?status=processing&limit=1" | grep -c message_id || true)
  echo $((pending + processing))
}

"$BIN" migrate --database "$DATABASE" >/dev/null
start 0
cat scripts/bench/wrk/common.lua scripts/bench/wrk/creates.lua scripts/bench/wrk/async.lua > "$WORK/async.lua"
LINE=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/async.lua" "http://127.0.0.1:$PORT" | grep '^RESULT')
ACCEPTED=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$LINE")
echo "accepted (202, --workers 0): $(sed -E 's/.*requests_per_s=([0-9]+).*/\1/' <<<"$LINE")/s," \
  "p50 $(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$LINE") ms, p99 $(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$LINE") ms," \
  "errors $(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$LINE"), $ACCEPTED messages queued"
stop

start "$WORKERS"
STARTED=$(date +%s.%N)
for _ in $(seq 1 3000); do
  [ "$(open_messages)" -eq 0 ] && break
  sleep 0.2
done
ELAPSED=$(echo "$(date +%s.%N) - $STARTED" | bc)
echo "drained by $WORKERS worker loop(s): $ACCEPTED messages in ${ELAPSED}s = $(echo "$ACCEPTED / $ELAPSED" | bc) messages/s"
