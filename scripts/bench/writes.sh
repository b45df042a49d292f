#!/usr/bin/env bash
# Trail's ingest benchmark: release build, wrk on loopback, default durability.
# Usage: scripts/bench/writes.sh [seconds-per-scenario] [connections] [processes]
#   TRAIL_BENCH_DATABASE=postgres://…   benchmark on PostgreSQL (use a fresh database) instead of a fresh SQLite file
#   TRAIL_BENCH_SERVE_ARGS="--insecure-no-auth"   more arguments for trail serve (to compare without authentication)
#   TRAIL_BENCH_CPU=1                   also how busy the cores were in each scenario, and each program's share
#                                       (scripts/bench/cpu_split.py): is the run bound by CPU?
#   processes > 1                       that many `trail serve` processes on the one database, each loaded by its
#                                       own wrk with an equal share of the connections; rates are summed, the
#                                       latency columns are the worst of the processes
# Every load run is bounded by its duration; the servers are stopped at the end.
. "$(dirname "$0")/lib.sh"
DURATION=${1:-15}
CONNECTIONS=${2:-32}
PROCESSES=${3:-1}
bench_key "$DATABASE"
for p in $(seq 0 $((PROCESSES - 1))); do
  serve $((PORT + p)) "$DATABASE"
done
for p in $(seq 0 $((PROCESSES - 1))); do
  wait_ready $((PORT + p))
done
THREADS=$(( PROCESSES > 1 ? 1 : 2 ))
PER_PROCESS=$(( CONNECTIONS / PROCESSES ))

run() { # name script events-per-request [path]
  cat scripts/bench/wrk/common.lua "scripts/bench/wrk/$2" > "$WORK/$2"
  local loads=() sampler=""
  if [ -n "${TRAIL_BENCH_CPU:-}" ]; then
    python3 scripts/bench/cpu_split.py $((DURATION > 3 ? DURATION - 2 : 1)) 1 > "$WORK/cpu" &
    sampler=$!
  fi
  for p in $(seq 0 $((PROCESSES - 1))); do
    BENCH_INSTANCE=$p wrk -t$THREADS -c"$PER_PROCESS" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/$2" \
      "http://127.0.0.1:$((PORT + p))${4:-}" > "$WORK/wrk-$p" &
    loads+=($!)
  done
  wait "${loads[@]}"
  if [ -n "$sampler" ]; then wait "$sampler"; echo "- $1: $(cat "$WORK/cpu")" >> "$WORK/cpu-lines"; fi
  grep -h '^RESULT' "$WORK"/wrk-* > "$WORK/results"
  [ "$(wc -l < "$WORK/results")" -eq "$PROCESSES" ] || { echo "wrk failed: $(cat "$WORK"/wrk-*)" >&2; exit 1; }
  local rps p50 p99 errors
  rps=$(sed -E 's/.*requests_per_s=([0-9]+).*/\1/' "$WORK/results" | awk '{s += $1} END {print s}')
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' "$WORK/results" | sort -g | tail -1)
  p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' "$WORK/results" | sort -g | tail -1)
  errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' "$WORK/results" | awk '{s += $1} END {print s}')
  local events="-"; [ "$3" -gt 0 ] && events=$((rps * $3))
  printf "| %s | %s | %s | %s | %s | %s |\n" "$1" "$rps" "$events" "$p50" "$p99" "$errors"
  LAST_RPS=$rps
}

STORE="SQLite synchronous=FULL"
case "$DATABASE" in postgres://*|postgresql://*) STORE="PostgreSQL (server defaults: fsync on, synchronous_commit on)";; esac
echo "Trail ingest benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $PROCESSES process(es), wrk ${CONNECTIONS} connections in all, -d${DURATION}s, $STORE"
echo
echo "| scenario | requests/s | events/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|"
run "GET /health (ceiling)" health.lua 0 /health
HEALTH_RPS=$LAST_RPS
run "single-event creates, distinct resources" creates.lua 1
CREATES_RPS=$LAST_RPS
run "single-event updates over 1,000 resources" updates.lua 1
run "1,000-event batches (creates)" batches.lua 1000
echo
[ -f "$WORK/cpu-lines" ] && { cat "$WORK/cpu-lines"; echo; }
awk -v c="$CREATES_RPS" -v h="$HEALTH_RPS" 'BEGIN { if (h > 0) printf "single-event creates: %.1f%% of the /health rate\n", 100 * c / h }'
case "$DATABASE" in
  postgres://*|postgresql://*)
    EVENTS=$(psql "${DATABASE%%\?*}" -Atc "SELECT count(*) FROM events" 2>/dev/null || echo "?")
    echo "events stored: $EVENTS";;
  *)
    EVENTS=$(sqlite3 "$DATABASE" "SELECT COUNT(*) FROM events" 2>/dev/null || echo "?")
    echo "events stored: $EVENTS; database size: $(du -sh "$WORK" | cut -f1)";;
esac
