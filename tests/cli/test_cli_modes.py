"""Every command that acts on workflows or runs, on a database and through a server, gives the same
output and exit code; and which of the two a command uses follows one rule (common.open_backend).

Each step runs the ``algaflow`` executable twice at once: through the live server (``ALGAFLOW_URL``)
and on a local SQLite file (``--database-url``), with the same environment otherwise, in which
``ALGAFLOW_DATABASE_URL`` names a file that must never appear. Ids and times differ between the
two instances, so they are blanked before comparing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli

from algaflow.registry import Registry, default_registry, load_schema_dir

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "examples" / "schemas"
MISSING = "00000000-0000-4000-8000-000000000000"
EVENT_ID = "5f0c7e2a-1b3d-4c5e-8f90-a1b2c3d4e5f6"
# The server hides its database: SQLite is enough here (tests/api covers PostgreSQL).
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

REVIEW = {
    "id": MISSING,
    "version": 1,
    "name": "Review",
    "payloadSchemaRef": "payload.Greeting.v1",
    "trigger": {"type": "event", "eventName": "REVIEW_REQUESTED"},
    "steps": [
        {"id": "ask", "type": "human.task",
         "config": {"taskType": "review", "title": {"$expr": "'Review ' & payload.name"}}},
        {"id": "done", "type": "state.set", "config": {"state": "REVIEWED"}},
    ],
}  # fmt: skip
_BLANKS = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),  # definitionHash covers the workflow id
    (re.compile(r'"durationMs": \d+'), '"durationMs": <ms>'),
]


@pytest.fixture
def registry() -> Registry:
    """The server's registry: the examples' payload schemas, as the local CLI gets them."""
    registry = default_registry()
    load_schema_dir(registry, SCHEMAS)
    return registry


def blank(text: bytes) -> str:
    out = text.decode("utf-8")
    for pattern, replacement in _BLANKS:
        out = pattern.sub(replacement, out)
    return out


class Modes:
    """One command through the server and on the local database, run side by side."""

    def __init__(self, server: str, key: str, tmp: Path) -> None:
        self.tmp = tmp
        self.env_db = tmp / "from-env.db"  # ALGAFLOW_DATABASE_URL: must lose to the server
        self.env = {
            "ALGAFLOW_URL": server,
            "ALGAFLOW_API_KEY": key,
            "ALGAFLOW_DATABASE_URL": f"sqlite:///{self.env_db}",
            "ALGAFLOW_SCHEMA_DIRS": str(SCHEMAS),
        }
        self.flags = {"remote": [], "local": ["--database-url", f"sqlite:///{tmp / 'local.db'}"]}
        self.ids: dict[str, dict[str, str]] = {"remote": {}, "local": {}}

    def run(self, *args: str) -> dict[str, subprocess.CompletedProcess[bytes]]:
        """``args`` with ``{name}`` filled from each mode's own ids; both modes at once."""

        def one(mode: str) -> subprocess.CompletedProcess[bytes]:
            filled = [a.format(**self.ids[mode]) for a in args]
            return run_cli(*filled, *self.flags[mode], cwd=self.tmp, **self.env)

        with ThreadPoolExecutor(2) as pool:
            results = dict(zip(self.ids, pool.map(one, self.ids), strict=True))
        assert not self.env_db.exists(), "a command opened ALGAFLOW_DATABASE_URL, not the server"
        return results

    def same(self, *args: str, code: int = 0) -> dict[str, Any]:
        """Run both; same exit code ``code``, same output once ids and times are blanked.

        Returns each mode's stdout as JSON when it is JSON.
        """
        results = self.run(*args)
        remote, local = results["remote"], results["local"]
        assert remote.returncode == code, (args, remote.stderr.decode())
        assert local.returncode == code, (args, local.stderr.decode())
        assert blank(local.stdout) == blank(remote.stdout), args
        assert blank(local.stderr) == blank(remote.stderr), args
        try:
            return {mode: json.loads(r.stdout) for mode, r in results.items()}
        except ValueError:
            return {}

    def remember(self, name: str, outputs: dict[str, Any], path: str) -> None:
        """Keep each mode's id found at ``path`` (dotted, ints index lists) as ``{name}``."""
        for mode, value in outputs.items():
            for part in path.split("."):
                value = value[int(part)] if part.isdigit() else value[part]
            self.ids[mode][name] = value


@pytest.fixture
def modes(api, live_server, tmp_path, _sqlite_template) -> Modes:
    shutil.copyfile(_sqlite_template, tmp_path / "local.db")  # migrated: steps may run at once
    (tmp_path / "review.json").write_text(json.dumps(REVIEW))
    (tmp_path / "ada.json").write_text(json.dumps({"name": "Ada"}))
    (tmp_path / "list.json").write_text("[]")
    return Modes(live_server, api.key, tmp_path)


def test_every_command_answers_the_same_on_a_server_and_on_a_database(modes):
    created = modes.same("workflows", "create", "--key", "demo.review", "--definition",
                         "review.json", "--json")  # fmt: skip
    assert created["remote"]["draftDefinition"]["steps"][0]["type"] == "human.task"
    modes.remember("wf", created, "workflowId")
    modes.same("workflows", "create", "--key", "demo.review", "--definition", "review.json", code=4)
    published = modes.same("workflows", "publish", "demo.review", "--json")  # by key
    assert published["remote"]["publishedVersion"] == 1
    shown = modes.same("workflows", "show", "{wf}", "--json")  # by id
    assert shown["remote"]["key"] == "demo.review"
    modes.same("workflows", "list")  # the table

    emitted = modes.same("events", "emit", "REVIEW_REQUESTED", "--payload", "ada.json",
                         "--event-id", EVENT_ID)  # fmt: skip
    assert emitted["remote"]["eventId"] == EVENT_ID
    modes.remember("first", emitted, "startedRuns.0")
    started = modes.same("runs", "start", "{wf}", "--payload", "ada.json", "--json")
    assert started["remote"]["status"] == "WAITING"
    modes.remember("second", started, "runId")
    tasks = modes.same("tasks", "list", "--json")
    assert [t["title"] for t in tasks["remote"]] == ["Review Ada", "Review Ada"]
    modes.remember("task", tasks, "0.taskId")
    modes.same("tasks", "complete", "{task}", "--output", "ada.json")
    canceled = modes.same("runs", "cancel", "{second}", "--json")
    assert canceled["remote"]["status"] == "CANCELED"
    shown_run = modes.same("runs", "show", "{first}", "--json")
    assert shown_run["remote"]["status"] == "SUCCEEDED"
    listed = modes.same("runs", "list", "--workflow-id", "{wf}", "--json")
    assert sorted(r["status"] for r in listed["remote"]) == ["CANCELED", "SUCCEEDED"]

    exported = modes.run(
        "bundle", "export", "--workflow-id", "{wf}", "--exported-at", "latest-change"
    )
    assert blank(exported["local"].stdout) == blank(exported["remote"].stdout)
    for mode, result in exported.items():
        (modes.tmp / f"{mode}.json").write_bytes(result.stdout)
        modes.ids[mode]["bundle"] = f"{mode}.json"
    modes.same("workflows", "delete", "demo.review")
    imported = modes.same("bundle", "import", "--file", "{bundle}", "--json")
    assert [w["action"] for w in imported["remote"]["workflows"]] == ["created"]
    modes.same("bundle", "import", "--file", "{bundle}", "--force", "--dry-run")  # the table


def test_errors_are_the_same_message_and_exit_code(modes):
    commands = [
        ("workflows", "show", "no.such.workflow"),
        ("workflows", "publish", MISSING),
        ("runs", "show", MISSING),
        ("runs", "cancel", "not-a-run-id"),
        ("tasks", "complete", MISSING),
        ("workflows", "create", "--key", "demo.list", "--definition", "list.json"),
    ]
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda args: modes.run(*args), commands))
    for args, answer in zip(commands, answers, strict=True):
        remote, local = answer["remote"], answer["local"]
        assert (remote.returncode, remote.stdout) == (local.returncode, local.stdout) == (1, b"")
        assert remote.stderr == local.stderr, args
        assert re.match(rb"error ([A-Z_]+_NOT_FOUND|INVALID_FIELD): ", remote.stderr), args


def test_without_a_server_the_environments_database_is_used(live_server, api, tmp_path):
    env_db = tmp_path / "env.db"
    database = {"ALGAFLOW_DATABASE_URL": f"sqlite:///{env_db}"}
    server = {"ALGAFLOW_URL": live_server, "ALGAFLOW_API_KEY": api.key}
    cases = [
        (("workflows", "list", "--json"), database),
        (("workflows", "list", "--tenant", "other"), {**database, **server}),
    ]
    with ThreadPoolExecutor(2) as pool:
        local, refused = pool.map(lambda case: run_cli(*case[0], cwd=tmp_path, **case[1]), cases)
    assert local.returncode == 0 and json.loads(local.stdout) == [], local.stderr
    assert env_db.exists()
    # A server answers for its API key's tenant: --tenant would be silently ignored.
    assert refused.returncode == 2 and b"--tenant" in refused.stderr, refused.stderr
