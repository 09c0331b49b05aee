"""The workflow repository's typed rows, its one camelCase mapping and its import/publish writes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algaflow.kernel.clock import new_id, utcnow
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.workflow_rows import WORKFLOW_FIELDS, VersionRow, WorkflowRow

DRAFT_ONLY = {"draftDefinition", "validationErrors", "validationWarnings"}


def _create(conn, tenant, key="rows.one"):
    return store.create_workflow(
        conn, tenant, key=key, name="Rows", payload_schema_ref="payload.Empty.v1"
    )


def _counts(engine):
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (defs_t, versions_t)
        )


def test_row_fields_are_the_columns():
    workflow_fields = {f.name for f in dataclasses.fields(WorkflowRow)}
    assert workflow_fields == {c.name for c in defs_t.c} | {"published_version"}
    assert {f.name for f in dataclasses.fields(VersionRow)} == {c.name for c in versions_t.c}
    assert set(WORKFLOW_FIELDS.values()) <= workflow_fields


def test_reads_return_frozen_typed_rows(engine, tenant):
    with engine.begin() as conn:
        created = _create(conn, tenant)
        store.insert_version(
            conn, tenant, created.workflow_id, version=2, definition_json={"steps": []}
        )
    with engine.connect() as conn:
        row = store.get_workflow(conn, tenant, created.workflow_id)
        (version,) = store.list_versions(conn, tenant, created.workflow_id)
        latest = store.latest_version(conn, tenant, created.workflow_id)
    assert isinstance(row, WorkflowRow) and isinstance(version, VersionRow)
    assert row.published_version == 2 and created.published_version is None
    assert row.failure_rate_threshold == Decimal("0.50")
    assert version.version == 2 and version.definition_json == {"steps": []}
    assert latest == version
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.key = "other"  # type: ignore[misc]


def test_view_comes_from_the_one_mapping(engine, tenant):
    with engine.begin() as conn:
        row = _create(conn, tenant)
    short, full = row.to_view(), row.to_view(with_draft=True)
    assert list(full) == list(WORKFLOW_FIELDS)
    assert list(short) == [name for name in WORKFLOW_FIELDS if name not in DRAFT_ONLY]
    assert full["failureRateThreshold"] == "0.50"
    assert full["createdAt"] == row.created_at.isoformat()
    assert full["draftDefinition"]["id"] == row.workflow_id == full["workflowId"]


def test_item_access_is_read_only_and_knows_the_columns(engine, tenant):
    with engine.begin() as conn:
        row = _create(conn, tenant)
    assert row["key"] == row.key == "rows.one"
    assert row.get("published_version") is None and row.get("nope", 7) == 7
    with pytest.raises(KeyError):
        row["nope"]


def test_publish_draft_freezes_the_version_and_moves_the_draft(engine, tenant):
    now = utcnow()
    definition = {"id": "x", "version": 4, "name": "Renamed", "payloadSchemaRef": "p.v1"}
    with engine.begin() as conn:
        created = _create(conn, tenant)
        inserted = store.publish_draft(
            conn,
            tenant,
            created.workflow_id,
            version=4,
            definition=definition,
            payload_schema_json=None,
            mode="pinned",
            validation=store.Validation("valid", [], {"payloadSchemaHash": "h"}, now),
            actor=None,
        )
    with engine.connect() as conn:
        row = store.get_workflow(conn, tenant, created.workflow_id)
        stored = store.get_version(conn, tenant, created.workflow_id, 4)
    assert stored == inserted and stored.definition_json == definition
    assert (row.status, row.draft_version, row.published_version) == ("published", 5, 4)
    assert row.draft_definition == {**definition, "version": 5}
    assert (row.name, row.payload_schema_ref) == ("Renamed", "p.v1")
    assert row.validation_payload_schema_hash == "h" and row.validated_at == now


def _imported(key, workflow_id=None, **metadata):
    values = {
        "name": key,
        "description": None,
        "payloadSchemaRef": "p.v1",
        "payloadSchemaMode": "pinned",
        "pinnedPayloadSchemaRef": None,
        "trigger": None,
        "isVisible": True,
        "isPaused": False,
        "concurrencyLimit": None,
        "autoPauseOnFailure": False,
        "failureRateThreshold": None,
        "failureRateMinRuns": None,
        "retentionPolicyOverride": None,
        **metadata,
    }
    definition = {"id": workflow_id, "name": key, "payloadSchemaRef": "p.v1", "steps": []}
    return store.ImportedWorkflow(
        workflow_id=workflow_id or new_id(),
        key=key,
        metadata=values,
        draft_definition=definition,
        draft_version=2,
        versions=[(1, definition, None)],
    )


def test_write_import_undoes_every_row_on_a_unique_hit(engine, tenant):
    with engine.begin() as conn:
        _create(conn, tenant, key="taken")
    before = _counts(engine)
    with engine.begin() as conn, pytest.raises(store.ConstraintViolation) as err:
        store.write_import(conn, tenant, [_imported("fresh"), _imported("taken")], actor=None)
    assert err.value.unique
    assert _counts(engine) == before


def test_a_dry_run_import_writes_nothing(engine, tenant):
    with engine.begin() as conn:
        store.write_import(conn, tenant, [_imported("a.one")], actor=None, dry_run=True)
        assert store.find_workflow_by_key(conn, tenant, "a.one") is None
    assert _counts(engine) == (0, 0)


thresholds = st.decimals(min_value=0, max_value=999, places=2, allow_nan=False)
int4 = st.none() | st.integers(min_value=0, max_value=2**31 - 1)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    threshold=st.none() | thresholds.map(str),
    limit=int4,
    min_runs=int4,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    retention=st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
def test_imported_metadata_reads_back_through_the_same_mapping(
    engine, tenant, threshold, limit, min_runs, flags, retention
):
    visible, paused, auto_pause = flags
    workflow = _imported(
        f"k.{new_id()}",
        failureRateThreshold=threshold,
        concurrencyLimit=limit,
        failureRateMinRuns=min_runs,
        isVisible=visible,
        isPaused=paused,
        autoPauseOnFailure=auto_pause,
        retentionPolicyOverride=retention,
    )
    with engine.begin() as conn:
        store.write_import(conn, tenant, [workflow], actor=None)
        rows, versions = store.rows_for_export(conn, tenant, [workflow.workflow_id])
    row = rows[workflow.workflow_id]
    read = row.camel(tuple(workflow.metadata))
    expected = dict(workflow.metadata)
    expected["failureRateThreshold"] = None if threshold is None else Decimal(threshold)
    assert read == expected
    assert row.is_system is False and row.status == "published"
    assert [v.version for v in versions[workflow.workflow_id]] == [1]
