#!/usr/bin/env python3
"""The web console in a real headless Chromium (SPEC §12, issue 25), on loopback, bounded in time.

Starts `trail serve` on a fresh store (SQLite, or the PostgreSQL database given), makes keys for tenants acme
and globex, records a few events (one holding script payloads), then drives the console with Playwright:
sign-in, search, an event and its diff, a resource at version 1 and two versions compared, the actor and
summary pages, verifying the log with its progress, the live tail, tenant isolation (globex's marker never
rendered for acme), script payloads never executed, forged and cross-site forms refused, a 360 px screen,
keyboard access, sign-out. Screenshots of the main pages go to --screenshots (docs/console/ holds the ones
docs/console.md shows).

Usage: scripts/console/browser_test.py [--database URL] [--screenshots DIR] [path/to/trail]
  (default .build/debug/trail, or TRAIL_BIN; the browser is Debian's chromium, or CHROMIUM)
Needs Debian's chromium and Playwright for Python (PyPI `playwright`; it drives the system browser, nothing is
downloaded).
"""
import argparse
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLOBEX_MARKER = "globexmarker7781"
PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
CHECKS = []


def check(condition, what):
    CHECKS.append(what)
    if not condition:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


def wait_for(what, probe, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise SystemExit(f"FAIL: {what} within {seconds} s")


class Trail:
    """A `trail serve` of its own, on a free port of 127.0.0.1."""

    def __init__(self, binary, database):
        self.binary, self.database = binary, database
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def migrate(self):
        subprocess.run([self.binary, "migrate", "--database", self.database], check=True, capture_output=True, timeout=120)

    def key(self, tenant, role):
        out = subprocess.run([self.binary, "keys", "create", "--tenant", tenant, "--role", role, "--name", f"{tenant} {role}",
                              "--database", self.database], check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip().splitlines()[-1]

    def start(self, log):
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port), "--database", self.database],
                                        stdout=subprocess.DEVNULL, stderr=log)
        wait_for("trail serve ready", lambda: request(self.base + "/ready")[0] == 200)

    def stop(self):
        if not hasattr(self, "process"):
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def record(self, key, payload):
        status, body = request(self.base + "/api/v1/audit/activity-stream", "POST", payload,
                               {"Authorization": f"ApiKey {key}", "Content-Type": "application/json"})
        check(status == 201, f"event recorded ({status})")
        return json.loads(body)["data"][0]["id"]


def attacker_site(target):
    """A page of another origin (another port of 127.0.0.1) whose form posts to Trail's sign-out at once."""
    page = (f'<!doctype html><form id=f method=post action="{target}/ui/sign-out">'
            '<input type=hidden name=csrf value=guess></form><script>document.getElementById("f").submit()</script>')

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(trail, keys, ids, shots):
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("FAIL: no chromium (apt-get install chromium)")
    base = trail.base
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems, dialogs = [], []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        def no_script_ran(where):
            check(page.evaluate("window.__xss") is None and not dialogs, f"no payload script ran on {where}")
            check(GLOBEX_MARKER not in page.content(), f"globex's marker not on {where}")

        # Sign-in: a page asks for it, and comes back after.
        page.goto(f"{base}/ui/events?q=renewal")
        check("/ui/sign-in" in page.url, "an unsigned visit is sent to sign-in")
        page.fill("#key", keys["acme-reader"][:-3] + "AAA")
        page.click("form button[type=submit]")
        check("API key is unknown, revoked, or mistyped" in page.inner_text("main"), "a wrong key is refused with a reason")
        page.fill("#key", keys["acme-auditor"])
        page.click("form button[type=submit]")
        page.wait_for_url("**/ui/events?q=renewal")
        check(page.locator("table.events tbody tr").count() == 1, "sign-in returns to the search, which finds one event")
        cookie = next(c for c in context.cookies() if c["name"] == "trail_session")
        check(cookie["httpOnly"] and cookie["sameSite"] == "Strict", "the session cookie is HttpOnly and SameSite=Strict")
        check(page.evaluate("document.cookie") == "", "scripts cannot read the session cookie")
        no_script_ran("the search")

        # The list: badges coloured by kind; search from the form.
        page.goto(f"{base}/ui/events")
        check(page.locator(".badge.create").count() >= 1 and page.locator(".badge.update").count() >= 1, "action badges by kind")
        page.screenshot(path=os.path.join(shots, "events.png"), full_page=True)
        page.fill("input[name=q]", "renewal")
        page.click(".filters button[type=submit]")
        page.wait_for_url("**q=renewal**")
        check(page.locator("table.events tbody tr").count() == 1, "the search form filters the list")

        # An event: its changes old → new, the payload shown as text.
        page.click("table.events a.summary")
        page.wait_for_url("**/ui/events/**")
        changes = page.inner_text("table.changes")
        check("note" in changes and "first" in changes and "renewal" in changes, "the event shows note's old and new values")
        check("<img src=x onerror=" in changes and "<script>window.__xss=2</script>" in changes,
              "the script payload is shown as text (a JSON string)")
        no_script_ran("the event")
        page.screenshot(path=os.path.join(shots, "event.png"), full_page=True)
        page.click("text=Inclusion proof")
        check("Inclusion proof" in page.inner_text("h1"), "the event links to its inclusion proof")

        # The resource: state at version 1, versions compared.
        page.goto(f"{base}/ui/resources/invoice/i-1")
        page.fill("input[name=version]", "1")
        page.click("form.inline:has(input[name=version]) button")
        page.wait_for_url("**version=1")
        state = page.inner_text("pre.state")
        check('"first"' in state and "renewal" not in state, "the state at version 1")
        page.fill("input[name=from]", "1")
        page.fill("input[name=to]", "2")
        page.click("form.inline:has(input[name=from]) button")
        page.wait_for_url("**from=1&to=2**")
        check("2 fields changed" in page.inner_text("main"), "versions 1 and 2 compared")
        no_script_ran("the resource")
        page.screenshot(path=os.path.join(shots, "resource.png"), full_page=True)

        for path, name in [("/ui/actors/7", "actor"), ("/ui/summary", "summary")]:
            page.goto(base + path)
            check(page.locator("svg.chart rect").count() >= 1, f"the {name} page draws its chart")
            no_script_ran(f"the {name} page")
            page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)

        # Integrity: the latest checkpoint and verification with its progress.
        page.goto(f"{base}/ui/integrity")
        page.click("#verify button")
        page.wait_for_selector("#verify-result.result")
        result = page.inner_text("#verify-result")
        check(result.startswith("acme: ") and "hash chain intact" in result, f"the log verifies: {result[:60]}…")
        check(page.get_attribute("#verify-progress", "hidden") is None, "verification shows its progress")
        page.screenshot(path=os.path.join(shots, "integrity.png"), full_page=True)

        # The live tail: an event recorded now appears without a reload; globex's never does.
        page.goto(f"{base}/ui/tail")
        page.wait_for_selector("#tail tbody tr")
        trail.record(keys["globex-writer"], {"verb": "create", "actor": {"id": "9"},
                                             "object": {"type": "invoice", "id": "g-2", "note": GLOBEX_MARKER}})
        trail.record(keys["acme-writer"], {"verb": "update", "actor": {"id": "7"},
                                           "object": {"type": "invoice", "id": "i-1", "note": "live " + PAYLOAD}})
        page.wait_for_selector("#tail tbody tr:has-text('live')", timeout=20_000)
        no_script_ran("the live tail")
        page.screenshot(path=os.path.join(shots, "live.png"), full_page=True)

        # Tenant isolation: globex's event is not there for acme.
        response = page.goto(f"{base}/ui/events/{ids['globex']}")
        check(response.status == 404, "globex's event is not found for acme")
        no_script_ran("globex's event")

        # Forms without their token are refused: one forged in the page, one from another site.
        status = page.evaluate("""fetch('/ui/sign-out', {method: 'POST', headers: {'Content-Type':
            'application/x-www-form-urlencoded'}, body: 'csrf=forged'}).then(r => r.status)""")
        check(status == 403, "a sign-out form with a forged token is refused (403)")
        attacker = attacker_site(base)
        other = context.new_page()
        other.goto(f"http://127.0.0.1:{attacker.server_address[1]}/")
        other.wait_for_load_state("load")
        check("Form refused" in other.content() or "Signed out" in other.content(), "another site's form is refused")
        other.close()
        attacker.shutdown()
        page.goto(f"{base}/ui/events")
        check("/ui/events" in page.url and page.locator("table.events").count() == 1, "the session survived both")

        # Keyboard: the first Tab reaches the skip link; every field has a label.
        page.keyboard.press("Tab")
        check(page.evaluate("document.activeElement.textContent") == "Skip to content", "the first Tab reaches the skip link")
        unlabelled = page.evaluate("""[...document.querySelectorAll('input:not([type=hidden]),select')]
            .filter(e => !e.closest('label') && !document.querySelector('label[for="' + e.id + '"]')).length""")
        check(unlabelled == 0, "every field has a label")

        # A phone: 360 px wide, nothing wider than the screen.
        phone = browser.new_context(viewport={"width": 360, "height": 740}, storage_state=context.storage_state())
        small = phone.new_page()
        small.goto(f"{base}/ui/events")
        width = small.evaluate("document.documentElement.scrollWidth")
        check(width <= 360, f"the list fits 360 px ({width})")
        small.screenshot(path=os.path.join(shots, "events-360.png"), full_page=True)
        phone.close()

        # Sign-out ends the session.
        page.click("text=Sign out")
        page.wait_for_url("**/ui/sign-in")
        page.goto(f"{base}/ui/events")
        check("/ui/sign-in" in page.url, "after sign-out the console asks for sign-in again")
        # (Answers that are errors on purpose above — 404, 403 — are logged by the browser as failed loads.)
        unexpected = [p for p in problems if not p.startswith("Failed to load resource")]
        check(not unexpected, f"no script error or policy violation: {unexpected}")
        browser.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("trail", nargs="?", default=os.environ.get("TRAIL_BIN", os.path.join(ROOT, ".build/debug/trail")))
    parser.add_argument("--database", help="a postgres:// URL (default: a fresh SQLite file)")
    parser.add_argument("--screenshots", help="where the screenshots go (default: a temporary folder)")
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="trail-console-")
    shots = arguments.screenshots or tempfile.mkdtemp(prefix="trail-console-screenshots-")
    os.makedirs(shots, exist_ok=True)
    trail = Trail(os.path.abspath(arguments.trail), arguments.database or os.path.join(work, "trail.sqlite"))
    log = open(os.path.join(work, "serve.log"), "w")
    try:
        trail.migrate()
        keys = {f"{t}-{r}": trail.key(t, r) for t, r in [("acme", "writer"), ("acme", "reader"), ("acme", "auditor"),
                                                         ("globex", "writer")]}
        trail.start(log)
        ids = {"first": trail.record(keys["acme-writer"], {"verb": "create", "actor": {"id": "7"},
                                                           "object": {"type": "invoice", "id": "i-1", "note": "first", "total": 10}})}
        trail.record(keys["acme-writer"], {"verb": "update", "actor": {"id": "7"},
                                           "object": {"type": "invoice", "id": "i-1", "note": "renewal " + PAYLOAD, "total": 12}})
        ids["globex"] = trail.record(keys["globex-writer"], {"verb": "create", "actor": {"id": "9"},
                                                             "object": {"type": "invoice", "id": "g-1", "note": GLOBEX_MARKER}})
        run(trail, keys, ids, shots)
    finally:
        trail.stop()
        log.close()
    print(f"console browser test: {len(CHECKS)} checks passed; screenshots in {shots}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
