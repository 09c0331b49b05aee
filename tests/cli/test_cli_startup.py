"""The command starts without the heavy libraries: ``--help`` and server-mode commands load none
of them (they cost most of a second), so a stray module-level import cannot creep back in."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

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


def _loaded_after(code: str, heavy: list[str] = HEAVY) -> dict:
    """Run ``code`` in a fresh interpreter: which ``heavy`` libraries it loaded, its exit code."""
    command = [sys.executable, "-c", _PROBE, code, *heavy]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _refused_url() -> str:
    """A loopback port nothing listens on: connecting fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_importing_the_cli_loads_no_heavy_library():
    assert _loaded_after("import algaflow.cli.main", [*HEAVY, "httpx"]) == {"heavy": [], "exit": 0}


def test_help_loads_no_heavy_library_nor_the_http_client():
    result = _loaded_after("from algaflow.cli.main import app\napp(['--help'])", [*HEAVY, "httpx"])
    assert result == {"heavy": [], "exit": 0}


def test_a_server_mode_command_loads_no_heavy_library_even_when_it_fails():
    args = ["workflows", "list", "--base-url", _refused_url(), "--api-key", "x"]
    result = _loaded_after(f"from algaflow.cli.main import app\napp({args!r})")
    assert result == {"heavy": [], "exit": 1}  # SERVER_UNREACHABLE, printed by fail()


def test_a_database_command_runs_the_app_in_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    args = ["workflows", "create", "--key", "a.b", "--name", "A", "--payload-schema-ref",
            "payload.Text.v1", "--database-url", url, "--json"]  # fmt: skip
    result = _loaded_after(f"from algaflow.cli.main import app\napp({args!r})")
    assert result["exit"] == 0
    assert {"sqlalchemy", "alembic", "fastapi"} <= set(result["heavy"])
