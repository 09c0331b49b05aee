"""The command starts without the heavy libraries: ``--help`` and server-mode commands load none
of them (they cost most of a second), so a stray module-level import cannot creep back in."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from algaflow.api.statuses import status_for
from algaflow.bundle import BUNDLE_ERROR_CODES
from algaflow.cli import constants
from algaflow.runtime.embedded.worker import DEFAULT_INTERVAL_S
from algaflow.runtime.service import DEFAULT_LIMIT
from algaflow.store.run_tables import RUN_STATUSES
from algaflow.store.tenants import DEFAULT_TENANT_NAME
from algaflow.store.workflows import INT4_MAX

HEAVY = ["sqlalchemy", "alembic", "jsonschema", "jlens", "uvicorn", "fastapi"]


_PROBE = """
import json, sys
exit_code = 0
try:
    exec(sys.argv[1])
except SystemExit as exc:
    exit_code = exc.code
loaded = {name.split(".")[0] for name in sys.modules}
print(json.dumps({"heavy": sorted(loaded & set(sys.argv[2:])), "exit": exit_code}))
"""


def _loaded_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter: which HEAVY libraries it loaded, and its exit code."""
    command = [sys.executable, "-c", _PROBE, code, *HEAVY]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _refused_url() -> str:
    """A loopback port nothing listens on: connecting fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_importing_the_cli_loads_no_heavy_library():
    assert _loaded_after("import algaflow.cli.main") == {"heavy": [], "exit": 0}


def test_help_loads_no_heavy_library():
    result = _loaded_after("from algaflow.cli.main import app\napp(['--help'])")
    assert result == {"heavy": [], "exit": 0}


def test_a_server_mode_command_loads_no_heavy_library_even_when_it_fails():
    args = ["workflows", "list", "--base-url", _refused_url(), "--api-key", "x"]
    result = _loaded_after(f"from algaflow.cli.main import app\napp({args!r})")
    assert result == {"heavy": [], "exit": 1}  # SERVER_UNREACHABLE, printed by fail()


def test_a_database_command_still_loads_what_it_needs(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    args = ["workflows", "list", "--database-url", url, "--json"]
    result = _loaded_after(f"from algaflow.cli.main import app\napp({args!r})")
    assert result["exit"] == 0
    assert {"sqlalchemy", "alembic"} <= set(result["heavy"])


def test_mirrored_constants_match_their_owners():
    assert constants.DEFAULT_TENANT_NAME == DEFAULT_TENANT_NAME
    assert constants.INT4_MAX == INT4_MAX
    assert constants.RUN_STATUSES == RUN_STATUSES
    assert constants.DEFAULT_RUN_LIMIT == DEFAULT_LIMIT
    assert constants.DEFAULT_WORKER_INTERVAL_S == DEFAULT_INTERVAL_S
    invalid = {code for code in BUNDLE_ERROR_CODES if status_for(code) == 400}
    assert invalid == constants.INVALID_BUNDLE_CODES
