"""Errors raised by Trail's clients: Trail's problem+json answer, or no answer at all."""
from typing import Any, Dict, List, Optional


class TrailError(Exception):
    """A call failed. ``status``, ``type``, ``title``, ``detail`` and ``errors`` (each ``{"index", "path",
    "message"}``) are Trail's problem+json when Trail answered; ``status`` is None when it could not be reached."""

    def __init__(self, detail: str, status: Optional[int] = None, type: Optional[str] = None,
                 title: Optional[str] = None, errors: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.type = type
        self.title = title
        self.errors = errors or []

    def __str__(self) -> str:
        text = (f"{self.status} " if self.status else "") + (f"{self.title}: " if self.title else "") + self.detail
        for error in self.errors:
            index = f"[{error.get('index')}] " if error.get("index") is not None else ""
            text += f"\n  {index}{error.get('path', '')}: {error.get('message', '')}"
        return text


class ValidationError(TrailError):
    """400, 413, 415 or 422: the request or an event is invalid; ``errors`` names each field."""


class AuthenticationError(TrailError):
    """401 or 403: the key is missing, unknown or revoked, or its role does not allow the call."""


class NotFoundError(TrailError):
    """404."""


class ConflictError(TrailError):
    """409: an idempotency key was used with another body."""


class UnavailableError(TrailError):
    """429, 503 or another 5xx, after every retry."""


class TransportError(TrailError):
    """Trail could not be reached, or did not answer in time, after every retry."""


def problem(status: int, body: Any) -> TrailError:
    """The error for an answer with ``status`` and its parsed JSON ``body`` (if any)."""
    body = body if isinstance(body, dict) else {}
    kind = (ValidationError if status in (400, 413, 415, 422) else AuthenticationError if status in (401, 403)
            else NotFoundError if status == 404 else ConflictError if status == 409
            else UnavailableError if status == 429 or status >= 500 else TrailError)
    return kind(str(body.get("detail") or f"Trail answered {status}."), status=status, type=body.get("type"),
                title=body.get("title"), errors=body.get("errors") if isinstance(body.get("errors"), list) else None)
