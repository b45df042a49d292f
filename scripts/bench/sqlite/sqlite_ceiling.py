#!/usr/bin/env python3
"""What SQLite alone sustains with Trail's schema: 1,000-event transactions of creates, written from Python's
sqlite3 module (the same system libsqlite3 Trail links), with no payload parsing, diffing or HTTP.

Usage: scripts/bench/sqlite/sqlite_ceiling.py TRAIL_BINARY   (the binary is used only to create the schema with `trail migrate`)
Prints events/s for: the events table alone; plus the resource-head upsert; plus the head lookup Trail does
before each event. Bounded: 60 transactions per variant.
"""
import json, os, sqlite3, subprocess, sys, tempfile, time

def run(binary, variant):
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "ceiling.sqlite")
    subprocess.run([binary, "migrate", "--database", path], check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "temp_store=MEMORY", "cache_size=-65536", "foreign_keys=ON"):
        db.execute("PRAGMA " + pragma)
    state = json.dumps({"username": "johndoe", "email": "john@example.com", "age": 21})
    changes = json.dumps({"username": [None, "johndoe"], "email": [None, "john@example.com"], "age": [None, 21]})
    insert = ("INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, actor_id, actor, resource_type,"
              " resource_id, version, new_version, changes, summary, state_after) VALUES ('default', ?, ?, 0, 0, 'created',"
              " '12', '{\"id\":\"12\"}', 'user', ?, 1, 1, ?, 'Username set to johndoe, email set to john@example.com and age set to 21.', ?)")
    upsert = ("INSERT INTO resource_heads (tenant, resource_type, resource_id, version, state, last_sequence, updated_at)"
              " VALUES ('default', 'user', ?, 1, ?, ?, 0) ON CONFLICT (tenant, resource_type, resource_id) DO UPDATE SET"
              " version = excluded.version, state = excluded.state")
    select = "SELECT version, state, secret_digests FROM resource_heads WHERE tenant = 'default' AND resource_type = 'user' AND resource_id = ?"
    sequence, elapsed, transactions = 0, 0.0, 60
    for _ in range(transactions):
        rows = []
        for _ in range(1000):
            sequence += 1
            rows.append((sequence, "%012x-7000-8000-%012x" % (sequence, sequence), "u-%d" % sequence))
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for seq, event_id, resource in rows:
            if "lookup" in variant:
                db.execute(select, (resource,)).fetchone()
            db.execute(insert, (seq, event_id, resource, changes, state))
        if "head" in variant:
            for seq, _, resource in rows:
                db.execute(upsert, (resource, state, seq))
        db.execute("COMMIT")
        elapsed += time.perf_counter() - started
    db.close()
    print("%-22s %6d events/s" % (variant, transactions * 1000 / elapsed))

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for variant in ("events", "events+head", "events+head+lookup"):
        run(sys.argv[1], variant)
