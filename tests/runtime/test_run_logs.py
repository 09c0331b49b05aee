"""Run logs carry Alga's columns (``step_id`` among them) and say where a run failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from algaflow.services.runs import get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import migrate
from algaflow.store.engine import drop_database, ensure_database, make_engine
from algaflow.store.runs import MAX_LOG_CONTEXT, capped_context
from algaflow.store.types import JSONType, UUIDType

from .conftest import call, publish

#: The query a client written against Alga's schema runs (every column of its run-log table).
ALGA_LOG_QUERY = (
    sa.text(
        "SELECT log_id, run_id, step_id, step_path, level, message, context_json, "
        "correlation_key, event_name, source, created_at FROM workflow_run_logs "
        "WHERE run_id = :run_id AND level = :level"
    )
    .bindparams(sa.bindparam("run_id", type_=UUIDType))
    .columns(step_id=UUIDType, context_json=JSONType)
)


def _run(engine, tenant, registry, steps, key="wf"):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps, key=key)
    return start_run(UnitOfWork(engine), tenant, wf, registry=registry)


def test_a_failed_run_logs_where_it_failed(engine, tenant, registry, actions):
    def boom(args, ctx):
        raise ValueError("the printer is on fire")

    actions.add("test.boom", boom)
    out = _run(engine, tenant, registry, [call("first"), call("second", "test.boom")])
    assert out["status"] == "FAILED"
    steps = {s["stepPath"]: s for s in out["steps"]}
    failed_row = steps["root.steps[1]"]
    with engine.connect() as conn:
        errors = conn.execute(ALGA_LOG_QUERY, {"run_id": out["runId"], "level": "ERROR"})
        errors = [dict(r) for r in errors.mappings()]
    step_error = next(e for e in errors if e["step_id"] is not None)
    assert str(step_error["step_id"]) == failed_row["stepId"]
    assert step_error["step_path"] == "root.steps[1]"
    assert "the printer is on fire" in step_error["message"]
    assert step_error["context_json"]["definitionStepId"] == "second"
    run_error = next(e for e in errors if e["step_id"] is None)
    assert run_error["message"] == "Run failed"
    assert run_error["step_path"] == "root.steps[1]"


def test_every_step_logs_its_start_and_end_with_its_row(engine, tenant, registry, actions):
    out = _run(engine, tenant, registry, [call("a"), call("b")])
    assert out["status"] == "SUCCEEDED"
    logs = out["logs"]
    assert logs[0]["message"] == "Run started" and logs[0]["stepId"] is None
    rows = {s["stepPath"]: s["stepId"] for s in out["steps"]}
    for path, row_id in rows.items():
        lines = [(line["level"], line["message"]) for line in logs if line["stepId"] == row_id]
        step = "a" if path.endswith("[0]") else "b"
        assert lines == [("INFO", f"Step {step} started"), ("INFO", f"Step {step} succeeded")]
        assert {line["stepPath"] for line in logs if line["stepId"] == row_id} == {path}


def test_continue_and_retry_are_warnings(engine, tenant, registry, actions):
    attempts = []

    def flaky(args, ctx):
        attempts.append(ctx.attempt)
        raise ValueError(f"attempt {ctx.attempt} failed")

    actions.add("test.flaky", flaky)
    step = call("f", "test.flaky", retry={"maxAttempts": 2}, onError={"policy": "continue"})
    out = _run(engine, tenant, registry, [step])
    assert out["status"] == "SUCCEEDED" and attempts == [1, 2]
    warnings = [line["message"] for line in out["logs"] if line["level"] == "WARN"]
    assert warnings == [
        "Step f failed, retrying (attempt 2): attempt 1 failed",
        "Step f failed, continuing (onError: continue): attempt 2 failed",
    ]


def test_a_run_view_from_get_run_has_the_logs(engine, tenant, registry, actions):
    out = _run(engine, tenant, registry, [call("a")])
    again = get_run(UnitOfWork(engine), tenant, out["runId"])
    assert [line["logId"] for line in again["logs"]] == [line["logId"] for line in out["logs"]]


def test_a_huge_context_is_capped_with_a_marker():
    assert capped_context({"small": 1}) == {"small": 1}
    capped = capped_context({"big": "x" * (MAX_LOG_CONTEXT + 1)})
    assert capped["truncated"] is True and capped["max"] == MAX_LOG_CONTEXT
    assert capped["size"] > MAX_LOG_CONTEXT


@pytest.fixture
def fresh_url(db_url, tmp_path) -> Iterator[str]:
    """An empty database of its own (next to ``db_url``), so migrating it down and up disturbs
    no other test."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = db_url.rsplit("/", 1)[0] + f"/algaflow_logs_{uuid.uuid4().hex[:12]}"
    ensure_database(url)
    yield url
    drop_database(url)


def _log_schema(engine) -> tuple[set[str], set[str]]:
    inspector = sa.inspect(engine)
    columns = {c["name"] for c in inspector.get_columns("workflow_run_logs")}
    indexes = {i["name"] for i in inspector.get_indexes("workflow_run_logs")}
    return columns, indexes


def _downgrade(engine, revision: str) -> None:
    config = migrate._config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_the_migration_adds_and_removes_the_column(fresh_url):
    new_indexes = {"ix_workflow_run_logs_run_id_level", "ix_workflow_run_logs_tenant_created_at"}
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
        columns, indexes = _log_schema(engine)
        assert "step_id" in columns and new_indexes <= indexes
        _downgrade(engine, "0003_trigger_event")
        columns, indexes = _log_schema(engine)
        assert "step_id" not in columns and not new_indexes & indexes
        migrate.upgrade(engine)
        assert migrate.is_current(engine) and "step_id" in _log_schema(engine)[0]
    finally:
        engine.dispose()
