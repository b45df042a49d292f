#!/usr/bin/env bash
# Trail's async ingest benchmark: how fast submissions are accepted (202) and how fast workers drain them.
# Usage: scripts/bench/async.sh [seconds] [connections] [workers]
#   TRAIL_BENCH_DATABASE=postgres://…   on PostgreSQL (a fresh database) instead of a fresh SQLite file
# 1. `trail serve --workers 0` and wrk with `Prefer: respond-async` for the given time: the acceptance rate,
#    with nothing processing the queue.
# 2. `trail serve --workers N` on the same database: the time until the queue is empty, hence the drain rate.
# Bounded: wrk stops after its duration, the drain after 10 minutes; the servers are stopped at the end.
. "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
CONNECTIONS=${2:-32}
WORKERS=${3:-2}
bench_key "$DATABASE"
start() { # workers
  serve "$PORT" "$DATABASE" --workers "$1"
  wait_ready "$PORT"
}
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
stop_servers

start "$WORKERS"
STARTED=$(date +%s.%N)
for _ in $(seq 1 3000); do
  [ "$(open_messages)" -eq 0 ] && break
  sleep 0.2
done
ELAPSED=$(echo "$(date +%s.%N) - $STARTED" | bc)
echo "drained by $WORKERS worker loop(s): $ACCEPTED messages in ${ELAPSED}s = $(echo "$ACCEPTED / $ELAPSED" | bc) messages/s"
