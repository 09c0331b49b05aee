"""The README's "First five minutes", command by command, so it cannot rot.

Runs in an empty folder that holds only ``examples/`` (as a fresh clone would, minus the rest);
``algaflow serve`` is started in the background on a free port, and the key it prints on its first
start is what ``<the key the server printed>`` stands for. The commands after ``serve`` run in a
fresh environment, like the README's second terminal (with its own folder of CLI profiles), and
each must reach the server: its access log grows with every one (the local database, in the same
folder, would give the same answers); ``config`` commands only write the profiles.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.e2e_scenarios import EXAMPLES, ROOT
from tests.fixtures.api import free_port

from algaflow.bundle import dumps_canonical_bytes, loads_json

VENV_ALGAFLOW = ".venv/bin/algaflow"
ALGAFLOW = str(Path(sys.executable).with_name("algaflow"))
DEFAULT_URL = "http://127.0.0.1:8000"
PASTED_KEY = "<the key the server printed>"
KEY_LINE = re.compile(r"^export ALGAFLOW_API_KEY=(\S+)$", re.MULTILINE)
API_REQUEST = re.compile(r'"(?:GET|POST|PUT|DELETE) /api/')


def walkthrough_commands() -> list[str]:
    """Every command line of the ``sh`` blocks under the "First five minutes" heading."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## First five minutes\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert section, "README.md has no '## First five minutes' section"
    blocks = re.findall(r"^```sh\n(.*?)^```", section.group(1), re.S | re.M)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


class Walkthrough:
    """A shell session: the environment the ``export`` lines build, and the server."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.clean_env = {k: v for k, v in os.environ.items() if not k.startswith("ALGAFLOW_")}
        self.clean_env["ALGAFLOW_CONFIG_DIR"] = str(cwd / "profiles")
        self.env = dict(self.clean_env)
        self.url = f"http://127.0.0.1:{free_port()}"
        self.key: str | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.outputs: list[tuple[str, str]] = []

    def run(self, line: str) -> None:
        line = line.replace(VENV_ALGAFLOW, ALGAFLOW)
        if line.startswith("export "):
            self.export(line)
        elif shlex.split(line, comments=True)[1:] == ["serve"]:
            self.serve(line)
        else:
            self.command(line)

    def export(self, line: str) -> None:
        name, _, value = line[len("export ") :].partition("=")
        value = value.split(" #")[0].strip()
        if name == "ALGAFLOW_API_KEY":
            assert re.fullmatch(r"<[^>]+>", value), "the README tells the user to paste the key"
            assert self.key, "the server printed no key"
            value = self.key
        self.env[name] = value.replace(DEFAULT_URL, self.url)

    def serve(self, line: str) -> None:
        port = self.url.rsplit(":", 1)[1]
        log = (self.cwd / "serve.log").open("wb")
        self.server = subprocess.Popen(
            [*shlex.split(line, comments=True), "--port", port], cwd=self.cwd, env=self.env,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.cwd / "serve.log").read_text()
            found = KEY_LINE.search((self.cwd / "serve.log").read_text(errors="replace"))
            if found and self._healthy():
                self.key = found.group(1)
                self.env = dict(self.clean_env)  # the second terminal
                return
            time.sleep(0.1)
        raise AssertionError(
            "algaflow serve did not start: " + (self.cwd / "serve.log").read_text()
        )

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200
        except httpx.TransportError:
            return False

    def api_requests(self) -> int:
        """How many API requests the server has logged so far."""
        return len(API_REQUEST.findall((self.cwd / "serve.log").read_text(errors="replace")))

    def command(self, line: str) -> None:
        if "<run-id>" in line:
            line = line.replace("<run-id>", self.started_run())
        if PASTED_KEY in line:
            assert self.key, "the server printed no key"
            line = line.replace(PASTED_KEY, self.key).replace(DEFAULT_URL, self.url)
        served = self.api_requests()
        done = subprocess.run(
            ["bash", "-c", line], cwd=self.cwd, env=self.env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        if " config " not in line:
            assert self.api_requests() > served, f"{line!r} did not go to the server"
        self.outputs.append((line, done.stdout))

    def started_run(self) -> str:
        """The run the ``events emit`` above started (its JSON answer names it)."""
        for line, out in reversed(self.outputs):
            if " events emit " in line:
                return json.loads(out)["startedRuns"][0]
        raise AssertionError("<run-id> is used before any `events emit`")

    def output_of(self, words: str) -> str:
        return next(out for line, out in self.outputs if f" {words}" in line)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Walkthrough]:
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    walk = Walkthrough(tmp_path)
    yield walk
    walk.stop()


def test_walkthrough_names_every_step():
    commands = " | ".join(walkthrough_commands())
    for step in ("serve", "config set-profile", "status", "bundle import", "workflows publish",
                 "events emit", "runs show", "bundle export"):  # fmt: skip
        assert f"{VENV_ALGAFLOW} {step}" in commands, step


def test_first_five_minutes_as_written(session: Walkthrough):
    for line in walkthrough_commands():
        session.run(line)

    status = session.output_of("status")
    assert "from profile local" in status and "tenant:" in status and "yes" in status
    assert "SUCCEEDED" in session.output_of("runs list")
    run = json.loads(session.output_of("runs show"))
    assert run["status"] == "SUCCEEDED"
    assert run["vars"] == {"greeting": {"text": "Hello, Ada!"}}
    assert run["workflowVersion"] == 2

    exported = (session.cwd / "hello-export.json").read_bytes()
    assert dumps_canonical_bytes(loads_json(exported)) == exported
    [workflow] = loads_json(exported)["workflows"]
    assert workflow["key"] == "examples.hello"
    assert [v["version"] for v in workflow["publishedVersions"]] == [1, 2]
