"""FastAPI (Starlette) integration: ``TrailAuditMiddleware`` attributes events to the request's user, address
and request id; ``Auditor`` (a dependency) records changes with them.

    app.add_middleware(TrailAuditMiddleware, get_actor=lambda request: {"id": request.headers["x-user"]})
    trail = AsyncTrailClient()

    @app.put("/invoices/{id}")
    async def update(id: str, invoice: Invoice, audit: Auditor = Depends(auditor(trail))):
        before = invoices.get(id); invoices[id] = invoice.model_dump()
        await audit.change("invoice", id, before, invoices[id])
"""
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

from .aio import AsyncTrailClient
from .context import AuditContext, attribute, change_event, current

ActorGetter = Callable[[Any], Optional[Dict[str, Any]]]


class TrailAuditMiddleware:
    """Pure ASGI middleware (streaming responses pass through): the actor from ``get_actor(request)``, the address
    (the first ``X-Forwarded-For`` hop when ``trust_forwarded``, else the socket peer), user agent and request id
    (``X-Request-ID``, else a new one) go into the audit context while the request is served."""

    def __init__(self, app: Any, get_actor: Optional[ActorGetter] = None, trust_forwarded: bool = False) -> None:
        self.app = app
        self.get_actor = get_actor
        self.trust_forwarded = trust_forwarded

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request
        request = Request(scope)
        forwarded = request.headers.get("x-forwarded-for")
        address = forwarded.split(",")[0].strip() if forwarded and self.trust_forwarded else (
            request.client.host if request.client else None)
        token = current.set(AuditContext(
            actor=self.get_actor(request) if self.get_actor else None, ip=address,
            user_agent=request.headers.get("user-agent"),
            request_id=request.headers.get("x-request-id") or str(uuid.uuid4())))
        try:
            await self.app(scope, receive, send)
        finally:
            current.reset(token)


class Auditor:
    """Records events with the request's context: ``await change(type, id, before, after)`` (the fields that
    changed; created without ``before``, deleted without ``after``) and ``await record(payload)``; through the
    background buffer when ``buffered`` (the default), else waiting for Trail."""

    def __init__(self, client: AsyncTrailClient, buffered: bool = True) -> None:
        self.client = client
        self.buffered = buffered

    async def change(self, resource_type: str, resource_id: Any, before: Optional[Dict[str, Any]],
                     after: Optional[Dict[str, Any]], name: Optional[str] = None) -> bool:
        event = change_event(resource_type, resource_id, before, after, name=name)
        return event is not None and await self._send(event)

    async def record(self, payload: Dict[str, Any]) -> bool:
        return await self._send(attribute(payload))

    async def _send(self, event: Dict[str, Any]) -> bool:
        if self.buffered:
            return self.client.enqueue(event)
        await self.client.record(event)
        return True


def auditor(client: AsyncTrailClient, buffered: bool = True) -> Callable[[], Awaitable[Auditor]]:
    """A FastAPI dependency giving an ``Auditor`` of ``client``."""
    async def dependency() -> Auditor:
        return Auditor(client, buffered)
    return dependency
