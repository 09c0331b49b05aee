"""CLI fixtures: ``cli``, the command run in this process in a scratch directory.

The API fixtures (``api``, ``live_server``, ``free_port``...) come from ``tests.fixtures.api`` and
the bundle builders from ``tests.api.bundle_builders``, so the CLI runs against exactly the server
and bundles the HTTP tests use.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.cli_helpers import invoke


@pytest.fixture
def cli(tmp_path: Path):
    """``cli(*args, input=..., **env)`` in this process, in a scratch directory (its own: the
    ``db_url`` fixture's SQLite file is also called ``algaflow.db``, the default database)."""
    work = tmp_path / "work"
    work.mkdir()

    def call(*args: str, input: bytes | None = None, **env: str):
        return invoke(*args, input=input, cwd=work, **env)

    return call
