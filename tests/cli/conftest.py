"""The ``algaflow`` executable as a subprocess, plus the API fixtures (``api``, ``live_server``).

The API fixtures live in ``tests/api/conftest.py`` and the bundle builders in
``tests/api/bundle_builders.py``; both are loaded from there (not copied), so the CLI runs against
exactly the server and bundles the HTTP tests use.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
free_port = _api_fixtures._free_port

ALGAFLOW = Path(sys.executable).with_name("algaflow")


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ``ALGAFLOW_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALGAFLOW_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **extra})
    return env


def run_cli(
    *args: str, input: bytes | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """Run ``algaflow ARGS`` to completion; stdout and stderr are kept apart, as bytes."""
    return subprocess.run(
        [str(ALGAFLOW), *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        env=clean_env(**env),
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli(tmp_path: Path):
    """``cli(*args, input=..., **env)`` running in a scratch directory."""

    def call(*args: str, input: bytes | None = None, **env: str):
        return run_cli(*args, input=input, cwd=tmp_path, **env)

    return call
