"""Which workflow ids an import keeps, what a dry run may tell, and imports racing each other."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from tests.bundle.bundle_factory import (
    bundle,
    definition,
    import_into,
    row_counts,
    workflow,
)

from algaflow.api.statuses import status_for
from algaflow.bundle.errors import BundleError
from algaflow.services.bundles import export_bundle_on, import_bundle_on
from algaflow.store import workflows as store

SOURCE_ID = "00000000-0000-4000-8000-000000000001"


def _ids(summary) -> dict[str, str]:
    return {w["key"]: w["workflowId"] for w in summary["workflows"]}


# --- dry runs tell nothing about other tenants (finding 1f) -----------------------------------


def test_a_dry_run_does_not_reveal_that_another_tenant_holds_an_id(
    engine, tenant, other_tenant, registry
):
    data = bundle(workflow("a.one", definition(workflow_id=SOURCE_ID)))
    import_into(engine, other_tenant, data, registry)  # the other tenant now holds SOURCE_ID
    dry = import_into(engine, tenant, data, registry, dry_run=True)
    assert _ids(dry) == {"a.one": SOURCE_ID}  # the same answer as in an empty database
    assert row_counts(engine) == (1, 1)
    real = import_into(engine, tenant, data, registry)
    assert _ids(real)["a.one"] != SOURCE_ID  # the primary key is global: a real import cannot


def test_a_dry_run_gives_up_ids_the_tenant_itself_holds(engine, tenant, registry):
    import_into(
        engine, tenant, bundle(workflow("a.one", definition(workflow_id=SOURCE_ID))), registry
    )
    renamed = bundle(workflow("a.two", definition(workflow_id=SOURCE_ID)))
    dry = import_into(engine, tenant, renamed, registry, dry_run=True)
    real = import_into(engine, tenant, renamed, registry)
    assert _ids(dry)["a.two"] != SOURCE_ID and _ids(real)["a.two"] != SOURCE_ID


def test_a_dry_run_matches_the_real_import_in_a_fresh_database(engine, tenant, registry):
    data = bundle(
        workflow("a.one", definition(workflow_id=SOURCE_ID)),
        workflow("a.two", definition(workflow_id="not-a-uuid")),
    )
    dry = import_into(engine, tenant, data, registry, dry_run=True)
    real = import_into(engine, tenant, data, registry)
    assert _ids(dry)["a.one"] == _ids(real)["a.one"] == SOURCE_ID


# --- failureRateThreshold on import (finding 1c) -----------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"), [("0.025", "0.03"), (12.345, "12.35"), ("-0.001", "0.00")]
)
def test_imported_thresholds_round_like_postgresql(engine, tenant, registry, given, stored):
    import_into(engine, tenant, bundle(workflow("a.one", failureRateThreshold=given)), registry)
    with engine.connect() as conn:
        exported = export_bundle_on(conn, tenant, all=True)
    assert exported["workflows"][0]["metadata"]["failureRateThreshold"] == stored


def test_a_threshold_rounding_to_1000_is_unstorable(engine, tenant, registry):
    data = bundle(workflow("a.one", failureRateThreshold="999.995"))
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, data, registry)
    assert caught.value.code == "UNSTORABLE_VALUE"
    assert row_counts(engine) == (0, 0)


# --- imports racing each other (PostgreSQL: SQLite writers queue on one lock) -------------------


def _race(engine, first_tenant, second_tenant, data, registry):
    """Import ``data`` into ``second_tenant`` while an import into ``first_tenant`` holds
    uncommitted rows with the same ids, then commit the first. Returns (summary, error)."""
    outcome: dict[str, object] = {}
    holder = engine.connect()
    holder.begin()
    import_bundle_on(holder, first_tenant, data, registry=registry)
    pid = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def second() -> None:
        try:
            outcome["summary"] = import_into(engine, second_tenant, data, registry)
        except BundleError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 10
    with engine.connect() as watcher:  # wait until the second import blocks on our rows
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": pid},
            ).scalar()
            watcher.rollback()
            if waiting:
                break
            time.sleep(0.02)
    holder.commit()
    holder.close()
    thread.join(timeout=20)
    return outcome.get("summary"), outcome.get("error")


def test_two_tenants_importing_one_bundle_at_once_both_succeed(
    engine, tenant, other_tenant, registry
):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    data = bundle(workflow("a.one", definition(workflow_id=SOURCE_ID)), workflow("a.two"))
    summary, error = _race(engine, tenant, other_tenant, data, registry)
    assert error is None and summary is not None
    assert _ids(summary)["a.one"] != SOURCE_ID
    assert row_counts(engine) == (4, 4)
    with engine.connect() as conn:
        assert store.get_workflow(conn, tenant, SOURCE_ID).key == "a.one"
        theirs = store.get_workflow(conn, other_tenant, _ids(summary)["a.one"])
    assert theirs.draft_definition["id"] == theirs.workflow_id


def test_one_tenant_importing_one_bundle_twice_at_once_is_a_key_conflict(engine, tenant, registry):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    data = bundle(workflow("a.one", definition(workflow_id=SOURCE_ID)), workflow("a.two"))
    summary, error = _race(engine, tenant, tenant, data, registry)
    assert summary is None and error is not None
    assert (error.code, status_for(error.code)) == ("WORKFLOW_KEY_CONFLICT", 409)
    assert error.details["conflicts"] == [
        {"workflowKey": "a.one", "existingWorkflowId": SOURCE_ID},
        {
            "workflowKey": "a.two",
            "existingWorkflowId": error.details["conflicts"][1]["existingWorkflowId"],
        },
    ]
    assert row_counts(engine) == (2, 2)
