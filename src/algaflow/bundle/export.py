"""Bundle export, the pure part: selection checks, order, entries and canonical encoding.

Matches Alga's exporters (reference §4): workflows ordered by key with ``localeCompare``, published
versions ascending, audit fields and ids left out (the id still travels as ``definition.id``),
``isSystem`` always false, ``failureRateThreshold`` as the NUMERIC string (``"0.50"``), dependencies
per §2.6. The use case (``algaflow.services.bundles``) reads one light list of the selection
(:func:`check_found`, :func:`export_order`), then definitions and versions :data:`BATCH_SIZE`
workflows at a time, so the streamed bytes (:func:`encode`) need memory for one batch, not for
the bundle.

``exportedAt`` is the export time, like Alga, unless pinned: fixtures kept in git need the same
database state to give the same bytes, so ``exported_at="latest-change"`` uses the latest
``updated_at`` of the exported rows instead of the clock (:func:`exported_at_stamp`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from algaflow.bundle.canonical import dumps_canonical_bytes
from algaflow.bundle.collation import locale_compare_key
from algaflow.bundle.dependencies import workflow_dependency_summary
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION
from algaflow.kernel.clock import iso_millis, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.storable import canonical_uuid, format_threshold

LATEST_CHANGE = "latest-change"
ExportedAt = datetime | str | None | Literal["latest-change"]
Progress = Callable[[int, int], None]
#: Workflows read per step (two queries): bounds the rows alive at once during an export.
BATCH_SIZE = 50
#: The bundle's ``metadata`` fields (camelCase, as the workflow row's mapping names them).
METADATA_FIELDS = (
    "name",
    "description",
    "payloadSchemaRef",
    "payloadSchemaMode",
    "pinnedPayloadSchemaRef",
    "trigger",
    "isSystem",
    "isVisible",
    "isPaused",
    "concurrencyLimit",
    "autoPauseOnFailure",
    "failureRateThreshold",
    "failureRateMinRuns",
    "retentionPolicyOverride",
)
#: One published version: (version, definition, payloadSchemaJson).
Version = tuple[int, dict[str, Any], Any]


def bundle_value(stamp: str, entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The bundle document as a value (what :func:`encode` writes as bytes)."""
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": BUNDLE_FORMAT_VERSION,
        "exportedAt": stamp,
        "workflows": list(entries),
    }


def encode(stamp: str, entries: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The canonical bundle, one workflow entry per piece.

    ``"workflows"`` sorts last among the four top-level keys, and a canonical string never holds a
    raw newline, so each entry is its own canonical text indented by two levels.
    """
    head = dumps_canonical_bytes(
        {
            "format": BUNDLE_FORMAT,
            "formatVersion": BUNDLE_FORMAT_VERSION,
            "exportedAt": stamp,
            "workflows": [],
        }
    )
    yield head[: -len(b"]\n}\n")]
    separator = b"\n"
    for entry in entries:
        text = dumps_canonical_bytes(entry)[:-1]
        yield separator + b"\n".join(b"    " + line for line in text.split(b"\n"))
        separator = b",\n"
    yield b"]\n}\n" if separator == b"\n" else b"\n  ]\n}\n"


# --- selection ---------------------------------------------------------------------------------


def check_selection(
    workflow_ids: Sequence[str] | None, keys: Sequence[str] | None, all: bool
) -> None:
    """``EXPORT_SELECTION_EMPTY`` unless something is named (or ``all``)."""
    if not all and not workflow_ids and not keys:
        raise AlgaflowError(
            "EXPORT_SELECTION_EMPTY", "Name at least one workflow id or key, or export all."
        )


def check_found(
    found: Sequence[tuple[str, str]], workflow_ids: Iterable[str], keys: Iterable[str], all: bool
) -> None:
    """404 ``WORKFLOW_NOT_FOUND`` listing every named id or key not among ``found`` (pairs of
    workflow id and key); ``NOTHING_TO_EXPORT`` for ``all`` of a tenant without workflows."""
    if all:
        if not found:
            raise AlgaflowError("NOTHING_TO_EXPORT", "The tenant has no workflows to export.")
        return
    found_ids = {workflow_id for workflow_id, _ in found}
    found_keys = {key for _, key in found}
    missing_ids = _unique(i for i in workflow_ids if canonical_uuid(i) not in found_ids)
    missing_keys = _unique(k for k in keys if k not in found_keys)
    if not missing_ids and not missing_keys:
        return
    details: dict[str, Any] = {}
    if missing_ids:
        details["missingWorkflowIds"] = missing_ids
    if missing_keys:
        details["missingKeys"] = missing_keys
    raise BundleError(
        "WORKFLOW_NOT_FOUND", f"Not found: {', '.join(missing_ids + missing_keys)}", details=details
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- order and entries ---------------------------------------------------------------------------


def export_order(found: Sequence[tuple[str, str]]) -> list[str]:
    """Workflow ids (of (workflow id, key) pairs) in export order: keys by ``localeCompare``.

    Keys are unique per tenant; code-point order only breaks ties between keys that collate equal.
    """
    ordered = sorted(found, key=lambda pair: (locale_compare_key(pair[1]), pair[1]))
    return [workflow_id for workflow_id, _ in ordered]


def workflow_entry(
    key: str,
    metadata: Mapping[str, Any],
    draft_version: int,
    draft: dict[str, Any],
    versions: Sequence[Version],
) -> dict[str, Any]:
    """One workflow's bundle entry (``metadata``: the stored values of :data:`METADATA_FIELDS`)."""
    pinned = metadata["pinnedPayloadSchemaRef"]
    return {
        "key": key,
        "metadata": {
            **{name: metadata[name] for name in METADATA_FIELDS},
            "isSystem": False,
            "failureRateThreshold": format_threshold(metadata["failureRateThreshold"]),
        },
        "dependencies": workflow_dependency_summary(draft, [v[1] for v in versions], pinned),
        "draft": {"draftVersion": draft_version, "definition": draft},
        "publishedVersions": [
            {"version": number, "definition": definition, "payloadSchemaJson": schema}
            for number, definition, schema in versions
        ],
    }


def exported_at_stamp(value: ExportedAt, moments: Sequence[datetime]) -> str:
    """The ``exportedAt`` text: now, the latest of ``moments``, or a pinned moment."""
    if value is None:
        return iso_millis(utcnow())
    if value == LATEST_CHANGE:
        return iso_millis(max(moments))
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            return iso_millis(value)
        except ValueError:
            pass  # in UTC it falls before year 0001 or after 9999
    raise AlgaflowError(
        "INVALID_EXPORTED_AT",
        "exportedAt must be a timezone-aware date-time within years 0001-9999 (UTC), "
        "or 'latest-change'.",
    )
