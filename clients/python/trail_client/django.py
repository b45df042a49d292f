"""Django integration: ``TrailAuditMiddleware`` attributes events to the request's user, address and request
id; registered models record their creates, updates and deletes with the fields that changed (seed 002's
``audit_change``, as model signals).

Settings::

    INSTALLED_APPS = [..., "trail_client.django.TrailAuditConfig"]
    MIDDLEWARE = [..., "trail_client.django.TrailAuditMiddleware"]      # after AuthenticationMiddleware
    TRAIL = {"URL": "http://127.0.0.1:9002", "API_KEY": "trail_…",       # default: TRAIL_URL, TRAIL_API_KEY
             "MODELS": ["billing.Invoice"],                              # audited models ("app_label.Model")
             "BUFFERED": True}                                           # send in the background (default)
"""
import datetime
import decimal
import uuid
from typing import Any, Dict, Iterable, Optional

from django.apps import AppConfig, apps
from django.conf import settings
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save

from .client import TrailClient
from .context import AuditContext, change_event, current

_client: Optional[TrailClient] = None


def get_client() -> TrailClient:
    """The client ``settings.TRAIL`` describes (one per process)."""
    global _client
    if _client is None:
        config = getattr(settings, "TRAIL", {})
        _client = TrailClient(config.get("URL"), config.get("API_KEY"))
    return _client


def _send(event: Dict[str, Any]) -> None:
    if getattr(settings, "TRAIL", {}).get("BUFFERED", True):
        get_client().enqueue(event)
    else:
        get_client().record(event)


class TrailAuditMiddleware:
    """Puts the request's user (id, username, email), address (``REMOTE_ADDR``, or the first
    ``X-Forwarded-For`` hop when ``TRAIL["TRUST_FORWARDED"]``), user agent and request id (``X-Request-ID``, else
    a new one) in the audit context while the view runs."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = current.set(AuditContext(actor=_actor(request), ip=_address(request),
                                         user_agent=request.META.get("HTTP_USER_AGENT"),
                                         request_id=request.META.get("HTTP_X_REQUEST_ID") or str(uuid.uuid4())))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)


def _actor(request: Any) -> Optional[Dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    actor = {"id": str(user.pk), "name": user.get_username()}
    if getattr(user, "email", None):
        actor["email"] = user.email
    return actor


def _address(request: Any) -> Optional[str]:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded and getattr(settings, "TRAIL", {}).get("TRUST_FORWARDED", False):
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


def _value(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    return str(value)


def fields_of(instance: Model, exclude: Iterable[str] = ()) -> Dict[str, Any]:
    """A model instance's concrete fields as JSON values (foreign keys as their ids)."""
    return {f.attname: _value(f.value_from_object(instance)) for f in instance._meta.concrete_fields
            if f.attname not in exclude and f.name not in exclude}


def register(model: Any, resource_type: Optional[str] = None, exclude: Iterable[str] = ()) -> None:
    """Records every create, update and delete of ``model`` as an event of resource type ``resource_type``
    (default: ``app_label.model_name``) with the fields that changed (an update that changed nothing records
    nothing); ``exclude`` names fields never sent."""
    kind = resource_type or model._meta.label_lower
    excluded = tuple(exclude)
    uid = f"trail_client:{model._meta.label_lower}"

    def before(sender: Any, instance: Model, raw: bool = False, **_: Any) -> None:
        old = sender._default_manager.filter(pk=instance.pk).first() if instance.pk is not None and not raw else None
        instance._trail_before = fields_of(old, excluded) if old is not None else None

    def saved(sender: Any, instance: Model, created: bool, raw: bool = False, **_: Any) -> None:
        if raw:
            return
        event = change_event(kind, instance.pk, None if created else getattr(instance, "_trail_before", None),
                             fields_of(instance, excluded), name=str(instance))
        if event:
            _send(event)

    def deleted(sender: Any, instance: Model, **_: Any) -> None:
        event = change_event(kind, instance.pk, fields_of(instance, excluded), None, name=str(instance))
        if event:
            _send(event)

    pre_save.connect(before, sender=model, weak=False, dispatch_uid=uid)
    post_save.connect(saved, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(deleted, sender=model, weak=False, dispatch_uid=uid)


class TrailAuditConfig(AppConfig):
    """Registers the models ``settings.TRAIL["MODELS"]`` names when Django starts."""
    name = "trail_client"
    label = "trail_client"
    verbose_name = "Trail audit"

    def ready(self) -> None:
        for label in getattr(settings, "TRAIL", {}).get("MODELS", []):
            register(apps.get_model(label))
