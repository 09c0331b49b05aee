"""Import plans on both databases: the plan says exactly what an import changes, the import
changes exactly that (unchanged workflows are not rewritten), force never breaks an active run
silently, and a prune deletes only what its scope holds."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
from tests.bundle.bundle_factory import (
    bundle,
    call_step,
    definition,
    echo_step,
    workflow,
)

from algaflow.bundle.errors import BundleError
from algaflow.services import UnitOfWork
from algaflow.services import bundles as service
from algaflow.services.bundle_plans import ImportOptions
from algaflow.services.events import emit_event
from algaflow.services.runs import get_run, start_run
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t

WAIT_GO = {
    "id": "go",
    "type": "event.wait",
    "config": {"eventName": "GO", "correlationKey": {"$expr": "'k'"}},
}
IDS = [f"{n}0000000-0000-4000-8000-000000000000" for n in range(1, 6)]


def three() -> dict:
    return bundle(
        *(
            workflow(f"acme.{name}", definition(name.title(), workflow_id=IDS[i]))
            for i, name in enumerate(["one", "two", "three"])
        )
    )


def stamps(engine) -> dict:
    """Every row's identity and last change: what an import that churns rows would alter."""
    with engine.connect() as conn:
        defs = conn.execute(sa.select(defs_t.c.key, defs_t.c.updated_at)).all()
        versions = conn.execute(
            sa.select(versions_t.c.workflow_id, versions_t.c.version, versions_t.c.version_id)
        ).all()
    return {"defs": dict(defs), "versions": sorted(versions)}


def plan(uow, tenant, data, registry, **options) -> dict:
    return service.plan_bundle(uow, tenant, data, ImportOptions(**options), registry=registry)


def test_a_one_field_change_is_planned_and_applied_exactly(engine, tenant, registry):
    uow = UnitOfWork(engine)
    data = three()
    first = plan(uow, tenant, data, registry)
    assert first["counts"] == {"create": 3, "update": 0, "unchanged": 0, "delete": 0}
    assert first["changes"] is True
    service.import_bundle(uow, tenant, data, registry=registry)
    assert plan(uow, tenant, data, registry, force=True)["changes"] is False

    edited = copy.deepcopy(data)
    edited["workflows"][1]["metadata"]["name"] = "Two, renamed"
    edited["workflows"][1]["draft"]["definition"]["steps"][0]["config"]["saveAs"] = "vars.x"
    planned = plan(uow, tenant, edited, registry)
    assert planned["summary"] == (
        "0 to create, 1 to update, 2 unchanged (3 existing key(s): the import needs force)"
    )
    [change] = [w for w in planned["workflows"] if w["action"] == "update"]
    assert change["key"] == "acme.two"
    assert change["fields"] == [{"field": "name", "old": "Test", "new": "Two, renamed"}]
    assert change["draft"] == [
        {"op": "replace", "path": "/steps/0/config/saveAs", "value": "vars.x"}
    ]
    assert change["versions"] == {"added": [], "removed": [], "changed": []}
    assert change["deletedVersions"] == [] and change["runsAtRisk"] == []

    before = stamps(engine)
    dry = service.import_bundle(uow, tenant, edited, registry=registry, force=True, dry_run=True)
    assert dry["plan"] == plan(uow, tenant, edited, registry, force=True)
    assert stamps(engine) == before
    done = service.import_bundle(uow, tenant, edited, registry=registry, force=True)
    assert [w["action"] for w in done["workflows"]] == ["unchanged", "overwritten", "unchanged"]
    assert [w["key"] for w in done["createdWorkflows"]] == ["acme.two"]
    after = stamps(engine)
    assert {k: v for k, v in after["defs"].items() if k != "acme.two"} == {
        k: v for k, v in before["defs"].items() if k != "acme.two"
    }
    assert after["defs"]["acme.two"] > before["defs"]["acme.two"]
    untouched = [v for v in before["versions"] if v[0] != IDS[1]]
    assert [v for v in after["versions"] if v[0] != IDS[1]] == untouched
    assert plan(uow, tenant, edited, registry, force=True)["changes"] is False


def test_versions_added_removed_changed_and_force_deletions(engine, tenant, registry):
    uow = UnitOfWork(engine)
    draft = definition(workflow_id=IDS[0])
    versions = [
        {"version": n, "definition": {**draft, "version": n}, "payloadSchemaJson": None}
        for n in (1, 2)
    ]
    data = bundle(workflow("acme.v", draft, versions))
    service.import_bundle(uow, tenant, data, registry=registry)
    changed = copy.deepcopy(versions[1])
    changed["definition"]["steps"] = [echo_step("echo", "changed")]
    new = [changed, {"version": 3, "definition": {**draft, "version": 3}, "payloadSchemaJson": {}}]
    [change] = plan(uow, tenant, bundle(workflow("acme.v", draft, new)), registry, force=True)[
        "workflows"
    ]
    assert change["versions"] == {"added": [3], "removed": [1], "changed": [2]}
    assert change["deletedVersions"] == [1, 2]
    assert {"field": "draftVersion", "old": 3, "new": 4} in change["fields"]


def test_references_rewritten_on_import_are_listed(engine, tenant, other_tenant, registry):
    uow = UnitOfWork(engine)
    child_source = "99999999-9999-4999-8999-999999999999"
    child = workflow("acme.child", definition("Child", workflow_id=child_source))
    parent = workflow(
        "acme.parent", definition("Parent", [call_step("call", child_source)], workflow_id=IDS[0])
    )
    # Another tenant holds the child's source id, so the child gets a new one here.
    service.import_bundle(uow, other_tenant, bundle(child), registry=registry)
    done = service.import_bundle(uow, tenant, bundle(parent, child), registry=registry)
    new_child = done["workflows"][1]["workflowId"]
    assert new_child != child_source
    by_key = {w["key"]: w for w in done["plan"]["workflows"]}
    assert by_key["acme.parent"]["references"] == [
        {"version": None, "stepPath": "root.steps[0]", "from": child_source, "to": new_child},
        {"version": 1, "stepPath": "root.steps[0]", "from": child_source, "to": new_child},
    ]
    # Imported again, the references are rewritten the same way: nothing changes.
    again = plan(uow, tenant, bundle(parent, child), registry, force=True)
    assert again["counts"]["unchanged"] == 2


# --- runs ----------------------------------------------------------------------------------------


def waiting(text: str) -> dict:
    steps = [WAIT_GO, echo_step("echo", text)]
    return workflow("acme.wait", definition("Wait", steps, workflow_id=IDS[0]))


def test_force_that_would_break_an_active_run_is_refused_unless_accepted(engine, tenant, registry):
    uow = UnitOfWork(engine)
    service.import_bundle(uow, tenant, bundle(waiting("hi")), registry=registry)
    finished = start_run(uow, tenant, IDS[0], registry=registry, payload={})
    emit_event(uow, tenant, "GO", {}, correlation_key="k", registry=registry, wait=True)
    assert get_run(uow, tenant, finished["runId"])["status"] == "SUCCEEDED"
    active = start_run(uow, tenant, IDS[0], registry=registry, payload={})
    assert active["status"] == "WAITING"

    changed = bundle(waiting("changed"))
    planned = plan(uow, tenant, changed, registry, force=True)
    assert [(r["key"], r["runId"], r["workflowVersion"]) for r in planned["runsAtRisk"]] == [
        ("acme.wait", active["runId"], 1)
    ]
    before = stamps(engine)
    with pytest.raises(BundleError) as refused:
        service.import_bundle(uow, tenant, changed, registry=registry, force=True)
    assert refused.value.code == "ACTIVE_RUNS_AFFECTED"
    assert active["runId"] in refused.value.message
    assert [r["runId"] for r in refused.value.details["runs"]] == [active["runId"]]
    assert stamps(engine) == before

    accepted = ImportOptions(force=True, accept_broken_runs=True)
    service.import_bundle(uow, tenant, changed, registry=registry, options=accepted)
    # The run's version now holds another definition: it fails at its next step, coded.
    emit_event(uow, tenant, "GO", {}, correlation_key="k", registry=registry, wait=True)
    broken = get_run(uow, tenant, active["runId"])
    assert broken["status"] == "FAILED"
    assert "DEFINITION_HASH_MISMATCH" in str(broken["error"])
    # A finished run stays readable after its version is gone.
    assert get_run(uow, tenant, finished["runId"])["status"] == "SUCCEEDED"


def test_an_unchanged_version_keeps_its_runs_safe(engine, tenant, registry):
    uow = UnitOfWork(engine)
    service.import_bundle(uow, tenant, bundle(waiting("hi")), registry=registry)
    active = start_run(uow, tenant, IDS[0], registry=registry, payload={})
    data = bundle(waiting("hi"))
    data["workflows"][0]["metadata"]["isPaused"] = True  # metadata only: version 1 stays
    planned = plan(uow, tenant, data, registry, force=True)
    assert planned["counts"]["update"] == 1 and planned["runsAtRisk"] == []
    service.import_bundle(uow, tenant, data, registry=registry, force=True)
    emit_event(uow, tenant, "GO", {}, correlation_key="k", registry=registry, wait=True)
    assert get_run(uow, tenant, active["runId"])["status"] == "SUCCEEDED"


# --- prune ---------------------------------------------------------------------------------------


def test_prune_deletes_what_the_source_no_longer_has_within_its_scope(engine, tenant, registry):
    uow = UnitOfWork(engine)
    data = three()
    other = workflow("other.keep", definition(workflow_id=IDS[3]))
    service.import_bundle(uow, tenant, bundle(*data["workflows"], other), registry=registry)
    smaller = bundle(*data["workflows"][:2])
    planned = plan(uow, tenant, smaller, registry, force=True, prune=True, prune_prefix="acme.")
    assert planned["summary"] == "0 to create, 0 to update, 1 to delete, 2 unchanged"
    assert planned["prune"] == {"enabled": True, "keyPrefix": "acme."}
    [gone] = [w for w in planned["workflows"] if w["action"] == "delete"]
    assert (gone["key"], gone["deletedVersions"]) == ("acme.three", [1])

    options = ImportOptions(force=True, prune=True, prune_prefix="acme.")
    done = service.import_bundle(uow, tenant, smaller, registry=registry, options=options)
    assert done["deletedWorkflows"] == [{"key": "acme.three", "workflowId": IDS[2]}]
    assert sorted(stamps(engine)["defs"]) == ["acme.one", "acme.two", "other.keep"]


def test_a_prune_that_would_empty_its_scope_is_refused(engine, tenant, registry):
    uow = UnitOfWork(engine)
    service.import_bundle(uow, tenant, three(), registry=registry)
    before = stamps(engine)
    elsewhere = bundle(workflow("acme.new", definition(workflow_id=IDS[4])))
    for call in (
        lambda: plan(uow, tenant, elsewhere, registry, prune=True),
        lambda: service.import_bundle(
            uow, tenant, elsewhere, registry=registry, options=ImportOptions(prune=True)
        ),
    ):
        with pytest.raises(BundleError) as refused:
            call()
        assert refused.value.code == "PRUNE_WOULD_DELETE_ALL"
    assert stamps(engine) == before


def test_a_prune_breaking_an_active_run_is_refused(engine, tenant, registry):
    uow = UnitOfWork(engine)
    keep = workflow("acme.keep", definition(workflow_id=IDS[1]))
    service.import_bundle(uow, tenant, bundle(waiting("hi"), keep), registry=registry)
    active = start_run(uow, tenant, IDS[0], registry=registry, payload={})
    with pytest.raises(BundleError) as refused:
        service.import_bundle(
            uow,
            tenant,
            bundle(keep),
            registry=registry,
            options=ImportOptions(force=True, prune=True),
        )
    assert refused.value.code == "ACTIVE_RUNS_AFFECTED"
    assert get_run(uow, tenant, active["runId"])["status"] == "WAITING"


def test_a_prune_cannot_delete_a_workflow_that_a_published_version_calls(engine, tenant, registry):
    uow = UnitOfWork(engine)
    child = workflow("acme.child", definition("Child", workflow_id=IDS[0]))
    parent = workflow(
        "acme.parent", definition("Parent", [call_step("call", IDS[0])], workflow_id=IDS[1])
    )
    service.import_bundle(uow, tenant, bundle(parent, child), registry=registry)
    before = stamps(engine)
    with pytest.raises(BundleError) as refused:
        plan(uow, tenant, bundle(parent), registry, force=True, prune=True)
    assert refused.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"
    assert plan(uow, tenant, bundle(parent), registry, force=True)["changes"] is False
    assert stamps(engine) == before
