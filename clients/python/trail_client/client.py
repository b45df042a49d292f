"""The synchronous client, with its background sender."""
import logging
import threading
import time
import weakref
from typing import Any, Dict, Iterator, List, Optional

import httpx

from . import _core
from .errors import TrailError

log = logging.getLogger("trail_client")


class TrailClient(_core.Stats):
    """Records events in Trail and reads its history (SPEC §15).

    ``record``/``record_batch`` wait for Trail; ``enqueue`` hands an event to a background thread that sends
    batches (``batch_size`` events, or every ``flush_interval`` seconds), keeps a failed batch and sends it again
    under the same idempotency key (stored once), and is flushed at exit. Calls that meet 429, 5xx or a lost
    connection are retried ``retries`` times with exponential backoff and jitter (``Retry-After`` honoured)."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None, *, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.2, max_backoff: float = 10.0, batch_size: int = 100,
                 flush_interval: float = 1.0, max_buffer: int = 10_000, overflow: str = "refuse",
                 transport: Optional[httpx.BaseTransport] = None) -> None:
        self.settings = _core.Settings(base_url, api_key, timeout, retries, backoff, max_backoff, batch_size,
                                       flush_interval, max_buffer, overflow)
        self._http = httpx.Client(base_url=self.settings.base_url, timeout=timeout, transport=transport)
        self._buffer = _core.Buffer(self.settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()
        # Run at exit (weakref.finalize's default) or when the client is collected: what waits is sent first.
        weakref.finalize(self, TrailClient._at_exit, weakref.ref(self))

    def __repr__(self) -> str:
        return f"TrailClient({self.settings.base_url!r})"

    # Writing

    def record(self, payload: Dict[str, Any], idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        """Records one generic audit event (SPEC §3); returns it as stored (§4)."""
        return self._send("POST", "/api/v1/audit/logs", payload, idempotency_key or _core.new_key())

    def record_batch(self, payloads: List[Dict[str, Any]], idempotency_key: Optional[str] = None) -> List[Dict[str, Any]]:
        """Records events all or none; returns them as stored, in order."""
        return self._send("POST", "/api/v1/audit/logs/batch", {"logs": list(payloads)},
                          idempotency_key or _core.new_key())["data"]

    def enqueue(self, payload: Dict[str, Any]) -> bool:
        """Hands an event to the background sender; False when the buffer is full (``overflow="refuse"``)."""
        kept, full = self._buffer.add(payload)
        self._ensure_thread()
        if full:
            self._wake.set()
        return kept

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends what waits now, retrying with backoff until it is sent or ``timeout`` seconds (default: the
        client's retries) pass; raises the last error if something is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        attempt = 0
        while not self._send_waiting():
            attempt += 1
            if (deadline is None and attempt > self.settings.retries) or (deadline and time.monotonic() >= deadline):
                if self._buffer.last_error:
                    raise self._buffer.last_error
                return
            time.sleep(self.settings.delay(attempt))

    def close(self) -> None:
        """Stops the background sender after sending what waits (as at exit), and closes the connections."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join()
        try:
            self.flush()
        finally:
            self._http.close()


    # Reading

    def event(self, id: str) -> Optional[Dict[str, Any]]:
        return self._optional(_core.event_path(id))

    def state(self, type: str, id: str, version: Optional[int] = None) -> Optional[Dict[str, Any]]:
        """A resource's state now, or at ``version``; None if it did not exist (then)."""
        return self._optional(_core.state_path(type, id, version))

    def history(self, type: str, id: str) -> Iterator[Dict[str, Any]]:
        """A resource's events, oldest first, every page."""
        return self._pages(_core.pages_path("history", type, id), [])

    def events(self, **filters: Any) -> Iterator[Dict[str, Any]]:
        """Events matching the read API's filters (``actor``, ``action``, ``resource_type``, …; ``limit`` is the
        page size), newest first, fetched a page at a time."""
        return self._pages(_core.pages_path("events"), _core.query(filters))

    # Transport

    def _pages(self, path: str, params: List[Any]) -> Iterator[Dict[str, Any]]:
        cursor = None
        while True:
            page = self._send("GET", path, params=_core.with_cursor(params, cursor))
            yield from page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _optional(self, path: str) -> Optional[Dict[str, Any]]:
        try:
            return self._send("GET", path)
        except TrailError as error:
            if error.status == 404:
                return None
            raise

    def _send(self, method: str, path: str, payload: Any = None, idempotency_key: Optional[str] = None,
              params: Any = None) -> Any:
        content, headers = _core.request(self.settings, payload, idempotency_key)
        attempt = 0
        while True:
            retry_after = None
            try:
                response = self._http.request(method, path, content=content, headers=headers, params=params)
                return _core.outcome(response.status_code, response.content)
            except TrailError as error:
                failure: TrailError = error
                retry_after = response.headers.get("Retry-After")
            except httpx.HTTPError as error:
                failure = _core.unreachable(self.settings, error)
            attempt += 1
            time.sleep(_core.retry_delay(self.settings, failure, attempt, retry_after))

    def _send_waiting(self) -> bool:
        """Sends batches while events wait; False when one failed for a reason that may pass (it is kept)."""
        while True:
            head = self._buffer.head()
            if head is None:
                return True
            batch, key = head
            try:
                self._send("POST", "/api/v1/audit/logs/batch", {"logs": batch}, key)
                error = None
            except TrailError as refused:
                error = refused
            if not self._buffer.settle(error):
                return False

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="trail-client-sender", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            wait = self.settings.flush_interval if failures == 0 else self.settings.delay(failures)
            self._wake.wait(wait)
            self._wake.clear()
            failures = 0 if self._send_waiting() else failures + 1

    @staticmethod
    def _at_exit(reference: "weakref.ref[TrailClient]") -> None:
        client = reference()
        if client is not None and client.pending:
            try:
                client.close()
            except TrailError as error:
                log.warning("%d audit events could not be sent before exit: %s", client.pending, error.detail)
