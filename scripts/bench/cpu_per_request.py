#!/usr/bin/env python3
"""Where one sequential caller's time goes: per request, the client's wall time beside the server's CPU time
(user and system, from /proc/PID/stat) and its threads' context switches (/proc/PID/task/*/status).

A wall time close to the CPU time says the request is CPU-bound in the server; a gap says it waits (hand-offs,
timers, I/O). Scenarios as sequential.py: GET /health, a create, a state read by id, a 10-version history.

Usage: cpu_per_request.py PORT SERVER_PID [requests-per-scenario]
Environment: TRAIL_BENCH_AUTH, the Authorization header value (scripts/bench/lib.sh makes one).
"""
import http.client
import json
import os
import sys
import time

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
REQUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
TICK = os.sysconf("SC_CLK_TCK")
connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
HEADERS = {"Authorization": os.environ["TRAIL_BENCH_AUTH"], "Content-Type": "application/json"}
RUN = f"cpu{os.getpid()}-{int(time.time())}"


def call(method, path, body=None, expect=200):
    connection.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=HEADERS)
    response = connection.getresponse()
    payload = response.read()
    if response.status != expect:
        sys.exit(f"{method} {path}: {response.status} {payload[:300]!r}")


def cpu():
    fields = open(f"/proc/{PID}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def switches():
    total = 0
    for thread in os.listdir(f"/proc/{PID}/task"):
        try:
            for line in open(f"/proc/{PID}/task/{thread}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return total


READ_ID = f"{RUN}-read"
for version in range(10):
    call("POST", "/audit/activity-stream/", {"actor": {"id": "12"}, "verb": "create" if version == 0 else "update",
                                             "object": {"id": READ_ID, "type": "account", "balance": version}}, 201)
counter = 0


def create():
    global counter
    counter += 1
    call("POST", "/audit/activity-stream/",
         {"actor": {"id": "12"}, "verb": "create", "object": {"id": f"{RUN}-{counter}", "type": "user", "plan": "pro"}}, 201)


SCENARIOS = [
    ("GET /health", lambda: call("GET", "/health")),
    ("create", create),
    ("state by id", lambda: call("GET", f"/api/v1/resources/account/{READ_ID}")),
    ("history, 10 versions", lambda: call("GET", f"/api/v1/resources/account/{READ_ID}/history?limit=10")),
]
print("| scenario | wall ms/request | server user ms | server system ms | context switches |")
print("|---|---|---|---|---|")
for name, run in SCENARIOS:
    for _ in range(300):
        run()
    switched, (user, system), start = switches(), cpu(), time.perf_counter()
    for _ in range(REQUESTS):
        run()
    wall = time.perf_counter() - start
    user2, system2 = cpu()
    print(f"| {name} | {wall / REQUESTS * 1e3:.3f} | {(user2 - user) / REQUESTS * 1e3:.3f} | "
          f"{(system2 - system) / REQUESTS * 1e3:.3f} | {(switches() - switched) / REQUESTS:.2f} |")
