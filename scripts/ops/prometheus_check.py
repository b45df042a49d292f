#!/usr/bin/env python3
"""Trail under the real Prometheus (SPEC §10, issue 21), on loopback, bounded in time:

1. `promtool check config`, `check rules` and `test rules` on deploy/prometheus/;
2. `trail serve` on a fresh SQLite store (JSON logs at trace level), with some traffic: events written
   synchronously and through the queue, reads, a refused key, rate-limited requests, an unknown path;
3. Prometheus started with deploy/prometheus/prometheus.yml (its target pointed at that server, a 1 s interval);
   waits until it has scraped, and asks its HTTP API for trail_events_ingested_total and the rules' health;
4. every metric name that deploy/'s rules and dashboard use is in /metrics;
5. the server's log holds no API key.

Usage: scripts/ops/prometheus_check.py [path/to/trail]   (default .build/debug/trail; or TRAIL_BIN)
Needs prometheus and promtool (Debian's `prometheus` package) and Python 3's standard library.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
SYNC_EVENTS = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", body=None, headers=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""  # not listening (yet)


def wait_for(what, check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise SystemExit(f"FAIL: {what} within {seconds} s")


def step(text):
    print(f"== {text}", flush=True)


def main():
    trail = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TRAIL_BIN", os.path.join(ROOT, ".build/debug/trail"))
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            raise SystemExit(f"FAIL: {tool} not found (apt-get install prometheus)")
    work = tempfile.mkdtemp(prefix="trail-prometheus-")
    processes = []
    try:
        step("promtool on deploy/prometheus")
        prom_dir = os.path.join(DEPLOY, "prometheus")
        for args in (["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
            subprocess.run(["promtool", *args], cwd=prom_dir, check=True)

        step("trail serve with traffic")
        port = free_port()
        log_path = os.path.join(work, "trail.log")
        log = open(log_path, "w")
        server = subprocess.Popen(
            [trail, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", os.path.join(work, "trail.sqlite"),
             "--log-format", "json", "--log-level", "trace", "--rate-limit", "20", "--rate-burst", "40",
             "--checkpoint-seconds", "1", "--allow-private-sinks"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        processes.append(server)
        key = server.stdout.readline().strip()
        if not key.startswith("trail_"):
            raise SystemExit(f"FAIL: no first key printed: {key!r}")
        base = f"http://127.0.0.1:{port}"
        wait_for("/ready", lambda: request(base + "/ready")[0] == 200)
        auth = {"Authorization": f"ApiKey {key}", "Content-Type": "application/json"}
        ids = []
        for i in range(SYNC_EVENTS):
            status, body = request(base + "/api/v1/audit/activity-stream", "POST", json.dumps(
                {"verb": "updated", "actor": {"id": "7"}, "object": {"type": "user", "id": f"u-{i % 4}", "n": i}}), auth)
            assert status == 201, (status, body)
            ids.append(json.loads(body)["data"][0]["id"])
        status, body = request(base + "/api/v1/audit/activity-stream?async=true", "POST", json.dumps(
            {"verb": "created", "actor": {"id": "7"}, "object": {"type": "user", "id": "queued"}}), auth)
        assert status == 202, (status, body)
        assert request(base + f"/api/v1/audit/logs/{ids[0]}", headers=auth)[0] == 200
        assert request(base + "/api/v1/audit/logs", headers={"Authorization": "ApiKey trail_0000000000000000_nope"})[0] == 401
        assert request(base + "/wp-login.php")[0] == 404
        # Two sinks, so that the sink metrics exist: one over UDP (a datagram is sent whether or not anyone
        # listens: delivered), one over TCP to a port nothing listens on (refused: failures).
        for address in (f"udp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"):
            status, body = request(base + "/api/v1/sinks", "POST", json.dumps({"type": "syslog", "address": address, "after": 0}), auth)
            assert status == 201, (status, body)
        wait_for("the sinks' metrics", lambda: all(
            name in request(base + "/metrics")[1] for name in
            ("trail_sink_events_delivered_total", "trail_sink_delivery_failures_total", "trail_sink_lag_events")) or None)

        statuses = [request(base + "/api/v1/audit/logs?limit=1", headers=auth)[0] for _ in range(60)]
        assert 429 in statuses, statuses

        step("prometheus scraping it")
        prom_port = free_port()
        with open(os.path.join(prom_dir, "prometheus.yml")) as f:
            config = f.read()
        config = config.replace('"127.0.0.1:9002"', f'"127.0.0.1:{port}"')
        config = re.sub(r"(scrape|evaluation)_interval: \d+s", r"\1_interval: 1s", config)
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(config)
        shutil.copy(os.path.join(prom_dir, "alerts.yml"), work)
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={os.path.join(work, 'prometheus.yml')}",
             f"--storage.tsdb.path={os.path.join(work, 'tsdb')}", f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w"))
        processes.append(prometheus)
        api = f"http://127.0.0.1:{prom_port}/api/v1"

        def query(expression):
            status, body = request(api + "/query?" + urllib.parse.urlencode({"query": expression}))
            return json.loads(body)["data"]["result"] if status == 200 else []

        def ingested():
            result = query("sum(trail_events_ingested_total)")
            return result and float(result[0]["value"][1]) >= SYNC_EVENTS + 1 and result

        result = wait_for("Prometheus to scrape trail_events_ingested_total (sync and queued events)", ingested)
        print(f"   trail_events_ingested_total = {result[0]['value'][1]} through Prometheus's API")
        by_source = {r["metric"].get("source"): float(r["value"][1]) for r in query("sum by (source) (trail_events_ingested_total)")}
        assert by_source.get("http") == SYNC_EVENTS and by_source.get("queue") == 1, by_source
        assert float(query('up{job="trail"}')[0]["value"][1]) == 1
        rules = wait_for("the rules to be evaluated", lambda: [
            rule for group in json.loads(request(api + "/rules")[1])["data"]["groups"] for rule in group["rules"]
            if rule.get("lastEvaluation", "").startswith("2") and not rule["lastEvaluation"].startswith("0001")] or None)
        unhealthy = [rule["name"] for rule in rules if rule["health"] != "ok"]
        assert not unhealthy, unhealthy
        print(f"   {len(rules)} rules evaluated, all healthy")

        step("every metric deploy/ uses is in /metrics")
        _, scrape = request(base + "/metrics")
        # Sample names, and the family names of TYPE lines (a histogram's own name is only there).
        exposed = {re.split(r"[{ ]", line, 1)[0] for line in scrape.splitlines() if line and not line.startswith("#")}
        exposed |= {line.split()[2] for line in scrape.splitlines() if line.startswith("# TYPE ")}
        used, alerts = set(), set()
        for path in (os.path.join(prom_dir, "alerts.yml"), os.path.join(DEPLOY, "grafana", "trail-dashboard.json")):
            with open(path) as f:
                text = f.read()
            used |= set(re.findall(r"\b((?:trail|process)_[a-z0-9_]+)", text))
            alerts |= set(re.findall(r"alert: (\w+)", text))
        used -= alerts
        missing = sorted(used - exposed)
        assert not missing, f"used by deploy/ but not in /metrics: {missing}"
        print(f"   {len(used)} metric names used, all exposed")

        step("no key in the server's log")
        server.terminate()
        server.wait(timeout=30)
        log.close()
        with open(log_path) as f:
            text = f.read()
        for line in text.splitlines():
            json.loads(line)
        for secret in (key, key.split("_")[-1], "trail_0000000000000000_nope"):
            assert secret not in text, "a key is in the log"
        print(f"   {len(text.splitlines())} JSON lines, no key")
        print("OK")
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
