"""Typed rows of the workflow tables and the one mapping to Alga's camelCase fields.

Fields are named like the columns. ``to_view`` gives the public JSON shape (the HTTP API and
``--json``); bundle export and import use :data:`WORKFLOW_FIELDS` for the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from algaflow.kernel.storable import format_threshold

#: Alga's camelCase field -> the column (and row field) it names: the one mapping, used by the
#: views, metadata updates, bundle export and bundle import alike.
WORKFLOW_FIELDS: dict[str, str] = {
    "workflowId": "workflow_id",
    "key": "key",
    "name": "name",
    "description": "description",
    "payloadSchemaRef": "payload_schema_ref",
    "payloadSchemaMode": "payload_schema_mode",
    "pinnedPayloadSchemaRef": "pinned_payload_schema_ref",
    "trigger": "trigger",
    "status": "status",
    "draftVersion": "draft_version",
    "publishedVersion": "published_version",
    "isSystem": "is_system",
    "isVisible": "is_visible",
    "isPaused": "is_paused",
    "concurrencyLimit": "concurrency_limit",
    "autoPauseOnFailure": "auto_pause_on_failure",
    "failureRateThreshold": "failure_rate_threshold",
    "failureRateMinRuns": "failure_rate_min_runs",
    "retentionPolicyOverride": "retention_policy_override",
    "validationStatus": "validation_status",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "draftDefinition": "draft_definition",
    "validationErrors": "validation_errors",
    "validationWarnings": "validation_warnings",
}
#: Metadata fields a user may change (a subset of :data:`WORKFLOW_FIELDS`).
METADATA_FIELDS: dict[str, str] = {
    name: WORKFLOW_FIELDS[name]
    for name in (
        "isPaused",
        "isVisible",
        "concurrencyLimit",
        "autoPauseOnFailure",
        "failureRateThreshold",
        "failureRateMinRuns",
        "retentionPolicyOverride",
        "payloadSchemaMode",
        "pinnedPayloadSchemaRef",
    )
}
#: Fields only the full (``with_draft``) view shows.
_DRAFT_VIEW_FIELDS = ("draftDefinition", "validationErrors", "validationWarnings")


# --- typed rows ---------------------------------------------------------------------------------


class _Row:
    """Read-only ``row["column"]`` access, for callers not yet moved to attributes."""

    def __getitem__(self, name: str) -> Any:
        if name not in self._names():
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in self._names() else default

    @classmethod
    def _names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_mapping(cls, values: Mapping[Any, Any]) -> Self:
        """The row from a result mapping (columns not selected are left at their defaults)."""
        return cls(**{name: values[name] for name in cls._names() if name in values})


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class WorkflowRow(_Row):
    """One ``workflow_definitions`` row, plus its highest published version where read."""

    workflow_id: str
    tenant: str
    key: str
    name: str
    description: str | None
    payload_schema_ref: str
    payload_schema_mode: str
    pinned_payload_schema_ref: str | None
    payload_schema_provenance: str | None
    trigger: dict[str, Any] | None
    draft_definition: dict[str, Any]
    draft_version: int
    status: str
    is_system: bool
    is_visible: bool
    is_paused: bool
    concurrency_limit: int | None
    auto_pause_on_failure: bool
    failure_rate_threshold: Decimal | None
    failure_rate_min_runs: int | None
    retention_policy_override: dict[str, Any] | None
    validation_status: str | None
    validation_errors: list[Any] | None
    validation_warnings: list[Any] | None
    validated_at: datetime | None
    validation_context_json: dict[str, Any] | None
    validation_payload_schema_hash: str | None
    created_by: str | None
    updated_by: str | None
    created_at: datetime
    updated_at: datetime
    published_version: int | None = None

    _FORMATTED: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "failureRateThreshold": format_threshold,
        "createdAt": _iso,
        "updatedAt": _iso,
    }

    def camel(self, names: Iterable[str]) -> dict[str, Any]:
        """The stored values of the camelCase fields ``names`` (unformatted)."""
        return {name: getattr(self, WORKFLOW_FIELDS[name]) for name in names}

    def to_view(self, *, with_draft: bool = False) -> dict[str, Any]:
        """Alga's JSON shape of a workflow (thresholds as ``"0.50"``, times in ISO 8601)."""
        names = [n for n in WORKFLOW_FIELDS if with_draft or n not in _DRAFT_VIEW_FIELDS]
        view = self.camel(names)
        for name, format_value in self._FORMATTED.items():
            view[name] = format_value(view[name])
        return view


@dataclass(frozen=True)
class VersionRow(_Row):
    """One immutable ``workflow_definition_versions`` row."""

    version_id: str
    tenant: str
    workflow_id: str
    version: int
    definition_json: dict[str, Any]
    payload_schema_json: dict[str, Any] | None
    published_by: str | None
    published_at: datetime | None
    validation_status: str | None
    validation_errors: list[Any] | None
    validation_warnings: list[Any] | None
    validated_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def to_view(self, *, with_definition: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {
            "workflowId": self.workflow_id,
            "version": self.version,
            "publishedAt": _iso(self.published_at),
            "validationStatus": self.validation_status,
        }
        if with_definition:
            view["definition"] = self.definition_json
            view["payloadSchemaJson"] = self.payload_schema_json
            view["validationWarnings"] = self.validation_warnings
        return view
