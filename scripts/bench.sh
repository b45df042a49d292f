#!/usr/bin/env bash
# Trail's ingest benchmark: release build, SQLite on disk with default durability, wrk on loopback.
# Usage: scripts/bench.sh [seconds-per-scenario] [connections]
# Every load run is bounded by its duration; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNECTIONS=${2:-32}
THREADS=2
PORT=${TRAIL_BENCH_PORT:-9099}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

swift build -c release --product trail >/dev/null
BIN=$(swift build -c release --show-bin-path)/trail
WORK=$(mktemp -d)
"$BIN" serve --host 127.0.0.1 --port "$PORT" --database "$WORK/bench.sqlite" --log-level warning &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { echo "trail serve did not start" >&2; exit 1; }

run() { # name script events-per-request
  local line
  line=$(cat scripts/bench/common.lua "scripts/bench/$2" > "$WORK/$2" && \
    wrk -t$THREADS -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/$2" "http://127.0.0.1:$PORT${4:-}" | grep '^RESULT')
  local rps p50 p99 errors
  rps=$(sed -E 's/.*requests_per_s=([0-9]+).*/\1/' <<<"$line")
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")
  errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
  local events="-"; [ "$3" -gt 0 ] && events=$((rps * $3))
  printf "| %s | %s | %s | %s | %s | %s |\n" "$1" "$rps" "$events" "$p50" "$p99" "$errors"
}

echo "Trail ingest benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, SQLite synchronous=FULL"
echo
echo "| scenario | requests/s | events/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|"
run "GET /health (ceiling)" health.lua 0 /health
run "single-event creates, distinct resources" creates.lua 1
run "single-event updates over 1,000 resources" updates.lua 1
run "1,000-event batches (creates)" batches.lua 1000
echo
EVENTS=$(sqlite3 "$WORK/bench.sqlite" "SELECT COUNT(*) FROM events" 2>/dev/null || echo "?")
echo "events stored: $EVENTS; database size: $(du -sh "$WORK" | cut -f1)"
