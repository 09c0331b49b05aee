"""Bundle export on both databases: Alga's T010/T011, selection, order, pinned ``exportedAt``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.bundle.bundle_factory import (
    TEST_SCHEMA_REF,
    control_flow_steps,
    create_published,
    definition,
)

from algaflow.api.statuses import status_for
from algaflow.bundle.canonical import dumps_canonical, loads_json
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import validate_bundle
from algaflow.kernel.clock import frozen
from algaflow.kernel.errors import AlgaflowError
from algaflow.services.bundles import (
    export_bundle_bytes_on,
    export_bundle_on,
    iter_export_bundle_bytes_on,
)
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t

UNKNOWN_ID = "99999999-9999-4999-8999-999999999999"


def _make(engine, tenant, registry, key, *, publish_times=1, steps=None):
    with engine.begin() as conn:
        return create_published(
            conn, tenant, registry, key, definition(steps=steps), publish_times=publish_times
        )


def test_single_export_is_canonical_json(engine, tenant, registry):  # T010
    workflow_id = _make(engine, tenant, registry, "test.export-canonical")
    with engine.connect() as conn:
        data = export_bundle_bytes_on(conn, tenant, workflow_ids=[workflow_id])
    text = data.decode("utf-8")
    assert text.endswith("}\n")
    assert text == dumps_canonical(loads_json(text))
    validate_bundle(loads_json(data))


def test_export_excludes_audit_fields_and_ids(engine, tenant, registry):  # T011
    workflow_id = _make(engine, tenant, registry, "test.audit")
    with engine.connect() as conn:
        bundle = export_bundle_on(conn, tenant, workflow_ids=[workflow_id])
    (entry,) = bundle["workflows"]
    assert set(entry) == {"key", "metadata", "dependencies", "draft", "publishedVersions"}
    assert set(entry["publishedVersions"][0]) == {"version", "definition", "payloadSchemaJson"}
    assert entry["draft"]["definition"]["id"] == workflow_id  # the id travels only here


def test_metadata_mapping(engine, tenant, registry):
    workflow_id = _make(engine, tenant, registry, "test.meta")
    with engine.begin() as conn:
        conn.execute(
            defs_t.update()
            .where(defs_t.c.workflow_id == workflow_id)
            .values(is_system=True, concurrency_limit=3, retention_policy_override={"days": 7})
        )
        bundle = export_bundle_on(conn, tenant, keys=["test.meta"])
    meta = bundle["workflows"][0]["metadata"]
    assert meta["isSystem"] is False  # always, like Alga
    assert meta["failureRateThreshold"] == "0.50"  # the NUMERIC string
    assert meta["concurrencyLimit"] == 3
    assert meta["retentionPolicyOverride"] == {"days": 7}
    assert meta["pinnedPayloadSchemaRef"] == TEST_SCHEMA_REF
    assert meta["payloadSchemaMode"] == "pinned"


def test_versions_ascending_and_dependencies_from_draft_and_versions(engine, tenant, registry):
    _make(engine, tenant, registry, "test.deps", publish_times=3, steps=control_flow_steps())
    with engine.connect() as conn:
        (entry,) = export_bundle_on(conn, tenant, all=True)["workflows"]
    assert [v["version"] for v in entry["publishedVersions"]] == [1, 2, 3]
    assert entry["draft"]["draftVersion"] == 4
    assert entry["dependencies"] == {
        "actions": [{"actionId": "test.echo", "version": 1}],
        "nodeTypes": ["action.call", "state.set", "transform.assign"],
        "schemaRefs": [TEST_SCHEMA_REF],
    }


def test_workflows_are_ordered_like_locale_compare(engine, tenant, registry):
    keys = ["ab", "a.b", "a-b", "a_b", "a9", "a10"]
    for key in keys:
        _make(engine, tenant, registry, key)
    with engine.connect() as conn:
        by_key = export_bundle_on(conn, tenant, keys=keys)
        everything = export_bundle_on(conn, tenant, all=True)
    expected = ["a_b", "a-b", "a.b", "a10", "a9", "ab"]
    assert [w["key"] for w in by_key["workflows"]] == expected
    assert [w["key"] for w in everything["workflows"]] == expected


def test_ids_and_keys_may_be_combined_without_duplicates(engine, tenant, registry):
    first = _make(engine, tenant, registry, "a.one")
    _make(engine, tenant, registry, "a.two")
    _make(engine, tenant, registry, "a.three")
    with engine.connect() as conn:
        bundle = export_bundle_on(
            conn, tenant, workflow_ids=[first, first], keys=["a.one", "a.two"]
        )
    assert [w["key"] for w in bundle["workflows"]] == ["a.one", "a.two"]


def test_every_missing_id_and_key_is_listed(engine, tenant, other_tenant, registry):
    mine = _make(engine, tenant, registry, "a.one")
    theirs = _make(engine, other_tenant, registry, "b.one")
    with engine.connect() as conn, pytest.raises(BundleError) as caught:
        export_bundle_on(
            conn,
            tenant,
            workflow_ids=[mine, UNKNOWN_ID, "not-a-uuid", theirs],
            keys=["a.one", "b.one", "zzz"],
        )
    assert caught.value.code == "WORKFLOW_NOT_FOUND" and status_for(caught.value.code) == 404
    assert caught.value.details == {
        "missingWorkflowIds": [UNKNOWN_ID, "not-a-uuid", theirs],
        "missingKeys": ["b.one", "zzz"],
    }


def test_nothing_selected_is_refused(engine, tenant):
    with engine.connect() as conn:
        with pytest.raises(AlgaflowError) as caught:
            export_bundle_on(conn, tenant)
        assert caught.value.code == "EXPORT_SELECTION_EMPTY"
        with pytest.raises(AlgaflowError) as caught:
            export_bundle_on(conn, tenant, all=True)  # an empty bundle would be schema-invalid
        assert caught.value.code == "NOTHING_TO_EXPORT"


def _selects(engine, export):
    """What ``export()`` returns, and the SELECT statements it ran."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        result = export()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return result, [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_one_key_query_then_two_queries_per_batch(engine, tenant, registry):
    for n in range(5):
        _make(engine, tenant, registry, f"a.w{n}", publish_times=2)
    with engine.connect() as conn:
        whole, selects = _selects(
            engine,
            lambda: export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change"),
        )
        assert len(selects) == 1 + 2
        batched, selects = _selects(
            engine,
            lambda: export_bundle_bytes_on(
                conn, tenant, all=True, exported_at="latest-change", batch_size=2
            ),
        )
        assert len(selects) == 1 + 2 * 3
    assert batched == whole
    assert [w["key"] for w in loads_json(whole)["workflows"]] == [f"a.w{n}" for n in range(5)]


def test_streamed_export_raises_before_the_first_piece(engine, tenant, registry):
    _make(engine, tenant, registry, "a.one")
    with engine.connect() as conn:
        with pytest.raises(BundleError):
            iter_export_bundle_bytes_on(conn, tenant, keys=["a.one", "zzz"])
        with pytest.raises(AlgaflowError) as caught:
            iter_export_bundle_bytes_on(conn, tenant, all=True, exported_at="yesterday")
        assert caught.value.code == "INVALID_EXPORTED_AT"
        pieces = iter_export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change")
        assert b"".join(pieces) == export_bundle_bytes_on(
            conn, tenant, all=True, exported_at="latest-change"
        )


def test_workflow_deleted_during_a_stream_is_left_out(engine, tenant, registry):
    for key in ("a.one", "a.two"):
        _make(engine, tenant, registry, key)
    with engine.connect() as conn:
        pieces = iter_export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change")
        conn.execute(defs_t.delete().where(defs_t.c.tenant == tenant))
        data = b"".join(pieces)
        conn.rollback()
    assert data.decode() == dumps_canonical(loads_json(data))  # "[]", still canonical
    assert loads_json(data)["workflows"] == []


def test_exported_at_is_the_clock_unless_pinned(engine, tenant, registry):
    moment = datetime(2026, 1, 25, 12, 0, 0, 123456, tzinfo=UTC)
    with frozen(now=lambda: moment):
        workflow_id = _make(engine, tenant, registry, "a.one")
    later = moment + timedelta(days=3)
    with engine.connect() as conn, frozen(now=lambda: later):
        assert export_bundle_on(conn, tenant, all=True)["exportedAt"] == "2026-01-28T12:00:00.123Z"
        pinned = export_bundle_on(conn, tenant, all=True, exported_at="latest-change")
        assert pinned["exportedAt"] == "2026-01-25T12:00:00.123Z"
        explicit = export_bundle_on(conn, tenant, all=True, exported_at="2030-05-01T00:00:00+02:00")
        assert explicit["exportedAt"] == "2030-04-30T22:00:00.000Z"
        assert (
            export_bundle_on(conn, tenant, workflow_ids=[workflow_id], exported_at=moment)[
                "exportedAt"
            ]
            == "2026-01-25T12:00:00.123Z"
        )
        for bad in ("yesterday", "2030-05-01T00:00:00", datetime(2030, 1, 1)):
            with pytest.raises(AlgaflowError) as caught:
                export_bundle_on(conn, tenant, all=True, exported_at=bad)
            assert caught.value.code == "INVALID_EXPORTED_AT"


@pytest.mark.parametrize(
    "pinned",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+00:31"],
)
def test_exported_at_outside_years_1_to_9999_in_utc_is_refused(engine, tenant, registry, pinned):
    _make(engine, tenant, registry, "a.one")
    with engine.connect() as conn, pytest.raises(AlgaflowError) as caught:
        export_bundle_on(conn, tenant, all=True, exported_at=pinned)
    assert (caught.value.code, status_for(caught.value.code)) == ("INVALID_EXPORTED_AT", 400)


@pytest.mark.parametrize(
    ("pinned", "written"),
    [
        ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00.000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("0001-01-01T00:00:00-01:00", "0001-01-01T01:00:00.000Z"),
        ("9999-12-31T23:59:59.999+01:00", "9999-12-31T22:59:59.999Z"),
    ],
)
def test_exported_at_always_has_four_year_digits(engine, tenant, registry, pinned, written):
    _make(engine, tenant, registry, "a.one")
    with engine.connect() as conn:
        exported = export_bundle_on(conn, tenant, all=True, exported_at=pinned)
    assert exported["exportedAt"] == written
    validate_bundle(exported)  # its own date-time check accepts what it wrote


def test_latest_change_follows_the_newest_row(engine, tenant, registry):
    with frozen(now=lambda: datetime(2026, 1, 1, tzinfo=UTC)):
        workflow_id = _make(engine, tenant, registry, "a.one")
    with engine.begin() as conn, frozen(now=lambda: datetime(2026, 2, 2, tzinfo=UTC)):
        store.update_metadata(conn, tenant, workflow_id, {"isPaused": True})
    with engine.connect() as conn:
        data = export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change")
        again = export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change")
    assert b'"exportedAt": "2026-02-02T00:00:00.000Z"' in data
    assert data == again
    with engine.begin() as conn, frozen(now=lambda: datetime(2026, 3, 3, tzinfo=UTC)):
        create_published(conn, tenant, registry, "a.two", definition(), publish_times=1)
        conn.execute(  # a version newer than every definition row still counts
            versions_t.update()
            .where(versions_t.c.workflow_id == workflow_id)
            .values(updated_at=datetime(2026, 4, 4, tzinfo=UTC))
        )
    with engine.connect() as conn:
        data = export_bundle_bytes_on(conn, tenant, keys=["a.one"], exported_at="latest-change")
        both = export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change")
        other = export_bundle_bytes_on(conn, tenant, keys=["a.two"], exported_at="latest-change")
    assert b'"exportedAt": "2026-04-04T00:00:00.000Z"' in data
    assert b'"exportedAt": "2026-04-04T00:00:00.000Z"' in both
    assert b'"exportedAt": "2026-03-03T00:00:00.000Z"' in other


def test_progress_is_reported_per_workflow(engine, tenant, registry):
    for key in ("a.one", "a.two"):
        _make(engine, tenant, registry, key)
    calls = []
    with engine.connect() as conn:
        export_bundle_on(conn, tenant, all=True, progress=lambda *a: calls.append(a))
    assert calls == [(1, 2), (2, 2)]


def test_bytes_are_the_canonical_encoding_of_the_bundle(engine, tenant, registry):
    for key in ("a.one", "a.two", "a.three"):
        _make(engine, tenant, registry, key, steps=control_flow_steps())
    with engine.connect() as conn:
        bundle = export_bundle_on(conn, tenant, all=True, exported_at="latest-change")
        data = export_bundle_bytes_on(conn, tenant, all=True, exported_at="latest-change")
    assert data == dumps_canonical(bundle).encode("utf-8")
