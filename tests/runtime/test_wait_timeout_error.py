"""An event wait that times out fails its step with the runtime's error shape: the step's path
and the moment in JavaScript's ``toISOString`` form, like every other step failure."""

from __future__ import annotations

from datetime import timedelta

from algaflow.kernel import clock
from algaflow.services.due_work import run_due_work
from algaflow.services.unit_of_work import UnitOfWork

from .test_waits import T0, Clock, event_wait, fetch, start


def test_a_timed_out_wait_reports_where_and_when_like_any_failure(engine, tenant, registry):
    steps = [
        {
            "id": "guard",
            "type": "control.tryCatch",
            "captureErrorAs": "timeout",
            "try": [event_wait(correlationKey=expr_k(), timeoutMs=60_000)],
            "catch": [],
        }
    ]
    clk = Clock()
    with clock.frozen(now=clk):
        out = start(engine, tenant, registry, steps)
        clk.now = T0 + timedelta(seconds=60)
        run_due_work(UnitOfWork(engine), registry=registry)
    error = fetch(engine, tenant, out["runId"])["vars"]["timeout"]
    assert error["category"] == "TimeoutError"
    assert error["at"] == "2026-03-01T12:01:00.000Z"
    assert error["nodePath"] == out["waits"][0]["stepPath"]


def expr_k() -> dict[str, str]:
    return {"$expr": "'k'"}
