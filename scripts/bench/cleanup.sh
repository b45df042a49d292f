#!/usr/bin/env bash
# Trail's retention benchmark (SPEC §11, issue 23): a cleanup of the oldest part of a populated store, timed, and
# the ingest rate while it runs next to `trail serve`. Release build, wrk on loopback.
# Usage: scripts/bench/cleanup.sh DATABASE [keep-days] [seconds-per-window] [connections]
#   DATABASE: a store filled by `trail-bench populate` (recorded times spread over 90 days), e.g.
#     .build/release/trail-bench populate --events 10000000 --resources 100000 --database /tmp/populated.sqlite
#     It is changed: the cleanup removes the content of every event older than keep-days (default 81: the
#     oldest tenth). Work on a copy if the store is needed again.
# Steps: /health and single-event creates for one window each (the ceiling and the rate before); the rule set
# and a dry run (timed); then `trail cleanup` in a process of its own, timed, while wrk sends creates to the
# server in windows of the given length until it ends (each window's rate printed); then a second dry run
# (nothing left to remove) and `trail verify` of the tenant (timed; removed events counted).
#   TRAIL_BENCH_CLEANUP=api: run the cleanup inside the server (POST /api/v1/retention/run, as the schedule of
#   `trail serve --retention-interval` does) instead of a `trail cleanup` process beside it.
[ $# -ge 1 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
POPULATED=$1
KEEP_DAYS=${2:-81}
WINDOW=${3:-10}
CONNECTIONS=${4:-16}
bench_key "$POPULATED"
serve "$PORT" "$POPULATED" --workers 0
wait_ready "$PORT"
URL="http://127.0.0.1:$PORT"
api() { curl -fsS -H "Authorization: $TRAIL_BENCH_AUTH" -H 'Content-Type: application/json' "$@"; }

window() { # script -> requests/s of one window
  cat scripts/bench/wrk/common.lua "scripts/bench/wrk/$1" > "$WORK/$1"
  wrk -t2 -c"$CONNECTIONS" -d"${WINDOW}s" --timeout 10s --latency -s "$WORK/$1" "$URL${2:-}" > "$WORK/wrk"
  grep '^RESULT' "$WORK/wrk" | sed -E 's/.*requests_per_s=([0-9]+).*p50_ms=([0-9.]+).*p99_ms=([0-9.]+).*errors=([0-9]+).*/\1 \2 \3 \4/'
}

echo "Trail cleanup benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $POPULATED ($(du -h "$POPULATED" | cut -f1)), keep $KEEP_DAYS days"
echo
read -r HEALTH _ _ _ <<< "$(window health.lua /health)"
read -r BEFORE P50 P99 ERR <<< "$(window creates.lua)"
echo "GET /health: $HEALTH/s; single-event creates before: $BEFORE/s (p50 $P50 ms, p99 $P99 ms, $ERR errors)"
api -X PUT "$URL/api/v1/retention" -d "{\"rules\":[{\"resource_type\":\"*\",\"keep_days\":$KEEP_DAYS}]}" > /dev/null
START=$(date +%s.%N)
DRY=$(api -X POST "$URL/api/v1/retention/run" -d '{"dry_run":true}')
echo "dry run: $(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: $DRY"
echo
echo "| window during the cleanup | creates/s | % of /health | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|"
START=$(date +%s.%N)
if [ "${TRAIL_BENCH_CLEANUP:-process}" = api ]; then
  api -X POST "$URL/api/v1/retention/run" --max-time 3600 > "$WORK/cleanup.json" &
else
  "$BIN" cleanup --database "$POPULATED" > "$WORK/cleanup.json" &
fi
CLEANUP=$!
N=0
while kill -0 "$CLEANUP" 2>/dev/null && [ $N -lt 360 ]; do  # at most an hour of windows
  N=$((N + 1))
  read -r RPS P50 P99 ERR <<< "$(window creates.lua)"
  awk -v n="$N" -v r="$RPS" -v h="$HEALTH" -v a="$P50" -v b="$P99" -v e="$ERR" \
    'BEGIN { printf "| %d | %d | %.1f%% | %s | %s | %s |\n", n, r, 100 * r / h, a, b, e }'
done
wait "$CLEANUP"
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo
echo "cleanup (${TRAIL_BENCH_CLEANUP:-process}): $ELAPSED s (ended within the last window): $(cat "$WORK/cleanup.json")"
read -r AFTER _ _ _ <<< "$(window creates.lua)"
echo "single-event creates after: $AFTER/s"
echo "second dry run: $(api -X POST "$URL/api/v1/retention/run" -d '{"dry_run":true}')"
stop_servers
START=$(date +%s.%N)
"$BIN" verify --database "$POPULATED" --tenant default > "$WORK/verify" || true
echo "trail verify: $(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: $(cut -c1-300 "$WORK/verify")"
