"""Bundle import, the pure part: the checks, the plan and the summary (reference §5, DESIGN 1-6).

Order: header -> schema -> duplicate keys -> duplicate version numbers -> draft versions -> values
the database cannot store -> definition schema -> dependencies (declared and derived) against the
registry (:func:`check_bundle`, all without the database). The use case
(``algaflow.services.bundles``) then locks the bundle's keys, answers key conflicts (409 unless
``force``), chooses the ids (:func:`choose_targets`), plans (:func:`plan`), checks
``control.callWorkflow`` references (:func:`check_references`) and writes everything in one
savepoint.

Identity: ``force`` overwrites a workflow with the same key in place (its ``workflow_id`` and
``created_*`` stay; metadata, draft and all published versions are replaced). A new workflow keeps
its source id (``draft.definition.id``) when that is a canonical UUID no workflow row uses yet, so
export -> import into a fresh database -> export gives the same bytes and fixtures kept in git do
not churn; otherwise it gets a new id. Alga always makes a new one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import validate_bundle
from algaflow.bundle.import_checks import (
    definition_problems,
    draft_version_after,
    draft_version_problems,
    duplicate_versions,
    missing_dependencies,
    raise_if,
    unstorable_values,
)
from algaflow.bundle.limits import Problems
from algaflow.bundle.references import (
    call_steps,
    reference_problem,
    referenced_ids,
    rewrite_calls,
)
from algaflow.kernel.clock import new_id
from algaflow.kernel.jsvalues import json_pointer as pointer
from algaflow.kernel.storable import canonical_uuid, key_conflict

if TYPE_CHECKING:
    from algaflow.registry import Registry

Progress = Callable[[int, int], None]
Json = dict[str, Any]


def check_bundle(bundle: Any, *, registry: Registry) -> None:
    """Every check that needs no database, in import order; raises the first failing one.

    ``algaflow bundle check`` runs exactly this, so a bundle it accepts fails an import only on
    what depends on the target: existing keys and calls to the tenant's workflows.
    """
    validate_bundle(bundle)  # header, schema (every error), duplicate keys
    workflows: list[Json] = bundle["workflows"]
    raise_if(
        duplicate_versions(workflows),
        "DUPLICATE_PUBLISHED_VERSION",
        "Workflow bundle repeats a published version number:",
    )
    raise_if(
        draft_version_problems(workflows),
        "INVALID_DRAFT_VERSION",
        "Workflow bundle holds a draft version that cannot work:",
    )
    raise_if(
        unstorable_values(workflows),
        "UNSTORABLE_VALUE",
        "Workflow bundle holds a value the database cannot store:",
    )
    raise_if(
        definition_problems(workflows),
        "INVALID_WORKFLOW_DEFINITION",
        "Workflow bundle holds an invalid workflow definition:",
        key="issues",
    )
    missing = missing_dependencies(workflows, registry)
    if missing is not None:
        raise BundleError("MISSING_DEPENDENCIES", missing_message(missing), details=missing)


#: How a target gets what a bundle needs (the bundle spec's "Dependencies" says the same).
HOW_TO_PROVIDE = (
    "Register payload schemas with ALGAFLOW_SCHEMA_DIRS (folders of <ref>.json JSON Schema"
    " files) and actions and node types with plugins (ALGAFLOW_PLUGINS, --plugin or the"
    " algaflow.plugins entry point) on the instance that imports, then import again."
)


def missing_message(missing: dict[str, Any]) -> str:
    """Alga's sentence, what is missing, and how to provide it."""
    named = [
        ("payload schemas", list(missing["missingSchemaRefs"])),
        ("actions", [f"{a['actionId']}@{a['version']}" for a in missing["missingActions"]]),
        ("node types", list(missing["missingNodeTypes"])),
    ]
    listed = "; ".join(f"{what}: {', '.join(names)}" for what, names in named if names)
    return f"Workflow bundle has missing runtime dependencies ({listed}). {HOW_TO_PROVIDE}"


def retry_error() -> BundleError:
    """``CONCURRENT_IMPORT``: another writer changed these workflows meanwhile."""
    return BundleError(
        "CONCURRENT_IMPORT",
        "Another import or write changed these workflows at the same moment. Retry.",
        details={"retryable": True},
    )


def conflict_error(existing: Mapping[str, str]) -> BundleError:
    """``WORKFLOW_KEY_CONFLICT`` for the bundle's keys the tenant already uses."""
    error = key_conflict(
        existing,
        hint=" Re-run with --force (the force query parameter) to overwrite.",
        error=BundleError,
    )
    assert isinstance(error, BundleError)
    return error


# --- identity ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """The bundle's source ids (``draft.definition.id``), and those more than one entry claims."""

    ids: list[Any]
    ambiguous: set[str]

    @classmethod
    def of(cls, workflows: list[Json]) -> Sources:
        ids = [w["draft"]["definition"].get("id") for w in workflows]
        counts = Counter(s for s in ids if isinstance(s, str))
        return cls(ids, {s for s, n in counts.items() if n > 1})

    def candidates(self) -> set[str]:
        """Source ids an import may keep: canonical UUIDs that only one entry claims."""
        return {
            s
            for s in self.ids
            if isinstance(s, str) and s not in self.ambiguous and canonical_uuid(s) == s
        }


def choose_targets(
    workflows: list[Json], sources: Sources, existing: Mapping[str, str], taken: set[str]
) -> list[str]:
    """Existing id on overwrite; else the source id when it is a free canonical UUID; else new.

    ``workflow_id`` is the primary key across tenants, so a real import can keep a source id only
    when no tenant uses it, and its result shows that another tenant holds a given UUID. That is
    inherent in keeping ids (fixtures must not churn) and costs little: the caller must already
    hold the UUID, learns neither tenant, key nor content, and leaves rows and an actor behind.
    A dry run writes nothing and leaves no trace, so it must not be a free probe: its ``taken``
    holds the tenant's own rows only (the answer the real import gives unless another tenant
    holds the id), and its throwaway rows are written under throwaway ids.
    """
    candidates = sources.candidates()
    return [
        existing.get(w["key"]) or (s if s in candidates and s not in taken else new_id())
        for w, s in zip(workflows, sources.ids, strict=True)
    ]


# --- planning ------------------------------------------------------------------------------------


@dataclass
class Planned:
    """One bundle workflow, ready to write."""

    index: int
    key: str
    workflow_id: str
    overwrite: bool
    metadata: Json
    draft_version: int
    draft: Json
    #: (version, definition, payloadSchemaJson, index in the bundle's list), ascending by version
    versions: list[tuple[int, Json, Any, int]] = field(default_factory=list)

    @property
    def version_numbers(self) -> list[int]:
        return [v[0] for v in self.versions]


def plan(
    workflows: list[Json],
    targets: list[str],
    existing: Mapping[str, str],
    sources: Sources,
    progress: Progress | None = None,
) -> list[Planned]:
    """Rows to write: definitions retargeted, calls to bundle workflows rewritten (source id ->
    target id; ambiguous source ids are reported by the reference check)."""
    mapping = {
        s: t for s, t in zip(sources.ids, targets, strict=True) if s not in sources.ambiguous
    }
    planned = []
    for index, (workflow, target) in enumerate(zip(workflows, targets, strict=True)):
        versions = sorted(enumerate(workflow["publishedVersions"]), key=lambda iv: iv[1]["version"])
        planned.append(
            Planned(
                index=index,
                key=workflow["key"],
                workflow_id=target,
                overwrite=workflow["key"] in existing,
                metadata=workflow["metadata"],
                draft_version=draft_version_after(workflow),
                draft=_retarget(workflow["draft"]["definition"], target, mapping),
                versions=[
                    (
                        int(v["version"]),
                        _retarget(v["definition"], target, mapping),
                        v["payloadSchemaJson"],
                        position,
                    )
                    for position, v in versions
                ],
            )
        )
        if progress is not None:
            progress(index + 1, len(workflows))
    return planned


def _retarget(definition: Json, target: str, mapping: dict[Any, str]) -> Json:
    return {**rewrite_calls(definition, mapping), "id": target}


# --- callWorkflow references ------------------------------------------------------------------


def outside_references(planned: list[Planned], ambiguous: set[str]) -> dict[str, list[str]]:
    """Workflow ids the plan calls outside itself, as canonical UUID -> the raw ids written
    (other raw ids cannot exist and are left out)."""
    inside = {p.workflow_id for p in planned}
    definitions = [d for p in planned for d in [p.draft, *(v[1] for v in p.versions)]]
    by_uuid: dict[str, list[str]] = {}
    for raw in referenced_ids(definitions) - inside - ambiguous:
        canonical = canonical_uuid(raw)
        if canonical is not None:
            by_uuid.setdefault(canonical, []).append(raw)
    return by_uuid


def check_references(
    planned: list[Planned],
    outside: Mapping[str, list[str]],
    tenant_versions: Mapping[str, set[int]],
    ambiguous: set[str],
) -> list[Json]:
    """Raise for unresolved calls in published versions; return those in drafts as warnings.

    ``tenant_versions``: published version numbers of the tenant's workflows among ``outside``.
    """
    known: dict[str, set[int]] = {p.workflow_id: set(p.version_numbers) for p in planned}
    for canonical, numbers in tenant_versions.items():
        for raw in outside.get(canonical, ()):
            known[raw] = numbers
    errors, warnings = Problems(), []
    for p in planned:
        for version, instance_path, definition in _places(p):
            for step_path, step in call_steps(definition):
                problem = reference_problem(step, known, ambiguous)
                if problem is None:
                    continue
                found = {
                    "code": "UNRESOLVED_WORKFLOW_REFERENCE",
                    "workflowKey": p.key,
                    "version": version,
                    "instancePath": instance_path,
                    "stepPath": step_path,
                    "workflowId": step.get("workflowId"),
                    "workflowVersion": step.get("workflowVersion"),
                    "message": problem,
                }
                if version is None:
                    warnings.append(found)
                else:
                    errors.add(found)
    raise_if(
        errors,
        "UNRESOLVED_WORKFLOW_REFERENCE",
        "A published version calls a workflow that will not exist:",
    )
    return warnings


def _places(p: Planned) -> Iterable[tuple[int | None, str, Json]]:
    """(version or None for the draft, instance path, definition) of one planned workflow."""
    yield None, pointer("workflows", p.index, "draft", "definition"), p.draft
    for number, definition, _, i in p.versions:
        yield (
            number,
            pointer("workflows", p.index, "publishedVersions", i, "definition"),
            definition,
        )


def draft_warnings(planned: list[Planned], workflows: list[Json]) -> list[Json]:
    """A warning for each draft version raised above the highest published one."""
    return [
        {
            "code": "DRAFT_VERSION_RAISED",
            "workflowKey": p.key,
            "instancePath": pointer("workflows", p.index, "draft", "draftVersion"),
            "draftVersion": workflows[p.index]["draft"]["draftVersion"],
            "storedDraftVersion": p.draft_version,
            "message": f"draftVersion equals published version {p.version_numbers[-1]}; "
            f"stored as {p.draft_version} so that the draft does not hide it",
        }
        for p in planned
        if p.draft_version != workflows[p.index]["draft"]["draftVersion"]
    ]


# --- summary -------------------------------------------------------------------------------------


def summary(
    planned: list[Planned], warnings: list[Json], dry_run: bool, *, unchanged: Collection[str] = ()
) -> Json:
    """Alga's three lists (kept for clients of Alga's API) plus algaflow's per-workflow list.

    Workflows whose key is in ``unchanged`` were not written: they are only in the last list.
    """
    written = [p for p in planned if p.key not in unchanged]
    return {
        "createdWorkflows": [{"key": p.key, "workflowId": p.workflow_id} for p in written],
        "deletedWorkflows": [],
        "createdPublishedVersions": [
            {"key": p.key, "workflowId": p.workflow_id, "versions": p.version_numbers}
            for p in written
            if p.versions
        ],
        "workflows": [
            {
                "key": p.key,
                "workflowId": p.workflow_id,
                "action": _action(p, unchanged),
                "versions": p.version_numbers,
            }
            for p in planned
        ],
        "warnings": warnings,
        "dryRun": dry_run,
    }


def _action(p: Planned, unchanged: Collection[str]) -> str:
    if p.key in unchanged:
        return "unchanged"
    return "overwritten" if p.overwrite else "created"
