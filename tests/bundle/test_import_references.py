"""``control.callWorkflow`` references on import: rewritten inside a bundle, checked against the
tenant, reported when a published version could not run."""

from __future__ import annotations

import pytest
from tests.bundle.bundle_factory import (
    bundle,
    call_step,
    definition,
    echo_step,
    import_into,
    row_counts,
    workflow,
)

from algaflow.bundle.errors import BundleError
from algaflow.store import workflows as store

CHILD_SOURCE = "child-source-id"  # not a UUID, so the child always gets a new id


def _parent(child_ref: str, version: int = 1, *, published: bool = True) -> dict:
    steps = [
        {
            "id": "guard",
            "type": "control.if",
            "condition": {"$expr": "true"},
            "then": [call_step("call-child", child_ref, version)],
        },
        echo_step("after"),
    ]
    draft = definition("Parent", steps, workflow_id="parent-source-id")
    versions = None if published else []
    return workflow("p.parent", draft, versions=versions)


def _child() -> dict:
    return workflow("p.child", definition("Child", workflow_id=CHILD_SOURCE))


def _call_target(definition_json: dict) -> str:
    return definition_json["steps"][0]["then"][0]["workflowId"]


def test_calls_to_a_bundle_workflow_are_rewritten_to_its_new_id(engine, tenant, registry):
    summary = import_into(engine, tenant, bundle(_parent(CHILD_SOURCE), _child()), registry)
    ids = {w["key"]: w["workflowId"] for w in summary["workflows"]}
    assert summary["warnings"] == []
    with engine.connect() as conn:
        parent = store.get_workflow(conn, tenant, ids["p.parent"])
        (version,) = store.list_versions(conn, tenant, ids["p.parent"])
    assert _call_target(parent.draft_definition) == ids["p.child"]
    assert _call_target(version.definition_json) == ids["p.child"]
    assert ids["p.child"] != CHILD_SOURCE


def test_a_published_call_to_nothing_is_refused_with_every_place(engine, tenant, registry):
    parent = _parent("nowhere")
    parent["publishedVersions"].insert(  # out of order: pointers still name the bundle's places
        0, {"version": 2, "definition": parent["draft"]["definition"], "payloadSchemaJson": None}
    )
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, bundle(parent), registry)
    assert caught.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"
    found = [
        (e["workflowKey"], e["version"], e["instancePath"], e["stepPath"], e["workflowId"])
        for e in caught.value.details["errors"]
    ]
    step = "root.steps[0].then.steps[0]"
    assert found == [
        ("p.parent", 1, "/workflows/0/publishedVersions/1/definition", step, "nowhere"),
        ("p.parent", 2, "/workflows/0/publishedVersions/0/definition", step, "nowhere"),
    ]
    assert row_counts(engine) == (0, 0)


def test_a_call_to_a_version_the_child_will_not_have_is_refused(engine, tenant, registry):
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, bundle(_parent(CHILD_SOURCE, version=2), _child()), registry)
    assert caught.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"
    assert "no published version 2" in caught.value.details["errors"][0]["message"]
    assert row_counts(engine) == (0, 0)


def test_a_draft_call_to_nothing_imports_with_a_warning(engine, tenant, registry):
    placeholder = "00000000-0000-0000-0000-000000000000"  # what Alga's fixtures ship
    summary = import_into(engine, tenant, bundle(_parent(placeholder, published=False)), registry)
    (warning,) = summary["warnings"]
    assert warning["code"] == "UNRESOLVED_WORKFLOW_REFERENCE"
    assert (warning["workflowKey"], warning["version"], warning["workflowId"]) == (
        "p.parent",
        None,
        placeholder,
    )
    assert row_counts(engine) == (1, 0)


def test_calls_to_an_existing_workflow_of_the_tenant_resolve(engine, tenant, registry):
    child = import_into(engine, tenant, bundle(_child()), registry)["workflows"][0]["workflowId"]
    summary = import_into(engine, tenant, bundle(_parent(child)), registry)
    assert summary["warnings"] == []
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, bundle(_parent(child, version=5)), registry, force=True)
    assert caught.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"


def test_another_tenants_workflow_does_not_resolve(engine, tenant, other_tenant, registry):
    child = import_into(engine, other_tenant, bundle(_child()), registry)["workflows"][0][
        "workflowId"
    ]
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, bundle(_parent(child)), registry)
    assert caught.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"


def test_an_overwritten_child_is_judged_by_the_bundles_versions(engine, tenant, registry):
    child = import_into(engine, tenant, bundle(_child()), registry)["workflows"][0]["workflowId"]
    child_without_versions = workflow("p.child", definition("Child"), versions=[])
    with pytest.raises(BundleError) as caught:
        import_into(
            engine, tenant, bundle(_parent(child), child_without_versions), registry, force=True
        )
    assert caught.value.code == "UNRESOLVED_WORKFLOW_REFERENCE"


def test_a_source_id_carried_twice_is_ambiguous(engine, tenant, registry):
    twin = workflow("p.twin", definition("Twin", workflow_id=CHILD_SOURCE))
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, bundle(_parent(CHILD_SOURCE), _child(), twin), registry)
    assert "several workflows" in caught.value.details["errors"][0]["message"]
