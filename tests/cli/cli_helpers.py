"""Running ``algaflow``: in this process (most tests), or the executable itself as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from algaflow.cli.main import app

ALGAFLOW = Path(sys.executable).with_name("algaflow")


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ``ALGAFLOW_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALGAFLOW_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **extra})
    return env


def run_cli(
    *args: str, input: bytes | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """Run the ``algaflow`` executable to completion; stdout and stderr kept apart, as bytes."""
    return subprocess.run(
        [str(ALGAFLOW), *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        env=clean_env(**env),
        timeout=120,
        check=False,
    )


def invoke(
    *args: str, input: bytes | None = None, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """``algaflow ARGS`` in this process (Typer's runner), answered like :func:`run_cli`.

    The environment is the caller's without ``ALGAFLOW_*`` settings, plus ``env``; ``cwd`` is
    where relative paths (the default database) resolve.
    """
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ALGAFLOW_")}
    environ = {**unset, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **env}
    before = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), input=input, env=environ)
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes
    )
