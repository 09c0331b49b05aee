"""API keys: ``last_used_at`` is kept, but written at most once a minute per key."""

from datetime import UTC, datetime, timedelta

from algaflow.kernel.clock import frozen
from algaflow.store import api_keys

T0 = datetime(2026, 1, 25, 12, 0, tzinfo=UTC)


def _at(moment):
    return frozen(now=lambda: moment)


def _last_used(engine, key_id):
    with engine.connect() as conn:
        (row,) = [k for k in api_keys.list_api_keys(conn) if k["id"] == key_id]
    return row["last_used_at"]


def test_last_used_at_is_written_at_most_once_a_minute(engine, tenant):
    with engine.begin() as conn:
        row, _ = api_keys.create_api_key(conn, tenant, name="k", permissions=["workflow:read"])
    assert _last_used(engine, row["id"]) is None
    steps = [
        (T0, True, T0),
        (T0 + timedelta(seconds=59), False, T0),
        (T0 + timedelta(seconds=60), True, T0 + timedelta(seconds=60)),
        (T0 + timedelta(seconds=61), False, T0 + timedelta(seconds=60)),
    ]
    for now, wrote, expected in steps:
        with _at(now), engine.begin() as conn:
            assert api_keys.record_use(conn, row["id"]) is wrote
        assert _last_used(engine, row["id"]) == expected


def test_use_record_is_due_only_when_stale(engine, tenant):
    with engine.begin() as conn:
        _, secret = api_keys.create_api_key(conn, tenant, name="k", permissions=["workflow:read"])
    with engine.connect() as conn:
        found = api_keys.authenticate(conn, secret)
    assert api_keys.use_record_due(found)
    with _at(T0), engine.begin() as conn:
        api_keys.record_use(conn, found["id"])
    with engine.connect() as conn:
        found = api_keys.authenticate(conn, secret)
    assert found["last_used_at"] == T0
    with _at(T0 + timedelta(seconds=30)):
        assert not api_keys.use_record_due(found)
    with _at(T0 + timedelta(minutes=1)):
        assert api_keys.use_record_due(found)
