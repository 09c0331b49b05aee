"""Bundle import: every check first, then all writes in one savepoint (reference §5, DESIGN 1-6).

Order: header -> schema -> duplicate keys -> duplicate version numbers -> draft versions -> values
the database cannot store -> definition schema -> dependencies (declared and derived) against the
registry (all without the database, and so before any write lock: :func:`run_import`) -> the
bundle's keys locked (``store.workflows.lock_workflow_keys``) -> key conflicts (409 unless
``force``) -> ``control.callWorkflow`` references. Only then are rows written, in bulk, inside
``conn.begin_nested()``: a constraint hit that slipped past the checks (a concurrent writer that
does not take the key locks) rolls back everything this import wrote and becomes a coded error or
a new plan, and a dry run rolls back on purpose after doing exactly the same work.

Identity: ``force`` overwrites a workflow with the same key in place (its ``workflow_id`` and
``created_*`` stay; metadata, draft and all published versions are replaced). A new workflow keeps
its source id (``draft.definition.id``) when that is a canonical UUID no workflow row uses yet, so
export -> import into a fresh database -> export gives the same bytes and fixtures kept in git do
not churn; otherwise it gets a new id. Alga always makes a new one. See :func:`_target_ids` for
what a dry run reports, and :func:`import_bundle` for an id taken by a concurrent import.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from algaflow.bundle.canonical import loads_json
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import validate_bundle
from algaflow.bundle.import_checks import (
    definition_problems,
    draft_version_after,
    draft_version_problems,
    duplicate_versions,
    missing_dependencies,
    pointer,
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
from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.store.engine import write_transaction
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.types import canonical_uuid
from algaflow.store.workflows import (
    key_conflict,
    lock_workflow_keys,
    parse_failure_rate_threshold,
    version_row,
)

if TYPE_CHECKING:
    from algaflow.registry import Registry

Progress = Callable[[int, int], None]
#: Write transactions :func:`run_import` tries before answering ``CONCURRENT_IMPORT``.
IMPORT_ATTEMPTS = 3


@dataclass
class _Planned:
    """One bundle workflow, ready to write."""

    index: int
    key: str
    workflow_id: str
    overwrite: bool
    metadata: dict[str, Any]
    draft_version: int
    draft: dict[str, Any]
    #: (version, definition, payloadSchemaJson, index in the bundle's list), ascending by version
    versions: list[tuple[int, dict[str, Any], Any, int]] = field(default_factory=list)

    @property
    def version_numbers(self) -> list[int]:
        return [v[0] for v in self.versions]


def import_bundle(
    conn: Connection,
    tenant_id: str,
    bundle: Any,
    *,
    registry: Registry,
    force: bool = False,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    checked: bool = False,
) -> dict[str, Any]:
    """Import ``bundle`` (a parsed value, or JSON text/bytes) into the tenant; return the summary.

    The caller owns the transaction. Any failure raises a :class:`BundleError` and leaves the
    database as it was; ``dry_run=True`` returns the same summary and writes nothing.
    ``checked=True`` skips :func:`check_bundle` when the caller ran it already, before it opened
    a write transaction (:func:`run_import`).
    """
    if isinstance(bundle, str | bytes | bytearray):
        bundle = loads_json(bundle)
    if not checked:
        check_bundle(bundle, registry=registry)
    workflows: list[dict[str, Any]] = bundle["workflows"]
    try:
        lock_workflow_keys(conn, tenant_id, [w["key"] for w in workflows])
        return _import_checked(
            conn,
            tenant_id,
            workflows,
            force=force,
            dry_run=dry_run,
            actor=actor,
            progress=progress,
        )
    except sa.exc.OperationalError as exc:
        if _is_transient(exc):  # a deadlock with another writer, or a serialization failure
            raise _retry_error() from None
        raise


def run_import(
    engine: Engine,
    tenant_id: str,
    bundle: Any,
    *,
    registry: Registry,
    force: bool = False,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Check ``bundle`` without the database, then import it in a write transaction of its own.

    Nothing takes a write lock until every check that needs no database has passed: on SQLite
    a write transaction holds the whole database, so checking a hostile bundle inside one made
    every other tenant's writes wait. A transaction that loses a race with a concurrent writer
    (``CONCURRENT_IMPORT``) is retried a few times before the error reaches the caller.
    """
    if isinstance(bundle, str | bytes | bytearray):
        bundle = loads_json(bundle)
    check_bundle(bundle, registry=registry)
    for attempt in range(1, IMPORT_ATTEMPTS + 1):
        try:
            with write_transaction(engine) as conn:
                return import_bundle(
                    conn,
                    tenant_id,
                    bundle,
                    registry=registry,
                    force=force,
                    dry_run=dry_run,
                    actor=actor,
                    progress=progress,
                    checked=True,
                )
        except BundleError as exc:
            if exc.code != "CONCURRENT_IMPORT" or attempt == IMPORT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _import_checked(
    conn: Connection,
    tenant_id: str,
    workflows: list[dict[str, Any]],
    *,
    force: bool,
    dry_run: bool,
    actor: str | None,
    progress: Progress | None,
) -> dict[str, Any]:
    """The database part of an import, its keys locked: plan against the rows, then write."""
    keys = [w["key"] for w in workflows]
    sources = [w["draft"]["definition"].get("id") for w in workflows]
    counts = Counter(s for s in sources if isinstance(s, str))
    ambiguous = {s for s, n in counts.items() if n > 1}
    # A source id found free can be taken by a concurrent import (another tenant importing the
    # same bundle) before this one writes, and with ``force`` a key can be created by a plain
    # create meanwhile: plan again against the rows as they are now, and retry.
    for _attempt in range(3):
        existing = _existing_by_key(conn, tenant_id, keys)
        if existing and not force:
            raise _key_conflict(existing)
        targets = _target_ids(
            conn, tenant_id, workflows, sources, ambiguous, existing, dry_run=dry_run
        )
        mapping = {s: t for s, t in zip(sources, targets, strict=True) if s not in ambiguous}
        plan = _plan(workflows, targets, existing, mapping, progress)
        warnings = _check_references(conn, tenant_id, plan, ambiguous)
        try:
            _write(conn, tenant_id, plan, actor=actor, dry_run=dry_run, force=force)
            return _summary(plan, [*_draft_warnings(plan, workflows), *warnings], dry_run)
        except _Replan:
            continue
    raise _retry_error()


def _retry_error() -> BundleError:
    return BundleError(
        "CONCURRENT_IMPORT",
        "Another import or write changed these workflows at the same moment. Retry.",
        details={"retryable": True},
    )


#: SQLSTATEs of a transaction that lost to a concurrent one and may simply be run again:
#: serialization failure, deadlock, lock not available.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def _is_transient(exc: sa.exc.DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


def check_bundle(bundle: Any, *, registry: Registry) -> None:
    """Every check that needs no database, in import order; raises the first failing one.

    ``algaflow bundle check`` runs exactly this, so a bundle it accepts fails an import only on
    what depends on the target: existing keys and calls to the tenant's workflows.
    """
    validate_bundle(bundle)  # header, schema (every error), duplicate keys
    workflows: list[dict[str, Any]] = bundle["workflows"]
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
        raise BundleError(
            "MISSING_DEPENDENCIES",
            "Workflow bundle has missing runtime dependencies.",
            details=missing,
        )


# --- planning ------------------------------------------------------------------------------------


def _existing_by_key(conn: Connection, tenant_id: str, keys: list[str]) -> dict[str, str]:
    """key -> workflow id of the tenant's workflows among ``keys``, in the order of ``keys``."""
    rows = conn.execute(
        sa.select(defs_t.c.key, defs_t.c.workflow_id).where(
            defs_t.c.tenant == tenant_id, defs_t.c.key.in_(keys)
        )
    )
    found: dict[str, str] = {key: workflow_id for key, workflow_id in rows}
    return {key: found[key] for key in keys if key in found}


def _key_conflict(existing: dict[str, str]) -> AlgaflowError:
    return key_conflict(existing, hint=" Re-run with force to overwrite.", error=BundleError)


def _target_ids(
    conn: Connection,
    tenant_id: str,
    workflows: list[dict[str, Any]],
    sources: list[Any],
    ambiguous: set[str],
    existing: dict[str, str],
    *,
    dry_run: bool,
) -> list[Any]:
    """Existing id on overwrite; else the source id when it is a free canonical UUID; else new.

    ``workflow_id`` is the primary key across tenants, so a real import can keep a source id only
    when no tenant uses it, and its result shows that another tenant holds a given UUID. That is
    inherent in keeping ids (fixtures must not churn) and costs little: the caller must already
    hold the UUID, learns neither tenant, key nor content, and leaves rows and an actor behind.
    A dry run writes nothing and leaves no trace, so it must not be a free probe: it judges by
    the tenant's own rows only (the answer the real import gives unless another tenant holds the
    id) and writes its throwaway rows under throwaway ids (:func:`_write`).
    """
    candidates = {s for s in sources if s not in ambiguous and canonical_uuid(s) == s}
    query = sa.select(defs_t.c.workflow_id).where(defs_t.c.workflow_id.in_(candidates))
    if dry_run:
        query = query.where(defs_t.c.tenant == tenant_id)
    taken = set(conn.execute(query).scalars()) if candidates else set()
    return [
        existing.get(w["key"]) or (s if s in candidates and s not in taken else new_id())
        for w, s in zip(workflows, sources, strict=True)
    ]


def _plan(
    workflows: list[dict[str, Any]],
    targets: list[str],
    existing: dict[str, str],
    mapping: dict[Any, str],
    progress: Progress | None,
) -> list[_Planned]:
    """Rows to write: definitions retargeted, calls to bundle workflows rewritten (``mapping``:
    source id -> target id; ambiguous source ids are reported by the reference check)."""
    plan = []
    for index, (workflow, target) in enumerate(zip(workflows, targets, strict=True)):
        versions = sorted(enumerate(workflow["publishedVersions"]), key=lambda iv: iv[1]["version"])
        plan.append(
            _Planned(
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
    return plan


def _retarget(definition: dict[str, Any], target: str, mapping: dict[str, str]) -> dict[str, Any]:
    return {**rewrite_calls(definition, mapping), "id": target}


# --- callWorkflow references ------------------------------------------------------------------


def _check_references(
    conn: Connection, tenant_id: str, plan: list[_Planned], ambiguous: set[str]
) -> list[dict[str, Any]]:
    """Raise for unresolved calls in published versions; return those in drafts as warnings."""
    known = {p.workflow_id: set(p.version_numbers) for p in plan}
    outside = referenced_ids([d for p in plan for d in [p.draft, *(v[1] for v in p.versions)]])
    known.update(_tenant_versions(conn, tenant_id, outside - known.keys() - ambiguous))
    errors, warnings = Problems(), []
    for p in plan:
        places = [(None, pointer("workflows", p.index, "draft", "definition"), p.draft)]
        places += [
            (number, pointer("workflows", p.index, "publishedVersions", i, "definition"), d)
            for number, d, _, i in p.versions
        ]
        for version, instance_path, definition in places:
            for step_path, step in call_steps(definition):
                problem = reference_problem(step, known, ambiguous)
                if problem is not None:
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


def _draft_warnings(plan: list[_Planned], workflows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        for p in plan
        if p.draft_version != workflows[p.index]["draft"]["draftVersion"]
    ]


def _tenant_versions(conn: Connection, tenant_id: str, ids: Iterable[str]) -> dict[str, set[int]]:
    """Published version numbers of the tenant's workflows among ``ids`` (non-UUIDs are absent)."""
    by_uuid: dict[str, list[str]] = {}
    for raw in ids:
        canonical = canonical_uuid(raw)
        if canonical is not None:
            by_uuid.setdefault(canonical, []).append(raw)
    if not by_uuid:
        return {}
    found: dict[str, set[int]] = {}
    rows = conn.execute(
        sa.select(defs_t.c.workflow_id, versions_t.c.version)
        .select_from(defs_t.outerjoin(versions_t, versions_t.c.workflow_id == defs_t.c.workflow_id))
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id.in_(by_uuid))
    )
    for workflow_id, version in rows:
        for raw in by_uuid[workflow_id]:
            numbers = found.setdefault(raw, set())
            if version is not None:
                numbers.add(version)
    return found


# --- writes --------------------------------------------------------------------------------------


def _columns(p: _Planned, actor: str | None, now: Any) -> dict[str, Any]:
    """The definition columns an import sets, on create and on overwrite alike."""
    m = p.metadata
    return {
        "key": p.key,
        "name": m["name"],
        "description": m["description"],
        "payload_schema_ref": m["payloadSchemaRef"],
        "payload_schema_mode": m["payloadSchemaMode"],
        "pinned_payload_schema_ref": m["pinnedPayloadSchemaRef"],
        "trigger": m["trigger"],
        "draft_definition": p.draft,
        "draft_version": p.draft_version,
        "status": "published" if p.versions else "draft",
        "is_system": False,  # a bundle must not make itself a system workflow (DESIGN 6)
        "is_visible": m["isVisible"],
        "is_paused": m["isPaused"],
        "concurrency_limit": _int_or_none(m["concurrencyLimit"]),
        "auto_pause_on_failure": m["autoPauseOnFailure"],
        "failure_rate_threshold": parse_failure_rate_threshold(m["failureRateThreshold"]),
        "failure_rate_min_runs": _int_or_none(m["failureRateMinRuns"]),
        "retention_policy_override": m["retentionPolicyOverride"],
        # Validation results and provenance described the replaced draft: start afresh.
        "payload_schema_provenance": None,
        "validation_status": None,
        "validation_errors": None,
        "validation_warnings": None,
        "validated_at": None,
        "validation_context_json": None,
        "validation_payload_schema_hash": None,
        "updated_by": actor,
        "updated_at": now,
    }


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


class _Replan(Exception):
    """A workflow id planned as free, or (with ``force``) a key planned as new, was taken by a
    concurrent writer before the write: plan again against the rows as they are now."""


def _write(
    conn: Connection,
    tenant_id: str,
    plan: list[_Planned],
    *,
    actor: str | None,
    dry_run: bool,
    force: bool,
) -> None:
    now = utcnow()
    # A dry run's ids come from the tenant's own rows (see _target_ids): its rows, rolled back
    # anyway, are written under fresh ids so that another tenant's row cannot change the outcome.
    row_ids = {
        p.workflow_id: new_id() if dry_run else p.workflow_id for p in plan if not p.overwrite
    }
    updates = [
        {**_columns(p, actor, now), "b_tenant": tenant_id, "b_workflow_id": p.workflow_id}
        for p in plan
        if p.overwrite
    ]
    inserts = [
        {
            **_columns(p, actor, now),
            "workflow_id": row_ids[p.workflow_id],
            "tenant": tenant_id,
            "created_by": actor,
            "created_at": now,
        }
        for p in plan
        if not p.overwrite
    ]
    versions = [
        version_row(
            tenant_id,
            row_ids.get(p.workflow_id, p.workflow_id),
            number,
            definition,
            payload_schema,
            published_by=actor,
            now=now,
        )
        for p in plan
        for number, definition, payload_schema, _ in p.versions
    ]
    try:
        with conn.begin_nested() as savepoint:
            if updates:
                conn.execute(
                    versions_t.delete().where(
                        versions_t.c.tenant == tenant_id,
                        versions_t.c.workflow_id.in_([u["b_workflow_id"] for u in updates]),
                    )
                )
                conn.execute(
                    defs_t.update().where(
                        defs_t.c.tenant == sa.bindparam("b_tenant"),
                        defs_t.c.workflow_id == sa.bindparam("b_workflow_id"),
                    ),
                    updates,
                )
            if inserts:
                conn.execute(defs_t.insert(), inserts)
            if versions:
                conn.execute(versions_t.insert(), versions)
            if dry_run:
                savepoint.rollback()
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        raise _constraint_error(
            conn, tenant_id, plan, list(row_ids.values()), exc, force=force
        ) from None


def _constraint_error(
    conn: Connection,
    tenant_id: str,
    plan: list[_Planned],
    inserted_ids: list[str],
    exc: sa.exc.DBAPIError,
    *,
    force: bool,
) -> Exception:
    """What a constraint hit after the checks means (the savepoint undid this import's writes).

    A key created concurrently since the check (by a writer that does not take the key locks)
    is a 409 as if it had been there before, or with ``force`` a reason to plan again and
    overwrite it; a workflow id taken concurrently (another tenant importing the same bundle)
    means planning again too (:class:`_Replan`); any other unique hit is a concurrent writer
    (a publish of the same version, say): ``CONCURRENT_IMPORT``, retryable. Anything else is a
    value the checks missed.
    """
    existing = _existing_by_key(conn, tenant_id, [p.key for p in plan if not p.overwrite])
    if existing:
        return _Replan() if force else _key_conflict(existing)
    taken = sa.select(defs_t.c.workflow_id).where(defs_t.c.workflow_id.in_(inserted_ids))
    if inserted_ids and conn.execute(taken).first() is not None:
        return _Replan()
    message = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
    if _is_unique_violation(exc):
        return _retry_error()
    return BundleError(
        "UNSTORABLE_VALUE",
        f"The database refused the bundle: {message}",
        details={"errors": [{"message": message}]},
    )


def _is_unique_violation(exc: sa.exc.DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(exc.orig)


# --- summary -------------------------------------------------------------------------------------


def _summary(plan: list[_Planned], warnings: list[dict[str, Any]], dry_run: bool) -> dict[str, Any]:
    """Alga's three lists (kept for clients of Alga's API) plus algaflow's per-workflow list."""
    return {
        "createdWorkflows": [{"key": p.key, "workflowId": p.workflow_id} for p in plan],
        "deletedWorkflows": [],
        "createdPublishedVersions": [
            {"key": p.key, "workflowId": p.workflow_id, "versions": p.version_numbers}
            for p in plan
            if p.versions
        ],
        "workflows": [
            {
                "key": p.key,
                "workflowId": p.workflow_id,
                "action": "overwritten" if p.overwrite else "created",
                "versions": p.version_numbers,
            }
            for p in plan
        ],
        "warnings": warnings,
        "dryRun": dry_run,
    }
