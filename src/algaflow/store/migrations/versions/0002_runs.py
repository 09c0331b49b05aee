"""Runs, run steps, waits, action invocations, run logs, runtime events and human tasks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from algaflow.store.types import JSONType, UTCDateTime, UUIDType

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant"], ["tenants.id"], name=f"fk_{table}_tenant", ondelete="CASCADE"
    )


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["workflow_runs.run_id"], name=f"fk_{table}_run_id", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "workflow_runs",
        sa.Column("run_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("workflow_id", UUIDType, nullable=False),
        sa.Column("workflow_version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("node_path", sa.Text, nullable=True),
        sa.Column("input_json", JSONType, nullable=True),
        sa.Column("error_json", JSONType, nullable=True),
        sa.Column("state_json", JSONType, nullable=True),
        sa.Column("final_vars_json", JSONType, nullable=True),
        sa.Column("event_type", sa.Text, nullable=True),
        sa.Column("source_payload_schema_ref", sa.Text, nullable=True),
        sa.Column("trigger_mapping_applied", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("trigger_type", sa.Text, nullable=True),
        sa.Column("trigger_metadata_json", JSONType, nullable=True),
        sa.Column("trigger_fire_key", sa.Text, nullable=True),
        sa.Column("engine", sa.Text, nullable=False, server_default="embedded"),
        sa.Column("definition_hash", sa.Text, nullable=True),
        sa.Column("runtime_semantics_version", sa.Text, nullable=True),
        sa.Column("parent_run_id", UUIDType, nullable=True),
        sa.Column("root_run_id", UUIDType, nullable=True),
        sa.Column("lease_owner", sa.Text, nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_workflow_runs"),
        _tenant_fk("workflow_runs"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.workflow_id"],
            name="fk_workflow_runs_workflow_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_workflow_runs_tenant_status", "workflow_runs", ["tenant", "status"])
    op.create_index(
        "ix_workflow_runs_workflow_status",
        "workflow_runs",
        ["workflow_id", "status", "updated_at"],
    )
    op.create_index("ix_workflow_runs_parent_run_id", "workflow_runs", ["parent_run_id"])
    op.create_index(
        "uq_workflow_runs_trigger_fire_key",
        "workflow_runs",
        ["tenant", "trigger_fire_key"],
        unique=True,
        postgresql_where=sa.text("trigger_fire_key IS NOT NULL"),
        sqlite_where=sa.text("trigger_fire_key IS NOT NULL"),
    )

    op.create_table(
        "workflow_run_steps",
        sa.Column("step_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("run_id", UUIDType, nullable=False),
        sa.Column("step_path", sa.Text, nullable=False),
        sa.Column("definition_step_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("duration_ms", sa.Integer, nullable=True),
        sa.Column("error_json", JSONType, nullable=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("step_id", name="pk_workflow_run_steps"),
        _tenant_fk("workflow_run_steps"),
        _run_fk("workflow_run_steps"),
    )
    op.create_index(
        "ix_workflow_run_steps_run_id_step_path", "workflow_run_steps", ["run_id", "step_path"]
    )

    op.create_table(
        "workflow_run_waits",
        sa.Column("wait_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("run_id", UUIDType, nullable=False),
        sa.Column("step_path", sa.Text, nullable=False),
        sa.Column("wait_type", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=True),
        sa.Column("event_name", sa.Text, nullable=True),
        sa.Column("timeout_at", UTCDateTime, nullable=True),
        sa.Column("status", sa.Text, nullable=False, server_default="WAITING"),
        sa.Column("payload", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("wait_id", name="pk_workflow_run_waits"),
        _tenant_fk("workflow_run_waits"),
        _run_fk("workflow_run_waits"),
    )
    op.create_index(
        "ix_workflow_run_waits_type_status",
        "workflow_run_waits",
        ["wait_type", "status", "timeout_at"],
    )
    op.create_index(
        "ix_workflow_run_waits_event",
        "workflow_run_waits",
        ["tenant", "event_name", "key", "status"],
    )
    op.create_index("ix_workflow_run_waits_run_id", "workflow_run_waits", ["run_id", "status"])

    op.create_table(
        "workflow_action_invocations",
        sa.Column("invocation_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("run_id", UUIDType, nullable=False),
        sa.Column("step_path", sa.Text, nullable=False),
        sa.Column("action_id", sa.Text, nullable=False),
        sa.Column("action_version", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("input_json", JSONType, nullable=True),
        sa.Column("output_json", JSONType, nullable=True),
        sa.Column("error_json", JSONType, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("invocation_id", name="pk_workflow_action_invocations"),
        _tenant_fk("workflow_action_invocations"),
        _run_fk("workflow_action_invocations"),
        sa.UniqueConstraint(
            "tenant",
            "action_id",
            "action_version",
            "idempotency_key",
            name="uq_workflow_action_invocations_key",
        ),
    )
    op.create_index(
        "ix_workflow_action_invocations_run_id_step_path",
        "workflow_action_invocations",
        ["run_id", "step_path"],
    )

    op.create_table(
        "workflow_run_logs",
        sa.Column("log_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("run_id", UUIDType, nullable=False),
        sa.Column("step_path", sa.Text, nullable=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("context_json", JSONType, nullable=True),
        sa.Column("correlation_key", sa.Text, nullable=True),
        sa.Column("event_name", sa.Text, nullable=True),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("log_id", name="pk_workflow_run_logs"),
        _tenant_fk("workflow_run_logs"),
        _run_fk("workflow_run_logs"),
    )
    op.create_index(
        "ix_workflow_run_logs_run_id_created_at", "workflow_run_logs", ["run_id", "created_at"]
    )

    op.create_table(
        "workflow_runtime_events",
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("event_id", UUIDType, nullable=False),
        sa.Column("event_name", sa.Text, nullable=False),
        sa.Column("correlation_key", sa.Text, nullable=True),
        sa.Column("payload", JSONType, nullable=True),
        sa.Column("payload_schema_ref", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("processed_at", UTCDateTime, nullable=True),
        sa.Column("matched_run_id", UUIDType, nullable=True),
        sa.Column("matched_wait_id", UUIDType, nullable=True),
        sa.Column("matched_step_path", sa.Text, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("tenant", "event_id", name="pk_workflow_runtime_events"),
        _tenant_fk("workflow_runtime_events"),
    )
    op.create_index(
        "ix_workflow_runtime_events_tenant_created_at",
        "workflow_runtime_events",
        ["tenant", "created_at"],
    )

    op.create_table(
        "workflow_tasks",
        sa.Column("task_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("run_id", UUIDType, nullable=False),
        sa.Column("step_path", sa.Text, nullable=False),
        sa.Column("wait_id", UUIDType, nullable=True),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False, server_default="medium"),
        sa.Column("context_data", JSONType, nullable=True),
        sa.Column("response_json", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("task_id", name="pk_workflow_tasks"),
        _tenant_fk("workflow_tasks"),
        _run_fk("workflow_tasks"),
    )
    op.create_index("ix_workflow_tasks_tenant_status", "workflow_tasks", ["tenant", "status"])


def downgrade() -> None:
    for table in (
        "workflow_tasks",
        "workflow_runtime_events",
        "workflow_run_logs",
        "workflow_action_invocations",
        "workflow_run_waits",
        "workflow_run_steps",
        "workflow_runs",
    ):
        op.drop_table(table)
