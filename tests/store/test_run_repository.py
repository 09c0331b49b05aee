"""The run-table repositories on both databases: typed rows, tenant scoping, and the races the
embedded driver relies on (one winner per wait, task, lease, invocation key and event id)."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from algaflow.kernel.clock import new_id
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import events, invocations, runs, waits
from algaflow.store import workflows as workflow_store
from algaflow.store.run_rows import InvocationRow, RunRow, TaskRow, WaitRow
from algaflow.store.run_tables import workflow_runtime_events

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _workflow(conn, tenant, key="demo.runs"):
    row = workflow_store.create_workflow(
        conn, tenant, key=key, name="Runs", payload_schema_ref="payload.Empty.v1"
    )
    return row.workflow_id


def _run(conn, tenant, workflow_id, *, status="RUNNING", at=T0, **values):
    run_id = new_id()
    runs.insert_run(
        conn, run_id=run_id, tenant=tenant, workflow_id=workflow_id, workflow_version=1,
        status=status, input_json={"n": 1}, state_json=values.pop("state_json", {}),
        started_at=at, updated_at=at, **values,
    )  # fmt: skip
    return run_id


@pytest.fixture
def wf(engine, tenant):
    with engine.begin() as conn:
        return _workflow(conn, tenant)


# --- runs ----------------------------------------------------------------------------------------


def test_a_run_reads_back_as_a_frozen_typed_row(engine, tenant, other_tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf, trigger_fire_key="event:e1:w")
    with engine.connect() as conn:
        run = runs.load_run(conn, tenant, run_id)
        assert isinstance(run, RunRow)
        assert (run.run_id, run.status, run.input_json) == (run_id, "RUNNING", {"n": 1})
        assert run.started_at == T0 and run.started_at.tzinfo is not None
        assert run.engine == "embedded" and run.trigger_mapping_applied is False
        assert run["status"] == "RUNNING" and run.get("nope", 7) == 7
        assert run.active
        with pytest.raises(dataclasses.FrozenInstanceError):
            run.status = "FAILED"  # type: ignore[misc]
        with pytest.raises(AlgaflowError) as err:
            runs.load_run(conn, other_tenant, run_id)
        assert err.value.code == "RUN_NOT_FOUND"
        assert runs.run_id_by_fire_key(conn, tenant, "event:e1:w") == run_id
        assert runs.run_id_by_fire_key(conn, other_tenant, "event:e1:w") is None
        assert runs.run_status(conn, run_id) == "RUNNING"
        assert runs.run_status(conn, new_id()) is None


def test_update_run_honours_statuses_and_the_lease_owner(engine, tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf, lease_owner="a", lease_expires_at=T0)
        assert not runs.update_run(conn, run_id, only_if=("WAITING",), node_path="x")
        assert not runs.update_run(conn, run_id, owner="b", node_path="x")
        assert runs.update_run(conn, run_id, owner="a", only_if=("RUNNING",), node_path="y")
        assert runs.load_run(conn, tenant, run_id).node_path == "y"


def test_only_one_driver_claims_a_lease_until_it_expires(engine, tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf)
        later = T0 + timedelta(seconds=30)

        def claim(owner, now):
            return runs.claim_run(
                conn, run_id, owner=owner, now=now, lease_owner=owner, lease_expires_at=later
            )

        assert claim("a", T0)
        assert not claim("b", T0 + timedelta(seconds=1))  # a's lease is live
        assert claim("a", T0 + timedelta(seconds=1))  # a renews its own
        assert claim("b", later + timedelta(seconds=1))  # expired: b takes over
        assert runs.load_run(conn, tenant, run_id).lease_owner == "b"
        runs.update_run(conn, run_id, status="WAITING")
        assert not claim("c", later + timedelta(hours=1))  # only RUNNING runs are claimed


def test_listing_counting_and_children(engine, tenant, other_tenant, wf):
    with engine.begin() as conn:
        other_wf = _workflow(conn, other_tenant)
        ids = [_run(conn, tenant, wf, at=T0 + timedelta(minutes=i)) for i in range(3)]
        runs.update_run(conn, ids[0], status="SUCCEEDED")
        child = _run(conn, tenant, wf, status="WAITING", parent_run_id=ids[1])
        _run(conn, tenant, wf, status="FAILED", parent_run_id=ids[1])
        _run(conn, other_tenant, other_wf)
    with engine.connect() as conn:
        assert runs.count_active(conn, wf) == 3  # two RUNNING, one WAITING child
        listed = [r.run_id for r in runs.list_runs(conn, tenant)]
        assert len(listed) == 5 and listed.index(ids[2]) < listed.index(ids[1])
        assert [r.run_id for r in runs.list_runs(conn, tenant, status="SUCCEEDED")] == [ids[0]]
        assert len(runs.list_runs(conn, tenant, limit=0)) == 1  # clamped to at least one
        assert runs.list_runs(conn, tenant, workflow_id=other_wf) == []
        assert [r.run_id for r in runs.active_children(conn, ids[1])] == [child]


def test_orphans_and_parents_whose_child_ended(engine, tenant, wf):
    now = T0 + timedelta(hours=1)
    with engine.begin() as conn:
        orphan = _run(conn, tenant, wf, lease_owner="dead", lease_expires_at=T0)
        _run(conn, tenant, wf, lease_owner="live", lease_expires_at=now + timedelta(minutes=1))
        parent = _run(conn, tenant, wf, status="WAITING")
        _run(conn, tenant, wf, status="SUCCEEDED", parent_run_id=parent)
        busy = _run(conn, tenant, wf, status="WAITING")
        _run(conn, tenant, wf, status="FAILED", parent_run_id=busy)
        _run(conn, tenant, wf, status="WAITING", parent_run_id=busy)
    with engine.connect() as conn:
        assert [r.run_id for r in runs.orphaned_runs(conn, now)] == [orphan]
        assert [r.run_id for r in runs.waiting_parents_of_ended_children(conn)] == [parent]


def test_ending_a_run_closes_its_waits_tasks_and_steps(engine, tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf, status="WAITING")
        wait_id = waits.insert_wait(
            conn, tenant=tenant, run_id=run_id, step_path="root.steps[0]", wait_type="human",
            created_at=T0,
        )  # fmt: skip
        task_id = waits.insert_task(
            conn, tenant=tenant, run_id=run_id, step_path="root.steps[0]", wait_id=wait_id,
            task_type="approval", title="Approve", description=None, context_data={"a": 1},
            created_at=T0,
        )  # fmt: skip
        step = runs.insert_step(
            conn, tenant_id=tenant, run_id=run_id, path="root.steps[0]", step_id="s1",
            status="STARTED", attempt=1, started_at=T0,
        )  # fmt: skip
        error = {"category": "ActionError", "message": "boom"}
        runs.close_open_records(conn, run_id, at=T0, step_status="FAILED", error=error)
        assert [w.status for w in waits.run_waits(conn, run_id)] == ["CANCELED"]
        assert waits.get_task(conn, tenant, task_id).status == "CANCELED"
        (row,) = runs.run_steps(conn, run_id)
        assert (row.step_id, row.status, row.error_json) == (step, "FAILED", error)
        assert not waits.close_wait(conn, wait_id, status="RESOLVED", at=T0)


def test_steps_record_their_duration_and_keep_errors_only_when_failed(engine, tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf)
        error = {"message": "kept only on failure"}
        done = runs.insert_step(
            conn, tenant_id=tenant, run_id=run_id, path="root.steps[0]", step_id="a",
            status="SUCCEEDED", attempt=1, started_at=T0,
            completed_at=T0 + timedelta(milliseconds=1500), error=error,
        )  # fmt: skip
        open_id = runs.insert_step(
            conn, tenant_id=tenant, run_id=run_id, path="root.steps[1]", step_id="b",
            status="STARTED", attempt=2, started_at=T0 + timedelta(seconds=2),
        )  # fmt: skip
        runs.finish_step(
            conn, open_id, status="FAILED", started_at=T0 + timedelta(seconds=2),
            completed_at=T0 + timedelta(seconds=5), error=error,
        )  # fmt: skip
        steps = {s.step_id: s for s in runs.run_steps(conn, run_id)}
    assert (steps[done].duration_ms, steps[done].error_json) == (1500, None)
    assert (steps[open_id].duration_ms, steps[open_id].error_json) == (3000, error)
    assert [s.step_path for s in steps.values()] == ["root.steps[0]", "root.steps[1]"]


def test_logs_read_back_in_order(engine, tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf)
        runs.log(conn, tenant_id=tenant, run_id=run_id, level="INFO", message="one", at=T0)
        runs.insert_logs(
            conn,
            [
                runs.log_row(tenant_id=tenant, run_id=run_id, level="WARN", message=m, at=T0 + d)
                for m, d in (("two", timedelta(seconds=1)), ("three", timedelta(seconds=2)))
            ],
        )
        runs.insert_logs(conn, [])  # nothing to write is no statement at all
        lines = runs.run_logs(conn, run_id)
    assert [(line.level, line.message) for line in lines] == [
        ("INFO", "one"), ("WARN", "two"), ("WARN", "three"),
    ]  # fmt: skip
    assert all(line.source == "runtime" for line in lines)


@given(st.recursive(st.text(max_size=40), lambda kids: st.lists(kids, max_size=40), max_leaves=80))
def test_a_log_context_is_kept_or_replaced_by_a_marker(context):
    size = len(json.dumps(context))
    capped = runs.capped_context(context)
    if size <= runs.MAX_LOG_CONTEXT:
        assert capped == context
    else:
        assert capped == {"truncated": True, "size": size, "max": runs.MAX_LOG_CONTEXT}


def test_an_oversized_log_context_is_stored_as_the_marker(engine, tenant, wf):
    big = {"blob": "x" * (runs.MAX_LOG_CONTEXT + 1)}
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf)
        runs.log(conn, tenant_id=tenant, run_id=run_id, level="INFO", message="m", at=T0,
                 context=big)  # fmt: skip
        (line,) = runs.run_logs(conn, run_id)
    assert line.context_json["truncated"] is True


# --- waits and tasks ------------------------------------------------------------------------------


def test_event_waits_match_tenant_name_key_and_status(engine, tenant, other_tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf, status="WAITING")
        other_run = _run(conn, other_tenant, _workflow(conn, other_tenant))

        def wait(tenant_id, run, name, key, wait_type="event", minutes=0):
            return waits.insert_wait(
                conn, tenant=tenant_id, run_id=run, step_path="root.steps[0]",
                wait_type=wait_type, key=key, event_name=name, payload={"filters": []},
                created_at=T0 + timedelta(minutes=minutes),
            )  # fmt: skip

        second = wait(tenant, run_id, "E", "k1", minutes=2)
        first = wait(tenant, run_id, "E", "k2", wait_type="human", minutes=1)
        wait(tenant, run_id, "E", "k3")
        wait(tenant, run_id, "F", "k1")
        wait(other_tenant, other_run, "E", "k1")
        closed = wait(tenant, run_id, "E", "k1")
        assert waits.close_wait(conn, closed, status="RESOLVED", at=T0, payload={"done": 1})
        found = waits.event_waits(conn, tenant, "E", ["k1", "k2"])
        assert all(isinstance(w, WaitRow) for w in found)
        assert [w.wait_id for w in found] == [first, second]
        assert waits.wait_payload(conn, closed) == {"done": 1}
        assert waits.wait_payload(conn, second) == {"filters": []}


def test_due_waits_are_timed_waits_whose_time_has_come(engine, tenant, wf):
    now = T0 + timedelta(hours=1)
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf, status="WAITING")

        def wait(wait_type, due):
            return waits.insert_wait(
                conn, tenant=tenant, run_id=run_id, step_path="p", wait_type=wait_type,
                timeout_at=due, created_at=T0,
            )  # fmt: skip

        late = wait("event", now - timedelta(minutes=1))
        early = wait("time", now - timedelta(minutes=5))
        wait("retry", now + timedelta(seconds=1))  # not yet
        wait("human", now - timedelta(minutes=9))  # not a timed wait
        wait("time", None)
        assert [w.wait_id for w in waits.due_waits(conn, now)] == [early, late]


def test_a_task_completes_once(engine, tenant, other_tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf, status="WAITING")
        task_id = waits.insert_task(
            conn, tenant=tenant, run_id=run_id, step_path="p", wait_id=new_id(),
            task_type="approval", title="Approve", description="d", context_data=None,
            created_at=T0,
        )  # fmt: skip
        assert waits.get_task(conn, other_tenant, task_id) is None
        assert waits.complete_pending_task(conn, task_id, {"ok": True}, at=T0)
        assert not waits.complete_pending_task(conn, task_id, {"ok": False}, at=T0)
        task = waits.get_task(conn, tenant, task_id)
        assert isinstance(task, TaskRow)
        assert (task.status, task.response_json, task.priority) == (
            "COMPLETED", {"ok": True}, "medium",
        )  # fmt: skip
        assert waits.list_tasks(conn, tenant, status="PENDING") == []
        assert [t.task_id for t in waits.list_tasks(conn, tenant, run_id=run_id)] == [task_id]
        assert waits.list_tasks(conn, other_tenant) == []


# --- invocations and events -----------------------------------------------------------------------


def test_an_invocation_key_has_one_holder_and_attempts_take_over(engine, tenant, wf):
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf)
        claim = dict(
            tenant=tenant, run_id=run_id, step_path="p", action_id="a.b", action_version=1,
            idempotency_key="k", attempt=1, input_json={"x": 1}, now=T0,
        )  # fmt: skip
        first = new_id()
        assert invocations.insert_started(conn, invocation_id=first, **claim)
        assert not invocations.insert_started(conn, invocation_id=new_id(), **claim)
        row = invocations.find_by_key(conn, tenant, "a.b", 1, "k")
        assert isinstance(row, InvocationRow)
        assert (row.invocation_id, row.status, row.attempt) == (first, "STARTED", 1)
        assert invocations.find_by_key(conn, tenant, "a.b", 2, "k") is None
        assert invocations.take_over(conn, row, run_id=run_id, step_path="p", input_json={},
                                     now=T0)  # fmt: skip
        assert not invocations.take_over(
            conn, row, run_id=run_id, step_path="p", input_json={}, now=T0
        )  # stale: attempt moved on
        invocations.finish(conn, first, attempt=1, output={"stale": 1}, error=None,
                           error_message=None, at=T0)  # fmt: skip
        assert invocations.find_by_key(conn, tenant, "a.b", 1, "k").status == "STARTED"
        invocations.finish(conn, first, attempt=2, output={"y": 2}, error=None,
                           error_message=None, at=T0)  # fmt: skip
        done = invocations.find_by_key(conn, tenant, "a.b", 1, "k")
    assert (done.status, done.attempt, done.output_json) == ("SUCCEEDED", 2, {"y": 2})


def test_an_event_id_is_recorded_once_per_tenant(engine, tenant, other_tenant, wf):
    event_id = new_id()
    event = dict(event_id=event_id, event_name="E", correlation_key="k", payload={"p": 1},
                 payload_schema_ref=None, at=T0)  # fmt: skip
    with engine.begin() as conn:
        run_id = _run(conn, tenant, wf)
        assert events.record_event(conn, tenant=tenant, **event)
        assert not events.record_event(conn, tenant=tenant, **event)
        assert events.record_event(conn, tenant=other_tenant, **event)
        events.mark_processed(conn, tenant, event_id, at=T0, matched_run_id=run_id,
                              matched_wait_id=None, error_message=None)  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(workflow_runtime_events.c.tenant, workflow_runtime_events.c.matched_run_id)
        ).all()
    assert sorted((str(t), m and str(m)) for t, m in rows) == sorted(
        [(tenant, run_id), (other_tenant, None)]
    )


def test_only_a_run_refused_at_its_start_has_no_interpreter_state(engine, tenant, wf):
    with engine.begin() as conn:
        live = _run(conn, tenant, wf, state_json={"wait": None})
        refused = _run(conn, tenant, wf, status="FAILED", state_json=None)
        assert runs.load_run(conn, tenant, live).live_state == {"wait": None}
        with pytest.raises(ValueError, match="no interpreter state"):
            runs.load_run(conn, tenant, refused).live_state  # noqa: B018
