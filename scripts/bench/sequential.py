#!/usr/bin/env python3
"""One sequential keep-alive client: how a web application calls an audit service, one call per user request.

Times each request on one persistent HTTP/1.1 connection (the standard library's http.client, so nothing is
installed) and prints a Markdown table of medians and tails per scenario, each beside GET /health of the same
run. Scenarios are measured in alternating rounds so that a slow minute of the machine touches all of them.

Given the server's process id, it also prints the server's CPU time per request (user and system, from
/proc/PID/stat) and its threads' context switches per request: a time above /health that is as much CPU says
the request works in the server; a gap says it waits (hand-offs, timers, I/O).

Usage: sequential.py PORT [requests-per-scenario] [rounds] [server-pid]
Environment: TRAIL_BENCH_AUTH, the Authorization header value (scripts/bench/lib.sh makes one).
"""
import http.client
import json
import os
import statistics
import sys
import time

PORT = int(sys.argv[1])
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
SERVER = int(sys.argv[4]) if len(sys.argv) > 4 else None
AUTH = os.environ["TRAIL_BENCH_AUTH"]
RUN = f"seq{os.getpid()}-{int(time.time())}"

connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
HEADERS = {"Authorization": AUTH, "Content-Type": "application/json"}


def call(method, path, body=None, expect=200):
    """One request on the kept-alive connection; its wall time in milliseconds, from send to the body's end."""
    data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    start = time.perf_counter_ns()
    connection.request(method, path, body=data, headers=HEADERS)
    response = connection.getresponse()
    payload = response.read()
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if response.status != expect:
        sys.exit(f"{method} {path}: {response.status} {payload[:300]!r}")
    return elapsed, payload


counter = 0


def create(personal):
    """A create of a resource never seen before: with personal values (sealed: an e-mail, a name) as the wrk
    creates benchmark sends, or with none."""
    global counter
    counter += 1
    obj = {"id": f"{RUN}-{counter}", "type": "user", "plan": "pro", "seats": counter % 50}
    if personal:
        obj.update({"username": "johndoe", "email": "john@example.com", "age": 21})
    actor = {"id": "12", "name": "John"} if personal else {"id": "12"}
    return call("POST", "/audit/activity-stream/", {"actor": actor, "verb": "create", "object": obj}, expect=201)[0]


# A resource with ten versions, for the state and history reads.
READ_ID = f"{RUN}-read"
for version in range(10):
    call("POST", "/audit/activity-stream/",
         {"actor": {"id": "12"}, "verb": "create" if version == 0 else "update",
          "object": {"id": READ_ID, "type": "account", "balance": version, "status": "active"}}, expect=201)
_, history = call("GET", f"/api/v1/resources/account/{READ_ID}/history?limit=10")
assert len(json.loads(history)["data"]) == 10, history[:300]

SCENARIOS = [
    ("GET /health", lambda: call("GET", "/health")[0]),
    ("create, no personal values", lambda: create(False)),
    ("create, personal values (sealed)", lambda: create(True)),
    ("state by id (GET /api/v1/resources/{type}/{id})", lambda: call("GET", f"/api/v1/resources/account/{READ_ID}")[0]),
    ("history, 10 versions", lambda: call("GET", f"/api/v1/resources/account/{READ_ID}/history?limit=10")[0]),
]

# Warm-up: connections, caches, the first statements prepared.
for _, run in SCENARIOS:
    for _ in range(200):
        run()

def server_counters():
    """The server's CPU seconds (user + system) and its threads' context switches so far."""
    fields = open(f"/proc/{SERVER}/stat").read().rsplit(")", 1)[1].split()
    seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    switches = 0
    for thread in os.listdir(f"/proc/{SERVER}/task"):
        try:
            for line in open(f"/proc/{SERVER}/task/{thread}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return seconds, switches


times = {name: [] for name, _ in SCENARIOS}
spent = {name: [0.0, 0] for name, _ in SCENARIOS}  # the server's CPU seconds and context switches
per_round = max(1, REQUESTS // ROUNDS)
for _ in range(ROUNDS):
    for name, run in SCENARIOS:
        before = server_counters() if SERVER else None
        times[name].extend(run() for _ in range(per_round))
        if before:
            after = server_counters()
            spent[name][0] += after[0] - before[0]
            spent[name][1] += after[1] - before[1]

health = statistics.median(times["GET /health"])


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


server_columns = " server CPU ms/request | context switches/request |" if SERVER else ""
print(f"| scenario | requests | median ms | − /health ms | p90 ms | p99 ms |{server_columns}")
print("|---|---|---|---|---|---|" + ("---|---|" if SERVER else ""))
for name, _ in SCENARIOS:
    values = times[name]
    median = statistics.median(values)
    delta = "" if name == "GET /health" else f"{median - health:+.3f}"
    row = f"| {name} | {len(values)} | {median:.3f} | {delta} | {quantile(values, 0.9):.3f} | {quantile(values, 0.99):.3f} |"
    if SERVER:
        seconds, switches = spent[name]
        row += f" {seconds / len(values) * 1e3:.3f} | {switches / len(values):.2f} |"
    print(row)
