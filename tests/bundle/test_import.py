"""Bundle import on both databases: Alga's T001-T003 and T020-T023, and every refusal writing
nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from tests.bundle.bundle_factory import (
    TEST_SCHEMA_REF,
    bundle,
    definition,
    echo_step,
    import_into,
    row_counts,
    workflow,
)

from algaflow.api.statuses import status_for
from algaflow.bundle.errors import BundleError
from algaflow.kernel.clock import frozen
from algaflow.services.bundles import import_bundle_on
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t

SOURCE_ID = "00000000-0000-0000-0000-000000000001"


def _refused(engine, tenant, data, registry, code, **options) -> BundleError:
    """Import must fail with ``code`` and leave both tables exactly as they were."""
    before = row_counts(engine)
    with pytest.raises(BundleError) as caught:
        import_into(engine, tenant, data, registry, **options)
    assert caught.value.code == code, caught.value.details
    assert row_counts(engine) == before
    return caught.value


# --- header and schema (T001, T002) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"formatVersion": 999}, "UNSUPPORTED_FORMAT_VERSION"),  # T001
        ({"formatVersion": True}, "UNSUPPORTED_FORMAT_VERSION"),  # True == 1 in Python, not in JS
        ({"formatVersion": "1"}, "UNSUPPORTED_FORMAT_VERSION"),
        ({"format": "n8n"}, "UNSUPPORTED_FORMAT"),
        ({"workflows": []}, "SCHEMA_VALIDATION_FAILED"),  # T002
    ],
)
def test_header_and_schema_refusals(engine, tenant, registry, change, code):
    _refused(engine, tenant, {**bundle(workflow("a.one")), **change}, registry, code)


@pytest.mark.parametrize("value", [None, [], "text", 1])
def test_a_non_object_is_an_invalid_bundle(engine, tenant, registry, value):
    _refused(engine, tenant, value if value != "text" else '"text"', registry, "INVALID_BUNDLE")


def test_format_version_one_point_zero_is_accepted(engine, tenant, registry):
    summary = import_into(
        engine, tenant, {**bundle(workflow("a.one")), "formatVersion": 1.0}, registry
    )
    assert [w["key"] for w in summary["workflows"]] == ["a.one"]


def test_invalid_json_text_is_refused(engine, tenant, registry):
    _refused(engine, tenant, b'{"format": ', registry, "INVALID_JSON")


def test_schema_failure_lists_every_error_with_its_pointer(engine, tenant, registry):
    first, second = workflow("a.one"), workflow("a.two")
    first["key"] = "Bad Key"
    del second["metadata"]["name"]
    error = _refused(engine, tenant, bundle(first, second), registry, "SCHEMA_VALIDATION_FAILED")
    paths = {e["instancePath"] for e in error.details["errors"]}
    assert {"/workflows/0/key", "/workflows/1/metadata"} <= paths


def test_duplicate_keys_in_one_bundle_are_refused(engine, tenant, registry):
    error = _refused(
        engine,
        tenant,
        bundle(workflow("a.one"), workflow("a.two"), workflow("a.one")),
        registry,
        "DUPLICATE_WORKFLOW_KEY",
    )
    assert error.details == {"duplicateKeys": ["a.one"]}


# --- definitions and dependencies (T003) ----------------------------------------------------------


def test_invalid_definitions_are_all_listed(engine, tenant, registry):
    broken_draft = definition(steps=[{"id": "x"}])
    broken_version = definition()
    del broken_version["name"]
    entries = [
        workflow("a.one", broken_draft, versions=[]),
        workflow(
            "a.two",
            versions=[{"version": 1, "definition": broken_version, "payloadSchemaJson": None}],
        ),
    ]
    error = _refused(engine, tenant, bundle(*entries), registry, "INVALID_WORKFLOW_DEFINITION")
    found = [(i["workflowKey"], i["version"], i["instancePath"]) for i in error.details["issues"]]
    assert found == [
        ("a.one", None, "/workflows/0/draft/definition"),
        ("a.two", 1, "/workflows/1/publishedVersions/0/definition"),
    ]
    assert all(i["path"].startswith("root") and i["message"] for i in error.details["issues"])


def test_missing_declared_dependencies_are_structured(engine, tenant, registry):  # T003
    entry = workflow(
        "a.one",
        dependencies={
            "actions": [{"actionId": "missing.action", "version": 1}],
            "nodeTypes": ["missing.node", "control.callWorkflow"],
            "schemaRefs": ["missing.schemaRef"],
        },
    )
    error = _refused(engine, tenant, bundle(entry), registry, "MISSING_DEPENDENCIES")
    details = error.details
    assert details["missingActions"] == [{"actionId": "missing.action", "version": 1}]
    assert details["missingNodeTypes"] == ["missing.node"]
    assert details["missingSchemaRefs"] == ["missing.schemaRef"]
    assert details["missingByWorkflow"] == [
        {
            "workflowKey": "a.one",
            "missingActions": [{"actionId": "missing.action", "version": 1}],
            "missingNodeTypes": ["missing.node"],
            "missingSchemaRefs": ["missing.schemaRef"],
        }
    ]


def test_undeclared_dependencies_are_derived_from_the_definitions(engine, tenant, registry):
    steps = [
        {
            "id": "call",
            "type": "action.call",
            "config": {"actionId": "ghost.action", "version": 2},
        },
        {"id": "custom", "type": "custom.node"},
    ]
    draft = definition(steps=steps, payloadSchemaRef="payload.Ghost.v1")
    empty = {"actions": [], "nodeTypes": [], "schemaRefs": []}
    entries = [
        workflow("a.one", draft, dependencies=empty),
        workflow("a.two", copy.deepcopy(draft), dependencies=empty),
        workflow("a.three"),
    ]
    error = _refused(engine, tenant, bundle(*entries), registry, "MISSING_DEPENDENCIES")
    details = error.details
    assert [w["workflowKey"] for w in details["missingByWorkflow"]] == ["a.one", "a.two"]
    assert details["missingActions"] == [{"actionId": "ghost.action", "version": 2}]
    assert details["missingNodeTypes"] == ["custom.node"]
    assert details["missingSchemaRefs"] == ["payload.Ghost.v1"]


def test_duplicate_version_numbers_are_refused_up_front(engine, tenant, registry):  # T023
    v1 = {"version": 1, "definition": definition(), "payloadSchemaJson": None}
    error = _refused(
        engine,
        tenant,
        bundle(workflow("a.one"), workflow("a.two", versions=[v1, copy.deepcopy(v1)])),
        registry,
        "DUPLICATE_PUBLISHED_VERSION",
    )
    assert [(e["workflowKey"], e["version"]) for e in error.details["errors"]] == [("a.two", 1)]
    with engine.connect() as conn:
        assert store.find_workflow_by_key(conn, tenant, "a.one") is None


def test_values_the_database_cannot_store_are_all_listed(engine, tenant, registry):
    nul = definition(steps=[echo_step("echo", "a\x00b")])
    entries = [
        workflow("a.one", nul, versions=[], payloadSchemaMode=None),
        workflow("a.two", failureRateThreshold="abc", concurrencyLimit=2**31),
        workflow("a.three", failureRateThreshold=1000),
    ]
    entries[1]["publishedVersions"][0]["payloadSchemaJson"] = {"x": float("nan")}
    error = _refused(engine, tenant, bundle(*entries), registry, "UNSTORABLE_VALUE")
    assert sorted(e["instancePath"] for e in error.details["errors"]) == [
        "/workflows/0/draft/definition/steps/0/config/inputMapping/text/$expr",
        "/workflows/0/metadata/payloadSchemaMode",
        "/workflows/1/metadata/concurrencyLimit",
        "/workflows/1/metadata/failureRateThreshold",
        "/workflows/1/publishedVersions/0/payloadSchemaJson/x",
        "/workflows/2/metadata/failureRateThreshold",
    ]


# --- writes (T020-T022) ---------------------------------------------------------------------------


def test_import_into_an_empty_database_creates_rows(engine, tenant, registry):  # T020
    summary = import_into(engine, tenant, bundle(workflow("a.one", isSystem=True)), registry)
    workflow_id = summary["createdWorkflows"][0]["workflowId"]
    assert summary["createdWorkflows"] == [{"key": "a.one", "workflowId": workflow_id}]
    with engine.connect() as conn:
        row = store.get_workflow(conn, tenant, workflow_id)
        (version,) = store.list_versions(conn, tenant, workflow_id)
    assert row.key == "a.one" and row.status == "published"
    assert row.draft_definition["id"] == workflow_id
    assert version.version == 1 and version.definition_json["id"] == workflow_id
    assert row.is_system is False  # metadata.isSystem is ignored
    assert row.payload_schema_ref == TEST_SCHEMA_REF
    assert str(row.failure_rate_threshold) == "0.50"
    assert row.validation_status is None and version.validation_status is None


def test_a_draft_only_workflow_is_imported_as_draft(engine, tenant, registry):
    summary = import_into(engine, tenant, bundle(workflow("a.one", versions=[])), registry)
    assert summary["createdPublishedVersions"] == []
    with engine.connect() as conn:
        assert store.find_workflow_by_key(conn, tenant, "a.one").status == "draft"


def test_a_free_canonical_source_id_is_kept_and_others_are_replaced(
    engine, tenant, other_tenant, registry
):
    keep = workflow("a.keep", definition(workflow_id=SOURCE_ID))
    fresh = workflow("a.fresh", definition(workflow_id="not-a-uuid"))
    upper = workflow("a.upper", definition(workflow_id="ABCDEF00-0000-0000-0000-000000000002"))
    summary = import_into(engine, tenant, bundle(keep, fresh, upper), registry)
    ids = {w["key"]: w["workflowId"] for w in summary["workflows"]}
    assert ids["a.keep"] == SOURCE_ID
    assert ids["a.fresh"] != "not-a-uuid" and ids["a.upper"] != upper["draft"]["definition"]["id"]
    # The id is taken now (workflow_id is unique across tenants): another tenant gets a new one.
    again = import_into(engine, other_tenant, bundle(keep), registry)
    assert again["workflows"][0]["workflowId"] != SOURCE_ID


def test_an_existing_key_is_a_conflict_without_force(engine, tenant, registry):  # T021
    first = import_into(engine, tenant, bundle(workflow("a.one")), registry)
    error = _refused(
        engine,
        tenant,
        bundle(workflow("a.zero"), workflow("a.one")),
        registry,
        "WORKFLOW_KEY_CONFLICT",
    )
    assert status_for(error.code) == 409
    existing_id = first["workflows"][0]["workflowId"]
    assert error.details["workflowKey"] == "a.one"
    assert error.details["existingWorkflowId"] == existing_id
    assert error.details["conflicts"] == [
        {"workflowKey": "a.one", "existingWorkflowId": existing_id}
    ]
    assert row_counts(engine) == (1, 1)


def test_force_overwrites_in_place(engine, tenant, registry):  # T022
    two_versions = [
        {"version": n, "definition": definition(version=n), "payloadSchemaJson": None}
        for n in (1, 2)
    ]
    with frozen(now=lambda: datetime(2026, 1, 1, tzinfo=UTC)):
        first = import_into(
            engine, tenant, bundle(workflow("a.one", versions=two_versions)), registry
        )
    workflow_id = first["workflows"][0]["workflowId"]
    with engine.begin() as conn:
        conn.execute(
            defs_t.update()
            .where(defs_t.c.workflow_id == workflow_id)
            .values(validation_status="valid")
        )
    replacement = workflow("a.one", definition("Renamed"), name="Renamed", isPaused=True)
    second = import_into(engine, tenant, bundle(replacement), registry, force=True, actor=None)
    assert second["workflows"] == [
        {"key": "a.one", "workflowId": workflow_id, "action": "overwritten", "versions": [1]}
    ]
    assert second["createdWorkflows"] == [{"key": "a.one", "workflowId": workflow_id}]
    assert second["deletedWorkflows"] == []
    with engine.connect() as conn:
        row = store.get_workflow(conn, tenant, workflow_id)
        versions = store.list_versions(conn, tenant, workflow_id)
    assert row.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert row.updated_at > row.created_at
    assert (row.name, row.is_paused, row.validation_status) == ("Renamed", True, None)
    assert row.draft_definition["name"] == "Renamed"
    assert [v["version"] for v in versions] == [1]
    assert row_counts(engine) == (1, 1)


def test_force_with_no_versions_leaves_a_draft(engine, tenant, registry):
    import_into(engine, tenant, bundle(workflow("a.one")), registry)
    import_into(engine, tenant, bundle(workflow("a.one", versions=[])), registry, force=True)
    with engine.connect() as conn:
        assert store.find_workflow_by_key(conn, tenant, "a.one").status == "draft"
    assert row_counts(engine) == (1, 0)


def test_actor_is_written(engine, tenant, registry):
    actor = "11111111-1111-1111-1111-111111111111"
    import_into(engine, tenant, bundle(workflow("a.one")), registry, actor=actor)
    with engine.connect() as conn:
        row = conn.execute(sa.select(defs_t.c.created_by, defs_t.c.updated_by)).one()
        published_by = conn.execute(sa.select(versions_t.c.published_by)).scalar_one()
    assert tuple(row) == (actor, actor) and published_by == actor


def test_versions_are_written_ascending_and_reported(engine, tenant, registry):
    versions = [
        {"version": n, "definition": definition(version=n), "payloadSchemaJson": {"n": n}}
        for n in (3, 1, 2)
    ]
    summary = import_into(engine, tenant, bundle(workflow("a.one", versions=versions)), registry)
    assert summary["createdPublishedVersions"][0]["versions"] == [1, 2, 3]
    workflow_id = summary["workflows"][0]["workflowId"]
    with engine.connect() as conn:
        stored = store.list_versions(conn, tenant, workflow_id)
    assert [(v["version"], v["payload_schema_json"]) for v in stored] == [
        (1, {"n": 1}),
        (2, {"n": 2}),
        (3, {"n": 3}),
    ]


# --- dry run, isolation, progress -----------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_the_same_summary(engine, tenant, registry):
    data = bundle(
        workflow("a.one"),
        workflow("a.two", definition(workflow_id="0" * 8 + "-0000-0000-0000-000000000002")),
    )
    with engine.begin() as conn:
        dry = import_bundle_on(conn, tenant, data, registry=registry, dry_run=True)
        assert store.find_workflow_by_key(conn, tenant, "a.one") is None  # inside the same txn
    assert row_counts(engine) == (0, 0)
    real = import_into(engine, tenant, data, registry)
    assert dry["dryRun"] is True and real["dryRun"] is False
    assert {**dry, "dryRun": False} == real


def test_dry_run_still_refuses_conflicts(engine, tenant, registry):
    import_into(engine, tenant, bundle(workflow("a.one")), registry)
    _refused(
        engine, tenant, bundle(workflow("a.one")), registry, "WORKFLOW_KEY_CONFLICT", dry_run=True
    )


def test_another_tenants_keys_do_not_conflict(engine, tenant, other_tenant, registry):
    import_into(engine, tenant, bundle(workflow("a.one")), registry)
    summary = import_into(engine, other_tenant, bundle(workflow("a.one")), registry)
    assert summary["workflows"][0]["action"] == "created"
    assert row_counts(engine) == (2, 2)


def test_progress_is_reported_per_workflow(engine, tenant, registry):
    calls = []
    with engine.begin() as conn:
        import_bundle_on(
            conn,
            tenant,
            bundle(workflow("a.one"), workflow("a.two"), workflow("a.three")),
            registry=registry,
            progress=lambda done, total: calls.append((done, total)),
        )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_the_callers_bundle_is_not_modified(engine, tenant, registry):
    data = bundle(workflow("a.one", definition(workflow_id="source-id")))
    before = copy.deepcopy(data)
    import_into(engine, tenant, data, registry)
    assert data == before


def test_a_constraint_hit_during_the_writes_rolls_back_everything(engine, tenant, registry):
    """A key that appears after the conflict check (a concurrent import) is still a 409, and the
    bundle's other workflows are not written either."""

    def sneak_in(done: int, total: int) -> None:
        if done == 1:  # after the key check, before the writes
            store.create_workflow(conn, tenant, key="a.two", definition=definition())

    with engine.begin() as conn:
        with pytest.raises(BundleError) as caught:
            import_bundle_on(
                conn,
                tenant,
                bundle(workflow("a.one"), workflow("a.two")),
                registry=registry,
                progress=sneak_in,
            )
        assert caught.value.code == "WORKFLOW_KEY_CONFLICT"
        assert caught.value.details["workflowKey"] == "a.two"
        assert store.find_workflow_by_key(conn, tenant, "a.one") is None
    assert row_counts(engine) == (1, 0)  # only the row that sneaked in
