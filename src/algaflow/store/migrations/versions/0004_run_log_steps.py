"""Run logs get Alga's ``step_id`` column and its two other indexes.

A client that reads Alga's ``workflow_run_logs`` selects ``step_id`` (the ``workflow_run_steps``
row a log line is about) and filters by level or by tenant and time; without the column its query
fails. The column is nullable (run-level lines have no step) and has no foreign key, like Alga's.

Revision ID: 0004_run_log_steps
Revises: 0003_trigger_event
"""

import sqlalchemy as sa
from alembic import op

from algaflow.store.types import UUIDType

revision = "0004_run_log_steps"
down_revision = "0003_trigger_event"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_run_logs") as batch:
        batch.add_column(sa.Column("step_id", UUIDType, nullable=True))
    op.create_index("ix_workflow_run_logs_run_id_level", "workflow_run_logs", ["run_id", "level"])
    op.create_index(
        "ix_workflow_run_logs_tenant_created_at", "workflow_run_logs", ["tenant", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_workflow_run_logs_tenant_created_at", table_name="workflow_run_logs")
    op.drop_index("ix_workflow_run_logs_run_id_level", table_name="workflow_run_logs")
    with op.batch_alter_table("workflow_run_logs") as batch:
        batch.drop_column("step_id")
