"""Start-up cost of the ``algaflow`` command: help, a server-mode command, a local command."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds

ALGAFLOW = str(Path(sys.executable).with_name("algaflow"))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'cli.db'}"
        subprocess.run([ALGAFLOW, "db", "upgrade", "--database-url", database], check=True,
                       capture_output=True)  # fmt: skip
        cases = {
            "algaflow --help": ["--help"],
            "server mode (refused connection)": [
                "workflows", "list", "--base-url", "http://127.0.0.1:9", "--api-key", "x",
            ],
            "local database": ["workflows", "list", "--database-url", database, "--json"],
        }  # fmt: skip
        for name, args in cases.items():
            command = [ALGAFLOW, *args]
            seconds = median_seconds(lambda c=command: subprocess.run(c, capture_output=True), 10)
            print(f"{name:34} median {seconds * 1000:6.0f} ms (10 runs)")
