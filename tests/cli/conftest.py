"""CLI fixtures: ``cli`` (the command, run in this process in a scratch directory) and the API
fixtures.

The API fixtures (``api``, ``live_server``...) live in ``tests/api/conftest.py`` and the bundle
builders in ``tests/api/bundle_builders.py``; both are loaded from there (not copied), so the CLI
runs against exactly the server and bundles the HTTP tests use.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from cli_helpers import invoke

API_TESTS = Path(__file__).parents[1] / "api"
sys.path.insert(0, str(API_TESTS))  # for bundle_builders
_spec = importlib.util.spec_from_file_location("algaflow_api_fixtures", API_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_api_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _api_fixtures  # dataclasses look their module up there
_spec.loader.exec_module(_api_fixtures)
api = _api_fixtures.api
app = _api_fixtures.app
live_server = _api_fixtures.live_server
registry = _api_fixtures.registry


@pytest.fixture
def cli(tmp_path: Path):
    """``cli(*args, input=..., **env)`` in this process, in a scratch directory (its own: the
    ``db_url`` fixture's SQLite file is also called ``algaflow.db``, the default database)."""
    work = tmp_path / "work"
    work.mkdir()

    def call(*args: str, input: bytes | None = None, **env: str):
        return invoke(*args, input=input, cwd=work, **env)

    return call


@pytest.fixture
def free_port():
    """A function giving an unused loopback port (the one the API fixtures use)."""
    return _api_fixtures._free_port
