#!/usr/bin/env python3
"""Writes deploy/grafana/trail-dashboard.json: Trail's Grafana dashboard, built only from the metrics of SPEC §10.

The JSON is generated so that its panels stay uniform; run this after changing a panel here, and commit both.
"""
import json
import pathlib

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
SELECTOR = 'job="$job",instance=~"$instance"'


def panel(title, targets, unit, x, y, w=12, h=8, description="", stack=False, kind="timeseries"):
    result = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + i)}
            for i, (expr, legend) in enumerate(targets)
        ],
    }
    if kind == "timeseries":
        result["fieldConfig"]["defaults"]["custom"] = {"stacking": {"mode": "normal" if stack else "none"}, "fillOpacity": 10}
        result["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    return result


def quantiles(metric, by, q_list=(0.5, 0.95, 0.99), extra=""):
    return [
        (f"histogram_quantile({q}, sum by (le{', ' + by if by else ''}) (rate({metric}_bucket{{{SELECTOR}{extra}}}[{RATE}])))",
         f"p{int(q * 100)}" + (f" {{{{{by}}}}}" if by else ""))
        for q in q_list
    ]


panels = [
    panel("Up", [(f'up{{{SELECTOR}}}', "{{instance}}")], "none", 0, 0, w=6, h=4, kind="stat",
          description="1 while Prometheus scrapes the server (alert trail_down)."),
    panel("Requests/s", [(f'sum(rate(trail_http_requests_total{{{SELECTOR}}}[{RATE}]))', "requests/s")], "reqps", 6, 0, w=6, h=4, kind="stat"),
    panel("Checkpoint age", [(f'max(trail_checkpoint_age_seconds{{{SELECTOR}}})', "age")], "s", 12, 0, w=6, h=4, kind="stat",
          description="How long events have waited for a signed checkpoint; 0 when every event is covered (alert trail_checkpoint_stale)."),
    panel("Queued messages", [(f'max(trail_async_messages{{{SELECTOR},state="pending"}})', "pending")], "none", 18, 0, w=6, h=4, kind="stat"),

    panel("Events ingested/s by source", [
        (f'sum by (source, format) (rate(trail_events_ingested_total{{{SELECTOR}}}[{RATE}]))', "{{source}} {{format}}")],
        "ops", 0, 4, stack=True,
        description="New events stored: http = synchronous POSTs, queue = written by workers from async submissions."),
    panel("Requests/s by status", [
        (f'sum by (status) (rate(trail_http_requests_total{{{SELECTOR}}}[{RATE}]))', "{{status}}")],
        "reqps", 12, 4, stack=True),

    panel("Latency by route (p99)", quantiles("trail_http_request_duration_seconds", "route", (0.99,)), "s", 0, 12,
          description="The slowest 1% of requests of each route template."),
    panel("Latency, all routes", quantiles("trail_http_request_duration_seconds", ""), "s", 12, 12),

    panel("Errors", [
        (f'sum(rate(trail_http_requests_total{{{SELECTOR},status=~"5.."}}[{RATE}])) / sum(rate(trail_http_requests_total{{{SELECTOR}}}[{RATE}]))', "5xx ratio"),
        (f'sum(rate(trail_http_requests_total{{{SELECTOR},status=~"4.."}}[{RATE}])) / sum(rate(trail_http_requests_total{{{SELECTOR}}}[{RATE}]))', "4xx ratio"),
    ], "percentunit", 0, 20, description="Share of requests answered with 5xx (alert trail_high_5xx_ratio) and 4xx."),
    panel("Refused callers/s", [
        (f'sum(rate(trail_auth_failures_total{{{SELECTOR}}}[{RATE}]))', "authentication failures"),
        (f'sum by (limit) (rate(trail_rate_limited_total{{{SELECTOR}}}[{RATE}]))', "rate limited ({{limit}})"),
    ], "reqps", 12, 20),

    panel("Store commit latency", quantiles("trail_store_commit_duration_seconds", ""), "s", 0, 28,
          description="One transaction of the event writer, commit (fsync) included (alert trail_store_commit_slow)."),
    panel("Events per commit", [
        (f'sum(rate(trail_store_events_per_commit_sum{{{SELECTOR}}}[{RATE}])) / sum(rate(trail_store_events_per_commit_count{{{SELECTOR}}}[{RATE}]))', "mean"),
        *quantiles("trail_store_events_per_commit", "", (0.99,)),
        (f'sum(rate(trail_store_events_per_commit_count{{{SELECTOR}}}[{RATE}]))', "commits/s"),
    ], "none", 12, 28, description="Group commit: concurrent submissions share one transaction; the size grows with load."),

    panel("Async queue by state", [
        (f'max by (state) (trail_async_messages{{{SELECTOR}}})', "{{state}}")], "none", 0, 36,
          description="Pending and processing messages (alert trail_async_backlog_growing) and those failed for good (trail_async_messages_failed)."),
    panel("Checkpoint age", [(f'max by (instance) (trail_checkpoint_age_seconds{{{SELECTOR}}})', "{{instance}}")], "s", 12, 36),

    panel("Resident memory", [(f'process_resident_memory_bytes{{{SELECTOR}}}', "{{instance}}")], "bytes", 0, 44),
    panel("CPU", [(f'rate(process_cpu_seconds_total{{{SELECTOR}}}[{RATE}])', "{{instance}}")], "percentunit", 12, 44,
          description="CPU seconds per second: 1 = one core busy."),
]

for i, p in enumerate(panels):
    p["id"] = i + 1

dashboard = {
    "title": "Trail",
    "uid": "trail-overview",
    "description": "Trail audit service: ingest, latency, errors, store commits, queue, checkpoints, process (docs/operations.md).",
    "tags": ["trail", "audit"],
    "timezone": "utc",
    "schemaVersion": 39,
    "version": 1,
    "editable": True,
    "refresh": "30s",
    "time": {"from": "now-6h", "to": "now"},
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
        {"name": "job", "type": "query", "datasource": DATASOURCE, "query": "label_values(trail_http_requests_total, job)",
         "refresh": 1, "current": {"text": "trail", "value": "trail"}},
        {"name": "instance", "type": "query", "datasource": DATASOURCE,
         "query": 'label_values(trail_http_requests_total{job="$job"}, instance)', "refresh": 1, "includeAll": True,
         "allValue": ".*", "current": {"text": "All", "value": "$__all"}},
    ]},
    "panels": panels,
}

path = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "trail-dashboard.json"
path.write_text(json.dumps(dashboard, indent=2) + "\n")
print(f"wrote {path.relative_to(path.parents[2])}")
