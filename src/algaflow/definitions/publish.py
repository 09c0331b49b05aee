"""Publish (reference §5.1), the pure part: choose the version, prepare and validate the candidate.

Validation problems are an ordinary result (``{"ok": False, "errors", "warnings"}``) and nothing
is written; only bad *input* (a malformed version number) is an
:class:`~algaflow.kernel.errors.AlgaflowError`. The use case, which reads the workflow and writes
the version, is ``algaflow.services.definitions.publish``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.storable import INT4_MAX

from . import codes
from .validation import PublishIssue, issue, payload_schema_snapshot, validate_definition

if TYPE_CHECKING:
    from algaflow.registry import Registry

TIME_TRIGGER_TYPES = ("schedule", "recurring")


def requested_version(version: Any) -> int | None:
    """A version given as a number or a numeric string (Alga accepts both); ``None`` if absent."""
    if version is None:
        return None
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version.strip())
    elif isinstance(version, float) and version.is_integer():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= INT4_MAX:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"version must be a positive integer, got {version!r}",
            details={"field": "version"},
        )
    return version


def strip_time_trigger(definition: dict[str, Any]) -> None:
    """Inline schedule/recurring triggers are obsolete: remove them (time starts are schedules)."""
    trigger = definition.get("trigger")
    if isinstance(trigger, dict) and trigger.get("type") in TIME_TRIGGER_TYPES:
        del definition["trigger"]


def apply_payload_schema_mode(
    definition: dict[str, Any], mode: str, event_catalog: Mapping[str, str] | None = None
) -> PublishIssue | None:
    """In ``inferred`` mode take ``payloadSchemaRef`` from the event trigger (edits in place).

    Returns the ``PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER`` error when there is no event
    trigger to infer from. ``pinned`` mode leaves the definition alone.
    """
    if mode != "inferred":
        return None
    trigger = definition.get("trigger")
    event_name = trigger.get("eventName") if isinstance(trigger, dict) else None
    if not isinstance(trigger, dict) or trigger.get("type") != "event" or not event_name:
        return issue(
            codes.PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER,
            "root",
            "Payload schema mode 'inferred' needs an event trigger with an event name; "
            "pin a payload schema instead",
        )
    inferred = trigger.get("sourcePayloadSchemaRef") or (
        (event_catalog or {}).get(event_name) if isinstance(event_name, str) else None
    )
    if inferred:
        definition["payloadSchemaRef"] = inferred
    return None


def validate_for_publish(
    definition: Any,
    registry: Registry,
    *,
    payload_schema_mode: str = "pinned",
    event_catalog: Mapping[str, str] | None = None,
    known_secrets: set[str] | None = None,
) -> dict[str, Any]:
    """``{ok, errors, warnings}`` for a draft, without a database (the validate endpoint).

    Time triggers are *not* stripped here, so their checks can still tell the author about them.
    """
    candidate = copy.deepcopy(definition)
    if isinstance(candidate, dict):
        refused = apply_payload_schema_mode(candidate, payload_schema_mode, event_catalog)
        if refused:
            return {"ok": False, "errors": [refused], "warnings": []}
    result = validate_definition(
        candidate, registry, event_catalog=event_catalog, known_secrets=known_secrets
    )
    return {"ok": result.ok, "errors": result.errors, "warnings": result.warnings}


@dataclass(frozen=True)
class Prepared:
    """A candidate for publishing: ``ok`` when it passed validation and may be written."""

    version: int
    definition: Any
    payload_schema_json: dict[str, Any] | None = None
    errors: list[PublishIssue] = field(default_factory=list)
    warnings: list[PublishIssue] = field(default_factory=list)
    status: str = "error"
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def outcome(self) -> dict[str, Any]:
        """``{"ok": True, "publishedVersion", "errors": [], "warnings"}``, or
        ``{"ok": False, "errors", "warnings"}``."""
        if not self.ok:
            return {"ok": False, "errors": self.errors, "warnings": self.warnings}
        return {
            "ok": True,
            "publishedVersion": self.version,
            "errors": [],
            "warnings": self.warnings,
        }


def next_version(wanted: int | None, latest: int | None) -> int:
    """``max(wanted, latest + 1)``: a requested version may skip numbers, never reuse one."""
    following = (latest or 0) + 1
    return following if wanted is None else max(wanted, following)


def prepare_publish(
    workflow_id: str,
    source: Any,
    version: int,
    registry: Registry,
    *,
    payload_schema_mode: str = "pinned",
    event_catalog: Mapping[str, str] | None = None,
    known_secrets: set[str] | None = None,
) -> Prepared:
    """Validate a copy of ``source`` (the draft, or a given definition) as ``version``.

    The copy gets the workflow's id and the version, loses obsolete time triggers and, in
    ``inferred`` mode, takes its payload schema from the event trigger.
    """
    candidate = copy.deepcopy(source)
    if isinstance(candidate, dict):
        candidate["id"] = workflow_id
        candidate["version"] = version
        strip_time_trigger(candidate)
        refused = apply_payload_schema_mode(candidate, payload_schema_mode, event_catalog)
        if refused:
            return Prepared(version, candidate, errors=[refused])
    snapshot = payload_schema_snapshot(
        registry, candidate.get("payloadSchemaRef") if isinstance(candidate, dict) else None
    )
    result = validate_definition(
        candidate,
        registry,
        payload_schema_json=snapshot,
        event_catalog=event_catalog,
        known_secrets=known_secrets,
    )
    return Prepared(
        version,
        candidate,
        payload_schema_json=snapshot,
        errors=result.errors,
        warnings=result.warnings,
        status=result.status,
        context=result.context,
    )
