"""SQLAlchemy Core tables for tenants, API keys and workflow definitions.

Column names follow Alga PSA's ``workflow_definitions`` / ``workflow_definition_versions`` so that a
reader of Alga's schema finds the same fields here. Run records live in :mod:`.run_tables`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from .types import JSONType, UTCDateTime, UUIDType

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", UUIDType, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", UUIDType, primary_key=True),
    sa.Column("tenant", UUIDType, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    # The first characters of the secret, for humans telling keys apart in listings; a request's
    # key is found by key_hash.
    sa.Column("prefix", sa.String(16), nullable=False, index=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("permissions", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

workflow_definitions = sa.Table(
    "workflow_definitions",
    metadata,
    sa.Column("workflow_id", UUIDType, primary_key=True),
    sa.Column("tenant", UUIDType, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
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
    sa.Index(
        "uq_workflow_definitions_tenant_key",
        "tenant",
        "key",
        unique=True,
        postgresql_where=sa.text("key IS NOT NULL"),
        sqlite_where=sa.text("key IS NOT NULL"),
    ),
    sa.Index("ix_workflow_definitions_tenant_status", "tenant", "status"),
    sa.Index("ix_workflow_definitions_tenant_updated_at", "tenant", "updated_at"),
)

workflow_definition_versions = sa.Table(
    "workflow_definition_versions",
    metadata,
    sa.Column("version_id", UUIDType, primary_key=True),
    sa.Column("tenant", UUIDType, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "workflow_id",
        UUIDType,
        sa.ForeignKey("workflow_definitions.workflow_id", ondelete="CASCADE"),
        nullable=False,
    ),
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
    sa.UniqueConstraint(
        "tenant", "workflow_id", "version", name="uq_workflow_definition_versions_version"
    ),
)


# --- the event name a trigger listens to (indexed) ------------------------------------------------


class JsonText(ColumnElement[str]):
    """The text at ``path`` (object keys) inside a JSON column, written the way migration 0003's
    expression indexes are, so the databases can use them: ``json_extract(col, '$.a.b')`` on
    SQLite, ``(col -> 'a') ->> 'b'`` on PostgreSQL. Keys are literals, never bound parameters
    (a parameter would not match the indexed expression)."""

    type = sa.Text()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012  # SQLAlchemy declares it as an instance variable
        ("column", InternalTraversal.dp_clauseelement),
        ("path", InternalTraversal.dp_string_list),
    ]

    def __init__(self, column: sa.ColumnElement[Any], *path: str) -> None:
        if not path or not all(p.isidentifier() for p in path):
            raise ValueError(f"JSON path keys must be identifiers: {path!r}")
        self.column = column
        self.path = list(path)


@compiles(JsonText)
def _json_text_default(element: JsonText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"json_extract({column}, '$.{'.'.join(element.path)}')"


@compiles(JsonText, "postgresql")
def _json_text_postgresql(element: JsonText, compiler: Any, **kw: Any) -> str:
    sql = compiler.process(element.column, **kw)
    *objects, leaf = element.path
    for key in objects:
        sql = f"({sql} -> '{key}')"
    return f"({sql} ->> '{leaf}')"


def version_trigger_event() -> JsonText:
    """``definition_json.trigger.eventName`` of a published version (index
    ``ix_workflow_definition_versions_trigger_event``)."""
    return JsonText(workflow_definition_versions.c.definition_json, "trigger", "eventName")


def workflow_trigger_event() -> JsonText:
    """``trigger.eventName`` of a workflow row (index ``ix_workflow_definitions_trigger_event``)."""
    return JsonText(workflow_definitions.c.trigger, "eventName")
