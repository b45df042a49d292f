#!/usr/bin/env bash
# One sequential keep-alive client (scripts/bench/sequential.py): medians of GET /health, creates (with and
# without personal values), a state read by id and a 10-version history, on a fresh store in memory (tmpfs,
# /dev/shm: no disk wait, what is left is Trail's own) and then on disk (the work directory under $TMPDIR).
# Usage: scripts/bench/sequential.sh [requests-per-scenario] [rounds]
# The fsync of the disk is measured beside it (one 4 KiB write + fdatasync, the median of 300); each scenario's
# server CPU time and context switches per request are printed beside its medians.
. "$(dirname "$0")/lib.sh"
REQUESTS=${1:-3000}
ROUNDS=${2:-3}
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

measure() { # title database
  bench_key "$2"
  serve "$PORT" "$2"
  wait_ready "$PORT"
  echo "### $1"
  echo
  python3 scripts/bench/sequential.py "$PORT" "$REQUESTS" "$ROUNDS" "$SERVER"
  echo
  stop_servers
}

echo "Trail, one sequential client — $(date -u +%Y-%m-%d), $(nproc) cores, $REQUESTS requests per scenario in $ROUNDS rounds, keep-alive, auth on"
echo
MEMORY=$(mktemp -d /dev/shm/trail-seq.XXXXXX)
trap 'stop_servers; rm -rf "$WORK" "$MEMORY"' EXIT
measure "In memory (tmpfs)" "$MEMORY/bench.sqlite"
measure "On disk" "$WORK/bench.sqlite"
python3 - "$WORK" <<'PY'
import os, statistics, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
block = b"\0" * 4096
samples = []
for i in range(300):
    os.pwrite(fd, block, (i % 64) * 4096)
    start = time.perf_counter_ns()
    os.fdatasync(fd)
    samples.append((time.perf_counter_ns() - start) / 1e6)
os.close(fd)
print(f"One fdatasync of a 4 KiB write on this disk: median {statistics.median(samples):.3f} ms")
PY
