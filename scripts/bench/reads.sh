#!/usr/bin/env bash
# Trail's read benchmark, on a store filled by `trail-bench populate` (release build, wrk on loopback).
# Usage: scripts/bench/reads.sh DATABASE [seconds-per-scenario] [connections] [export-days]
#   DATABASE: a populated SQLite file or postgres:// URL, e.g. made with
#     .build/release/trail-bench populate --events 10000000 --resources 100000 --database /tmp/populated.sqlite
# Scenarios: the first checkpoint's signing (timed), inclusion proofs of events spread over the log and
# consistency proofs from random sizes, resource history (random resource), first pages of filtered lists (one actor; a resource type and
# an action; a resource type in the last 7 days), q search (random words), history again with 1, 2 and 4
# connections (those below the given count), history at fixed arrival rates (READ_RATES, default "200 500 1000"
# per second, Poisson, over 32 connections), then one NDJSON export of every event (or of the last
# export-days days), timed, with the server's peak resident memory during it. Each wrk run is bounded by its duration; the server is stopped at the end.
# TRAIL_BENCH_SERVE_ARGS="--insecure-no-auth": more arguments for trail serve (without authentication, reads are not recorded).
[ $# -ge 1 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
POPULATED=$1
DURATION=${2:-10}
CONNECTIONS=${3:-8}
EXPORT_QUERY=${4:+&days=$4}
bench_key "$POPULATED"
# A fresh server per scenario, so requests still running when a wrk run ends do not slow the next one.
start() {
  stop_servers
  serve "$PORT" "$POPULATED" --workers 0
  wait_ready "$PORT"
}

run() { # title scenario [rate]
  start
  cat scripts/bench/wrk/common.lua scripts/bench/wrk/reads.lua ${3:+scripts/bench/wrk/paced.lua} > "$WORK/reads.lua"
  READ_SCENARIO=$2 READ_RATE=${3:-} READ_CONNECTIONS=$CONNECTIONS wrk -t"$(( CONNECTIONS < 2 ? 1 : 2 ))" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/reads.lua" \
    "http://127.0.0.1:$PORT" > "$WORK/wrk"
  local result
  result=$(grep '^RESULT' "$WORK/wrk") || { echo "wrk failed: $(cat "$WORK/wrk")" >&2; exit 1; }
  LAST_RPS=$(sed -E 's/.*requests_per_s=([0-9]+).*/\1/' <<< "$result")
  printf "| %s | %s | %s | %s | %s |\n" "$1" \
    "$LAST_RPS" "$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<< "$result")" \
    "$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<< "$result")" "$(sed -E 's/.*errors=([0-9]+).*/\1/' <<< "$result")"
}

echo "Trail read benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$CONNECTIONS -d${DURATION}s, $POPULATED"
echo
# Proofs first. The first server on a freshly populated store extends the Merkle tree over every event, keeps its
# subtree roots and signs a checkpoint; that is timed here (later starts go on from the kept roots). The other
# scenarios come after it, so that it does not run beside them.
start
START=$(date +%s.%N)
TREE_SIZE=""
for _ in $(seq 1 36000); do  # at most an hour
  TREE_SIZE=$(curl -fsS -H "Authorization: $TRAIL_BENCH_AUTH" "http://127.0.0.1:$PORT/api/v1/integrity/checkpoints/latest" 2>/dev/null \
    | grep -oE '"size":[0-9]+' | cut -d: -f2) && [ -n "$TREE_SIZE" ] && break
  sleep 0.1
done
[ -n "$TREE_SIZE" ] || { echo "no checkpoint within an hour" >&2; exit 1; }
END=$(date +%s.%N)
awk -v n="$TREE_SIZE" -v s="$START" -v e="$END" 'BEGIN { printf "a checkpoint (size %d) %.1f s after the server was ready (the first start on a freshly populated store builds the tree)\n\n", n, e - s }'
spread_event_ids "$PORT" > "$WORK/event-ids"
echo "| proofs (tree of $TREE_SIZE events) | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
run "GET /health (the ceiling)" health
HEALTH_RPS=$LAST_RPS
share() { awk -v r="$LAST_RPS" -v h="$HEALTH_RPS" 'BEGIN { printf "|   share of /health | %.1f%% | | | |\n", 100 * r / h }'; }
READ_EVENT_IDS="$WORK/event-ids" READ_TREE_SIZE=$TREE_SIZE run "inclusion proof, one of $(wc -l < "$WORK/event-ids") events spread over the log" proof-inclusion
share
READ_TREE_SIZE=$TREE_SIZE run "consistency proof from a random size to the checkpoint" proof-consistency
share
MAIN_CONNECTIONS=$CONNECTIONS
CONNECTIONS=1
READ_EVENT_IDS="$WORK/event-ids" READ_TREE_SIZE=$TREE_SIZE run "inclusion proof, 1 connection" proof-inclusion
READ_TREE_SIZE=$TREE_SIZE run "consistency proof, 1 connection" proof-consistency
CONNECTIONS=$MAIN_CONNECTIONS
echo
echo "| scenario | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
run "resource history" history
run "list, one actor, first page" list-actor
run "list, resource type and action, first page" list-type-action
run "list, resource type in the last 7 days, first page" list-recent
run "q search, first page" search
echo
# A latency target means something only below saturation: history again with fewer connections (each a fresh server).
echo "| resource history, by connections | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
MAIN_CONNECTIONS=$CONNECTIONS
for CONNECTIONS in 1 2 4; do
  if [ "$CONNECTIONS" -lt "$MAIN_CONNECTIONS" ]; then run "$CONNECTIONS connection(s)" history; fi
done
echo
# Closed-loop connections send their next request as soon as the last is answered, which never lets the server
# idle; real clients arrive at random. History again with requests arriving at fixed rates (Poisson).
echo "| resource history, by arrival rate (32 connections) | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
CONNECTIONS=32
for RATE in ${READ_RATES:-200 500 1000}; do run "$RATE requests/s offered" history "$RATE"; done
CONNECTIONS=$MAIN_CONNECTIONS
echo
start
# Peak resident memory counts from here (writing 5 to clear_refs resets the high-water mark).
echo 5 > "/proc/$SERVER/clear_refs" 2>/dev/null || true
START=$(date +%s.%N)
EVENTS=$(curl -fsS -H "Authorization: $TRAIL_BENCH_AUTH" "http://127.0.0.1:$PORT/api/v1/audit/logs/export?format=ndjson$EXPORT_QUERY" | wc -l)
END=$(date +%s.%N)
PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
awk -v n="$EVENTS" -v s="$START" -v e="$END" -v kb="$PEAK" \
  'BEGIN { printf "export (ndjson): %d events in %.1f s = %.0f events/s; server peak RSS %.0f MB\n", n, e - s, n / (e - s), kb / 1024 }'
