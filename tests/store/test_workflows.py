"""The definition store on both databases: create, read, list, drafts, metadata, delete, tenants."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from algaflow.api.statuses import status_for
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions, workflow_definitions


def _create(conn, tenant, key="demo.hello", **kw):
    kw.setdefault("name", "Hello")
    kw.setdefault("payload_schema_ref", "payload.Empty.v1")
    return store.create_workflow(conn, tenant, key=key, **kw)


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_create_sets_draft_id_to_workflow_id(engine, tenant):
    with engine.begin() as conn:
        row = _create(conn, tenant, definition={"id": "something-else", "version": 3, "steps": []})
    assert row.draft_definition["id"] == row.workflow_id
    assert row.draft_version == 3
    assert row.status == "draft"
    assert row.payload_schema_mode == "pinned"
    assert row.failure_rate_threshold == Decimal("0.50")
    assert row.failure_rate_min_runs == 10
    assert row.is_visible is True and row.is_paused is False
    assert row.created_at.tzinfo is not None


def test_get_by_id_and_key(engine, tenant):
    with engine.begin() as conn:
        row = _create(conn, tenant)
    with engine.connect() as conn:
        assert store.get_workflow(conn, tenant, row.workflow_id).key == "demo.hello"
        assert store.get_workflow_by_key(conn, tenant, "demo.hello").workflow_id == row.workflow_id


@pytest.mark.parametrize(
    "key", ["", "Upper", "-lead", ".lead", "a b", "a.b\n", "ünï", None, 5, "a/b"]
)
def test_invalid_keys_are_refused_and_nothing_is_written(engine, tenant, key):
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        _create(conn, tenant, key=key)
    assert err.value.code == "INVALID_WORKFLOW_KEY"
    assert status_for(err.value.code) == 400
    assert _count(engine, workflow_definitions) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("name", "   "), ("payload_schema_ref", ""), ("definition", [1, 2])],
)
def test_invalid_fields_are_refused(engine, tenant, field, value):
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        _create(conn, tenant, **{field: value})
    assert err.value.code == "INVALID_FIELD"
    assert status_for(err.value.code) == 422
    assert _count(engine, workflow_definitions) == 0


def test_duplicate_key_conflicts_with_existing_id(engine, tenant):
    with engine.begin() as conn:
        first = _create(conn, tenant)
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        _create(conn, tenant)
    assert err.value.code == "WORKFLOW_KEY_CONFLICT"
    assert status_for(err.value.code) == 409
    assert err.value.details["existingWorkflowId"] == first.workflow_id
    assert _count(engine, workflow_definitions) == 1


def test_unique_index_hit_is_coded_not_raw(engine, tenant):
    """Even when the pre-check is bypassed, the database constraint yields the coded error."""
    with engine.begin() as conn:
        _create(conn, tenant)
    original = store.find_workflow_by_key
    calls = []

    def blind(conn, tenant_id, key):
        calls.append(key)
        return None if len(calls) == 1 else original(conn, tenant_id, key)

    store.find_workflow_by_key = blind
    try:
        with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
            _create(conn, tenant)
    finally:
        store.find_workflow_by_key = original
    assert err.value.code == "WORKFLOW_KEY_CONFLICT"


def test_same_key_in_two_tenants(engine, tenant, other_tenant):
    with engine.begin() as conn:
        a = _create(conn, tenant)
        b = _create(conn, other_tenant)
    assert a.workflow_id != b.workflow_id


def test_tenant_isolation(engine, tenant, other_tenant):
    with engine.begin() as conn:
        theirs = _create(conn, other_tenant).workflow_id
    for op in (
        lambda c: store.get_workflow(c, tenant, theirs),
        lambda c: store.replace_draft(c, tenant, theirs, {"steps": []}),
        lambda c: store.update_metadata(c, tenant, theirs, {"isPaused": True}),
        lambda c: store.delete_workflow(c, tenant, theirs),
        lambda c: store.list_versions(c, tenant, theirs),
    ):
        with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
            op(conn)
        assert err.value.code == "WORKFLOW_NOT_FOUND"
        assert status_for(err.value.code) == 404
    with engine.connect() as conn:
        assert store.list_workflows(conn, tenant) == []
        row = store.get_workflow(conn, other_tenant, theirs)
    assert row.is_paused is False and row.draft_definition["steps"] == []


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "123", None, 7])
def test_non_uuid_ids_are_not_found(engine, tenant, bad_id):
    with engine.connect() as conn, pytest.raises(AlgaflowError) as err:
        store.get_workflow(conn, tenant, bad_id)
    assert err.value.code == "WORKFLOW_NOT_FOUND"


def test_list_filters(engine, tenant):
    with engine.begin() as conn:
        _create(conn, tenant, key="b.one")
        second = _create(conn, tenant, key="a.two")
        _create(conn, tenant, key="a_three")
        store.update_metadata(conn, tenant, second.workflow_id, {"isPaused": True})
    with engine.connect() as conn:
        assert [w["key"] for w in store.list_workflows(conn, tenant)] == [
            "a.two",
            "a_three",
            "b.one",
        ]
        assert [w["key"] for w in store.list_workflows(conn, tenant, key_prefix="a.")] == ["a.two"]
        assert [w["key"] for w in store.list_workflows(conn, tenant, key_prefix="a_")] == [
            "a_three"
        ]
        assert [w["key"] for w in store.list_workflows(conn, tenant, paused=True)] == ["a.two"]
        assert store.list_workflows(conn, tenant, status="published") == []


def test_replace_draft_touches_only_draft_and_updated(engine, tenant):
    with engine.begin() as conn:
        before = _create(conn, tenant)
        after = store.replace_draft(
            conn, tenant, before.workflow_id, {"id": "x", "version": 9, "steps": [{"a": 1}]}
        )
    assert after.draft_definition == {
        "id": before.workflow_id,
        "version": 9,
        "steps": [{"a": 1}],
    }
    assert after.draft_version == before.draft_version
    assert after.updated_at >= before.updated_at
    for column in ("name", "status", "created_at", "payload_schema_ref", "trigger"):
        assert after[column] == before[column]


def test_replace_draft_refuses_non_objects(engine, tenant):
    with engine.begin() as conn:
        wf = _create(conn, tenant)
    for bad in ([], "text", 3, None):
        with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
            store.replace_draft(conn, tenant, wf.workflow_id, bad)
        assert err.value.code == "INVALID_FIELD"


def test_update_metadata(engine, tenant):
    with engine.begin() as conn:
        wf = _create(conn, tenant)
        updated = store.update_metadata(
            conn,
            tenant,
            wf.workflow_id,
            {
                "isPaused": True,
                "concurrencyLimit": 3,
                "failureRateThreshold": "0.75",
                "failureRateMinRuns": 4,
                "retentionPolicyOverride": {"days": 7},
                "payloadSchemaMode": "inferred",
                "pinnedPayloadSchemaRef": "payload.Empty.v1",
            },
        )
    assert updated.is_paused is True
    assert updated.concurrency_limit == 3
    assert updated.failure_rate_threshold == Decimal("0.75")
    assert updated.retention_policy_override == {"days": 7}
    assert updated.payload_schema_mode == "inferred"


@pytest.mark.parametrize(
    "changes",
    [
        {"isPaused": "yes"},
        {"concurrencyLimit": 0},
        {"concurrencyLimit": 2**31},
        {"failureRateThreshold": "abc"},
        {"failureRateThreshold": 1000},
        {"payloadSchemaMode": "whatever"},
        {"retentionPolicyOverride": [1]},
        {"nope": 1},
    ],
)
def test_update_metadata_refuses_bad_values_and_writes_nothing(engine, tenant, changes):
    with engine.begin() as conn:
        wf = _create(conn, tenant)
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        store.update_metadata(conn, tenant, wf.workflow_id, {"isVisible": False, **changes})
    assert err.value.code == "INVALID_FIELD"
    with engine.connect() as conn:
        assert store.get_workflow(conn, tenant, wf.workflow_id).is_visible is True


def test_versions_and_cascade_delete(engine, tenant):
    with engine.begin() as conn:
        wf = _create(conn, tenant)
        for v in (2, 1):
            store.insert_version(
                conn, tenant, wf.workflow_id, version=v, definition_json={"version": v}
            )
    with engine.connect() as conn:
        assert [v["version"] for v in store.list_versions(conn, tenant, wf.workflow_id)] == [
            1,
            2,
        ]
        assert store.get_version(conn, tenant, wf.workflow_id, 2).definition_json == {"version": 2}
        assert store.latest_version(conn, tenant, wf.workflow_id).version == 2
        listed = store.list_workflows(conn, tenant)
        assert listed[0]["published_version"] == 2
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        store.insert_version(conn, tenant, wf.workflow_id, version=2, definition_json={})
    assert err.value.code == "WORKFLOW_VERSION_CONFLICT"
    assert status_for(err.value.code) == 409
    with engine.connect() as conn, pytest.raises(AlgaflowError) as err:
        store.get_version(conn, tenant, wf.workflow_id, 5)
    assert err.value.code == "WORKFLOW_VERSION_NOT_FOUND"
    with engine.begin() as conn:
        store.delete_workflow(conn, tenant, wf.workflow_id)
    assert _count(engine, workflow_definition_versions) == 0
    assert _count(engine, workflow_definitions) == 0


def test_get_reports_the_published_version(engine, tenant):
    with engine.begin() as conn:
        wf = _create(conn, tenant)
        assert store.get_workflow(conn, tenant, wf.workflow_id).published_version is None
        store.insert_version(conn, tenant, wf.workflow_id, version=3, definition_json={})
        assert store.get_workflow(conn, tenant, wf.workflow_id).published_version == 3
