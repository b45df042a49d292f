#!/usr/bin/env bash
# What the metrics cost (issue 21): single-event creates/s with metrics on (the default; /metrics scraped once a
# second meanwhile, 15 times as often as deploy/prometheus/prometheus.yml does) and off (--no-metrics), in one run,
# alternating, each server on a fresh SQLite file; /health measured in every round too. Throughput on a shared VM
# varies by 10-20% from run to run, more than the metrics cost, so the server's own CPU time per create (from
# /proc/PID/stat, user + system) is reported too: a steadier measure of the work each create costs.
# Usage: scripts/bench/metrics.sh [rounds] [seconds-per-load] [connections]
# Every load is bounded by its duration; the servers and the scrape loop stop at the end.
. "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10}
CONNECTIONS=${3:-32}
cat scripts/bench/wrk/common.lua scripts/bench/wrk/creates.lua > "$WORK/creates.lua"
cat scripts/bench/wrk/common.lua scripts/bench/wrk/health.lua > "$WORK/health.lua"

load() { # script path → requests/s
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/$1" "http://127.0.0.1:$PORT$2" \
    | sed -nE 's/^RESULT.*requests_per_s=([0-9]+).*/\1/p'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system, in clock ticks

measure() { # on|off → "health creates"
  local database="$WORK/bench-$1-$RANDOM.sqlite" scraper=""
  bench_key "$database"
  if [ "$1" = on ]; then serve "$PORT" "$database"; else serve "$PORT" "$database" --no-metrics; fi
  wait_ready "$PORT"
  if [ "$1" = on ]; then
    # Bounded: the loop ends by itself after the two loads.
    ( for _ in $(seq 1 $((2 * DURATION + 5))); do curl -fs "http://127.0.0.1:$PORT/metrics" >/dev/null || true; sleep 1; done ) &
    scraper=$!
  fi
  local health creates before after
  health=$(load health.lua /health)
  before=$(cpu_ticks "$SERVER")
  creates=$(load creates.lua "")
  after=$(cpu_ticks "$SERVER")
  # CPU microseconds of the server per create.
  CPU=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v r="$creates" -v d="$DURATION" 'BEGIN { printf "%.1f", t / hz * 1e6 / (r * d) }')
  [ -n "$scraper" ] && { kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; }
  stop_servers
  rm -f "$database"*
  echo "$health $creates $CPU"
}

echo "Metrics on and off — $(date -u "+%Y-%m-%d %H:%M UTC"), $(nproc) cores, wrk $CONNECTIONS connections, -d${DURATION}s, $ROUNDS rounds alternated, SQLite synchronous=FULL, authentication on"
echo
echo "| round | metrics | /health/s | creates/s | creates as % of /health | server CPU µs per create |"
echo "|---|---|---|---|---|---|"
ON=()
OFF=()
ON_CPU=()
OFF_CPU=()
RATIOS=()
CPU_RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which goes first, so that neither always meets a warmer or cooler machine.
  if [ $((round % 2)) -eq 1 ]; then order="on off"; else order="off on"; fi
  for mode in $order; do
    read -r health creates cpu < <(measure "$mode")
    printf "| %s | %s | %s | %s | %.1f%% | %s |\n" "$round" "$mode" "$health" "$creates" "$(awk -v c="$creates" -v h="$health" 'BEGIN { print 100 * c / h }')" "$cpu"
    if [ "$mode" = on ]; then ON+=("$creates"); ON_CPU+=("$cpu"); else OFF+=("$creates"); OFF_CPU+=("$cpu"); fi
  done
  # The round's two runs were adjacent in time: their ratio cancels the machine's slower and faster spells.
  RATIOS+=("$(awk -v on="${ON[-1]}" -v off="${OFF[-1]}" 'BEGIN { print on / off }')")
  CPU_RATIOS+=("$(awk -v on="${ON_CPU[-1]}" -v off="${OFF_CPU[-1]}" 'BEGIN { print on / off }')")
done
median() { printf "%s\n" "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
on=$(median "${ON[@]}")
off=$(median "${OFF[@]}")
on_cpu=$(median "${ON_CPU[@]}")
off_cpu=$(median "${OFF_CPU[@]}")
echo
awk -v on="$on" -v off="$off" 'BEGIN { printf "median creates/s: metrics on %d, off %d; cost %.1f%%\n", on, off, 100 * (off - on) / off }'
awk -v on="$on_cpu" -v off="$off_cpu" 'BEGIN { printf "median server CPU per create: metrics on %.1f µs, off %.1f µs; cost %.1f%%\n", on, off, 100 * (on - off) / off }'
awk -v r="$(median "${RATIOS[@]}")" -v c="$(median "${CPU_RATIOS[@]}")" 'BEGIN { printf "median of the rounds'"'"' on/off ratios: creates/s %.3f (cost %.1f%%), CPU per create %.3f (cost %.1f%%)\n", r, 100 * (1 - r), c, 100 * (c - 1) }'
