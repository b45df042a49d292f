# Sourced by scripts/bench.sh and scripts/bench-async.sh: checks wrk, builds the release binary, and sets
# BIN (the trail binary), WORK (a temporary directory) and DATABASE (TRAIL_BENCH_DATABASE, else a fresh SQLite file).
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
swift build -c release --product trail >/dev/null
BIN=$(swift build -c release --show-bin-path)/trail
WORK=$(mktemp -d)
DATABASE=${TRAIL_BENCH_DATABASE:-$WORK/bench.sqlite}
# An admin key in the benchmarked store (authentication stays on, as in production): every wrk script sends it
# (common.lua), and so does every curl of the scripts.
bench_key() { # database
  TRAIL_BENCH_AUTH="ApiKey $("$BIN" keys create --database "$1" --tenant default --role admin --name benchmark | tail -n 1)"
  export TRAIL_BENCH_AUTH
}
