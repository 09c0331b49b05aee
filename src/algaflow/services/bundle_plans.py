"""Import plans over the database: the tenant's workflows read for :mod:`algaflow.bundle.plan`.

:func:`plan_changes` runs inside an import's transaction (the bundle's keys locked) and inside a
plan's read, so ``bundle plan``, ``import --dry-run`` and the import itself decide the same way.
The tenant's rows are read :data:`~algaflow.bundle.export.BATCH_SIZE` workflows at a time and
only the changes are kept, so a plan holds one batch of stored definitions, not all of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.bundle.errors import BundleError
from algaflow.bundle.export import BATCH_SIZE, METADATA_FIELDS
from algaflow.bundle.importer import Planned
from algaflow.bundle.plan import (
    ActiveRun,
    Current,
    Plan,
    WorkflowChange,
    attach_runs,
    compare,
    deletion,
    pruned,
)
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import runs as run_store
from algaflow.store import workflows as store

Json = dict[str, Any]


@dataclass(frozen=True)
class ImportOptions:
    """How an import treats the tenant's workflows.

    ``force``: overwrite workflows with the same key. ``prune``: delete the tenant's workflows
    the bundle does not hold (only keys starting with ``prune_prefix``, when given).
    ``accept_broken_runs``: import even when a force or prune deletes a published version that
    a RUNNING or WAITING run is on (those runs then fail at their next step).
    """

    force: bool = False
    prune: bool = False
    prune_prefix: str | None = None
    accept_broken_runs: bool = False

    def __post_init__(self) -> None:
        if self.prune_prefix is not None and not self.prune:
            raise AlgaflowError("INVALID_REQUEST", "A prune key prefix needs prune.")
        if self.prune_prefix is not None and not store.KEY_PREFIX_PATTERN.match(self.prune_prefix):
            raise AlgaflowError(
                "INVALID_FIELD",
                f"Invalid prune key prefix {self.prune_prefix!r}.",
                details={"field": "prunePrefix"},
            )


def plan_changes(
    conn: Connection,
    tenant_id: str,
    planned: Sequence[Planned],
    workflows: Sequence[Json],
    existing: Mapping[str, str],
    options: ImportOptions,
    pruned: Mapping[str, str],
) -> Plan:
    """Compare the planned rows with the tenant's, add the deletions of ``pruned`` (key ->
    workflow id, from :func:`pruned_workflows`) and the active runs either would break."""
    changes = list(_compared(conn, tenant_id, planned, workflows, existing))
    numbers = store.published_version_numbers(conn, tenant_id, pruned.values())
    changes += [deletion(k, i, numbers.get(i, set())) for k, i in pruned.items()]
    doomed = [c.workflow_id for c in changes if c.action == "delete" or c.deleted_versions]
    attach_runs(changes, _active_runs(conn, tenant_id, doomed))
    return Plan(
        changes,
        force=options.force,
        prune=options.prune,
        prune_prefix=options.prune_prefix,
        conflicts=[] if options.force else list(existing),
    )


def delete_pruned(conn: Connection, tenant_id: str, plan: Plan) -> None:
    """Delete the workflows the plan prunes, with their versions and runs."""
    for change in plan.workflows:
        if change.action == "delete":
            store.delete_workflow(conn, tenant_id, change.workflow_id)


def _compared(
    conn: Connection,
    tenant_id: str,
    planned: Sequence[Planned],
    workflows: Sequence[Json],
    existing: Mapping[str, str],
) -> Iterator[WorkflowChange]:
    for start in range(0, len(planned), BATCH_SIZE):
        batch = planned[start : start + BATCH_SIZE]
        ids = [existing[p.key] for p in batch if p.key in existing]
        rows, versions = store.rows_for_export(conn, tenant_id, ids) if ids else ({}, {})
        for p in batch:
            row = rows.get(existing.get(p.key, ""))
            current = None
            if row is not None:
                current = Current(
                    workflow_id=row.workflow_id,
                    key=row.key,
                    metadata=row.camel(METADATA_FIELDS),
                    draft_version=row.draft_version,
                    draft=row.draft_definition,
                    versions={
                        v.version: (v.definition_json, v.payload_schema_json)
                        for v in versions.get(row.workflow_id, [])
                    },
                )
            yield compare(p, workflows[p.index], current)
        del rows, versions


def pruned_workflows(
    conn: Connection, tenant_id: str, workflows: Sequence[Json], options: ImportOptions
) -> dict[str, str]:
    """Key -> workflow id of the tenant's workflows a prune deletes (none without prune), by key.

    ``PRUNE_WOULD_DELETE_ALL`` when that is every workflow of the prune's scope.
    """
    if not options.prune:
        return {}
    prefix = options.prune_prefix or ""
    scope = {
        h.key: h.workflow_id
        for h in store.export_heads(conn, tenant_id, all=True)
        if h.key.startswith(prefix)
    }
    keys = pruned(scope, (w["key"] for w in workflows))
    if scope and len(keys) == len(scope):
        where = f' with the key prefix "{prefix}"' if prefix else ""
        raise BundleError(
            "PRUNE_WOULD_DELETE_ALL",
            f"The prune would delete every workflow of the tenant{where} ({len(keys)}): the "
            "bundle holds none of them. Check the source, or narrow the prune's key prefix.",
            details={"keyPrefix": options.prune_prefix, "count": len(keys)},
        )
    return {key: scope[key] for key in keys}


def _active_runs(conn: Connection, tenant_id: str, workflow_ids: list[str]) -> list[ActiveRun]:
    return [
        ActiveRun(r.run_id, r.workflow_id, r.workflow_version, r.status)
        for r in run_store.active_runs_of(conn, tenant_id, workflow_ids)
    ]
