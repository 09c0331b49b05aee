"""Bundle use cases: import (and dry run) and export of ``alga-psa.workflow-bundle`` v1.

They join the pure bundle part (checks, planning, canonical encoding: ``algaflow.bundle``) to the
workflow repository (``algaflow.store.workflows``). ``import_bundle``/``export_*`` take a
:class:`UnitOfWork` and own their transaction; the ``*_on`` variants work in the caller's.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.bundle import importer
from algaflow.bundle.bindings import BoundBundle
from algaflow.bundle.canonical import loads_json
from algaflow.bundle.errors import BundleError
from algaflow.bundle.export import (
    BATCH_SIZE,
    METADATA_FIELDS,
    ExportedAt,
    Progress,
    bundle_value,
    check_found,
    check_selection,
    encode,
    export_order,
    exported_at_stamp,
    workflow_entry,
)
from algaflow.bundle.plan import check_runs
from algaflow.kernel.clock import new_id
from algaflow.registry import Registry
from algaflow.services import bundle_plans as plans
from algaflow.services import references
from algaflow.services.bundle_plans import ImportOptions
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import workflows as store

Json = dict[str, Any]
#: Write transactions :func:`import_bundle` tries before answering ``CONCURRENT_IMPORT``.
IMPORT_ATTEMPTS = 3
#: Plans an import makes in one transaction when concurrent writers take its ids or keys.
PLAN_ATTEMPTS = 3


# --- import --------------------------------------------------------------------------------------


def import_bundle(
    uow: UnitOfWork,
    tenant_id: str,
    bundle: Any,
    *,
    registry: Registry,
    force: bool = False,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    reference_options: references.ReferenceOptions | None = None,
) -> Json:
    """Check ``bundle`` without the database, then import it in a write transaction of its own.

    ``options`` (force, prune, accepting broken runs) win over the ``force`` shorthand.

    Nothing takes a write lock until every check that needs no database has passed: on SQLite
    a write transaction holds the whole database, so checking a hostile bundle inside one made
    every other tenant's writes wait. A transaction that loses a race with a concurrent writer
    (``CONCURRENT_IMPORT``) is retried a few times before the error reaches the caller. Returns
    the summary once the import is committed (a dry run writes nothing).
    """
    if isinstance(bundle, str | bytes | bytearray):
        bundle = loads_json(bundle)
    bound = references.bind(bundle, registry, reference_options)
    importer.check_bundle(bound.bundle, registry=registry)
    bound = bound.searched(registry)  # before the write transaction, like every pure step
    for attempt in range(1, IMPORT_ATTEMPTS + 1):
        try:
            with uow.writing() as conn:
                summary = import_bundle_on(
                    conn,
                    tenant_id,
                    bound.bundle,
                    registry=registry,
                    options=options or ImportOptions(force=force),
                    dry_run=dry_run,
                    actor=actor,
                    progress=progress,
                    checked=True,
                    reference_options=reference_options,
                    bound=bound,
                )
            return summary
        except BundleError as exc:
            if exc.code != "CONCURRENT_IMPORT" or attempt == IMPORT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def import_bundle_on(
    conn: Connection,
    tenant_id: str,
    bundle: Any,
    *,
    registry: Registry,
    force: bool = False,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    checked: bool = False,
    reference_options: references.ReferenceOptions | None = None,
    bound: BoundBundle | None = None,
) -> Json:
    """Import ``bundle`` (a parsed value, or JSON text/bytes) in the caller's transaction.

    Any failure raises a :class:`BundleError` and leaves the database as it was; ``dry_run``
    returns the same summary and writes nothing. ``checked=True`` skips the checks that need no
    database when the caller ran them already, and ``bound`` is then ``bundle`` after its
    bindings (``reference_options``); the references are checked in the tenant before any write.
    """
    if isinstance(bundle, str | bytes | bytearray):
        bundle = loads_json(bundle)
    if bound is None:
        bound = references.bind(bundle, registry, reference_options)
        bundle = bound.bundle
    if not checked:
        importer.check_bundle(bundle, registry=registry)
    bound = bound.searched(registry)
    workflows: list[Json] = bundle["workflows"]
    found = references.check_in_tenant(conn, tenant_id, bound, registry, reference_options)
    try:
        with store.transient_conflicts():
            store.lock_workflow_keys(conn, tenant_id, [w["key"] for w in workflows])
            summary = _import_locked(
                conn,
                tenant_id,
                workflows,
                options=options or ImportOptions(force=force),
                dry_run=dry_run,
                actor=actor,
                progress=progress,
            )
    except store.TransientConflict:  # a deadlock with another writer, or a serialization failure
        raise importer.retry_error() from None
    summary["warnings"] = [*bound.warnings, *found, *summary["warnings"]]
    if bound.substitutions:
        summary["substitutions"] = [s.as_json() for s in bound.substitutions]
    summary["plan"] = {**summary["plan"], **_reference_section(bound, found)}
    return summary


def _import_locked(
    conn: Connection,
    tenant_id: str,
    workflows: list[Json],
    *,
    options: ImportOptions,
    dry_run: bool,
    actor: str | None,
    progress: Progress | None,
) -> Json:
    """Plan against the rows, then write what changes; the bundle's keys are locked.

    A source id found free can be taken by a concurrent import (another tenant importing the same
    bundle) before this one writes, and with ``force`` a key can be created by a plain create
    meanwhile: then plan again against the rows as they are now. Unchanged workflows are not
    written at all.
    """
    force = options.force
    for _attempt in range(PLAN_ATTEMPTS):
        existing = store.workflow_ids_by_key(conn, tenant_id, [w["key"] for w in workflows])
        if existing and not force:
            raise importer.conflict_error(existing)
        pruned = plans.pruned_workflows(conn, tenant_id, workflows, options)
        planned, warnings = _prepare(
            conn, tenant_id, workflows, existing, pruned, dry_run, progress
        )
        changes = plans.plan_changes(conn, tenant_id, planned, workflows, existing, options, pruned)
        check_runs(changes, accepted=options.accept_broken_runs)
        unchanged = {c.key for c in changes.workflows if c.action == "unchanged"}
        written = [p for p in planned if p.key not in unchanged]
        if _write(conn, tenant_id, written, actor=actor, dry_run=dry_run, force=force):
            if not dry_run:
                plans.delete_pruned(conn, tenant_id, changes)
            found = [*importer.draft_warnings(planned, workflows), *warnings]
            deleted = [c for c in changes.workflows if c.action == "delete"]
            summary = importer.summary(planned, found, dry_run, unchanged=unchanged)
            summary["deletedWorkflows"] = [
                {"key": c.key, "workflowId": c.workflow_id} for c in deleted
            ]
            return {**summary, "plan": changes.to_json()}
    raise importer.retry_error()


def _prepare(
    conn: Connection,
    tenant_id: str,
    workflows: list[Json],
    existing: dict[str, str],
    pruned: dict[str, str],
    dry_run: bool,
    progress: Progress | None,
) -> tuple[list[importer.Planned], list[Json]]:
    """The planned rows, and the draft reference warnings (unresolved references in published
    versions raise; a workflow the import prunes does not resolve one)."""
    sources = importer.Sources.of(workflows)
    # A dry run (or a plan) judges ids by the tenant's own rows: it must not probe other tenants'.
    taken = store.taken_workflow_ids(
        conn, sources.candidates(), tenant_id=tenant_id if dry_run else None
    )
    targets = importer.choose_targets(workflows, sources, existing, taken)
    planned = importer.plan(workflows, targets, existing, sources, progress)
    outside = importer.outside_references(planned, sources.ambiguous)
    gone = set(pruned.values())
    versions = {
        workflow_id: numbers
        for workflow_id, numbers in store.published_version_numbers(
            conn, tenant_id, outside
        ).items()
        if workflow_id not in gone
    }
    warnings = importer.check_references(planned, outside, versions, sources.ambiguous)
    return planned, warnings


# --- plan ----------------------------------------------------------------------------------------


def plan_bundle(
    uow: UnitOfWork,
    tenant_id: str,
    bundle: Any,
    options: ImportOptions,
    *,
    registry: Registry,
    reference_options: references.ReferenceOptions | None = None,
) -> Json:
    """What importing ``bundle`` with ``options`` would change, per workflow key, read-only.

    The same checks as an import run first and raise the same errors, except that keys the
    tenant has already are listed in ``needsForce`` instead of refused, active runs the import
    would break are listed in ``runsAtRisk``, and references the tenant lacks are listed in
    ``referenceWarnings`` (``REFERENCE_UNRESOLVED``). The bundle's environment-specific
    ``references`` (after the bindings) and each ``substitution`` are shown too.
    """
    if isinstance(bundle, str | bytes | bytearray):
        bundle = loads_json(bundle)
    bound = references.bind(bundle, registry, reference_options)
    importer.check_bundle(bound.bundle, registry=registry)
    bound = bound.searched(registry)
    listing = dataclasses.replace(
        reference_options or references.ReferenceOptions(), allow_unresolved=True
    )
    workflows: list[Json] = bound.bundle["workflows"]
    with uow.reading() as conn:
        found = references.check_in_tenant(conn, tenant_id, bound, registry, listing)
        existing = store.workflow_ids_by_key(conn, tenant_id, [w["key"] for w in workflows])
        pruned = plans.pruned_workflows(conn, tenant_id, workflows, options)
        planned, _ = _prepare(conn, tenant_id, workflows, existing, pruned, True, None)
        changes = plans.plan_changes(conn, tenant_id, planned, workflows, existing, options, pruned)
    return {**changes.to_json(), **_reference_section(bound, found)}


def _reference_section(bound: BoundBundle, found: list[Json]) -> Json:
    """The plan's environment-specific references, substitutions and reference warnings."""
    return {
        "references": [r.as_json() for r in bound.references or ()],
        "substitutions": [s.as_json() for s in bound.substitutions],
        "referenceWarnings": [*bound.warnings, *found],
    }


def _write(
    conn: Connection,
    tenant_id: str,
    planned: list[importer.Planned],
    *,
    actor: str | None,
    dry_run: bool,
    force: bool,
) -> bool:
    """Write the plan; False when a concurrent writer took a planned id or key (plan again).

    A dry run's rows, rolled back anyway, are written under fresh ids so that another tenant's
    row cannot change its outcome.
    """
    row_ids = {p.workflow_id: new_id() if dry_run else p.workflow_id for p in planned}
    rows = [
        store.ImportedWorkflow(
            workflow_id=p.workflow_id if p.overwrite else row_ids[p.workflow_id],
            key=p.key,
            metadata=p.metadata,
            draft_definition=p.draft,
            draft_version=p.draft_version,
            versions=[(number, definition, schema) for number, definition, schema, _ in p.versions],
            overwrite=p.overwrite,
        )
        for p in planned
    ]
    try:
        store.write_import(conn, tenant_id, rows, actor=actor, dry_run=dry_run)
    except store.ConstraintViolation as exc:
        inserted = [r.workflow_id for r in rows if not r.overwrite]
        return _replan_or_raise(conn, tenant_id, planned, inserted, exc, force=force)
    return True


def _replan_or_raise(
    conn: Connection,
    tenant_id: str,
    planned: list[importer.Planned],
    inserted_ids: list[str],
    exc: store.ConstraintViolation,
    *,
    force: bool,
) -> bool:
    """What a constraint hit after the checks means (the savepoint undid this import's writes).

    A key created concurrently since the check (by a writer that does not take the key locks)
    is a 409 as if it had been there before, or with ``force`` a reason to plan again and
    overwrite it; a workflow id taken concurrently (another tenant importing the same bundle)
    means planning again too; any other unique hit is a concurrent writer (a publish of the same
    version, say): ``CONCURRENT_IMPORT``, retryable. Anything else is a value the checks missed.
    """
    new_keys = [p.key for p in planned if not p.overwrite]
    existing = store.workflow_ids_by_key(conn, tenant_id, new_keys)
    if existing:
        if force:
            return False
        raise importer.conflict_error(existing)
    if store.taken_workflow_ids(conn, inserted_ids):
        return False
    if exc.unique:
        raise importer.retry_error()
    raise BundleError(
        "UNSTORABLE_VALUE",
        f"The database refused the bundle: {exc.message}",
        details={"errors": [{"message": exc.message}]},
    )


# --- export --------------------------------------------------------------------------------------


def export_bundle(uow: UnitOfWork, tenant_id: str, **selection: Any) -> Json:
    """The bundle of the selected workflows as a value (see :func:`iter_export_bundle_bytes_on`
    for ``selection``); the whole bundle is in memory."""
    with uow.reading() as conn:
        return export_bundle_on(conn, tenant_id, **selection)


def export_bundle_bytes(uow: UnitOfWork, tenant_id: str, **selection: Any) -> bytes:
    """The canonical bundle bytes of the selected workflows (what the CLI writes)."""
    with uow.reading() as conn:
        return export_bundle_bytes_on(conn, tenant_id, **selection)


@dataclasses.dataclass
class ExportStream:
    """Canonical bundle bytes in pieces, and how many workflows they were planned to hold (a
    workflow deleted meanwhile is left out): what an HTTP answer announces for progress."""

    count: int
    pieces: Iterator[bytes]

    def __iter__(self) -> Iterator[bytes]:
        return self.pieces

    def __next__(self) -> bytes:
        return next(self.pieces)


def stream_export(
    uow: UnitOfWork, tenant_id: str, *, batch_size: int = BATCH_SIZE, **selection: Any
) -> ExportStream:
    """The canonical bundle bytes in pieces, for an HTTP response.

    Every error is raised by this call, before any piece exists; the pieces then read
    ``batch_size`` workflows per step on a connection of their own, closed when they are consumed
    (or abandoned).
    """
    stack = ExitStack()
    conn = stack.enter_context(uow.reading())
    try:
        stream = iter_export_bundle_bytes_on(conn, tenant_id, batch_size=batch_size, **selection)
    except BaseException:
        stack.close()
        raise
    return ExportStream(stream.count, _closing(stream.pieces, stack))


def _closing(pieces: Iterator[bytes], stack: ExitStack) -> Iterator[bytes]:
    with stack:
        yield from pieces


def export_bundle_on(
    conn: Connection,
    tenant_id: str,
    *,
    workflow_ids: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    all: bool = False,
    exported_at: ExportedAt = None,
    progress: Progress | None = None,
) -> Json:
    """The bundle of the selected workflows (ids and keys may be combined, or ``all``).

    Unknown ids or keys raise 404 ``WORKFLOW_NOT_FOUND`` listing every missing one in
    ``details["missingWorkflowIds"]`` / ``details["missingKeys"]``; another tenant's rows count as
    missing.
    """
    stamp, order = _export_plan(conn, tenant_id, workflow_ids, keys, all, exported_at)
    return bundle_value(stamp, _entries(conn, tenant_id, order, BATCH_SIZE, progress))


def iter_export_bundle_bytes_on(
    conn: Connection,
    tenant_id: str,
    *,
    workflow_ids: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    all: bool = False,
    exported_at: ExportedAt = None,
    batch_size: int = BATCH_SIZE,
) -> ExportStream:
    """:func:`export_bundle_on`'s canonical JSON bytes, in pieces, for streaming.

    Every error (nothing selected, 404, ``INVALID_EXPORTED_AT``) is raised by this call, before
    any piece exists. The pieces then read ``batch_size`` workflows per step (two queries each)
    on ``conn``, which must stay open until they are consumed; only one batch of rows is alive
    at a time. A workflow deleted meanwhile is left out.
    """
    stamp, order = _export_plan(conn, tenant_id, workflow_ids, keys, all, exported_at)
    return ExportStream(
        len(order), encode(stamp, _entries(conn, tenant_id, order, batch_size, None))
    )


def export_bundle_bytes_on(conn: Connection, tenant_id: str, **selection: Any) -> bytes:
    """:func:`iter_export_bundle_bytes_on` joined: the same bytes as the canonical encoding of
    :func:`export_bundle_on`, without holding the bundle's value."""
    return b"".join(iter_export_bundle_bytes_on(conn, tenant_id, **selection))


def _export_plan(
    conn: Connection,
    tenant_id: str,
    workflow_ids: Sequence[str] | None,
    keys: Sequence[str] | None,
    all: bool,
    exported_at: ExportedAt,
) -> tuple[str, list[str]]:
    """Check the selection with one light query: ``(exportedAt, workflow ids in export order)``.

    Each head carries the newest ``updated_at`` of its published versions, so ``latest-change``
    is known before any definition is read.
    """
    check_selection(workflow_ids, keys, all)
    heads = store.export_heads(
        conn, tenant_id, workflow_ids=workflow_ids or (), keys=keys or (), all=all
    )
    found = [(h.workflow_id, h.key) for h in heads]
    check_found(found, workflow_ids or (), keys or (), all)
    moments = [m for h in heads for m in (h.updated_at, h.newest) if m is not None]
    return exported_at_stamp(exported_at, moments), export_order(found)


def _entries(
    conn: Connection,
    tenant_id: str,
    order: list[str],
    batch_size: int,
    progress: Progress | None,
) -> Iterator[Json]:
    """The workflow entries in ``order``, reading ``batch_size`` workflows per two queries."""
    done = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        rows, versions = store.rows_for_export(conn, tenant_id, batch)
        for workflow_id in batch:
            row = rows.get(workflow_id)
            done += 1
            if row is not None:
                yield workflow_entry(
                    row.key,
                    row.camel(METADATA_FIELDS),
                    row.draft_version,
                    row.draft_definition,
                    [
                        (v.version, v.definition_json, v.payload_schema_json)
                        for v in versions.get(workflow_id, [])
                    ],
                )
            if progress is not None:
                progress(done, len(order))
        del rows, versions  # before the next batch is read, not after
