#!/usr/bin/env python3
"""Which tables and indexes a store's transactions write: reads the frames of a copy of a SQLite WAL file, groups
them by transaction (a frame with a commit size ends one) and names each page's b-tree through `dbstat`.

Usage: scripts/bench/sqlite/wal_pages.py STORE WAL_COPY
  STORE: the store file (its b-trees are looked up in it); WAL_COPY: a copy of STORE-wal, taken while the server is
  stopped (e.g. `kill -9` after a load run: the WAL stays as it was). Only the frames of the WAL's current
  generation (those after its last restart) are read.
"""
import collections
import sqlite3
import struct
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__)
store, wal = sys.argv[1], sys.argv[2]
data = open(wal, "rb").read()
_, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", data[:32])
transactions, current, offset = [], [], 32
while offset + 24 + page_size <= len(data):
    page, commit, s1, s2, _, _ = struct.unpack(">IIIIII", data[offset:offset + 24])
    if (s1, s2) != (salt1, salt2):
        break  # a frame of an earlier generation
    current.append(page)
    if commit:
        transactions.append(current)
        current = []
    offset += 24 + page_size
if not transactions:
    sys.exit("no committed transaction in the WAL's current generation")
names = dict((page, name) for name, page in sqlite3.connect(store).execute("SELECT name, pageno FROM dbstat"))
counts = collections.Counter(names.get(page, "?") for pages in transactions for page in pages)
frames = sum(len(pages) for pages in transactions)
print(f"{len(transactions)} transactions, {frames} frames, {frames / len(transactions):.1f} pages per transaction")
for name, count in counts.most_common():
    print(f"{name:32} {count / len(transactions):6.2f} per transaction")
