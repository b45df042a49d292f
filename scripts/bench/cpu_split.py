#!/usr/bin/env python3
"""Where the machine's CPU went during a load run: busy share of all cores, and each program's share.

Samples /proc/stat (all cores) and every process's utime + stime (/proc/PID/stat) at the start and the end of a
window, and prints one line: how busy the cores were, and the share of the machine each program (by its command
name: trail, postgres, wrk, ...) used. A run whose cores are all busy is bound by CPU: on such a machine a design
can only serve more by spending less CPU per request, never by adding processes. Linux only; standard library.

Usage: cpu_split.py SECONDS [delay-seconds]
"""
import os
import sys
import time

WINDOW = float(sys.argv[1])
DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
CORES = os.cpu_count() or 1


def machine():
    """Busy and total jiffies of all cores (iowait counts as idle: a core waiting for the disk is free)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


def programs():
    """utime + stime of every live process, keyed by pid, with its command name."""
    seen = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        rest = text[text.rindex(")") + 2:].split()
        seen[int(entry)] = (name, int(rest[11]) + int(rest[12]))
    return seen


time.sleep(DELAY)
busy_before, total_before = machine()
before = programs()
time.sleep(WINDOW)
busy_after, total_after = machine()
after = programs()

shares = {}
for pid, (name, ticks) in after.items():
    used = ticks - before.get(pid, (name, 0))[1]
    key = "postgres" if name.startswith("postgres") else name
    shares[key] = shares.get(key, 0) + used
elapsed = total_after - total_before
busy = busy_after - busy_before
parts = ", ".join(f"{name} {100 * used / elapsed:.0f}%" for name, used in
                  sorted(shares.items(), key=lambda item: -item[1]) if 100 * used / elapsed >= 1)
print(f"cpu over {WINDOW:.0f} s: {100 * busy / elapsed:.0f}% of {CORES} cores busy; by program (share of the machine): {parts}")
