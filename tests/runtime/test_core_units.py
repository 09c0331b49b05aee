"""Pure parts: event filters as the interpreter evaluates them, JS-compatible keys, migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from algaflow.runtime.core.waits import filters_pass
from algaflow.runtime.embedded.idempotency import js_hash, js_stringify
from algaflow.store import run_tables
from algaflow.store.tables import metadata


@pytest.mark.parametrize(
    ("op", "value", "actual", "passes"),
    [
        ("=", 1, 1.0, True),
        ("=", 1, True, False),
        ("=", "1", 1, False),
        ("!=", None, None, False),
        ("in", [1, "a"], "a", True),
        ("not_in", [1], 2, True),
        ("exists", None, {"x": 1}, True),
        (">", 2, 3, True),
        (">", "a", "b", False),  # numbers only, like the interpreter
        ("contains", "ell", "hello", True),
        ("starts_with", "he", 5, False),
        ("ends_with", "lo", "hello", True),
    ],
)
def test_filters(op, value, actual, passes):
    spec = {"path": "$.a.b", "op": op}
    if op != "exists":
        spec["value"] = value
    assert filters_pass([spec], {"a": {"b": actual}}) is passes


def test_missing_paths_only_pass_not_exists():
    assert filters_pass([{"path": "x", "op": "not_exists"}], {})
    assert not filters_pass([{"path": "x", "op": "=", "value": None}], {})


def test_js_hash_and_stringify_match_javascript():
    # Values computed with Node: JSON.stringify and the 31-multiplier int32 rolling hash.
    assert js_stringify({"a": 1.0, "b": [True, None, "é"], "c": 1e21}) == (
        '{"a":1,"b":[true,null,"é"],"c":1e+21}'
    )
    assert js_hash("") == "0"
    assert js_hash("hello") == "1n1e4y"
    assert js_hash("😀") == "11zz7"  # surrogate pairs count as two units


def test_migration_matches_the_table_definitions(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    run_table_names = set(run_tables.__dict__) & {t.name for t in metadata.sorted_tables}
    relevant = [d for d in diff if any(name in str(d) for name in run_table_names)]
    assert relevant == []
