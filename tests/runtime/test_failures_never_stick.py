"""Whatever a step raises, its run ends (FAILED, with a code) instead of staying RUNNING and
re-running its action on every lease takeover; values the databases cannot store are step errors
before anything is written (both databases)."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from algaflow.kernel import clock
from algaflow.runtime import core
from algaflow.runtime.core import MAX_RETRY_DELAY_MS, backoff_ms
from algaflow.runtime.embedded.driver import Driver
from algaflow.services.due_work import run_due_work
from algaflow.services.runs import get_run, list_runs, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_action_invocations, workflow_run_steps

from .conftest import assign, call, expr, publish
from .killed_process import killed_before_driving


def _start(engine, tenant, registry, steps, key="wf"):
    with engine.begin() as conn:
        wf = publish(conn, tenant, steps, key=key)
    return start_run(UnitOfWork(engine), tenant, wf, registry=registry)


def _later(hours: float = 1):
    return clock.utcnow() + timedelta(hours=hours)


# --- the reviewer's triggers ----------------------------------------------------------------------


def test_an_until_before_year_one_in_utc_fails_the_step(engine, tenant, registry):
    wait = {"id": "w", "type": "time.wait",
            "config": {"mode": "until", "until": expr("payload.when")}}  # fmt: skip
    with engine.begin() as conn:
        wf = publish(conn, tenant, [wait])
    out = start_run(
        UnitOfWork(engine),
        tenant,
        wf,
        registry=registry,
        payload={"when": "0001-01-01T00:00:00+14:00"},
    )
    assert out["status"] == "FAILED"
    assert out["error"]["category"] == "ValidationError"
    assert "valid date/time" in out["error"]["message"]
    assert run_due_work(UnitOfWork(engine), registry=registry, now=_later()) == 0


@pytest.mark.parametrize("field", ["durationMs", "timeoutMs"])
def test_a_wait_past_year_9999_fails_the_step(engine, tenant, registry, field):
    config = (
        {"mode": "duration", "durationMs": 2**53 - 1}
        if field == "durationMs"
        else {"eventName": "GO", "correlationKey": expr("'k'"), "timeoutMs": 2**53 - 1}
    )
    kind = "time.wait" if field == "durationMs" else "event.wait"
    out = _start(engine, tenant, registry, [{"id": "w", "type": kind, "config": config}])
    assert out["status"] == "FAILED"
    assert out["error"]["code"] == "DATE_OUT_OF_RANGE"


def test_a_huge_backoff_waits_at_most_30_days(engine, tenant, registry, actions):
    actions.add("test.fail", lambda a, c: 1 / 0)
    retry = {"maxAttempts": 3, "backoffMs": 10**15}
    out = _start(engine, tenant, registry, [call("a", "test.fail", retry=retry)])
    assert out["status"] == "WAITING"
    [wait] = out["waits"]
    assert wait["waitType"] == "retry" and wait["payload"]["delayMs"] == MAX_RETRY_DELAY_MS


@given(
    base=st.integers(0, 10**30) | st.floats(1, 1e300),
    multiplier=st.integers(0, 10**6) | st.floats(0, 1e6),
    attempt=st.integers(1, 300),
    max_delay=st.none() | st.integers(0, 10**20) | st.floats(0, 1e20),
)
def test_backoff_is_alga_s_formula_within_0_and_30_days(base, multiplier, attempt, max_delay):
    policy = {"backoffMs": base, "backoffMultiplier": multiplier}
    exact = Fraction(base) * Fraction(multiplier) ** (attempt - 1)
    if max_delay is not None:
        policy["maxDelayMs"] = max_delay
        exact = min(exact, Fraction(max_delay))
    delay = backoff_ms(policy, attempt)
    assert isinstance(delay, int)
    if exact >= MAX_RETRY_DELAY_MS:
        assert delay == MAX_RETRY_DELAY_MS
    else:
        assert abs(delay - math.floor(exact)) <= 1  # float rounding of the product only


# --- values the databases cannot store ------------------------------------------------------------

NUL_OUTPUT = ("test.nul", lambda a, c: {"s": "a\x00b"})
SOURCES = {
    "action output": [call("a", "test.nul", saveAs="a")],
    "action input": [call("a", inputMapping={"s": expr('"a\\u0000b"')})],
    "node (transform.assign)": [assign("s", vars__x='"a\\u0000b"')],
    "interpreter expression": [
        {"id": "l", "type": "control.forEach", "items": expr('["a\\u0000"]'), "itemVar": "it",
         "body": [call("b")]},
    ],
}  # fmt: skip


@pytest.mark.parametrize("source", SOURCES)
def test_an_unstorable_value_fails_the_step_with_a_code(engine, tenant, registry, actions, source):
    actions.add(*NUL_OUTPUT)
    out = _start(engine, tenant, registry, SOURCES[source])
    assert out["status"] == "FAILED", out["error"]
    assert out["error"]["code"] == "UNSTORABLE_VALUE"
    assert out["error"]["category"] == "ActionError"
    assert "\x00" not in str(out)
    assert run_due_work(UnitOfWork(engine), registry=registry, now=_later()) == 0
    assert [c for c in actions.calls if c[0] != "test.nul"] == []


def test_an_unstorable_action_output_is_recorded_on_its_invocation_and_runs_once(
    engine, tenant, registry, actions
):
    actions.add(*NUL_OUTPUT)
    steps = [{"id": "t", "type": "control.tryCatch", "try": [call("a", "test.nul")],
              "captureErrorAs": "caught", "catch": [call("after")]}]  # fmt: skip
    out = _start(engine, tenant, registry, steps)
    assert out["status"] == "SUCCEEDED"  # a step error like any other: the catch ran
    assert out["vars"]["caught"]["code"] == "UNSTORABLE_VALUE"
    assert out["vars"]["caught"]["details"] == {"paths": ["/s"]}
    run_due_work(UnitOfWork(engine), registry=registry, now=_later())
    assert len(actions.called("test.nul")) == 1
    with engine.connect() as conn:
        inv = (
            conn.execute(
                sa.select(workflow_action_invocations).where(
                    workflow_action_invocations.c.action_id == "test.nul"
                )
            )
            .mappings()
            .one()
        )
    assert inv["status"] == "FAILED" and inv["output_json"] is None
    assert inv["error_json"]["code"] == "UNSTORABLE_VALUE"


def test_a_handler_error_with_a_nul_is_stored_escaped(engine, tenant, registry, actions):
    def nul_error(args, ctx):
        raise RuntimeError("bad \x00 byte")

    actions.add("test.nulerr", nul_error)
    out = _start(engine, tenant, registry, [call("a", "test.nulerr")])
    assert out["status"] == "FAILED"
    assert out["error"]["code"] == "UNSTORABLE_VALUE"
    assert out["error"]["message"] == "bad \\u0000 byte"


# --- anything else: the safety net ----------------------------------------------------------------


def _bug_at(monkeypatch, step_id: str) -> None:
    """Make planning ``step_id`` raise as a bug would (no database is mocked)."""
    real = core.plan

    def plan(program, state, now, **kw):
        path = core.current_path(program, state)
        if path and (program.step(path) or {}).get("id") == step_id:
            raise ZeroDivisionError("a bug")
        return real(program, state, now, **kw)

    monkeypatch.setattr(core, "plan", plan)


def test_an_unexpected_exception_fails_the_run_instead_of_leaving_it_running(
    engine, tenant, registry, actions, monkeypatch
):
    _bug_at(monkeypatch, "boom")
    steps = [call("a", saveAs="a"), call("boom"), call("never")]
    out = _start(engine, tenant, registry, steps)
    assert out["status"] == "FAILED"
    assert out["error"]["code"] == "INTERNAL_ERROR"
    assert out["error"]["category"] == "ActionError"
    assert out["error"]["message"] == "Internal error: ZeroDivisionError: a bug"
    assert out["error"]["nodePath"] == "root.steps[1]"
    assert out["vars"] == {"a": {"echo": {}}}  # the last recorded step's state is kept
    assert run_due_work(UnitOfWork(engine), registry=registry, now=_later()) == 0
    assert len(actions.calls) == 1  # the finished action never runs again


def test_an_unexpected_exception_fails_the_run_after_its_finished_steps(
    engine, tenant, registry, actions, monkeypatch
):
    """Only the failed step is rolled back: the steps before it stay recorded."""
    _bug_at(monkeypatch, "boom")
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("a"), call("boom")])
    out = start_run(UnitOfWork(engine), tenant, wf, registry=registry)
    assert out["status"] == "FAILED" and out["error"]["code"] == "INTERNAL_ERROR"
    assert [s["status"] for s in out["steps"]] == ["SUCCEEDED"]


def test_an_unexpected_exception_while_resuming_a_wait_fails_the_run(
    engine, tenant, registry, actions, monkeypatch
):
    wait = {"id": "w", "type": "time.wait", "config": {"mode": "duration", "durationMs": 1000}}
    out = _start(engine, tenant, registry, [wait, call("boom")])
    assert out["status"] == "WAITING"
    _bug_at(monkeypatch, "boom")
    assert run_due_work(UnitOfWork(engine), registry=registry, now=_later()) == 1
    with engine.connect() as conn:
        out = get_run(UnitOfWork(engine), tenant, out["runId"])
        open_steps = conn.execute(
            sa.select(sa.func.count()).where(workflow_run_steps.c.status == "STARTED")
        ).scalar_one()
    assert out["status"] == "FAILED" and out["error"]["code"] == "INTERNAL_ERROR"
    assert [w["status"] for w in out["waits"]] == ["RESOLVED"]
    assert open_steps == 0


def test_one_failing_run_does_not_stop_a_worker_pass(
    engine, tenant, registry, actions, monkeypatch
):
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("a")])

    def recorded() -> list[str]:  # a RUNNING run nobody drives
        return killed_before_driving(
            lambda: start_run(UnitOfWork(engine), tenant, wf, registry=registry)
        )

    [first], [second] = recorded(), recorded()
    real = Driver.drive

    def drive(self, tenant_id, run_id, **kw):
        if run_id == first:
            raise RuntimeError("the database went away for this one")
        return real(self, tenant_id, run_id, **kw)

    monkeypatch.setattr(Driver, "drive", drive)
    assert run_due_work(UnitOfWork(engine), registry=registry) == 1
    status = {r["runId"]: r["status"] for r in list_runs(UnitOfWork(engine), tenant)}
    assert status == {first: "RUNNING", second: "SUCCEEDED"}
