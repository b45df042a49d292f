"""What the sync and async clients share: configuration, requests, retry decisions, paging, the buffer's rules."""
import json
import os
import random
import threading
import uuid
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional, Tuple
from urllib.parse import quote

import logging

from .errors import ConflictError, TrailError, TransportError, UnavailableError, ValidationError, problem

log = logging.getLogger("trail_client")

DEFAULT_URL = "http://127.0.0.1:9002"
FILTERS = ("actor", "action", "resource_type", "resource_id", "category", "outcome", "since", "until", "days", "q",
           "include_access", "limit")


class Settings:
    """Where Trail is and how calls behave. ``base_url`` defaults to ``TRAIL_URL``, ``api_key`` to
    ``TRAIL_API_KEY``; the key is sent as ``Authorization: Bearer`` and is never logged or shown in a repr."""

    def __init__(self, base_url: Optional[str], api_key: Optional[str], timeout: float, retries: int, backoff: float,
                 max_backoff: float, batch_size: int, flush_interval: float, max_buffer: int, overflow: str) -> None:
        self.base_url = (base_url or os.environ.get("TRAIL_URL") or DEFAULT_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("TRAIL_API_KEY")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.batch_size = min(max(1, batch_size), 1000)
        self.flush_interval = flush_interval
        self.max_buffer = max(1, max_buffer)
        if overflow not in ("refuse", "drop_oldest"):
            raise ValueError("overflow must be 'refuse' or 'drop_oldest'")
        self.overflow = overflow

    def headers(self, idempotency_key: Optional[str] = None) -> Dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "trail-client-python"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def delay(self, attempt: int, retry_after: Optional[str] = None) -> float:
        """The wait before retry ``attempt`` (1, 2, …): ``Retry-After`` when given, else the backoff doubled per
        attempt, capped, with jitter."""
        if retry_after and retry_after.isdigit():
            return float(retry_after)
        return min(self.backoff * (2 ** (attempt - 1)), self.max_backoff) * random.uniform(0.5, 1.0)

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, api_key={'set' if self.api_key else 'none'})"


def body(value: Any) -> bytes:
    """JSON with sorted keys: the same event is the same body, as an idempotency key's repeat must be."""
    return json.dumps(value, sort_keys=True, default=str).encode()


def new_key() -> str:
    return str(uuid.uuid4())


def segment(text: str) -> str:
    return quote(str(text), safe="")


def query(filters: Dict[str, Any]) -> List[Tuple[str, str]]:
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown filters {sorted(unknown)}; Trail filters by {', '.join(FILTERS)}")
    return [(name, str(value).lower() if isinstance(value, bool) else str(value))
            for name, value in filters.items() if value is not None]


def outcome(status: int, content: bytes) -> Any:
    """The parsed answer of a success, or raises the problem of a failure."""
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = None
    if 200 <= status < 300:
        return parsed
    raise problem(status, parsed)


def request(settings: Settings, payload: Any, idempotency_key: Optional[str]) -> Tuple[Optional[bytes], Dict[str, str]]:
    """A call's body and headers."""
    content = body(payload) if payload is not None else None
    headers = settings.headers(idempotency_key)
    if content is not None:
        headers["Content-Type"] = "application/json"
    return content, headers


def unreachable(settings: Settings, error: Exception) -> TransportError:
    return TransportError(f"Trail at {settings.base_url} could not be reached: {type(error).__name__}")


def retry_delay(settings: Settings, failure: TrailError, attempt: int, retry_after: Optional[str]) -> float:
    """How long to wait before retry ``attempt`` (1, 2, …) after ``failure``; raises it when it may not be retried
    (a refusal) or the retries are spent."""
    if not isinstance(failure, (UnavailableError, TransportError)) or attempt > settings.retries:
        raise failure
    return settings.delay(attempt, retry_after)


def event_path(id: str) -> str:
    return f"/api/v1/audit/logs/{segment(id)}"


def state_path(type: str, id: str, version: Optional[int]) -> str:
    suffix = f"?version={int(version)}" if version is not None else ""
    return f"/api/v1/resources/{segment(type)}/{segment(id)}{suffix}"


class Stats:
    """The buffer's counts, as properties of a client."""
    _buffer: "Buffer"

    @property
    def pending(self) -> int:
        """Events waiting to be sent."""
        return self._buffer.pending

    @property
    def dropped(self) -> int:
        """Events not kept because the buffer was full."""
        return self._buffer.dropped

    @property
    def sent(self) -> int:
        """Events stored by the background sender."""
        return self._buffer.sent

    @property
    def rejected(self) -> int:
        """Events Trail refused as invalid (their batch was dropped)."""
        return self._buffer.rejected


class Buffer:
    """The events waiting to be sent, bounded: the head batch keeps one idempotency key until it is stored."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.events: Deque[Dict[str, Any]] = deque()
        self.lock = threading.Lock()
        self.head_key: Optional[str] = None
        self.head_count = 0
        self.dropped = 0
        self.rejected = 0
        self.sent = 0
        self.last_error: Optional[TrailError] = None

    def add(self, event: Dict[str, Any]) -> Tuple[bool, bool]:
        """Adds an event; returns (kept, a batch is full)."""
        with self.lock:
            if len(self.events) >= self.settings.max_buffer:
                self.dropped += 1
                if self.settings.overflow != "drop_oldest" or len(self.events) <= self.head_count:
                    return False, False
                del self.events[self.head_count]  # never an event of the batch in flight
            self.events.append(event)
            return True, len(self.events) >= self.settings.batch_size

    def head(self) -> Optional[Tuple[List[Dict[str, Any]], str]]:
        with self.lock:
            if not self.events:
                return None
            if self.head_key is None:
                self.head_key = new_key()
                self.head_count = min(self.settings.batch_size, len(self.events))
            return [self.events[i] for i in range(self.head_count)], self.head_key

    def done(self, stored: bool, error: Optional[TrailError] = None) -> None:
        with self.lock:
            if stored:
                self.sent += self.head_count
            else:
                self.rejected += self.head_count
                self.last_error = error
            for _ in range(self.head_count):
                self.events.popleft()
            self.head_key, self.head_count = None, 0

    def settle(self, error: Optional[TrailError]) -> bool:
        """After sending the head batch: stored (no error), refused as invalid (dropped, logged), or kept to be
        sent again (False: stop sending for now)."""
        if error is None or isinstance(error, (ValidationError, ConflictError)):
            if error is not None:
                log.warning("Trail refused a batch of %d events: %s", self.head_count, error.detail)
            self.done(error is None, error)
            return True
        with self.lock:
            self.last_error = error
        return False

    @property
    def pending(self) -> int:
        with self.lock:
            return len(self.events)


def pages_path(kind: str, type: Optional[str] = None, id: Optional[str] = None) -> str:
    if kind == "history":
        return f"/api/v1/resources/{segment(type)}/{segment(id)}/history"
    return "/api/v1/audit/logs"


def with_cursor(params: Iterable[Tuple[str, str]], cursor: Optional[str]) -> List[Tuple[str, str]]:
    return list(params) + ([("cursor", cursor)] if cursor else [])
