"""Round trips (Alga's T030, made byte-exact): export -> import into an empty database -> export
gives the same bytes apart from ``exportedAt``, and so does a forced re-import. A property test
checks the same, plus what the export must contain, over generated bundles."""

from __future__ import annotations

import copy
import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.bundle.bundle_factory import (
    bundle,
    call_step,
    control_flow_steps,
    create_published,
    definition,
    echo_step,
    normalise_exported_at,
    row_counts,
    workflow,
)

from algaflow.bundle.canonical import dumps_canonical_bytes, loads_json
from algaflow.bundle.collation import locale_compare_key
from algaflow.bundle.dependencies import derive_dependencies
from algaflow.services.bundles import export_bundle_bytes_on, import_bundle_on
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.tenants import create_tenant


def _delete_all(engine) -> None:
    with engine.begin() as conn:
        conn.execute(defs_t.delete())  # versions go with them (ON DELETE CASCADE)
    assert row_counts(engine) == (0, 0)


def test_export_import_export_is_byte_identical(engine, tenant, registry):  # T030
    with engine.begin() as conn:
        child = create_published(conn, tenant, registry, "rt.child", definition("Child"))
        parent_steps = [*control_flow_steps(), call_step("call-child", child)]
        parent_steps.insert(0, parent_steps.pop())  # the call before control.return
        create_published(
            conn, tenant, registry, "rt.parent", definition("Parent", parent_steps), publish_times=2
        )
        store.update_metadata(
            conn,
            tenant,
            child,
            {"failureRateThreshold": "0.25", "concurrencyLimit": 4, "isPaused": True},
        )
        first = export_bundle_bytes_on(conn, tenant, all=True)
    _delete_all(engine)
    with engine.begin() as conn:
        summary = import_bundle_on(conn, tenant, first, registry=registry)
        second = export_bundle_bytes_on(conn, tenant, all=True)
    assert summary["warnings"] == []
    assert normalise_exported_at(second) == normalise_exported_at(first)
    with engine.begin() as conn:
        again = import_bundle_on(conn, tenant, second, registry=registry, force=True)
        third = export_bundle_bytes_on(conn, tenant, all=True)
    assert [w["action"] for w in again["workflows"]] == ["unchanged", "unchanged"]
    assert normalise_exported_at(third) == normalise_exported_at(first)


def test_a_moved_child_keeps_its_callers_working(engine, tenant, other_tenant, registry):
    """Into another tenant of the same database the ids cannot be kept; calls follow the child."""
    with engine.begin() as conn:
        child = create_published(conn, tenant, registry, "rt.child", definition("Child"))
        steps = [call_step("call-child", child), echo_step("after")]
        create_published(conn, tenant, registry, "rt.parent", definition("Parent", steps))
        data = export_bundle_bytes_on(conn, tenant, all=True)
        summary = import_bundle_on(conn, other_tenant, data, registry=registry)
    new_ids = {w["key"]: w["workflowId"] for w in summary["workflows"]}
    assert new_ids["rt.child"] != child
    with engine.connect() as conn:
        (version,) = store.list_versions(conn, other_tenant, new_ids["rt.parent"])
    assert version.definition_json["steps"][0]["workflowId"] == new_ids["rt.child"]


# --- property: import -> export over generated bundles -------------------------------------------

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_NAME = _TEXT.filter(lambda s: s.strip() != "")
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_THRESHOLD = st.none() | st.decimals(
    min_value=Decimal("-999.99"), max_value=Decimal("999.99"), places=2
).map(lambda d: f"{d:.2f}")


@st.composite
def _steps(draw: Any, depth: int = 0) -> list[dict[str, Any]]:
    kinds = ["echo", "state", "free"] + (["if", "try"] if depth < 2 else [])
    steps = []
    for index in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(kinds))
        step_id = f"s{depth}-{index}"
        if kind == "echo":
            steps.append(echo_step(step_id, draw(_TEXT).replace("'", "")))
        elif kind == "state":
            steps.append({"id": step_id, "type": "state.set", "config": {"state": draw(_NAME)}})
        elif kind == "free":  # a node config is free-form JSON: it must survive byte for byte
            steps.append({"id": step_id, "type": "transform.assign", "config": draw(_JSON)})
        elif kind == "if":
            steps.append(
                {
                    "id": step_id,
                    "type": "control.if",
                    "condition": {"$expr": "true"},
                    "then": draw(_steps(depth + 1)),
                    "else": draw(_steps(depth + 1)),
                }
            )
        else:
            steps.append(
                {
                    "id": step_id,
                    "type": "control.tryCatch",
                    "try": draw(_steps(depth + 1)),
                    "catch": draw(_steps(depth + 1)),
                }
            )
    return steps


_source_ids = itertools.count(1)


@st.composite
def _workflow(draw: Any, key: str) -> dict[str, Any]:
    source = f"00000000-0000-4000-8000-{next(_source_ids):012d}"  # never reused: kept on import
    draft = definition(draw(_NAME), draw(_steps()), workflow_id=source)
    numbers = draw(st.lists(st.integers(1, 2**31 - 11), unique=True, max_size=3))
    versions = [
        {
            "version": n,
            "definition": definition(draw(_NAME), draw(_steps()), workflow_id=source, version=n),
            "payloadSchemaJson": draw(st.none() | st.dictionaries(_TEXT, _JSON, max_size=2)),
        }
        for n in numbers
    ]
    return workflow(
        key,
        draft,
        versions,
        # the draft comes after every published version (INVALID_DRAFT_VERSION otherwise)
        draft_version=max(numbers, default=0) + draw(st.integers(1, 10)),
        name=draw(_NAME),
        description=draw(st.none() | _TEXT),
        payloadSchemaMode=draw(st.sampled_from(["pinned", "inferred", "custom"])),
        isSystem=draw(st.booleans()),
        isVisible=draw(st.booleans()),
        isPaused=draw(st.booleans()),
        concurrencyLimit=draw(st.none() | st.integers(-5, 2**31 - 1)),
        autoPauseOnFailure=draw(st.booleans()),
        failureRateThreshold=draw(_THRESHOLD),
        failureRateMinRuns=draw(st.none() | st.integers(0, 1000)),
        retentionPolicyOverride=draw(st.none() | st.dictionaries(_TEXT, _JSON, max_size=2)),
        trigger=draw(st.none() | st.just({"type": "event", "eventName": "TICKET_CREATED"})),
    )


@st.composite
def _bundles(draw: Any) -> dict[str, Any]:
    keys = draw(
        st.lists(
            st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,8}\Z"), min_size=1, max_size=3, unique=True
        )
    )
    return bundle(*(draw(_workflow(key)) for key in keys))


def _expected_export(data: dict[str, Any], exported_at: str) -> bytes:
    """What an export of the imported bundle must be: Alga's normal form of ``data``."""
    entries = []
    for entry in sorted(data["workflows"], key=lambda w: locale_compare_key(w["key"])):
        entry = copy.deepcopy(entry)
        entry["metadata"]["isSystem"] = False
        threshold = entry["metadata"]["failureRateThreshold"]
        if threshold is not None:  # NUMERIC(5,2) as PostgreSQL prints it: no negative zero
            entry["metadata"]["failureRateThreshold"] = f"{Decimal(threshold) + 0:.2f}"
        entry["publishedVersions"].sort(key=lambda v: v["version"])
        entry["dependencies"] = derive_dependencies(entry)
        entries.append(entry)
    return dumps_canonical_bytes({**data, "exportedAt": exported_at, "workflows": entries})


def _check_round_trip(engine, registry, data: dict[str, Any]) -> None:
    with engine.begin() as conn:
        tenant = create_tenant(conn, f"t-{next(_source_ids)}")["id"]
        import_bundle_on(conn, tenant, data, registry=registry)
        first = export_bundle_bytes_on(conn, tenant, all=True)
        exported_at = loads_json(first)["exportedAt"]
        assert first == _expected_export(data, exported_at)
        import_bundle_on(conn, tenant, first, registry=registry, force=True)
        second = export_bundle_bytes_on(conn, tenant, all=True, exported_at=exported_at)
    assert second == first


_PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(_PROPERTY, max_examples=25)
@given(data=_bundles())
def test_property_import_then_export_is_the_normal_form_sqlite(engine, registry, data):
    _check_round_trip(engine, registry, data)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@settings(_PROPERTY, max_examples=10)
@given(data=_bundles())
def test_property_import_then_export_is_the_normal_form_postgres(engine, registry, data):
    _check_round_trip(engine, registry, data)
