"""The public JSON shape of workflows and versions, shared by the HTTP API and ``--json``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def format_threshold(value: Decimal | None) -> str | None:
    """NUMERIC(5,2) as the string PostgreSQL (and so Alga) prints: ``0.50``."""
    return None if value is None else f"{Decimal(value):.2f}"


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def workflow_view(row: dict[str, Any], *, with_draft: bool = False) -> dict[str, Any]:
    view = {
        "workflowId": row["workflow_id"],
        "key": row["key"],
        "name": row["name"],
        "description": row["description"],
        "payloadSchemaRef": row["payload_schema_ref"],
        "payloadSchemaMode": row["payload_schema_mode"],
        "pinnedPayloadSchemaRef": row["pinned_payload_schema_ref"],
        "trigger": row["trigger"],
        "status": row["status"],
        "draftVersion": row["draft_version"],
        "publishedVersion": row.get("published_version"),
        "isSystem": row["is_system"],
        "isVisible": row["is_visible"],
        "isPaused": row["is_paused"],
        "concurrencyLimit": row["concurrency_limit"],
        "autoPauseOnFailure": row["auto_pause_on_failure"],
        "failureRateThreshold": format_threshold(row["failure_rate_threshold"]),
        "failureRateMinRuns": row["failure_rate_min_runs"],
        "retentionPolicyOverride": row["retention_policy_override"],
        "validationStatus": row["validation_status"],
        "createdAt": _iso(row["created_at"]),
        "updatedAt": _iso(row["updated_at"]),
    }
    if with_draft:
        view["draftDefinition"] = row["draft_definition"]
        view["validationErrors"] = row["validation_errors"]
        view["validationWarnings"] = row["validation_warnings"]
    return view


def version_view(row: dict[str, Any], *, with_definition: bool = False) -> dict[str, Any]:
    view = {
        "workflowId": row["workflow_id"],
        "version": row["version"],
        "publishedAt": _iso(row["published_at"]),
        "validationStatus": row["validation_status"],
    }
    if with_definition:
        view["definition"] = row["definition_json"]
        view["payloadSchemaJson"] = row["payload_schema_json"]
        view["validationWarnings"] = row["validation_warnings"]
    return view
