"""The asynchronous client (httpx.AsyncClient), with its background sending task."""
import asyncio
from typing import Any, AsyncIterator, Dict, List, Optional

import httpx

from . import _core
from .errors import TrailError


class AsyncTrailClient(_core.Stats):
    """``TrailClient`` with ``await``: the same calls, retries and batching; ``enqueue`` starts a sending task on
    the running loop, and ``aclose()`` (or ``async with``) sends what waits before it closes."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None, *, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.2, max_backoff: float = 10.0, batch_size: int = 100,
                 flush_interval: float = 1.0, max_buffer: int = 10_000, overflow: str = "refuse",
                 transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self.settings = _core.Settings(base_url, api_key, timeout, retries, backoff, max_backoff, batch_size,
                                       flush_interval, max_buffer, overflow)
        self._http = httpx.AsyncClient(base_url=self.settings.base_url, timeout=timeout, transport=transport)
        self._buffer = _core.Buffer(self.settings)
        self._wake: Optional[asyncio.Event] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self._closing = False

    def __repr__(self) -> str:
        return f"AsyncTrailClient({self.settings.base_url!r})"

    async def __aenter__(self) -> "AsyncTrailClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def record(self, payload: Dict[str, Any], idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        return await self._send("POST", "/api/v1/audit/logs", payload, idempotency_key or _core.new_key())

    async def record_batch(self, payloads: List[Dict[str, Any]], idempotency_key: Optional[str] = None) -> List[Dict[str, Any]]:
        return (await self._send("POST", "/api/v1/audit/logs/batch", {"logs": list(payloads)},
                                 idempotency_key or _core.new_key()))["data"]

    def enqueue(self, payload: Dict[str, Any]) -> bool:
        """Hands an event to the sending task (started on the running loop); False when the buffer is full."""
        kept, full = self._buffer.add(payload)
        if self._task is None and not self._closing:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        if full and self._wake:
            self._wake.set()
        return kept

    async def flush(self) -> None:
        """Sends what waits now, with the client's retries; raises the last error if something is left."""
        attempt = 0
        while not await self._send_waiting():
            attempt += 1
            if attempt > self.settings.retries:
                if self._buffer.last_error:
                    raise self._buffer.last_error
                return
            await asyncio.sleep(self.settings.delay(attempt))

    async def aclose(self) -> None:
        self._closing = True
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        try:
            await self.flush()
        finally:
            await self._http.aclose()


    async def event(self, id: str) -> Optional[Dict[str, Any]]:
        return await self._optional(_core.event_path(id))

    async def state(self, type: str, id: str, version: Optional[int] = None) -> Optional[Dict[str, Any]]:
        return await self._optional(_core.state_path(type, id, version))

    def history(self, type: str, id: str) -> AsyncIterator[Dict[str, Any]]:
        return self._pages(_core.pages_path("history", type, id), [])

    def events(self, **filters: Any) -> AsyncIterator[Dict[str, Any]]:
        return self._pages(_core.pages_path("events"), _core.query(filters))

    async def _pages(self, path: str, params: List[Any]) -> AsyncIterator[Dict[str, Any]]:
        cursor = None
        while True:
            page = await self._send("GET", path, params=_core.with_cursor(params, cursor))
            for event in page["data"]:
                yield event
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def _optional(self, path: str) -> Optional[Dict[str, Any]]:
        try:
            return await self._send("GET", path)
        except TrailError as error:
            if error.status == 404:
                return None
            raise

    async def _send(self, method: str, path: str, payload: Any = None, idempotency_key: Optional[str] = None,
                    params: Any = None) -> Any:
        content, headers = _core.request(self.settings, payload, idempotency_key)
        attempt = 0
        while True:
            retry_after = None
            try:
                response = await self._http.request(method, path, content=content, headers=headers, params=params)
                return _core.outcome(response.status_code, response.content)
            except TrailError as error:
                failure: TrailError = error
                retry_after = response.headers.get("Retry-After")
            except httpx.HTTPError as error:
                failure = _core.unreachable(self.settings, error)
            attempt += 1
            await asyncio.sleep(_core.retry_delay(self.settings, failure, attempt, retry_after))

    async def _send_waiting(self) -> bool:
        """Sends batches while events wait; False when one failed for a reason that may pass (it is kept)."""
        while True:
            head = self._buffer.head()
            if head is None:
                return True
            batch, key = head
            try:
                await self._send("POST", "/api/v1/audit/logs/batch", {"logs": batch}, key)
                error = None
            except TrailError as refused:
                error = refused
            if not self._buffer.settle(error):
                return False

    async def _run(self) -> None:
        assert self._wake is not None
        failures = 0
        while True:
            wait = self.settings.flush_interval if failures == 0 else self.settings.delay(failures)
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            failures = 0 if await self._send_waiting() else failures + 1
