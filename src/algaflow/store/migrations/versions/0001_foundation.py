"""Tenants, API keys, workflow definitions and their published versions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from algaflow.store.types import JSONType, UTCDateTime, UUIDType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", UUIDType, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("permissions", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["tenant"], ["tenants.id"], name="fk_api_keys_tenant", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "workflow_definitions",
        sa.Column("workflow_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("payload_schema_ref", sa.Text, nullable=False),
        sa.Column("payload_schema_mode", sa.Text, nullable=False, server_default="pinned"),
        sa.Column("pinned_payload_schema_ref", sa.Text, nullable=True),
        sa.Column("payload_schema_provenance", sa.Text, nullable=True),
        sa.Column("trigger", JSONType, nullable=True),
        sa.Column("draft_definition", JSONType, nullable=False),
        sa.Column("draft_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.Text, nullable=False, server_default="draft"),
        sa.Column("is_system", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_visible", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("is_paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("concurrency_limit", sa.Integer, nullable=True),
        sa.Column("auto_pause_on_failure", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failure_rate_threshold", sa.Numeric(5, 2), nullable=True, server_default="0.50"),
        sa.Column("failure_rate_min_runs", sa.Integer, nullable=True, server_default="10"),
        sa.Column("retention_policy_override", JSONType, nullable=True),
        sa.Column("validation_status", sa.Text, nullable=True),
        sa.Column("validation_errors", JSONType, nullable=True),
        sa.Column("validation_warnings", JSONType, nullable=True),
        sa.Column("validated_at", UTCDateTime, nullable=True),
        sa.Column("validation_context_json", JSONType, nullable=True),
        sa.Column("validation_payload_schema_hash", sa.Text, nullable=True),
        sa.Column("created_by", UUIDType, nullable=True),
        sa.Column("updated_by", UUIDType, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", name="pk_workflow_definitions"),
        sa.ForeignKeyConstraint(
            ["tenant"],
            ["tenants.id"],
            name="fk_workflow_definitions_tenant",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "uq_workflow_definitions_tenant_key",
        "workflow_definitions",
        ["tenant", "key"],
        unique=True,
        postgresql_where=sa.text("key IS NOT NULL"),
        sqlite_where=sa.text("key IS NOT NULL"),
    )
    op.create_index(
        "ix_workflow_definitions_tenant_status", "workflow_definitions", ["tenant", "status"]
    )
    op.create_index(
        "ix_workflow_definitions_tenant_updated_at",
        "workflow_definitions",
        ["tenant", "updated_at"],
    )
    op.create_table(
        "workflow_definition_versions",
        sa.Column("version_id", UUIDType, nullable=False),
        sa.Column("tenant", UUIDType, nullable=False),
        sa.Column("workflow_id", UUIDType, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition_json", JSONType, nullable=False),
        sa.Column("payload_schema_json", JSONType, nullable=True),
        sa.Column("published_by", UUIDType, nullable=True),
        sa.Column("published_at", UTCDateTime, nullable=True),
        sa.Column("validation_status", sa.Text, nullable=True),
        sa.Column("validation_errors", JSONType, nullable=True),
        sa.Column("validation_warnings", JSONType, nullable=True),
        sa.Column("validated_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_workflow_definition_versions"),
        sa.ForeignKeyConstraint(
            ["tenant"],
            ["tenants.id"],
            name="fk_workflow_definition_versions_tenant",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow_definitions.workflow_id"],
            name="fk_workflow_definition_versions_workflow_id",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "tenant", "workflow_id", "version", name="uq_workflow_definition_versions_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("workflow_definition_versions")
    op.drop_table("workflow_definitions")
    op.drop_table("api_keys")
    op.drop_table("tenants")
