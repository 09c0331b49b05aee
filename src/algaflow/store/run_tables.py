"""SQLAlchemy Core tables for runs, steps, waits, action invocations, logs, events and tasks.

Column names follow Alga PSA's run tables (reference §6.3) so that a reader of Alga's schema finds
the same fields. Two additions carry what Alga keeps inside Temporal: ``workflow_runs.state_json``
(the interpreter state, written after every step so a killed process resumes) and
``final_vars_json``.
Every table carries ``tenant``; every run-id lookup filters on it.
"""

from __future__ import annotations

import sqlalchemy as sa

from .tables import metadata
from .types import JSONType, UTCDateTime, UUIDType


def _tenant() -> sa.Column:
    return sa.Column(
        "tenant", UUIDType, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _run_fk() -> sa.Column:
    return sa.Column(
        "run_id",
        UUIDType,
        sa.ForeignKey("workflow_runs.run_id", ondelete="CASCADE"),
        nullable=False,
    )


workflow_runs = sa.Table(
    "workflow_runs",
    metadata,
    sa.Column("run_id", UUIDType, primary_key=True),
    _tenant(),
    sa.Column(
        "workflow_id",
        UUIDType,
        sa.ForeignKey("workflow_definitions.workflow_id", ondelete="CASCADE"),
        nullable=False,
    ),
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
    sa.Column("dispatched_at", UTCDateTime, nullable=True),
    sa.Index("ix_workflow_runs_tenant_status", "tenant", "status"),
    sa.Index("ix_workflow_runs_engine_status", "engine", "status"),
    sa.Index("ix_workflow_runs_workflow_status", "workflow_id", "status", "updated_at"),
    sa.Index("ix_workflow_runs_parent_run_id", "parent_run_id"),
    sa.Index(
        "uq_workflow_runs_trigger_fire_key",
        "tenant",
        "trigger_fire_key",
        unique=True,
        postgresql_where=sa.text("trigger_fire_key IS NOT NULL"),
        sqlite_where=sa.text("trigger_fire_key IS NOT NULL"),
    ),
)

workflow_run_steps = sa.Table(
    "workflow_run_steps",
    metadata,
    sa.Column("step_id", UUIDType, primary_key=True),
    _tenant(),
    _run_fk(),
    sa.Column("step_path", sa.Text, nullable=False),
    sa.Column("definition_step_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    # A 30-day wait overflows 32 bits; SQLite's INTEGER is 64-bit already.
    sa.Column("duration_ms", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
    sa.Column("error_json", JSONType, nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Index("ix_workflow_run_steps_run_id_step_path", "run_id", "step_path"),
)

workflow_run_waits = sa.Table(
    "workflow_run_waits",
    metadata,
    sa.Column("wait_id", UUIDType, primary_key=True),
    _tenant(),
    _run_fk(),
    sa.Column("step_path", sa.Text, nullable=False),
    sa.Column("wait_type", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=True),
    sa.Column("event_name", sa.Text, nullable=True),
    sa.Column("timeout_at", UTCDateTime, nullable=True),
    sa.Column("status", sa.Text, nullable=False, server_default="WAITING"),
    sa.Column("payload", JSONType, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("outcome_json", JSONType, nullable=True),
    sa.Index("ix_workflow_run_waits_type_status", "wait_type", "status", "timeout_at"),
    sa.Index("ix_workflow_run_waits_event", "tenant", "event_name", "key", "status"),
    sa.Index("ix_workflow_run_waits_run_id", "run_id", "status"),
)

workflow_action_invocations = sa.Table(
    "workflow_action_invocations",
    metadata,
    sa.Column("invocation_id", UUIDType, primary_key=True),
    _tenant(),
    _run_fk(),
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
    sa.UniqueConstraint(
        "tenant",
        "action_id",
        "action_version",
        "idempotency_key",
        name="uq_workflow_action_invocations_key",
    ),
    sa.Index("ix_workflow_action_invocations_run_id_step_path", "run_id", "step_path"),
)

workflow_run_logs = sa.Table(
    "workflow_run_logs",
    metadata,
    sa.Column("log_id", UUIDType, primary_key=True),
    _tenant(),
    _run_fk(),
    # The workflow_run_steps row the line is about (no foreign key, like Alga); null for run lines.
    sa.Column("step_id", UUIDType, nullable=True),
    sa.Column("step_path", sa.Text, nullable=True),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("context_json", JSONType, nullable=True),
    sa.Column("correlation_key", sa.Text, nullable=True),
    sa.Column("event_name", sa.Text, nullable=True),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_workflow_run_logs_run_id_created_at", "run_id", "created_at"),
    sa.Index("ix_workflow_run_logs_run_id_level", "run_id", "level"),
    sa.Index("ix_workflow_run_logs_tenant_created_at", "tenant", "created_at"),
)

# An event id is the sender's idempotency key, unique per tenant: another tenant may use the same.
workflow_runtime_events = sa.Table(
    "workflow_runtime_events",
    metadata,
    sa.Column(
        "tenant", UUIDType, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("event_id", UUIDType, primary_key=True),
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
    sa.Index("ix_workflow_runtime_events_tenant_created_at", "tenant", "created_at"),
)

workflow_tasks = sa.Table(
    "workflow_tasks",
    metadata,
    sa.Column("task_id", UUIDType, primary_key=True),
    _tenant(),
    _run_fk(),
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
    sa.Index("ix_workflow_tasks_tenant_status", "tenant", "status"),
)
