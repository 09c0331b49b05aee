"""What the definition store refuses or normalises, identically on SQLite and PostgreSQL."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algaflow.api.statuses import status_for
from algaflow.definitions.views import format_threshold
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definition_versions, workflow_definitions

DEF = {"version": 1, "name": "Hello", "payloadSchemaRef": "payload.Empty.v1", "steps": []}


def _create(conn, tenant, key="demo.hello", **kw):
    kw.setdefault("definition", DEF)
    return store.create_workflow(conn, tenant, key=key, **kw)


def _nested(depth: int) -> dict:
    """A definition whose own nesting (the object itself counting 1) is ``depth``."""
    value: object = {}
    for _ in range(depth - 2):
        value = {"n": value}
    return {**DEF, "deep": value}


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --- values one of the databases cannot store (finding 1a) ------------------------------------


@pytest.mark.parametrize(
    ("fields", "pointers"),
    [
        ({"name": "a\x00b"}, ["/name"]),
        ({"name": "lone \ud800"}, ["/name"]),
        ({"description": "x\x00"}, ["/description"]),
        ({"definition": {**DEF, "steps": [{"id": "s\x00"}]}}, ["/definition/steps/0/id"]),
        (
            {"definition": {**DEF, "x": float("nan"), "y": [float("inf")]}},
            ["/definition/x", "/definition/y/0"],
        ),
        (
            {"trigger": {"type": "event", "eventName": "\udfff"}},
            ["/definition/trigger/eventName", "/trigger/eventName"],  # copied into the draft
        ),
        ({"pinned_payload_schema_ref": "p\x00"}, ["/pinnedPayloadSchemaRef"]),
    ],
)
def test_create_refuses_unstorable_values_with_pointers(engine, tenant, fields, pointers):
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        _create(conn, tenant, **fields)
    assert (err.value.code, status_for(err.value.code)) == ("UNSTORABLE_VALUE", 400)
    assert sorted(e["instancePath"] for e in err.value.details["errors"]) == sorted(pointers)
    assert _count(engine, workflow_definitions) == 0


def test_draft_metadata_and_versions_refuse_unstorable_values(engine, tenant):
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
    writes = [
        lambda c: store.replace_draft(c, tenant, wid, {**DEF, "s": "\x00"}),
        lambda c: store.replace_draft(c, tenant, wid, {**DEF, "n": float("-inf")}),
        lambda c: store.update_metadata(
            c, tenant, wid, {"retentionPolicyOverride": {"d": "\ud83d"}}
        ),
        lambda c: store.update_metadata(c, tenant, wid, {"pinnedPayloadSchemaRef": "a\x00"}),
        lambda c: store.insert_version(
            c, tenant, wid, version=1, definition_json={"x": float("nan")}
        ),
        lambda c: store.insert_version(
            c, tenant, wid, version=1, definition_json=DEF, payload_schema_json={"\x00": 1}
        ),
    ]
    for write in writes:
        with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
            write(conn)
        assert err.value.code == "UNSTORABLE_VALUE"
    with engine.connect() as conn:
        row = store.get_workflow(conn, tenant, wid)
    assert row.draft_definition == {**DEF, "id": wid}
    assert row.retention_policy_override is None and row.pinned_payload_schema_ref is None
    assert _count(engine, workflow_definition_versions) == 0


# --- nesting: anything stored must export as an importable bundle (finding 1g) ---------------


def test_stored_json_is_limited_to_what_a_bundle_can_carry(engine, tenant):
    limit = store.MAX_STORED_DEPTH
    assert limit == 128 - 5  # the bundle limit less root, workflows, entry, versions, version
    with engine.begin() as conn:
        wid = _create(conn, tenant, definition=_nested(limit)).workflow_id
        store.insert_version(conn, tenant, wid, version=1, definition_json=_nested(limit))
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        store.replace_draft(conn, tenant, wid, _nested(limit + 1))
    assert err.value.code == "JSON_TOO_DEEP"
    assert err.value.details == {
        "instancePath": "/definition",
        "depth": limit + 1,
        "maxDepth": limit,
    }
    for write in (
        lambda c: _create(c, tenant, key="other", definition=_nested(limit + 1)),
        lambda c: _create(c, tenant, key="other", trigger=_nested(limit + 1)),
        lambda c: store.update_metadata(c, tenant, wid, {"retentionPolicyOverride": _nested(150)}),
        lambda c: store.insert_version(c, tenant, wid, version=2, definition_json=_nested(400)),
    ):
        with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
            write(conn)
        assert err.value.code == "JSON_TOO_DEEP"
    assert _count(engine, workflow_definitions) == 1
    assert _count(engine, workflow_definition_versions) == 1


# --- failureRateThreshold as NUMERIC(5,2) (finding 1c) -----------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("0.025", "0.03"),
        (0.025, "0.03"),
        ("12.345", "12.35"),
        ("-12.345", "-12.35"),
        ("0.015", "0.02"),
        ("999.994", "999.99"),
        ("-0.001", "0.00"),
        ("-0", "0.00"),
        (-0.0, "0.00"),
        ("1e2", "100.00"),
    ],
)
def test_threshold_rounds_half_away_from_zero_like_postgresql(engine, tenant, given, stored):
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
        store.update_metadata(conn, tenant, wid, {"failureRateThreshold": given})
    with engine.connect() as conn:
        value = store.get_workflow(conn, tenant, wid).failure_rate_threshold
    assert format_threshold(value) == stored


@pytest.mark.parametrize("given", ["999.995", "-999.995", 1000, "1e999999999", "NaN", "-Infinity"])
def test_threshold_out_of_range_after_rounding_is_refused(engine, tenant, given):
    with engine.begin() as conn:
        wid = _create(conn, tenant).workflow_id
    with engine.begin() as conn, pytest.raises(AlgaflowError) as err:
        store.update_metadata(conn, tenant, wid, {"failureRateThreshold": given})
    assert err.value.code == "INVALID_FIELD"
    with engine.connect() as conn:
        assert store.get_workflow(conn, tenant, wid).failure_rate_threshold == Decimal("0.50")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.decimals(min_value=-1001, max_value=1001, places=4, allow_nan=False)
    | st.decimals(min_value=-1, max_value=1, places=3, allow_nan=False)
)
def test_threshold_parsing_agrees_with_postgresql_numeric(pg_conn, number):
    """The oracle is PostgreSQL's own cast to NUMERIC(5,2)."""
    text = str(number)
    try:
        ours = format_threshold(store.parse_failure_rate_threshold(text))
    except AlgaflowError:
        ours = None
    with pg_conn.begin_nested() as savepoint:
        try:
            theirs = pg_conn.execute(
                sa.text("SELECT CAST(:v AS NUMERIC(5,2))::text"), {"v": text}
            ).scalar_one()
        except sa.exc.DataError:
            theirs = None
        savepoint.rollback()
    assert ours == theirs


@pytest.fixture
def pg_conn(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL is the oracle")
    with engine.connect() as conn:
        yield conn


# --- listing: exact prefixes and code-point order on both databases (finding 1h) ---------------

KEYS = ["ab", "a_b", "a.c", "a-b", "a0", "b", "ax"]


def _keys(engine, tenant, **filters):
    with engine.connect() as conn:
        return [r["key"] for r in store.list_workflows(conn, tenant, **filters)]


def test_key_prefix_is_exact_and_case_sensitive(engine, tenant):
    with engine.begin() as conn:
        for key in KEYS:
            _create(conn, tenant, key=key)
    assert _keys(engine, tenant, key_prefix="A") == []
    assert _keys(engine, tenant, key_prefix="a_") == ["a_b"]
    assert _keys(engine, tenant, key_prefix="a.") == ["a.c"]
    assert _keys(engine, tenant, key_prefix="a%") == []
    assert _keys(engine, tenant, key_prefix="a\x00") == []
    assert _keys(engine, tenant, key_prefix="\ud800") == []
    assert _keys(engine, tenant, key_prefix="ab") == ["ab"]


def test_keys_are_listed_in_code_point_order(engine, tenant):
    with engine.begin() as conn:
        for key in KEYS:
            _create(conn, tenant, key=key)
    expected = sorted(KEYS)  # Python compares code points: - . 0 _ a b
    assert _keys(engine, tenant) == expected
    if engine.dialect.name == "postgresql":
        # A database whose default collation follows a locale (as production ones often do)
        # ignores punctuation at first; the listing must not change with it.
        with engine.connect() as conn, conn.begin() as txn:
            conn.exec_driver_sql(
                'ALTER TABLE workflow_definitions ALTER COLUMN key TYPE text COLLATE "en-US-x-icu"'
            )
            assert [r["key"] for r in store.list_workflows(conn, tenant)] == expected
            txn.rollback()
