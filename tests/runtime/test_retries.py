"""Retries (count, backoff as durable waits, retryOn) and idempotent invocations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from algaflow.kernel import clock
from algaflow.registry import ActionRuntimeError
from algaflow.services.due_work import run_due_work
from algaflow.services.runs import get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_action_invocations, workflow_run_waits

from .conftest import call, expr, publish

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def flaky(actions, failures: int, category: str = "TransientError"):
    """An action that fails ``failures`` times, then succeeds."""
    attempts = []

    def handler(args, ctx):
        attempts.append(ctx.attempt)
        if len(attempts) <= failures:
            raise ActionRuntimeError(category, "RATE_LIMITED", f"try {len(attempts)}")
        return {"ok": True}

    actions.add("test.flaky", handler)
    return attempts


def start(engine, tenant, registry, steps):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps)
    return start_run(UnitOfWork(engine), tenant, wf, registry=registry)


def test_retry_backoff_is_a_durable_wait(engine, tenant, registry, actions):
    attempts = flaky(actions, failures=2)
    policy = {
        "maxAttempts": 3,
        "backoffMs": 1000,
        "backoffMultiplier": 3,
        "retryOn": ["TransientError"],
    }
    clk = Clock()
    with clock.frozen(now=clk):
        out = start(engine, tenant, registry, [call("s", "test.flaky", retry=policy, saveAs="r")])
        assert out["status"] == "WAITING"
        assert run_due_work(UnitOfWork(engine), registry=registry) == 0  # not due yet
        clk.now = T0 + timedelta(seconds=1)
        run_due_work(UnitOfWork(engine), registry=registry)
        out = get_run(UnitOfWork(engine), tenant, out["runId"])
        assert out["status"] == "WAITING"
        clk.now += timedelta(seconds=3)
        run_due_work(UnitOfWork(engine), registry=registry)
        with engine.connect() as conn:
            out = get_run(UnitOfWork(engine), tenant, out["runId"])
            waits = conn.execute(
                sa.select(workflow_run_waits.c.timeout_at, workflow_run_waits.c.created_at)
                .where(workflow_run_waits.c.wait_type == "retry")
                .order_by(workflow_run_waits.c.created_at)
            ).all()
            inv = conn.execute(sa.select(workflow_action_invocations)).mappings().one()
    assert out["status"] == "SUCCEEDED"
    assert out["vars"]["r"] == {"ok": True}
    assert attempts == [1, 2, 3]
    assert [(w.timeout_at - w.created_at).total_seconds() for w in waits] == [1.0, 3.0]
    # One step row for all attempts; the invocation row was re-run (Q5 fixed), not duplicated.
    assert [(s["status"], s["attempt"]) for s in out["steps"]] == [("SUCCEEDED", 1)]
    assert inv["status"] == "SUCCEEDED" and inv["attempt"] == 3


def test_retry_count_is_bounded_and_max_delay_applies(engine, tenant, registry, actions):
    attempts = flaky(actions, failures=10)
    policy = {"maxAttempts": 2, "backoffMs": 0}
    out = start(engine, tenant, registry, [call("s", "test.flaky", retry=policy)])
    assert out["status"] == "FAILED"
    assert attempts == [1, 2]
    assert out["error"]["category"] == "TransientError"
    assert out["error"]["code"] == "RATE_LIMITED"


def test_retry_on_other_categories_does_not_retry(engine, tenant, registry, actions):
    attempts = flaky(actions, failures=1, category="ValidationError")
    policy = {"maxAttempts": 5, "backoffMs": 0, "retryOn": ["TransientError"]}
    out = start(engine, tenant, registry, [call("s", "test.flaky", retry=policy)])
    assert out["status"] == "FAILED"
    assert attempts == [1]


def test_retries_then_on_error_continue(engine, tenant, registry, actions):
    attempts = flaky(actions, failures=10)
    step = call("s", "test.flaky", retry={"maxAttempts": 3, "backoffMs": 0},
                onError={"policy": "continue"})  # fmt: skip
    out = start(
        engine, tenant, registry, [step, call("after", inputMapping={"m": expr("error.message")})]
    )
    assert out["status"] == "SUCCEEDED"
    assert attempts == [1, 2, 3]
    assert actions.called("test.echo") == [{"m": "try 3"}]


def test_same_input_in_a_loop_runs_once_and_returns_the_cached_output(
    engine, tenant, registry, actions
):
    counter = []
    actions.add("test.count", lambda args, _ctx: counter.append(1) or {"n": len(counter)})
    steps = [
        {"id": "each", "type": "control.forEach", "items": expr("[1, 2, 1]"), "itemVar": "it",
         "body": [call("c", "test.count", inputMapping={"v": expr("it")}, saveAs="local.out"),
                  call("note", inputMapping={"n": expr("local.out.n"), "i": expr("index")})]},
    ]  # fmt: skip
    out = start(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"
    assert len(counter) == 2  # the third item has the same input as the first
    assert actions.called("test.echo") == [{"n": 1, "i": 0}, {"n": 2, "i": 1}, {"n": 1, "i": 2}]


def test_explicit_idempotency_key_dedupes_across_runs(engine, tenant, registry, actions):
    counter = []
    actions.add("test.count", lambda args, _ctx: counter.append(1) or {"n": len(counter)})
    step = call("c", "test.count", idempotencyKey=expr("'order-' & toString(1)"))
    with engine.begin() as conn:
        wf = publish(conn, tenant, [step])
    for _ in range(2):
        assert start_run(UnitOfWork(engine), tenant, wf, registry=registry)["status"] == "SUCCEEDED"
    assert len(counter) == 1
    with engine.connect() as conn:
        key = conn.execute(sa.select(workflow_action_invocations.c.idempotency_key)).scalar_one()
    assert key == f"{tenant}:order-1"


def test_engine_key_matches_alga_format(engine, tenant, registry, actions):
    out = start(engine, tenant, registry, [call("c", inputMapping={"a": 1})])
    with engine.connect() as conn:
        key = conn.execute(sa.select(workflow_action_invocations.c.idempotency_key)).scalar_one()
    prefix = f"{tenant}:{out['runId']}:root.steps[0]:test.echo:1:"
    assert key.startswith(prefix) and key[len(prefix) :].isalnum()
