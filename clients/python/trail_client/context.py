"""The request being served (who, from where), for every event recorded while serving it; field changes; and
``audit_action``, a decorator and context manager that records an action with its outcome and duration."""
import contextvars
import functools
import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AuditContext:
    actor: Optional[Dict[str, Any]] = None
    ip: Optional[str] = None
    user_agent: Optional[str] = None
    request_id: Optional[str] = None

    def context(self) -> Dict[str, str]:
        return {k: v for k, v in (("ip", self.ip), ("user_agent", self.user_agent), ("request_id", self.request_id)) if v}


current: "contextvars.ContextVar[Optional[AuditContext]]" = contextvars.ContextVar("trail_audit_context", default=None)


def attribute(payload: Dict[str, Any]) -> Dict[str, Any]:
    """``payload`` with the current request's actor and context where it names none."""
    audit = current.get()
    if audit is None:
        return payload
    event = dict(payload)
    if audit.actor and not any(k in event for k in ("actor", "user_id", "user", "username")):
        event["actor"] = audit.actor
    event["context"] = {**audit.context(), **(event.get("context") or {})}
    return event


def changes(before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]]) -> Dict[str, list]:
    """``{path: [old, new]}`` of the fields that differ, nested dicts walked (dotted paths), lists compared whole."""
    def leaves(value: Optional[Dict[str, Any]], prefix: str = "") -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for key, member in (value or {}).items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(member, dict) and member:
                out.update(leaves(member, path))
            else:
                out[path] = member
        return out
    old, new = leaves(before), leaves(after)
    diff = {path: [old.get(path), value] for path, value in new.items() if path not in old or old[path] != value}
    diff.update({path: [value, None] for path, value in old.items() if path not in new})
    return diff


def change_event(resource_type: str, resource_id: Any, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]],
                 name: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The event of a change from ``before`` to ``after`` (created, updated or deleted), None if nothing changed."""
    diff = changes(before, after)
    action = "created" if before is None else "deleted" if after is None else "updated"
    if not diff and action == "updated":
        return None
    resource = {"type": resource_type, "id": str(resource_id)}
    if name:
        resource["name"] = name
    return attribute({"action": action, "resource": resource, "changes": diff})


@dataclass
class audit_action:
    """Records ``action`` when the decorated function (or the ``with`` block) ends: ``success`` with its
    ``duration_ms``, or ``failure`` with the exception's message (which is raised again). ``send`` is a
    client's ``record`` or ``enqueue``; ``resource_type``/``resource_id`` and ``metadata`` go into the event;
    ``set_resource`` and ``metadata`` can be filled in the block; the actor is the request's (the middleware's)
    unless ``actor`` names one.

        @audit_action(client.enqueue, "portfolio_created", resource_type="portfolio")
        def create_portfolio(name): ...

        with audit_action(client.enqueue, "portfolio_updated", resource_type="portfolio", resource_id=7) as action:
            action.metadata["previous_status"] = "open"
    """
    send: Callable[[Dict[str, Any]], Any]
    action: str
    resource_type: Optional[str] = None
    resource_id: Optional[Any] = None
    category: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    actor: Optional[Dict[str, Any]] = None
    _started: float = 0.0

    def set_resource(self, resource_type: str, resource_id: Any) -> None:
        self.resource_type, self.resource_id = resource_type, resource_id

    def __enter__(self) -> "audit_action":
        self._started = time.monotonic()
        return self

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        event: Dict[str, Any] = {"action": self.action, "outcome": "failure" if error else "success",
                                 "duration_ms": int((time.monotonic() - self._started) * 1000)}
        if self.category:
            event["category"] = self.category
        if self.resource_type or self.resource_id is not None:
            event["resource"] = {"type": self.resource_type, "id": None if self.resource_id is None else str(self.resource_id)}
        if self.metadata:
            event["metadata"] = dict(self.metadata)
        if error is not None:
            event["error"] = {"message": f"{type(error).__name__}: {error}"}
        if self.actor:
            event["actor"] = self.actor
        self.send(attribute(event))

    def _fresh(self) -> "audit_action":
        """A copy for one call of a decorated function (calls may overlap)."""
        return audit_action(self.send, self.action, self.resource_type, self.resource_id, self.category,
                            dict(self.metadata), self.actor)

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await function(*args, **kwargs)
            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return function(*args, **kwargs)
        return run  # type: ignore[return-value]
