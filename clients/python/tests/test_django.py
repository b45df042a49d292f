"""A minimal Django project (an in-memory database, one model) recording its changes in a live Trail."""
import decimal

import django
import pytest
from django.conf import settings


@pytest.fixture(scope="module")
def django_project(trail):
    key = trail.make_key("django", "admin")
    settings.configure(
        DEBUG=False, SECRET_KEY="tests", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "trail_client.django.TrailAuditConfig",
                        "tests.djangoapp"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "trail_client.django.TrailAuditMiddleware"],
        TRAIL={"URL": trail.url, "API_KEY": key, "MODELS": ["djangoapp.Invoice"], "BUFFERED": False},
    )
    django.setup()
    from django.core.management import call_command
    call_command("migrate", run_syncdb=True, verbosity=0)
    return key


def test_creates_updates_and_deletes_are_recorded_with_the_user(trail, django_project):
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from tests.djangoapp.models import Invoice
    from trail_client import TrailClient
    from trail_client.django import TrailAuditMiddleware

    user = User.objects.create_user("ann", "ann@example.com", "pw")

    def view(request):
        invoice = Invoice.objects.create(number="I-1", customer="ACME", total=decimal.Decimal("10.00"))
        invoice.total = decimal.Decimal("12.50")
        invoice.save()
        invoice.save()  # nothing changed: nothing recorded
        invoice.delete()
        return "done"

    request = RequestFactory().post("/invoices", HTTP_USER_AGENT="tests/1.0", HTTP_X_REQUEST_ID="req-9",
                                    REMOTE_ADDR="198.51.100.7")
    request.user = user
    assert TrailAuditMiddleware(view)(request) == "done"

    reader = TrailClient(trail.url, django_project)
    history = list(reader.events(resource_type="djangoapp.invoice"))[::-1]
    assert [e["action"] for e in history] == ["created", "updated", "deleted"]
    assert {e["actor"]["id"] for e in history} == {str(user.pk)} and history[0]["actor"]["name"] == "ann"
    assert history[0]["context"] == {"ip": "198.51.100.7", "user_agent": "tests/1.0", "request_id": "req-9"}
    assert history[1]["changes"] == {"total": ["10.00", "12.50"]}
    assert history[0]["resource"]["name"] == "Invoice I-1"
    assert history[1]["summary"].startswith("Total changed from 10.00 to 12.50")
