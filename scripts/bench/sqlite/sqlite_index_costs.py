#!/usr/bin/env python3
"""What each b-tree of Trail's events costs SQLite on the write path: 1,000-event transactions of creates written
from Python's sqlite3 module (the same system libsqlite3 Trail links) into a fresh store made by `trail migrate`,
with everything the writer inserts (the event with the columns of a typical `trail-bench populate` update, its
full-text row, its resource's head), then the same with one part left out at a time: the full-text row, the
foreign keys, or one index (the unique index on (tenant, sequence) is a foreign key's parent, so it is dropped
with the foreign keys off: compare that line with "no foreign keys").

Usage: scripts/bench/sqlite/sqlite_index_costs.py TRAIL_BINARY [rounds]   (the binary only creates the schema)
Prints events/s and microseconds per event for each variant; Python's own work per statement is in every line.
Bounded: 40 transactions per variant and round.
"""
import os, random, sqlite3, subprocess, sys, tempfile, time

COLUMNS = ["tenant", "sequence", "id", "occurred_at", "recorded_at", "action", "actor_id", "actor", "resource_type",
           "resource_id", "version", "new_version", "changes", "summary", "state_after", "context", "metadata",
           "outcome", "prev_hash", "hash"]
TYPES = ["invoice", "user", "order", "document", "ticket", "payment", "project", "account", "contract", "shipment"]
STATE = '{"title":"Shipment 99999","status":"late","amount":136,"owner":"user-999","note":"zebra logistics delivery"}'
WORDS = "_t64656661756c74 status changed from archived to late and amount 945 136 bob 81 import eu west"


def event(sequence):
    kind = TYPES[sequence % len(TYPES)]
    actor = random.randrange(1000)
    return ["default", sequence, "01a22c3d-0cfb-7f98-a9ce-%012x" % sequence, 1791369493111686 + sequence,
            1791369493111686 + sequence, "updated", "user-%d" % actor, '{"id":"user-%d","name":"Bob %d"}' % (actor, actor),
            kind, "%s-%d" % (kind, sequence), 1, 1, '{"status":["archived","late"],"amount":[945,136]}',
            "Status changed from archived to late and amount changed from 945 to 136.", STATE,
            '{"ip":"127.0.0.1","user_agent":"bench","request_id":"%032x"}' % sequence,
            '{"source":"import","region":"eu-west"}', "success", os.urandom(32), os.urandom(32)]


def run(binary, name, drop=None, fts=True, foreign_keys=True, transactions=40):
    path = os.path.join(tempfile.mkdtemp(), "costs.sqlite")
    subprocess.run([binary, "migrate", "--database", path], check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "temp_store=MEMORY", "cache_size=-65536",
                   "foreign_keys=" + ("ON" if foreign_keys else "OFF")):
        db.execute("PRAGMA " + pragma)
    if drop:
        db.execute("DROP INDEX " + drop)
    insert = "INSERT INTO events (%s) VALUES (%s)" % (", ".join(COLUMNS), ", ".join("?" * len(COLUMNS)))
    head = ("INSERT INTO resource_heads (tenant, resource_type, resource_id, version, state, secret_digests,"
            " last_sequence, updated_at) VALUES ('default', ?, ?, 1, ?, '{}', ?, 0) ON CONFLICT DO NOTHING")
    random.seed(1)
    sequence, elapsed = 0, 0.0
    for _ in range(transactions):
        rows = [event(sequence + i + 1) for i in range(1000)]
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for row in rows:
            cursor = db.execute(insert, row)
            if fts:
                db.execute("INSERT INTO events_fts (rowid, words) VALUES (?, ?)", (cursor.lastrowid, WORDS))
            db.execute(head, (row[8], row[9], STATE, row[1]))
        db.execute("COMMIT")
        elapsed += time.perf_counter() - started
        sequence += 1000
    db.close()
    print("%-28s %7.0f events/s %6.1f µs/event" % (name, transactions * 1000 / elapsed, elapsed / transactions / 1000 * 1e6),
          flush=True)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    variants = [("everything", {}), ("no full-text row", {"fts": False}), ("no foreign keys", {"foreign_keys": False})]
    for index in ("events_id", "events_tenant_sequence", "events_recorded", "events_actor", "events_data_sequence",
                  "events_type_action"):
        variants.append(("no " + index, {"drop": index, "foreign_keys": index != "events_tenant_sequence"}))
    for _ in range(int(sys.argv[2]) if len(sys.argv) == 3 else 2):
        for name, options in variants:
            run(sys.argv[1], name, **options)
