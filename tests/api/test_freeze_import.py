"""A hostile bundle import must not freeze the server, answer megabytes, or lock other tenants out.

A 300 KB bundle of 100,000 empty workflows once took 18 s, answered 98 MB and, on SQLite, held
the database's write lock the whole time. Over real HTTP, while it is sent: ``/healthz`` keeps
answering quickly, another tenant's writes succeed, and the import ends in a small coded 400.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from tests.api.bundle_builders import IMPORT, JSON_HEADERS, bundle, encode, workflow
from tests.api.health_probe import health_probe

from algaflow.bundle.errors import BundleError
from algaflow.bundle.limits import MAX_COUNTED_PROBLEMS, MAX_REPORTED_PROBLEMS
from algaflow.services import UnitOfWork
from algaflow.services.bundles import import_bundle
from algaflow.store.api_keys import PERMISSIONS, create_api_key
from algaflow.store.engine import write_transaction
from algaflow.store.tenants import create_tenant
from algaflow.store.workflows import list_workflows, lock_workflow_keys

#: Health checks and other tenants' writes must answer within this (seconds), on a shared machine.
RESPONSIVE = 1.0
#: Bytes an error answer may have, whatever the bundle.
MAX_ERROR_BYTES = 100_000


def empty_workflows(size: int) -> bytes:
    """About ``size`` bytes of ``{"workflows": [{}, {}, ...]}`` (five schema errors per entry)."""
    head = b'{"format":"alga-psa.workflow-bundle","formatVersion":1,"workflows":['
    count = (size - len(head)) // 3
    return head + b",".join([b"{}"] * count) + b"]}"


def _admin_key(engine: Any, tenant_name: str) -> str:
    with engine.begin() as conn:
        tenant = create_tenant(conn, tenant_name)["id"]
        return create_api_key(conn, tenant, name="admin", permissions=PERMISSIONS)[1]


def _create(client: httpx.Client, base: str, key: str, workflow_key: str) -> httpx.Response:
    return client.post(
        f"{base}/api/workflow-definitions",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "key": workflow_key,
            "definition": {
                "version": 1,
                "name": workflow_key,
                "payloadSchemaRef": "payload.Empty.v1",
                "steps": [],
            },
        },
    )


def test_a_hostile_import_leaves_the_server_and_other_tenants_alone(live_server, engine):
    hostile_key = _admin_key(engine, "hostile")
    other_key = _admin_key(engine, "other")
    body = empty_workflows(300_000)
    outcome: dict[str, Any] = {}

    def send() -> None:
        started = time.perf_counter()
        with httpx.Client(timeout=120) as client:
            outcome["response"] = client.post(
                live_server + IMPORT,
                content=body,
                headers={**JSON_HEADERS, "Authorization": f"Bearer {hostile_key}"},
            )
        outcome["seconds"] = time.perf_counter() - started

    writes: list[tuple[int, float]] = []
    with health_probe(live_server) as probe, httpx.Client(timeout=30) as client:
        sender = threading.Thread(target=send)
        sender.start()
        n = 0
        while sender.is_alive() or n < 3:  # at least a few writes, whatever the timing
            started = time.perf_counter()
            status = _create(client, live_server, other_key, f"other.w{n}").status_code
            writes.append((status, time.perf_counter() - started))
            n += 1
        sender.join()

    response = outcome["response"]
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "SCHEMA_VALIDATION_FAILED"
    assert len(response.content) < MAX_ERROR_BYTES
    assert len(problem["details"]["errors"]) == MAX_REPORTED_PROBLEMS
    assert problem["details"]["errorsOmitted"] > 0
    assert problem["details"]["errorsCountComplete"] is False
    assert outcome["seconds"] < 10  # was 18 s; about 0.3 s now
    assert probe.latencies and probe.worst < RESPONSIVE, probe.latencies
    assert writes and all(status == 201 for status, _ in writes), writes
    assert max(seconds for _, seconds in writes) < RESPONSIVE, writes
    # The hostile tenant got nothing; the other, every write (the last commit may land just
    # after its answer: the request's connection closes after the response).
    deadline = time.monotonic() + 5
    while True:
        with engine.connect() as conn:
            counts = sorted(len(list_workflows(conn, t)) for t in _tenant_ids(conn))
        if counts == [0, len(writes)] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert counts == [0, len(writes)]


def _tenant_ids(conn: Any) -> list[str]:
    from algaflow.store.tables import tenants

    return list(conn.execute(tenants.select().with_only_columns(tenants.c.id)).scalars())


@pytest.mark.parametrize("size", [300, 3_000, 300_000, 990_000])  # the test app allows 1 MB bodies
def test_errors_stay_small_and_fast_whatever_the_bundle_size(api, size):
    body = empty_workflows(size)
    started = time.perf_counter()
    response = api.client.post(IMPORT, content=body, headers=JSON_HEADERS)
    seconds = time.perf_counter() - started
    assert response.status_code == 400
    details = response.json()["details"]
    assert response.json()["code"] == "SCHEMA_VALIDATION_FAILED"
    assert len(response.content) < MAX_ERROR_BYTES
    assert seconds < 10
    # every error is counted (five per workflow, plus exportedAt) until counting stops
    errors = 1 + 5 * body.count(b"{}")
    found = len(details["errors"]) + details.get("errorsOmitted", 0)
    assert len(details["errors"]) == min(errors, MAX_REPORTED_PROBLEMS)
    if errors < MAX_COUNTED_PROBLEMS:
        assert found == errors
        assert "errorsCountComplete" not in details
    else:  # stopped at the first workflow that took the count to the limit
        assert MAX_COUNTED_PROBLEMS <= found < MAX_COUNTED_PROBLEMS + 5
        assert details["errorsCountComplete"] is False


def test_a_bundle_that_fails_its_checks_never_waits_for_the_write_lock(engine, tenant, registry):
    """Another transaction holds what an import's writes need (SQLite: the database's write lock;
    PostgreSQL: the bundle key's lock): a bundle refused by the checks answers at once."""
    bad = bundle(workflow("demo.locked"))
    bad["workflows"][0]["draft"]["draftVersion"] = 0
    with write_transaction(engine) as holder:
        lock_workflow_keys(holder, tenant, ["demo.locked"])
        holder.exec_driver_sql("SELECT 1")
        started = time.perf_counter()
        with pytest.raises(BundleError) as caught:
            import_bundle(UnitOfWork(engine), tenant, bad, registry=registry, force=True)
        seconds = time.perf_counter() - started
    assert caught.value.code == "INVALID_DRAFT_VERSION"
    assert seconds < RESPONSIVE  # SQLite's busy timeout is 10 s


def test_long_strings_from_the_bundle_are_not_echoed_in_full(api):
    long_key = "a" * 200_000
    body = bundle(workflow("demo.ok"))
    body["workflows"][0]["key"] = long_key + "!"  # breaks the key pattern
    response = api.client.post(IMPORT, content=encode(body), headers=JSON_HEADERS)
    assert response.status_code == 400
    assert response.json()["code"] == "SCHEMA_VALIDATION_FAILED"
    assert len(response.content) < 10_000
