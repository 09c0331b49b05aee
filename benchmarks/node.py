"""The JavaScript peers (``benchmarks/node``): jsonata-js and V8's ``JSON``, run by Node.

Their npm packages are installed on first use (``npm ci`` from the lock file). Without Node the
peers are skipped with a message, and the benchmarks print algaflow's own figures alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent / "node"


def _ready() -> str | None:
    """Why the peers cannot run, or None when they can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node or npm is not installed"
    if not (FOLDER / "node_modules" / "jsonata").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"],
            cwd=FOLDER,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr.strip()[-200:]}"
    return None


def run_peer(script: str, *args: str, stdin: Any = None) -> dict[str, Any] | None:
    """Run ``benchmarks/node/<script>`` (``stdin`` sent as JSON); its JSON answer, or None
    (said on stdout) when Node cannot run it."""
    problem = _ready()
    if problem is None:
        done = subprocess.run(
            ["node", str(FOLDER / script), *args],
            input=None if stdin is None else json.dumps(stdin),
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            answer: dict[str, Any] = json.loads(done.stdout)
            return answer
        problem = f"{script} failed: {done.stderr.strip()[-300:]}"
    print(f"JavaScript peer skipped: {problem}")
    return None
