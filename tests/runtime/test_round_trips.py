"""Database round trips per step stay where they were brought (statements plus commits).

The marginal cost of one more ``forEach`` item is counted, so what a run costs once (claim,
program load, finish) does not blur it: an assign step and an action step per item. On
PostgreSQL a step's row, its log lines, the action's invocation end and the run's state travel in
one statement; SQLite has no data-modifying CTEs and also counts its ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from algaflow.runtime.embedded.driver import Driver
from algaflow.services.due_work import drive_runs
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.run_tables import workflow_run_steps
from algaflow.store.workflows import get_version, get_workflow

from .conftest import assign, call, expr, publish

#: Round trips per step (one assign and one action per item), by dialect.
CEILING = {"postgresql": 3.0, "sqlite": 7.0}


@contextmanager
def counting(engine: Engine) -> Iterator[list[int]]:
    count = [0]

    def bump(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", bump)
    event.listen(engine, "commit", bump)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", bump)
        event.remove(engine, "commit", bump)


def drive_items(engine: Engine, tenant: str, registry: Any, items: int) -> tuple[int, int]:
    """Round trips and step rows of driving a run of ``items`` forEach items."""
    body = [
        assign("a", vars__last="vars.item * 2"),
        call("c", inputMapping={"n": expr("vars.last")}),
    ]
    each = {"id": "each", "type": "control.forEach", "items": expr(f"[1..{items}]"),
            "itemVar": "item", "body": body}  # fmt: skip
    with engine.begin() as conn:
        wf = publish(conn, tenant, [each], key=f"trips-{items}")
        workflow = get_workflow(conn, tenant, wf)
        run_id = Driver(conn, registry).create_run(
            tenant, workflow, get_version(conn, tenant, wf, 1), {}
        )
    with counting(engine) as count:
        drive_runs(UnitOfWork(engine), tenant, [run_id], registry=registry)
    with engine.connect() as conn:
        steps = conn.execute(
            sa.select(sa.func.count()).where(workflow_run_steps.c.run_id == run_id)
        ).scalar_one()
    return count[0], int(steps)


def test_a_step_costs_no_more_round_trips_than_its_ceiling(engine, tenant, registry, actions):
    few_trips, few_steps = drive_items(engine, tenant, registry, 5)
    many_trips, many_steps = drive_items(engine, tenant, registry, 25)
    assert many_steps - few_steps == 40
    per_step = (many_trips - few_trips) / (many_steps - few_steps)
    assert per_step <= CEILING[engine.dialect.name]
    assert len(actions.called("test.echo")) == 30


@pytest.mark.parametrize("items", [3])
def test_the_step_records_written_together_are_all_there(engine, tenant, registry, actions, items):
    """What travels in one statement lands: steps ended, invocations ended, one log per edge."""
    drive_items(engine, tenant, registry, items)
    with engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT status FROM workflow_run_steps")).scalars().all()
        invocations = (
            conn.execute(sa.text("SELECT status FROM workflow_action_invocations")).scalars().all()
        )
        logs = conn.execute(sa.text("SELECT count(*) FROM workflow_run_logs")).scalar_one()
        run = conn.execute(sa.text("SELECT status FROM workflow_runs")).scalar_one()
    assert run == "SUCCEEDED"
    assert statuses and set(statuses) == {"SUCCEEDED"}
    assert invocations == ["SUCCEEDED"] * items
    assert logs >= 2 * len(statuses)
