#!/usr/bin/env bash
# Where the backends of a PostgreSQL database spend their time while a benchmark runs beside this script:
# samples pg_stat_activity every 10 ms for the given seconds (one psql session, bounded) and prints how often a
# backend was seen in each state — running, waiting for a lock (and which), waiting for the client (idle in a
# transaction: a round trip of Trail's), or flushing the WAL at commit.
# Usage: scripts/bench/pg_waits.sh 'postgres://…/db?sslmode=disable' [seconds]
set -euo pipefail
URL=${1:?a postgres:// URL}
SECONDS_TO_SAMPLE=${2:-10}
DB=${URL%%\?*}
DB=${DB##*/}
SAMPLES=$(( SECONDS_TO_SAMPLE * 100 ))
{
  for _ in $(seq 1 "$SAMPLES"); do
    cat <<SQL
SELECT state || ' | ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU')
    || ' | ' || CASE WHEN query ILIKE 'INSERT INTO tenant_heads%' THEN 'the tenant lock'
                     WHEN query ILIKE 'WITH heads AS%' THEN 'the write statement'
                     WHEN query ILIKE '%FROM unnest%JOIN resource_heads%' THEN 'reading heads'
                     WHEN query ILIKE 'COMMIT%' THEN 'commit'
                     WHEN query ILIKE 'BEGIN%' THEN 'begin'
                     ELSE left(regexp_replace(query, '\s+', ' ', 'g'), 40) END
FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid() AND state <> 'idle';
SELECT pg_sleep(0.01);
SQL
  done
} | psql "${URL%%\?*}" -Atq 2>/dev/null | grep -v '^$' | sort | uniq -c | sort -rn |
  awk -v n="$SAMPLES" '{ c = $1; $1 = ""; printf "%6.2f backends on average %s\n", c / n, $0 }'
