"""The README's "Moving a bundle to another instance", command by command, so it cannot rot.

Runs the section's ``sh`` lines in an empty folder holding only ``examples/`` (local mode, no
server): the line marked ``# refused`` must exit 3 with ``UNRESOLVED_REFERENCES`` and write
nothing; every other line must succeed, and the run must act on the bound user.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.e2e_scenarios import EXAMPLES, ROOT

ALGAFLOW = str(Path(sys.executable).with_name("algaflow"))


def section_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(
        r"^## Moving a bundle to another instance\n(.*?)(?=^## )", readme, re.S | re.M
    )
    assert section, "README.md has no '## Moving a bundle to another instance' section"
    blocks = re.findall(r"^```sh\n(.*?)^```", section.group(1), re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_moves_the_example_with_a_bindings_file(tmp_path: Path):
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALGAFLOW_")}
    outputs: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    for line in section_lines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            env[name] = value
            continue
        done = subprocess.run(
            ["bash", "-c", line.replace(".venv/bin/algaflow", ALGAFLOW)], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if line.endswith("# refused"):
            assert done.returncode == 3, (line, done.stdout, done.stderr)
            assert "UNRESOLVED_REFERENCES" in done.stderr and done.stdout == ""
        else:
            assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append((line, done))
    by_command = {line.split()[1] + " " + line.split()[2]: done for line, done in outputs}
    assert "ada" in by_command["bundle references"].stdout
    assert json.loads((tmp_path / "bindings.json").read_text()) == {"user": {"ada": "ada"}}
    run = json.loads(by_command["runs start"].stdout)
    assert run["status"] == "SUCCEEDED"
    assert run["vars"]["notice"]["userId"] == "ada.lovelace"
