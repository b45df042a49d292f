#!/usr/bin/env bash
# One sequential client on a fresh store in memory (tmpfs): per request, the client's wall time beside the
# server's CPU time and context switches (scripts/bench/cpu_per_request.py). Run it on a quiet machine.
# Usage: scripts/bench/cpu_per_request.sh [requests-per-scenario]
. "$(dirname "$0")/lib.sh"
MEMORY=$(mktemp -d /dev/shm/trail-cpu.XXXXXX)
trap 'stop_servers; rm -rf "$WORK" "$MEMORY"' EXIT
bench_key "$MEMORY/bench.sqlite"
serve "$PORT" "$MEMORY/bench.sqlite"
wait_ready "$PORT"
python3 scripts/bench/cpu_per_request.py "$PORT" "$SERVER" "${1:-3000}"
