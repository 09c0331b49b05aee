"""What an import will change, the pure part: each bundle workflow against the tenant's one.

The use case hands in the tenant's workflows as :class:`Current` values and the importer's
:class:`~algaflow.bundle.importer.Planned` rows (definitions retargeted, calls rewritten), so the
comparison is on exactly what the import would write. Ids, ``exportedAt``, the derived
``dependencies`` and audit fields (``created_*``, ``updated_*``, validation results) are not
compared: a bundle does not carry them.

Draft changes are RFC 6902 operations (``jsonpatch``): JSON Pointer paths, like every
``instancePath`` of an import error, and a standard other programs can apply. Equality is decided
here, strictly (``true`` is not ``1``), before any patch is made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonpatch

from algaflow.bundle.errors import BundleError
from algaflow.bundle.export import METADATA_FIELDS
from algaflow.bundle.importer import Planned
from algaflow.bundle.references import call_steps
from algaflow.kernel.storable import format_threshold, parse_failure_rate_threshold

Json = dict[str, Any]
Action = Literal["create", "update", "unchanged", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "delete")


@dataclass(frozen=True)
class Current:
    """One of the tenant's workflows, as far as a bundle can describe it.

    ``metadata``: the stored values of :data:`~algaflow.bundle.export.METADATA_FIELDS`;
    ``versions``: published version number -> (definition, payloadSchemaJson).
    """

    workflow_id: str
    key: str
    metadata: Mapping[str, Any]
    draft_version: int
    draft: Json
    versions: Mapping[int, tuple[Json, Any]]


@dataclass(frozen=True)
class ActiveRun:
    """A run still RUNNING or WAITING, on one published version."""

    run_id: str
    workflow_id: str
    workflow_version: int
    status: str

    def to_json(self) -> Json:
        return {
            "runId": self.run_id,
            "workflowId": self.workflow_id,
            "workflowVersion": self.workflow_version,
            "status": self.status,
        }


@dataclass(frozen=True)
class FieldChange:
    """A metadata field (or ``draftVersion``), old -> new."""

    field: str
    old: Any
    new: Any


@dataclass
class WorkflowChange:
    """What the import does to one workflow key.

    ``deleted_versions``: published versions whose stored definition the import deletes
    (removed by the bundle, or replaced by a different one); ``runs`` the active runs on them.
    """

    key: str
    action: Action
    workflow_id: str
    fields: list[FieldChange] = field(default_factory=list)
    draft: list[Json] = field(default_factory=list)
    versions_added: list[int] = field(default_factory=list)
    versions_removed: list[int] = field(default_factory=list)
    versions_changed: list[int] = field(default_factory=list)
    references: list[Json] = field(default_factory=list)
    runs: list[ActiveRun] = field(default_factory=list)

    @property
    def deleted_versions(self) -> list[int]:
        return sorted([*self.versions_removed, *self.versions_changed])

    def to_json(self) -> Json:
        return {
            "key": self.key,
            "action": self.action,
            "workflowId": self.workflow_id,
            "fields": [{"field": c.field, "old": c.old, "new": c.new} for c in self.fields],
            "draft": self.draft,
            "versions": {
                "added": self.versions_added,
                "removed": self.versions_removed,
                "changed": self.versions_changed,
            },
            "deletedVersions": self.deleted_versions,
            "references": self.references,
            "runsAtRisk": [r.to_json() for r in self.runs],
        }


@dataclass
class Plan:
    """The whole plan, in bundle order, then the workflows a prune deletes (by key)."""

    workflows: list[WorkflowChange]
    force: bool = False
    prune: bool = False
    prune_prefix: str | None = None
    #: Keys the tenant has already, which the import refuses without force.
    conflicts: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for w in self.workflows if w.action == action)

    @property
    def has_changes(self) -> bool:
        return any(w.action != "unchanged" for w in self.workflows)

    @property
    def runs_at_risk(self) -> list[tuple[str, ActiveRun]]:
        return [(w.key, run) for w in self.workflows for run in w.runs]

    def summary_line(self) -> str:
        """``2 to create, 1 to update, 997 unchanged`` (and deletes, when a prune has any)."""
        parts = [
            f"{self.count('create')} to create",
            f"{self.count('update')} to update",
            f"{self.count('unchanged')} unchanged",
        ]
        if self.prune:
            parts.insert(2, f"{self.count('delete')} to delete")
        line = ", ".join(parts)
        if self.conflicts:
            line += f" ({len(self.conflicts)} existing key(s): the import needs force)"
        return line

    def to_json(self) -> Json:
        return {
            "workflows": [w.to_json() for w in self.workflows],
            "counts": {action: self.count(action) for action in ACTIONS},
            "changes": self.has_changes,
            "summary": self.summary_line(),
            "force": self.force,
            "prune": {"enabled": self.prune, "keyPrefix": self.prune_prefix},
            "needsForce": self.conflicts,
            "runsAtRisk": [{"key": key, **run.to_json()} for key, run in self.runs_at_risk],
        }


# --- comparing -----------------------------------------------------------------------------------


def compare(planned: Planned, entry: Json, current: Current | None) -> WorkflowChange:
    """The change ``planned`` (from the bundle's ``entry``) makes to the tenant's ``current``."""
    references = rewritten_references(planned, entry)
    if current is None:
        return WorkflowChange(
            planned.key,
            "create",
            planned.workflow_id,
            versions_added=planned.version_numbers,
            references=references,
        )
    fields = [
        FieldChange(name, old, new)
        for name, old, new in _pairs(stored_metadata(current.metadata), imported_metadata(entry))
        if not same_json(old, new)
    ]
    if current.draft_version != planned.draft_version:
        fields.append(FieldChange("draftVersion", current.draft_version, planned.draft_version))
    bundle_versions = {number: (d, s) for number, d, s, _ in planned.versions}
    change = WorkflowChange(
        planned.key,
        "update",
        current.workflow_id,
        fields=fields,
        draft=draft_patch(current.draft, planned.draft),
        versions_added=sorted(set(bundle_versions) - set(current.versions)),
        versions_removed=sorted(set(current.versions) - set(bundle_versions)),
        versions_changed=sorted(
            n
            for n in set(bundle_versions) & set(current.versions)
            if not same_json(bundle_versions[n], current.versions[n])
        ),
        references=references,
    )
    if not (
        change.fields
        or change.draft
        or change.versions_added
        or change.versions_removed
        or change.versions_changed
    ):
        change.action = "unchanged"
    return change


def deletion(key: str, workflow_id: str, versions: Iterable[int]) -> WorkflowChange:
    """A pruned workflow: deleted with every published version."""
    return WorkflowChange(key, "delete", workflow_id, versions_removed=sorted(versions))


def check_runs(plan: Plan, *, accepted: bool) -> None:
    """``ACTIVE_RUNS_AFFECTED`` naming every run the import would break, unless ``accepted``."""
    at_risk = plan.runs_at_risk
    if at_risk and not accepted:
        shown = ", ".join(f"{run.run_id} ({key} v{run.workflow_version})" for key, run in at_risk)
        raise BundleError(
            "ACTIVE_RUNS_AFFECTED",
            f"The import deletes published versions that active runs are on: {shown}. "
            "Accept it (those runs then fail at their next step) or let them finish first.",
            details={"runs": [{"key": key, **run.to_json()} for key, run in at_risk]},
        )


def pruned(current_keys: Iterable[str], bundle_keys: Iterable[str]) -> list[str]:
    """The tenant's keys (already limited to the prune's scope) the bundle no longer has."""
    kept = set(bundle_keys)
    return sorted(key for key in current_keys if key not in kept)


def attach_runs(changes: Iterable[WorkflowChange], runs: Iterable[ActiveRun]) -> None:
    """Give each change the active runs it would break: runs on a deleted version, and every
    run of a deleted workflow."""
    by_workflow: dict[str, list[ActiveRun]] = {}
    for run in runs:
        by_workflow.setdefault(run.workflow_id, []).append(run)
    for change in changes:
        doomed = set(change.deleted_versions)
        change.runs = [
            run
            for run in by_workflow.get(change.workflow_id, [])
            if change.action == "delete" or run.workflow_version in doomed
        ]


def _pairs(old: Json, new: Json) -> Iterator[tuple[str, Any, Any]]:
    for name in METADATA_FIELDS:
        yield name, old.get(name), new.get(name)


def stored_metadata(values: Mapping[str, Any]) -> Json:
    """The stored metadata as a bundle writes it (the threshold as its NUMERIC string)."""
    out = {name: values.get(name) for name in METADATA_FIELDS}
    out["failureRateThreshold"] = format_threshold(values.get("failureRateThreshold"))
    return out


def imported_metadata(entry: Json) -> Json:
    """The metadata an import stores from ``entry`` (``isSystem`` is always false)."""
    given = entry["metadata"]
    out = {name: given.get(name) for name in METADATA_FIELDS}
    out["isSystem"] = False
    out["failureRateThreshold"] = format_threshold(
        parse_failure_rate_threshold(given.get("failureRateThreshold"))
    )
    return out


def draft_patch(old: Json, new: Json) -> list[Json]:
    """RFC 6902 operations turning ``old`` into ``new`` (none when they are the same JSON)."""
    if same_json(old, new):
        return []
    ops: list[Json] = jsonpatch.make_patch(old, new).patch
    # jsonpatch compares with ==, which holds for true and 1: then replace the whole value.
    return ops or [{"op": "replace", "path": "", "value": new}]


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: like ``==``, except that a boolean never equals a number.

    Equal values whose sorted-key texts are equal hold no boolean where the other has a number
    (the common case, decided in C); only the rest are walked.
    """
    if a != b:
        return False
    if json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True):
        return True
    return _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, dict):
        return all(_same_types(value, b[name]) for name, value in a.items())
    if isinstance(a, list | tuple):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True


def rewritten_references(planned: Planned, entry: Json) -> list[Json]:
    """The ``control.callWorkflow`` ids the import rewrites (bundle source id -> target id)."""
    places: list[tuple[int | None, Json, Json]] = [
        (None, entry["draft"]["definition"], planned.draft)
    ]
    published = entry["publishedVersions"]
    places += [(number, published[i]["definition"], d) for number, d, _, i in planned.versions]
    found = []
    for version, before, after in places:
        for (path, old), (_, new) in zip(call_steps(before), call_steps(after), strict=True):
            if old.get("workflowId") != new.get("workflowId"):
                found.append(
                    {
                        "version": version,
                        "stepPath": path,
                        "from": old.get("workflowId"),
                        "to": new.get("workflowId"),
                    }
                )
    return found
