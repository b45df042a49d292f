import asyncio
import threading
import time

import pytest

from trail_client import (AsyncTrailClient, AuthenticationError, TrailClient, TransportError, ValidationError,
                          audit_action, changes)


def test_records_reads_pages_and_states(trail, tenant):
    client = TrailClient(trail.url, tenant)
    first = client.record({"action": "create", "actor": {"id": "7"}, "resource": {"type": "invoice", "id": "i 1/a"},
                           "changes": {"total": [None, 10], "note": [None, "first"]}})
    assert first["action"] == "created" and first["version"] == 1 and first["actor"]["id"] == "7"
    second = client.record({"action": "update", "actor": {"id": "7"}, "resource": {"type": "invoice", "id": "i 1/a"},
                            "changes": {"total": [10, 12]}})
    assert second["version"] == 2
    assert client.event(first["id"])["id"] == first["id"]
    assert client.state("invoice", "i 1/a")["state"]["total"] == 12
    assert client.state("invoice", "i 1/a", version=1)["state"]["note"] == "first"
    assert client.state("invoice", "missing") is None
    batch = client.record_batch([{"action": "user_login", "actor": {"id": f"u{n}"}} for n in range(5)])
    assert [e["sequence"] for e in batch] == list(range(batch[0]["sequence"], batch[0]["sequence"] + 5))
    logins = list(client.events(action="user_login", limit=2))  # pages of two
    assert [e["actor"]["id"] for e in logins] == ["u4", "u3", "u2", "u1", "u0"]
    assert [e["id"] for e in client.history("invoice", "i 1/a")] == [first["id"], second["id"]]
    with pytest.raises(TypeError):
        list(client.events(colour="red"))
    client.close()


def test_errors_carry_the_servers_paths(trail, tenant):
    client = TrailClient(trail.url, tenant)
    with pytest.raises(ValidationError) as refused:
        client.record_batch([{"action": "login", "actor": {"id": "1"}}, {"actor": {"id": "2"}}])
    assert refused.value.status == 422
    assert any(e["index"] == 1 and e["path"] == "action" for e in refused.value.errors)
    assert list(client.events()) == []  # all or none
    wrong = TrailClient(trail.url, "trail_0123456789abcdef_" + "A" * 43)
    with pytest.raises(AuthenticationError) as denied:
        wrong.record({"action": "login", "actor": {"id": "1"}})
    assert denied.value.status == 401 and "AAAAAAAA" not in str(denied.value) and "AAAAAAAA" not in repr(wrong.settings)
    down = TrailClient(f"http://127.0.0.1:{trail.port + 1 if trail.port < 65535 else 1}", tenant, retries=2, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(TransportError):
        down.record({"action": "login", "actor": {"id": "1"}})
    assert time.monotonic() - started < 10


def test_the_async_client(trail, tenant):
    async def scenario():
        async with AsyncTrailClient(trail.url, tenant, batch_size=10, flush_interval=0.05) as client:
            stored = await client.record({"action": "login", "actor": {"id": "a"}})
            assert (await client.event(stored["id"]))["id"] == stored["id"]
            for n in range(25):
                assert client.enqueue({"action": "export", "actor": {"id": f"b{n}"}})
            await asyncio.sleep(0.5)
        async with AsyncTrailClient(trail.url, tenant) as reader:
            exports = [e async for e in reader.events(action="export", limit=10)]
            assert sorted(e["actor"]["id"] for e in exports) == sorted(f"b{n}" for n in range(25))
            with pytest.raises(ValidationError):
                await reader.record({"actor": {"id": "x"}})
    asyncio.run(scenario())


def test_batches_survive_a_kill_and_restart(trail, tenant):
    """The server is killed (-9) and restarted while the background sender works: every event arrives once."""
    client = TrailClient(trail.url, tenant, batch_size=20, flush_interval=0.05, retries=50, backoff=0.05, max_backoff=0.5)
    sent = 0

    def produce():
        nonlocal sent
        for n in range(300):
            while not client.enqueue({"action": "import", "actor": {"id": "loader"}, "metadata": {"n": n}}):
                time.sleep(0.01)
            sent += 1
            time.sleep(0.002)

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.2)
    trail.kill()
    time.sleep(0.5)
    trail.start()
    producer.join()
    client.flush(timeout=60)
    assert client.pending == 0 and client.dropped == 0 and sent == 300
    numbers = [e["metadata"]["n"] for e in TrailClient(trail.url, tenant).events(action="import", limit=1000)]
    assert sorted(numbers) == list(range(300))  # nothing lost, nothing twice
    client.close()


def test_a_full_buffer_refuses_or_drops_the_oldest():
    nowhere = TrailClient("http://127.0.0.1:9", "k", max_buffer=3, batch_size=10, flush_interval=60, retries=0)
    assert [nowhere.enqueue({"action": f"a{n}"}) for n in range(5)] == [True, True, True, False, False]
    assert nowhere.pending == 3 and nowhere.dropped == 2
    dropping = TrailClient("http://127.0.0.1:9", "k", max_buffer=3, batch_size=10, flush_interval=60, overflow="drop_oldest", retries=0)
    for n in range(5):
        dropping.enqueue({"action": f"a{n}"})
    assert dropping.pending == 3 and dropping.dropped == 2


def test_audit_action_and_changes(trail, tenant):
    client = TrailClient(trail.url, tenant)

    @audit_action(client.record, "portfolio_created", resource_type="portfolio", resource_id=7, actor={"id": "ann"})
    def create():
        return "ok"

    assert create() == "ok"
    with pytest.raises(RuntimeError):
        with audit_action(client.record, "portfolio_valued", resource_type="portfolio", actor={"id": "ann"}) as action:
            action.set_resource("portfolio", 8)
            action.metadata["currency"] = "USD"
            raise RuntimeError("no prices")
    events = {e["action"]: e for e in client.events(resource_type="portfolio")}
    assert events["portfolio_created"]["outcome"] == "success" and events["portfolio_created"]["duration_ms"] is not None
    valued = events["portfolio_valued"]
    assert valued["outcome"] == "failure" and valued["error"]["message"] == "RuntimeError: no prices"
    assert valued["resource"]["id"] == "8" and valued["metadata"]["currency"] == "USD"
    assert changes({"a": 1, "b": {"c": 2}, "d": [1]}, {"a": 1, "b": {"c": 3}, "e": True}) == {
        "b.c": [2, 3], "e": [None, True], "d": [[1], None]}
