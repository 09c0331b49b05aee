"""Runs record when their backend took them, and are found by backend.

``workflow_runs.engine`` already names the backend that executes a run (``embedded`` or
``temporal``). A Temporal run is two writes: its row, then the start of its Temporal workflow.
``dispatched_at`` is set by the second, so a run whose start was lost between the two (a process
died) is found and started again; the index serves the workers' "my backend's active runs" scans.

A wait keeps the outcome it was resolved with (``outcome_json``) when its run is a Temporal
workflow: the outcome reaches the workflow as a signal after the commit, and a signal lost to a
crash in between is sent again from it.

A step's ``duration_ms`` becomes a 64-bit integer: a ``time.wait`` of 25 days or more overflowed it
on PostgreSQL when its step row was finished. SQLite's INTEGER is 64-bit already, so its table is
not rebuilt for that.

Revision ID: 0005_run_backend
Revises: 0004_run_log_steps
"""

import sqlalchemy as sa
from alembic import op

from algaflow.store.types import JSONType, UTCDateTime

revision = "0005_run_backend"
down_revision = "0004_run_log_steps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_runs") as batch:
        batch.add_column(sa.Column("dispatched_at", UTCDateTime, nullable=True))
    op.create_index("ix_workflow_runs_engine_status", "workflow_runs", ["engine", "status"])
    _duration_type(sa.BigInteger())
    with op.batch_alter_table("workflow_run_waits") as batch:
        batch.add_column(sa.Column("outcome_json", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workflow_run_waits") as batch:
        batch.drop_column("outcome_json")
    _duration_type(sa.Integer())
    op.drop_index("ix_workflow_runs_engine_status", table_name="workflow_runs")
    with op.batch_alter_table("workflow_runs") as batch:
        batch.drop_column("dispatched_at")


def _duration_type(type_: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("workflow_run_steps", "duration_ms", type_=type_, existing_nullable=True)
