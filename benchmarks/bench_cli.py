"""Start-up cost of the ``algaflow`` command beside a bare interpreter: help, a server-mode
command (only httpx is loaded), and a local-mode command (the app built and run in-process),
with the local command's ratio to the server-mode one (target: at most 1.5)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds

ALGAFLOW = str(Path(sys.executable).with_name("algaflow"))
RUNS = 10
SERVER = "server mode (refused connection)"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'cli.db'}"
        subprocess.run([ALGAFLOW, "db", "upgrade", "--database-url", database], check=True,
                       capture_output=True)  # fmt: skip
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "algaflow --help": [ALGAFLOW, "--help"],
            SERVER: [
                ALGAFLOW, "workflows", "list", "--base-url", "http://127.0.0.1:9", "--api-key", "x",
            ],
            "local database (in-process app)": [
                ALGAFLOW, "workflows", "list", "--database-url", database, "--json",
            ],
        }  # fmt: skip
        baseline = None
        medians = {}
        for name, command in cases.items():
            seconds = median_seconds(lambda c=command: subprocess.run(c, capture_output=True), RUNS)
            baseline = baseline or seconds
            medians[name] = seconds
            print(
                f"{name:34} median {seconds * 1000:6.0f} ms ({RUNS} runs)"
                f"  x{seconds / baseline:5.1f} python -c pass"
            )
        local, server = medians["local database (in-process app)"], medians[SERVER]
        print(f"{'local / server mode':34} x{local / server:5.2f} (target <= 1.5)")
