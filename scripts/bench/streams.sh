#!/usr/bin/env bash
# Trail's streams benchmark (SPEC §14): the ingest rate of single-event creates with 0, 1 and 100 live tails
# following the log, and with one webhook sink delivering it, in one run beside GET /health; then how fast a
# sink delivers a log it is behind on. Release build, wrk on loopback, SQLite (or TRAIL_BENCH_DATABASE).
# Usage: scripts/bench/streams.sh [seconds-per-scenario] [connections]
# The tails and the webhook receiver are scripts/bench/stream_peers.py (Python's standard library), on this
# machine: they share its cores with the server and wrk. Every run is bounded; everything stops at the end.
. "$(dirname "$0")/lib.sh"
DURATION=${1:-10}
CONNECTIONS=${2:-32}
PEERS=scripts/bench/stream_peers.py
HOOK_PORT=$((PORT + 1))
bench_key "$DATABASE"
serve "$PORT" "$DATABASE" --allow-private-sinks
wait_ready "$PORT"
H="Authorization: $TRAIL_BENCH_AUTH"

run() { # name script [path]
  cat scripts/bench/wrk/common.lua "scripts/bench/wrk/$2" > "$WORK/$2"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/$2" "http://127.0.0.1:$PORT${3:-}" > "$WORK/wrk"
  grep -q '^RESULT' "$WORK/wrk" || { echo "wrk failed: $(cat "$WORK/wrk")" >&2; exit 1; }
  RPS=$(sed -nE 's/.*requests_per_s=([0-9]+).*/\1/p' "$WORK/wrk")
  P50=$(sed -nE 's/.*p50_ms=([0-9.]+).*/\1/p' "$WORK/wrk")
  P99=$(sed -nE 's/.*p99_ms=([0-9.]+).*/\1/p' "$WORK/wrk")
  ERRORS=$(sed -nE 's/.*errors=([0-9]+).*/\1/p' "$WORK/wrk")
}
row() { # name extra
  awk -v n="$1" -v r="$RPS" -v h="$HEALTH" -v p50="$P50" -v p99="$P99" -v e="$ERRORS" -v x="$2" \
    'BEGIN { printf "| %s | %d | %.3f | %s | %s | %s | %s |\n", n, r, r / h, p50, p99, e, x }'
}
head_sequence() {
  curl -fs -H "$H" "http://127.0.0.1:$PORT/api/v1/audit/logs?limit=1&include_access=true" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d[0]["sequence"] if d else 0)'
}

STORE="SQLite synchronous=FULL"
case "$DATABASE" in postgres://*|postgresql://*) STORE="PostgreSQL";; esac
echo "Trail streams benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, wrk ${CONNECTIONS} connections, -d${DURATION}s, $STORE"
echo
echo "| scenario | requests/s | ratio to /health | p50 ms | p99 ms | errors | followers |"
echo "|---|---|---|---|---|---|---|"
run health health.lua /health
HEALTH=$RPS
row "GET /health (ceiling)" "-"
run creates creates.lua
row "single-event creates, no follower" "-"
for tails in 1 100; do
  python3 "$PEERS" sse "$PORT" "$tails" $((DURATION + 3)) > "$WORK/tails" &
  PEER=$!
  sleep 2
  run creates creates.lua
  wait "$PEER"
  row "single-event creates, $tails live tail(s)" "$(cat "$WORK/tails")"
done

# One webhook sink, from now on.
python3 "$PEERS" webhook "$HOOK_PORT" "$WORK/received" &
RECEIVER=$!
echo 0 > "$WORK/received"
curl -fs -H "$H" -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/api/v1/sinks" \
  -d "{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:$HOOK_PORT/hook\", \"secret\": \"benchmark-secret-0123456789\"}" > "$WORK/sink"
SINK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/sink")
sleep 3
BEFORE=$(cat "$WORK/received")
run creates creates.lua
DURING=$(( $(cat "$WORK/received") - BEFORE ))
row "single-event creates, 1 webhook sink" "$DURING events delivered during the run ($((DURING / DURATION))/s)"
curl -fs -H "$H" -X DELETE "http://127.0.0.1:$PORT/api/v1/sinks/$SINK"

# Delivery throughput: a sink created behind the whole log (after = 0), timed until it caught up.
HEAD=$(head_sequence)
BEFORE=$(cat "$WORK/received")
START=$(date +%s.%N)
curl -fs -H "$H" -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/api/v1/sinks" \
  -d "{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:$HOOK_PORT/hook\", \"secret\": \"benchmark-secret-0123456789\", \"after\": 0}" > "$WORK/sink"
SINK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/sink")
for _ in $(seq 1 1200); do
  LAG=$(curl -fs -H "$H" "http://127.0.0.1:$PORT/api/v1/sinks/$SINK" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["cursor"])')
  [ "$LAG" -ge "$HEAD" ] && break
  sleep 0.5
done
END=$(date +%s.%N)
DELIVERED=$(( $(cat "$WORK/received") - BEFORE ))
kill "$RECEIVER" 2>/dev/null || true
echo
awk -v n="$DELIVERED" -v s="$START" -v e="$END" -v h="$HEAD" \
  'BEGIN { printf "delivery throughput: a webhook sink behind a log of %d events caught up in %.1f s: %d events delivered, %.0f events/s (batches of 100, one request at a time)\n", h, e - s, n, n / (e - s) }'
