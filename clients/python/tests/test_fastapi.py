"""A FastAPI app recording its changes in a live Trail through the middleware and the Auditor dependency."""
from typing import Dict, Optional

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from trail_client import AsyncTrailClient, TrailClient, audit_action
from trail_client.fastapi import Auditor, TrailAuditMiddleware, auditor


class Invoice(BaseModel):
    customer: str
    total: float


def test_the_app_records_create_update_delete_with_the_user(trail):
    key = trail.make_key("fastapi", "admin")
    invoices: Dict[str, dict] = {}
    app = FastAPI()
    app.add_middleware(TrailAuditMiddleware, get_actor=lambda request: {"id": request.headers["x-user"]})
    trail_client = AsyncTrailClient(trail.url, key)
    audit = auditor(trail_client, buffered=False)

    @app.put("/invoices/{id}")
    async def put(id: str, invoice: Invoice, audit: Auditor = Depends(audit)):
        before: Optional[dict] = invoices.get(id)
        invoices[id] = invoice.model_dump()
        await audit.change("invoice", id, before, invoices[id])
        return invoices[id]

    @app.delete("/invoices/{id}")
    async def delete(id: str, audit: Auditor = Depends(audit)):
        await audit.change("invoice", id, invoices.pop(id), None)
        return {}

    reader = TrailClient(trail.url, key)

    @app.post("/valuations")
    @audit_action(reader.record, "valued", resource_type="portfolio", resource_id=3)  # (a blocking send, for the test)
    async def value():
        return {"value": 42}

    with TestClient(app) as http:
        headers = {"x-user": "12", "user-agent": "tests/2.0", "x-request-id": "req-3"}
        assert http.put("/invoices/i-1", json={"customer": "ACME", "total": 10}, headers=headers).status_code == 200
        assert http.put("/invoices/i-1", json={"customer": "ACME", "total": 12}, headers=headers).status_code == 200
        assert http.delete("/invoices/i-1", headers={**headers, "x-user": "13"}).status_code == 200
        assert http.post("/valuations", headers=headers).json() == {"value": 42}
    history = list(reader.history("invoice", "i-1"))
    assert [e["action"] for e in history] == ["created", "updated", "deleted"]
    assert [e["actor"]["id"] for e in history] == ["12", "12", "13"]
    assert history[1]["changes"] == {"total": [10.0, 12.0]}
    assert history[0]["context"]["user_agent"] == "tests/2.0" and history[0]["context"]["request_id"] == "req-3"
    valued = next(reader.events(action="valued"))
    assert valued["actor"]["id"] == "12" and valued["outcome"] == "success" and valued["resource"]["id"] == "3"
