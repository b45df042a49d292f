#!/usr/bin/env bash
# Fuzzes every operation of Trail's OpenAPI document with schemathesis against a live `trail serve` (SPEC §13,
# issue 22): generated and hostile-but-schema-shaped input, stateful sequences (create, then read), and the
# checks not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance.
# Exits non-zero on any failure. Bounded: a number of examples per operation, and a time limit.
# Usage: scripts/fuzz.sh [examples-per-operation] [seed]     (CI runs it with 40 and a fixed seed)
#   TRAIL_BIN=path/to/trail      the binary (default: the debug build)
#   TRAIL_FUZZ_DATABASE=postgres://…   fuzz a PostgreSQL store (a fresh database) instead of a fresh SQLite file
#   SCHEMATHESIS=path/to/st      schemathesis (default: st on PATH; pip install schemathesis==4.32.5)
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${1:-200}
SEED=${2:-$RANDOM}
BIN=${TRAIL_BIN:-$(swift build --show-bin-path)/trail}
ST=${SCHEMATHESIS:-st}
WORK=$(mktemp -d)
DATABASE=${TRAIL_FUZZ_DATABASE:-$WORK/fuzz.sqlite}
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVER=""
cleanup() { [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }; rm -rf "$WORK"; }
trap cleanup EXIT

# No rate limits: the fuzzer sends thousands of requests, and every refused one would be a 429, not a test.
"$BIN" serve --host 127.0.0.1 --port "$PORT" --database "$DATABASE" --rate-limit 0 --auth-failure-rate 0 \
  --log-level warning > "$WORK/key" 2> "$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 300); do [ -s "$WORK/key" ] && curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done
KEY=$(head -n 1 "$WORK/key")
[ -n "$KEY" ] || { echo "trail serve did not start: $(cat "$WORK/server.log")" >&2; exit 1; }

export SCHEMATHESIS_HOOKS=scripts.fuzz.hooks
status=0
run() { # report-name, more schemathesis arguments
  local report="$WORK/$1.xml"
  shift
  # The examples phase is left out: with Python 3.11, Hypothesis often fails while describing the strategies
  # built from the document's large examples ("AST constructor recursion depth mismatch"), before any request.
  timeout 900 "$ST" run "http://127.0.0.1:$PORT/openapi.json" -H "Authorization: ApiKey $KEY" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases coverage,fuzzing,stateful --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 \
    --request-timeout 30 --report junit --report-junit-path "$report" "$@" || true
  # Judged from the report: any failure (a finding) fails the run, and so does any error of the run itself,
  # but for that same Hypothesis crash inside CPython 3.11's ast module (a tool error, reported as a warning:
  # that operation's phase is cut short).
  python3 scripts/fuzz/judge.py "$report" || status=1
}
echo "== every operation but the revocation of keys (seed $SEED, $EXAMPLES examples each)"
# The live tail is left out: a valid request opens a stream that never ends (each would wait out the request
# timeout); its refusals and its behaviour are tested in Tests/TrailServerTests/StreamTests.swift.
run operations --exclude-operation-id revokeKey --exclude-operation-id followAuditStream
# Last and alone: the stateful phase revokes the keys it lists, the fuzzer's own among them.
echo "== the revocation of keys"
run revocation --include-operation-id revokeKey --include-operation-id listKeys --include-operation-id createKey
if grep -q '"level":"error"\| error \| critical ' "$WORK/server.log"; then
  echo "the server logged errors:" >&2
  grep ' error \| critical \|"level":"error"' "$WORK/server.log" | head -20 >&2
  status=1
fi
exit $status
