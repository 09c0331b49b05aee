"""PostgreSQL pool health: no ping per checkout on a busy pool, and a dropped idle connection is
replaced before anyone sees it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from algaflow.store.engine import make_engine


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite is a file: there is no connection to drop or ping")
    return db_url


def _counting_pings(engine: Engine) -> list[int]:
    """Count the dialect's pings (a spy around the real ping, which still runs)."""
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    killer = make_engine(url)
    try:
        with killer.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


@pytest.fixture
def engine_factory(pg_url: str) -> Iterator[Any]:
    made: list[Engine] = []

    def make(**kwargs: Any) -> Engine:
        made.append(make_engine(pg_url, **kwargs))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def test_a_busy_healthy_pool_is_not_pinged(engine_factory: Any) -> None:
    engine = engine_factory()
    pings = _counting_pings(engine)
    pids = {_backend_pid(engine) for _ in range(20)}
    assert len(pids) == 1  # one pooled connection, reused
    assert pings == []


def test_a_dropped_idle_connection_is_replaced_at_checkout(
    engine_factory: Any, pg_url: str
) -> None:
    engine = engine_factory(idle_ping_seconds=0.0)  # every returned connection counts as idle
    pings = _counting_pings(engine)
    first = _backend_pid(engine)
    _terminate(pg_url, first)
    second = _backend_pid(engine)  # no error: the ping found it dead and the pool replaced it
    assert second != first
    assert pings


def test_a_connection_dropped_while_pooled_fails_once_then_recovers(
    engine_factory: Any, pg_url: str
) -> None:
    """Within the idle window nothing is pinged: the statement fails, the pool is invalidated."""
    engine = engine_factory(idle_ping_seconds=3600.0)
    first = _backend_pid(engine)
    _terminate(pg_url, first)
    with pytest.raises(sa.exc.OperationalError):
        _backend_pid(engine)
    assert _backend_pid(engine) != first
