"""Trail's Python client (SPEC §15): ``TrailClient`` and ``AsyncTrailClient`` record events and read history;
``trail_client.django`` and ``trail_client.fastapi`` record what applications change, attributed to the
request's user."""
from .aio import AsyncTrailClient
from .client import TrailClient
from .context import AuditContext, audit_action, change_event, changes
from .errors import (AuthenticationError, ConflictError, NotFoundError, TrailError, TransportError,
                     UnavailableError, ValidationError)

__all__ = ["TrailClient", "AsyncTrailClient", "AuditContext", "audit_action", "change_event", "changes",
           "TrailError", "ValidationError", "AuthenticationError", "NotFoundError", "ConflictError",
           "UnavailableError", "TransportError"]
__version__ = "2.0.0"
