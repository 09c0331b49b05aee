"""The core can be imported (and so replayed) without a database, the clock or a backend."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = (
    "sqlalchemy",
    "algaflow.store",
    "algaflow.kernel.clock",
    "algaflow.runtime.embedded",
    "fastapi",
    "algaflow.config",
)


def test_importing_the_core_loads_no_database_clock_or_backend_module() -> None:
    code = (
        "import json, sys\nimport algaflow.runtime.core\nprint(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    loaded = json.loads(out)
    assert "algaflow.runtime.core.interpreter" in loaded
    offenders = [m for m in loaded if m.startswith(FORBIDDEN)]
    assert offenders == []
