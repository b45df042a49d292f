"""A real `trail serve` for the tests, on a free port of 127.0.0.1, on a fresh SQLite file (or the PostgreSQL
database in TRAIL_TEST_DATABASE); the binary is TRAIL_BIN, else the repository's debug build."""
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Trail:
    def __init__(self) -> None:
        self.binary = os.environ.get("TRAIL_BIN") or os.path.join(ROOT, ".build", "debug", "trail")
        self.work = tempfile.mkdtemp(prefix="trail-python-")
        self.database = os.environ.get("TRAIL_TEST_DATABASE") or os.path.join(self.work, "trail.sqlite")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        subprocess.run([self.binary, "migrate", "--database", self.database], check=True, capture_output=True, timeout=120)
        self.key = self.make_key("acme", "admin")

    def make_key(self, tenant: str, role: str) -> str:
        out = subprocess.run([self.binary, "keys", "create", "--tenant", tenant, "--role", role, "--database", self.database],
                             check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        self.log = open(os.path.join(self.work, "serve.log"), "a")
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port), "--database", self.database,
                                         "--rate-limit", "0"], stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("trail serve did not become ready")

    def kill(self) -> None:
        """kill -9: nothing is flushed or closed."""
        self.process.kill()
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()


@pytest.fixture(scope="session")
def trail():
    server = Trail()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tenant(trail):
    """A fresh tenant's admin key, so that each test reads only its own events."""
    name = f"t{time.monotonic_ns()}"
    return trail.make_key(name, "admin")
