"""Shared fixtures: both databases, tenants, and the Alga sample corpus (read in place)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from algaflow.store import migrate
from algaflow.store.engine import drop_database, ensure_database, make_engine
from algaflow.store.tenants import create_tenant

pytest_plugins = ["tests.fixtures.api", "tests.fixtures.temporal"]

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT.parent / "shared" / "corpus" / "alga-sample"
#: The PostgreSQL database of this run. Without ``ALGAFLOW_TEST_POSTGRES_URL`` (which CI sets to
#: a database it creates and drops) each run makes its own, uniquely named, and drops it after,
#: so two checkouts testing on one server never meet.
_OWN_PG_DATABASE = "ALGAFLOW_TEST_POSTGRES_URL" not in os.environ
PG_URL = os.environ.get(
    "ALGAFLOW_TEST_POSTGRES_URL",
    f"postgresql+psycopg://postgres@127.0.0.1:5432/algaflow_test_{os.getpid()}_{uuid.uuid4().hex[:8]}",
)


def corpus_files() -> list[Path]:
    """Every bundle of the Alga sample corpus, or none when ``../shared`` is absent."""
    return sorted(CORPUS_DIR.glob("*.json")) if CORPUS_DIR.is_dir() else []


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.skip("../shared/corpus/alga-sample is absent")
    return CORPUS_DIR


# --- databases -------------------------------------------------------------------------------


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL is not reachable at {PG_URL.split('@')[-1]}: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine | str]:
    try:
        ensure_database(PG_URL)
        engine = make_engine(PG_URL)
        with engine.connect():
            pass
    except Exception as exc:  # any connection problem becomes a skip (or a CI failure)
        yield f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if _OWN_PG_DATABASE:
        drop_database(PG_URL)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "algaflow.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        names = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        quoted = ", ".join(f'"{n}"' for n in names)
        if quoted:
            conn.exec_driver_sql(f"TRUNCATE {quoted} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or the test PostgreSQL database."""
    if request.param == "sqlite":
        target = tmp_path / "algaflow.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), target)
        return f"sqlite:///{target}"
    pg = request.getfixturevalue("_pg_engine")
    if isinstance(pg, str):
        _postgres_unavailable(pg)
    _truncate_all(pg)
    return PG_URL


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def tenant(engine: Engine) -> str:
    with engine.begin() as conn:
        return create_tenant(conn, "tenant-a")["id"]


@pytest.fixture
def other_tenant(engine: Engine) -> str:
    with engine.begin() as conn:
        return create_tenant(conn, "tenant-b")["id"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying how many tests ran on each database, so a CI log shows PostgreSQL ran."""
    counts: dict[str, dict[str, int]] = {"sqlite": {}, "postgres": {}}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for name, tally in counts.items():
                if f"[{name}" in nodeid or f"-{name}]" in nodeid or f"-{name}-" in nodeid:
                    tally[outcome] = tally.get(outcome, 0) + 1
    where = PG_URL.split("@")[-1]
    for name, tally in counts.items():
        if tally:
            summary = ", ".join(f"{n} {o}" for o, n in sorted(tally.items()))
            suffix = f" ({where})" if name == "postgres" else ""
            terminalreporter.write_line(f"database tests on {name}{suffix}: {summary}")
