"""Event ids are per tenant and must be UUIDs; inputs a database cannot store are refused with a
code before anything is written; the payload limit counts UTF-8 bytes (both databases)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from algaflow.api.statuses import status_for
from algaflow.kernel.errors import AlgaflowError
from algaflow.services.events import emit_event
from algaflow.services.runs import list_runs, start_run
from algaflow.services.tasks import complete_task, list_tasks
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_runs, workflow_runtime_events

from .conftest import expr, publish

EVENT_ID = "11111111-1111-4111-8111-111111111111"


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _refused(code: str, call) -> AlgaflowError:
    with pytest.raises(AlgaflowError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


# --- event ids ------------------------------------------------------------------------------------


def test_event_ids_are_unique_per_tenant_only(engine, tenant, other_tenant, registry):
    first = emit_event(
        UnitOfWork(engine), tenant, "GO", {}, registry=registry, event_id=EVENT_ID, wait=True
    )
    other = emit_event(UnitOfWork(engine), other_tenant, "GO", {}, registry=registry,
                               event_id=EVENT_ID, wait=True)  # fmt: skip
    again = emit_event(UnitOfWork(engine), tenant, "GO", {}, registry=registry,
                               event_id=EVENT_ID.upper(), wait=True)  # fmt: skip
    assert "duplicate" not in first and "duplicate" not in other  # no probing another tenant
    assert again["duplicate"] is True and again["eventId"] == EVENT_ID
    assert _count(engine, workflow_runtime_events) == 2


@pytest.mark.parametrize("bad", ["abc", "not-a-uuid", "x" * 36, ""])
def test_an_event_id_that_is_not_a_uuid_is_refused(engine, tenant, registry, bad):
    error = _refused(
        "INVALID_FIELD",
        lambda: emit_event(
            UnitOfWork(engine), tenant, "GO", {}, registry=registry, event_id=bad, wait=True
        ),
    )
    assert status_for(error.code) == 422 and error.details == {"field": "eventId"}
    assert _count(engine, workflow_runtime_events) == 0


def test_a_concurrent_delivery_of_the_same_event_is_a_duplicate(engine, tenant, registry):
    """The second delivery waits for the first's transaction, then sees its row (no 500)."""
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_the_first_commit(_conn) -> None:
        """The first delivery has written its event row and is about to commit: hold it there."""
        if threading.current_thread() is thread and not inside.is_set():
            inside.set()
            release.wait(10)

    def first_delivery() -> None:
        try:
            emit_event(
                UnitOfWork(engine),
                tenant,
                "GO",
                {},
                registry=registry,
                event_id=EVENT_ID,
                wait=True,
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
            inside.set()

    thread = threading.Thread(target=first_delivery)
    sa.event.listen(engine, "commit", hold_the_first_commit)
    thread.start()
    assert inside.wait(10)
    timer = threading.Timer(0.3, release.set)  # commit the first while the second waits for it
    timer.start()
    try:
        second = emit_event(UnitOfWork(engine), tenant, "GO", {}, registry=registry,
                                    event_id=EVENT_ID, wait=True)  # fmt: skip
    finally:
        release.set()
        thread.join(10)
        timer.cancel()
        sa.event.remove(engine, "commit", hold_the_first_commit)
    assert errors == []
    assert second["duplicate"] is True
    assert _count(engine, workflow_runtime_events) == 1


# --- values the databases cannot store ------------------------------------------------------------

UNSTORABLE = {"nul": "a\x00b", "lone surrogate": "a\ud800b", "nan": float("nan")}


@pytest.fixture
def waiting_task(engine, tenant, registry):
    ask = {"id": "ask", "type": "human.task", "config": {"taskType": "t", "title": expr("'T'")}}
    with engine.begin() as conn:
        wf = publish(conn, tenant, [ask], key="ask")
    run = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    [task] = list_tasks(UnitOfWork(engine), tenant, run_id=run["runId"])
    return task["taskId"]


@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_inputs_are_refused_before_anything_is_written(
    engine, tenant, registry, waiting_task, value
):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [])
    runs_before = _count(engine, workflow_runs)
    refusals = [
        lambda: start_run(UnitOfWork(engine), tenant, wf, registry=registry, payload={"v": value}),
        lambda: emit_event(UnitOfWork(engine), tenant, "GO", {"v": [value]}, registry=registry),
        lambda: emit_event(UnitOfWork(engine), tenant, "GO", {}, registry=registry,
                                   correlation_key=value if isinstance(value, str) else None,
                                   payload_schema_ref=None if isinstance(value, str) else value),
        lambda: complete_task(UnitOfWork(engine), tenant, waiting_task, {"v": value},
                                      registry=registry),
    ]  # fmt: skip
    for refuse in refusals:
        error = _refused("UNSTORABLE_VALUE", refuse)
        assert status_for(error.code) == 400
        assert error.details["errors"][0]["instancePath"] in (
            "/payload/v",
            "/payload/v/0",
            "/correlationKey",
            "/payloadSchemaRef",
            "/output/v",
        )
    assert _count(engine, workflow_runs) == runs_before
    assert _count(engine, workflow_runtime_events) == 0
    assert [t["taskId"] for t in list_tasks(UnitOfWork(engine), tenant)] == [
        waiting_task
    ]  # still PENDING


def test_the_payload_limit_counts_utf8_bytes(engine, tenant, registry):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [])
    # 400 KB of UTF-8 (2 bytes each), which the ASCII-escaped form (\u00e9) made 1.2 MB.
    accented = start_run(UnitOfWork(engine), tenant, wf, registry=registry,
                                 payload={"s": "é" * 200_000})  # fmt: skip
    assert accented["status"] in ("SUCCEEDED", "FAILED")
    error = _refused(
        "PAYLOAD_TOO_LARGE",
        lambda: start_run(UnitOfWork(engine), tenant, wf, registry=registry,
                                  payload={"s": "€" * 180_000}),  # 540,000 bytes
    )  # fmt: skip
    assert status_for(error.code) == 413


# --- list filters ---------------------------------------------------------------------------------


def test_filters_by_ids_that_are_not_uuids_match_nothing(engine, tenant, registry):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [])
    start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    assert len(list_runs(UnitOfWork(engine), tenant)) == 1
    assert list_runs(UnitOfWork(engine), tenant, workflow_id="abc") == []
    assert list_tasks(UnitOfWork(engine), tenant, run_id="abc", status=None) == []
