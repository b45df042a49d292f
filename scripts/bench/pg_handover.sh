#!/usr/bin/env bash
# What handing events over through PostgreSQL would cost (issue 27, point 3): a simulation of the lease design's
# hand-over, in SQL only, with pgbench. Front ends (FRONTS clients) each hand over one event at a time — an insert
# of its prepared form into an unlogged table and a notification that wakes the lease holder — and the holder (one
# client, looping) takes every pending event at once and notifies their results, as a holder that
# group-commits for everyone would before and after its own write (which is not simulated: its cost is the store
# alone's, scripts/bench/pg_store_processes.sh). The hand-over need not be durable (a submitter whose event was
# lost with the server was never answered), hence the unlogged table and synchronous_commit off.
# Prints the hand-over rate and PostgreSQL's CPU per handed-over event, from scripts/bench/cpu_split.py.
# HANDOVER_WAKE="" leaves the front ends' notification out (to see what it costs).
# Usage: scripts/bench/pg_handover.sh 'postgres://user@127.0.0.1:5432/postgres?sslmode=disable' [seconds] [fronts]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ADMIN=${1:?a postgres:// URL of a database to create the scratch database from}
SECONDS_RUN=${2:-10}
FRONTS=${3:-96}
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1)
[ -x "$PGBENCH" ] || { echo "pgbench is needed (Debian: postgresql)" >&2; exit 1; }
BASE=${ADMIN%%\?*}
BASE=${BASE%/*}
QUERY=${ADMIN#*\?}
[ "$QUERY" = "$ADMIN" ] && QUERY=""
NAME=trail_handover_bench
URL="$BASE/$NAME${QUERY:+?$QUERY}"
WORK=$(mktemp -d)
drop() { PGOPTIONS="-c client_min_messages=warning" psql "${ADMIN%%\?*}" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null; }
trap 'drop; rm -rf "$WORK"' EXIT
drop
psql "${ADMIN%%\?*}" -qc "CREATE DATABASE $NAME" >/dev/null
psql "$URL" -q <<SQL
CREATE UNLOGGED TABLE handover (id bigserial PRIMARY KEY, tenant text NOT NULL, body text NOT NULL);
ALTER DATABASE $NAME SET synchronous_commit = off;
SQL
# An event as a front end would hand it over: its prepared, canonical form (about 450 bytes, as a create's).
BODY='{"action":"created","actor":{"id":"12","name":"John"},"actor_id":"12","category":null,"changes":[{"field":"email","new":"john@example.com","old":null},{"field":"plan","new":"pro","old":null},{"field":"seats","new":7,"old":null}],"context":{"ip":"127.0.0.1","user_agent":"wrk"},"metadata":{},"occurred_at":"2026-12-05T12:00:00.000000Z","outcome":"success","resource_id":"user-123456","resource_type":"user","state":{"email":"john@example.com","plan":"pro","seats":7}}'
cat > "$WORK/front.sql" <<SQL
INSERT INTO handover (tenant, body) VALUES ('default', '$BODY');
${HANDOVER_WAKE-SELECT pg_notify('trail_handover', 'default');}
SQL
cat > "$WORK/holder.sql" <<'SQL'
WITH taken AS (DELETE FROM handover WHERE tenant = 'default' RETURNING id)
SELECT pg_notify('trail_handed', count(*) || ' ' || coalesce(max(id), 0)) FROM taken;
SQL
python3 scripts/bench/cpu_split.py $((SECONDS_RUN - 2)) 1 > "$WORK/cpu" &
SAMPLER=$!
"$PGBENCH" -n -c 1 -T "$SECONDS_RUN" -f "$WORK/holder.sql" "$URL" > "$WORK/holder" 2>&1 &
HOLDER=$!
"$PGBENCH" -n -c "$FRONTS" -j 2 -T "$SECONDS_RUN" -f "$WORK/front.sql" "$URL" > "$WORK/front" 2>&1
wait "$HOLDER" "$SAMPLER"
RATE=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/front" | head -n 1)
LEFT=$(psql "$URL" -Atc "SELECT count(*) FROM handover")
echo "hand-over: $FRONTS front-end clients, ${RATE%.*} events/s handed over for ${SECONDS_RUN} s ($LEFT left pending at the end)"
cat "$WORK/cpu"
awk -v rate="$RATE" -v line="$(cat "$WORK/cpu")" -v cores="$(nproc)" 'BEGIN {
  if (match(line, /postgres [0-9]+%/)) {
    share = substr(line, RSTART + 9, RLENGTH - 10) / 100
    printf "PostgreSQL CPU per handed-over event: %.0f µs\n", share * cores * 1e6 / rate
  }
}'
