# Sourced first by the scripts/bench/*.sh scripts: strict mode, the repository as working directory, checks wrk,
# builds the release binary (unless TRAIL_BENCH_BIN names one), and sets BIN (the trail binary), WORK (a temporary directory) and DATABASE
# (TRAIL_BENCH_DATABASE, else a fresh SQLite file).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
# TRAIL_BENCH_BIN: a trail binary to measure instead (e.g. an older build, to compare); nothing is built then.
if [ -n "${TRAIL_BENCH_BIN:-}" ]; then
  BIN=$TRAIL_BENCH_BIN
else
  swift build -c release --product trail >/dev/null
  BIN=$(swift build -c release --show-bin-path)/trail
fi
WORK=$(mktemp -d)
DATABASE=${TRAIL_BENCH_DATABASE:-$WORK/bench.sqlite}
# The (first) port the servers listen on.
PORT=${TRAIL_BENCH_PORT:-9099}
# The servers a script started (SERVERS; SERVER is the last), stopped with the work directory however it ends.
SERVERS=()
SERVER=""
stop_servers() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  SERVERS=()
  SERVER=""
}
trap 'stop_servers; rm -rf "$WORK"' EXIT
# Starts `trail serve` on loopback as the benchmarks run it (warnings only, no rate limit, TRAIL_BENCH_SERVE_ARGS).
serve() { # port database [more arguments]
  local port=$1 database=$2
  shift 2
  "$BIN" serve --host 127.0.0.1 --port "$port" --database "$database" --log-level warning --rate-limit 0 "$@" ${TRAIL_BENCH_SERVE_ARGS:-} &
  SERVER=$!
  SERVERS+=("$SERVER")
}
# An admin key in the benchmarked store (authentication stays on, as in production): every wrk script sends it
# (common.lua), and so does every curl of the scripts.
bench_key() { # database (created first if it does not exist)
  "$BIN" migrate --database "$1" >/dev/null
  TRAIL_BENCH_AUTH="ApiKey $("$BIN" keys create --database "$1" --tenant default --role admin --name benchmark | tail -n 1)"
  export TRAIL_BENCH_AUTH
}
# Waits until the server on a port serves the API (it listens, and answers /health, before its store is open;
# the public key is read from the store and needs no key). Fails the script after 30 seconds.
wait_ready() { # port
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$1/api/v1/integrity/public-key" >/dev/null && return; sleep 0.1; done
  echo "trail serve on port $1 did not start" >&2; exit 1
}
# Event ids spread over the whole log of a populated store (`trail-bench populate`): every version of 200 of its
# resources, whose updates are spread evenly through the history. One id a line.
spread_event_ids() { # port
  local types=(invoice user order document ticket payment project account contract shipment) i n
  for i in $(seq 0 199); do
    n=$(( i * 499 % ${READ_RESOURCES:-100000} ))
    curl -fsS -H "Authorization: $TRAIL_BENCH_AUTH" "http://127.0.0.1:$1/api/v1/resources/${types[n % 10]}/${types[n % 10]}-$n/history?limit=1000"
    echo
  done | grep -oE '"id":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"' | cut -d'"' -f4
}
