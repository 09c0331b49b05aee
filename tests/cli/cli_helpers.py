"""Running the ``algaflow`` executable (the one next to this interpreter) as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
