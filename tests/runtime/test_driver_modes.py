"""The driver's two modes: the in-transaction one (services creating runs and resolving waits in
their own transaction) never commits and cannot drive; only the durable one drives (both
databases)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from algaflow.runtime.embedded.driver import Driver, Launch
from algaflow.store.run_tables import workflow_runs
from algaflow.store.workflows import get_version, get_workflow

from .conftest import call, publish


def _runs(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(workflow_runs)).scalar_one()


def test_an_in_transaction_driver_writes_only_what_its_caller_commits(engine, tenant, registry):
    with engine.begin() as conn:
        workflow_id = publish(conn, tenant, [call("a")])
    with engine.connect() as conn, conn.begin() as outer:
        workflow = get_workflow(conn, tenant, workflow_id)
        version = get_version(conn, tenant, workflow_id, 1)
        driver = Driver(conn, registry)
        driver.create_run(tenant, workflow, version, {}, Launch(trigger_type="manual"))
        outer.rollback()
    assert _runs(engine) == 0


def test_an_in_transaction_driver_refuses_to_drive(engine, tenant, registry, actions):
    with engine.begin() as conn:
        workflow_id = publish(conn, tenant, [call("a")])
        workflow = get_workflow(conn, tenant, workflow_id)
        version = get_version(conn, tenant, workflow_id, 1)
        run_id = Driver(conn, registry).create_run(tenant, workflow, version, {})
        with pytest.raises(RuntimeError, match="durable"):
            Driver(conn, registry).drive(tenant, run_id)
        with pytest.raises(RuntimeError, match="durable"):
            Driver(conn, registry).resume_parent(tenant, run_id)
    assert actions.called("test.echo") == []
    assert _runs(engine) == 1
