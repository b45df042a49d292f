#!/usr/bin/env bash
# The web console's page times (SPEC §12, issue 25) on a store filled by `trail-bench populate` (release build,
# wrk on loopback, a signed-in session's cookie). Each page view is also recorded as an access event (a write),
# as in production.
# Usage: scripts/bench/console.sh DATABASE [seconds-per-scenario] [connections]
#   DATABASE: a populated SQLite file or postgres:// URL, e.g. made with
#     .build/release/trail-bench populate --events 10000000 --resources 100000 --database /tmp/populated.sqlite
# Scenarios: /health (the ceiling), the event list's first page, the list of one actor, one event (ids spread
# over the log), a resource's page (its state, and its timeline's first 100 versions), an actor's page, the last
# day's summary;
# then the 7- and 30-day summaries, one request each, timed (the store counts every event of the period).
[ $# -ge 1 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
POPULATED=$1
DURATION=${2:-10}
CONNECTIONS=${3:-8}
bench_key "$POPULATED"
KEY=${TRAIL_BENCH_AUTH#ApiKey }

start() {
  stop_servers
  serve "$PORT" "$POPULATED" --workers 0
  wait_ready "$PORT"
}

# A console session: the sign-in form's token, then the form.
sign_in() {
  local jar=$WORK/cookies token
  token=$(curl -fsS -c "$jar" "http://127.0.0.1:$PORT/ui/sign-in" | grep -oE 'name="csrf" value="[^"]+"' | cut -d'"' -f4)
  curl -fsS -b "$jar" -c "$jar" -o /dev/null --data-urlencode "key=$KEY" --data-urlencode "csrf=$token" \
    "http://127.0.0.1:$PORT/ui/sign-in"
  CONSOLE_COOKIE="trail_session=$(awk '$6 == "trail_session" { print $7 }' "$jar")"
  export CONSOLE_COOKIE
  # Signed in: a page answers 200, not the redirect to sign-in (which wrk would not count as an error).
  [ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $CONSOLE_COOKIE" "http://127.0.0.1:$PORT/ui/events")" = 200 ] \
    || { echo "the console session did not open" >&2; exit 1; }
}

run() { # title scenario
  start
  sign_in
  cat scripts/bench/wrk/common.lua scripts/bench/wrk/console.lua > "$WORK/console.lua"
  CONSOLE_SCENARIO=$2 wrk -t"$(( CONNECTIONS < 2 ? 1 : 2 ))" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    -s "$WORK/console.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk"
  local result
  result=$(grep '^RESULT' "$WORK/wrk") || { echo "wrk failed: $(cat "$WORK/wrk")" >&2; exit 1; }
  LAST_RPS=$(sed -E 's/.*requests_per_s=([0-9]+).*/\1/' <<< "$result")
  local share=""
  [ -n "${HEALTH_RPS:-}" ] && share=$(awk -v r="$LAST_RPS" -v h="$HEALTH_RPS" 'BEGIN { printf "%.1f%%", 100 * r / h }')
  printf "| %s | %s | %s | %s | %s | %s |\n" "$1" "$LAST_RPS" "$share" \
    "$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<< "$result")" "$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<< "$result")" \
    "$(sed -E 's/.*errors=([0-9]+).*/\1/' <<< "$result")"
}

echo "Trail console benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$CONNECTIONS -d${DURATION}s, $POPULATED"
echo
start
# The first start on a freshly populated store builds the Merkle tree and signs a checkpoint (tens of seconds of
# CPU): wait for it, so that it does not run beside the measurements.
for _ in $(seq 1 36000); do
  curl -fsS -o /dev/null -H "Authorization: $TRAIL_BENCH_AUTH" "http://127.0.0.1:$PORT/api/v1/integrity/checkpoints/latest" 2>/dev/null && break
  sleep 0.1
done
spread_event_ids "$PORT" > "$WORK/event-ids"
export READ_EVENT_IDS="$WORK/event-ids"
echo "| page | requests/s | of /health | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|"
HEALTH_RPS=""
run "GET /health (the ceiling)" health
HEALTH_RPS=$LAST_RPS
run "event list, first page (50 newest)" list
run "event list of one actor" list-actor
run "one event (of $(wc -l < "$WORK/event-ids") spread over the log)" event
run "resource: state and timeline (first 100 versions)" resource
run "actor: 30 days' summary and activity" actor
run "summary, last day" summary
start
sign_in
for days in 7 30; do
  curl -sS -o /dev/null -H "Cookie: $CONSOLE_COOKIE" -w "summary, last $days days: one request, %{time_total} s\n" \
    "http://127.0.0.1:$PORT/ui/summary?days=$days"
done
