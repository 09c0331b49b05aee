"""Every command on workflows, runs, events, tasks, bundles and the registry is a client of the HTTP
API: of a server, or of the same app run in-process over a database. So both give the same output.

The server (a real uvicorn, ``live_server``) answers for tenant-a (its API key's); local mode works
on the same database for tenant-b (``--tenant``), so the two never see each other's rows. Ids and
times differ, so they are blanked before comparing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from algaflow.registry import Registry, default_registry, load_schema_dir

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "examples" / "schemas"
MISSING = "00000000-0000-4000-8000-000000000000"
#: What a workflow needs without a definition: a name and a payload schema.
NAMED = ["--name", "Named", "--payload-schema-ref", "payload.Text.v1"]
EVENT_ID = "5f0c7e2a-1b3d-4c5e-8f90-a1b2c3d4e5f6"
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
    """The server's registry: the examples' payload schemas, as local mode gets them (env)."""
    registry = default_registry()
    load_schema_dir(registry, SCHEMAS)
    return registry


def blank(text: bytes) -> str:
    out = text.decode("utf-8")
    for pattern, replacement in _BLANKS:
        out = pattern.sub(replacement, out)
    return out


class Mode:
    """One way to reach the API: its options, and the ids its own answers gave."""

    def __init__(self, cli: Any, options: list[str], env: dict[str, str]) -> None:
        self.cli, self.options, self.env = cli, options, env
        self.ids: dict[str, str] = {}

    def run(self, *args: str) -> Any:
        filled = [a.format(**self.ids) for a in args]
        return self.cli(*filled, *self.options, **self.env)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "review.json").write_text(json.dumps(REVIEW))
    (tmp_path / "review2.json").write_text(json.dumps({**REVIEW, "name": "Review again"}))
    (tmp_path / "ada.json").write_text(json.dumps({"name": "Ada"}))
    (tmp_path / "list.json").write_text("[]")
    deep = {"steps": []}
    for _ in range(200):
        deep = {"x": deep}
    (tmp_path / "deep.json").write_text(json.dumps(deep))
    return tmp_path


@pytest.fixture
def modes(cli, api, live_server, db_url, other_tenant, files) -> dict[str, Mode]:
    env_db = files / "from-env.db"  # ALGAFLOW_DATABASE_URL: must lose to --base-url and -url
    env = {"ALGAFLOW_DATABASE_URL": f"sqlite:///{env_db}", "ALGAFLOW_SCHEMA_DIRS": str(SCHEMAS)}
    return {
        "server": Mode(cli, ["--base-url", live_server, "--api-key", api.key], env),
        "local": Mode(cli, ["--database-url", db_url, "--tenant", "tenant-b"], env),
    }


def test_both_modes_give_identical_output(modes, files):
    """Each step in both modes: same exit code, same stdout and stderr once blanked."""

    def same(*args: str, code: int = 0, keep: tuple[str, str] | None = None) -> Any:
        answers = {name: mode.run(*args) for name, mode in modes.items()}
        server, local = answers["server"], answers["local"]
        assert server.returncode == code, (args, server.stderr.decode())
        assert local.returncode == code, (args, local.stderr.decode())
        assert blank(local.stdout) == blank(server.stdout), args
        assert blank(local.stderr) == blank(server.stderr), args
        try:
            parsed = {name: json.loads(answer.stdout) for name, answer in answers.items()}
        except ValueError:
            return None
        if keep is not None:  # remember each mode's own id at the dotted path
            name, path = keep
            for mode, value in parsed.items():
                for part in path.split("."):
                    value = value[int(part)] if part.isdigit() else value[part]
                modes[mode].ids[name] = value
        return parsed["server"]

    review, review2, ada = (str(files / n) for n in ("review.json", "review2.json", "ada.json"))
    created = same("workflows", "create", "--key", "demo.review", "--definition", review, "--json",
                   keep=("wf", "workflowId"))  # fmt: skip
    assert created["draftDefinition"]["steps"][0]["type"] == "human.task"
    same("workflows", "create", "--key", "demo.review", "--definition", review, code=4)
    same("workflows", "validate", review)
    assert same("workflows", "publish", "demo.review", "--json")["publishedVersion"] == 1
    assert same("workflows", "show", "{wf}", "--json")["key"] == "demo.review"
    same("workflows", "show", "demo.review")  # one answer for PUBLISHED in both modes, by key
    same("workflows", "list")  # the table
    # The commands the CLI gained with the one client: draft, metadata, versions, registry.
    assert same("workflows", "draft", "set", "demo.review", "--file", review2, "--json")[
        "draftDefinition"
    ]["name"] == ("Review again")
    same("workflows", "draft", "set", "demo.review", "--file", review2, "--draft-version", "1",
         code=4)  # fmt: skip  # an optimistic lock: the draft is version 2 now
    assert same("workflows", "metadata", "{wf}", "--paused", "--json")["isPaused"] is True
    same("workflows", "metadata", "{wf}", "--no-paused")  # the human view
    assert [v["version"] for v in same("workflows", "versions", "demo.review", "--json")] == [1]
    assert {"ref": "payload.Greeting.v1"} in same("registry", "list", "schemas", "--json")
    same("registry", "list", "actions")

    emitted = same("events", "emit", "REVIEW_REQUESTED", "--payload", ada, "--event-id", EVENT_ID,
                   "--wait", keep=("first", "startedRuns.0"))  # fmt: skip
    assert emitted["eventId"] == EVENT_ID
    started = same("runs", "start", "{wf}", "--payload", ada, "--json", keep=("second", "runId"))
    assert started["status"] == "WAITING"
    tasks = same("tasks", "list", "--json", keep=("task", "0.taskId"))
    assert [t["title"] for t in tasks] == ["Review Ada", "Review Ada"]
    same("tasks", "complete", "{task}", "--output-file", ada)
    assert same("runs", "cancel", "{second}", "--json")["status"] == "CANCELED"
    assert same("runs", "show", "{first}", "--json")["status"] == "SUCCEEDED"
    listed = same("runs", "list", "--workflow-id", "{wf}", "--json")
    assert sorted(r["status"] for r in listed) == ["CANCELED", "SUCCEEDED"]
    same("runs", "list", "--status", "NOPE", code=1)  # the server's check, in both modes

    exported = same("bundle", "export", "--workflow-id", "{wf}", "--exported-at", "latest-change")
    assert exported is not None and exported["workflows"][0]["key"] == "demo.review"
    for name, mode in modes.items():
        answer = mode.run("bundle", "export", "--workflow-id", "{wf}")
        (files / f"{name}.bundle.json").write_bytes(answer.stdout)
        mode.ids["bundle"] = str(files / f"{name}.bundle.json")
    same("workflows", "delete", "demo.review")
    imported = same("bundle", "import", "--file", "{bundle}", "--json")
    assert [w["action"] for w in imported["workflows"]] == ["created"]
    same("bundle", "import", "--file", "{bundle}", "--force", "--dry-run")  # the table
    same("bundle", "import", "{bundle}", code=4)  # refused in the progress lines: same code, exit

    # Errors: the same code, message, details and exit code.
    same("workflows", "show", "no.such.workflow", code=1)
    same("workflows", "publish", MISSING, code=1)
    same("runs", "show", MISSING, code=1)
    same("runs", "cancel", "not-a-run-id", code=1)
    same("tasks", "complete", MISSING, code=1)
    same("workflows", "create", "--key", "demo.list", "--definition", str(files / "list.json"),
         code=1)  # fmt: skip
    same("workflows", "create", "--key", "demo.deep", "--definition", str(files / "deep.json"),
         code=3)  # fmt: skip  # JSON_TOO_DEEP: the app's guard holds in-process too
    same("workflows", "create", "--key", "Not A Key", code=3)
    assert not (files / "from-env.db").exists(), "ALGAFLOW_DATABASE_URL won over the options"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_registry_is_the_servers(cli, api, live_server):
    """The server's payload schemas (loaded by the server, not named in the CLI's environment)."""
    server = ["--base-url", live_server, "--api-key", api.key]
    listed = cli("registry", "list", "schemas", "--json", *server)
    assert listed.returncode == 0, listed.stderr
    assert {"ref": "payload.Greeting.v1"} in json.loads(listed.stdout)
    assert cli("db", "upgrade").returncode == 0  # no server: the default database
    local = cli("registry", "list", "schemas", "--json")
    assert local.returncode == 0 and {"ref": "payload.Greeting.v1"} not in json.loads(local.stdout)
    assert cli("registry", "list", "widgets", *server).returncode == 2


def test_local_mode_creates_no_api_key(cli, db_url, engine):
    """The in-process app trusts its one caller: no key is made, printed or left behind."""
    created = cli("workflows", "create", "--key", "demo.keyless", *NAMED, "--database-url", db_url)
    assert created.returncode == 0, created.stderr
    assert "afk_" not in created.stdout.decode() + created.stderr.decode()
    keys = cli("keys", "list", "--json", "--database-url", db_url)
    assert json.loads(keys.stdout) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_which_api_a_command_calls(cli, api, live_server, tmp_path):
    """An explicit --database-url wins; else a server; else ALGAFLOW_DATABASE_URL."""
    env_db = tmp_path / "env.db"
    database = {"ALGAFLOW_DATABASE_URL": f"sqlite:///{env_db}"}
    server = {"ALGAFLOW_URL": live_server, "ALGAFLOW_API_KEY": api.key}
    assert (
        cli("workflows", "create", "--key", "on.server", *NAMED, **database, **server).returncode
        == 0
    )
    assert not env_db.exists()
    local = cli("workflows", "list", "--json", **database)  # reads: creates no database
    assert local.returncode == 1 and json.loads(local.stderr)["code"] == "DATABASE_NOT_FOUND"
    assert not env_db.exists()
    local = cli("workflows", "create", "--key", "on.database", *NAMED, "--json", **database)
    assert local.returncode == 0 and json.loads(local.stdout)["key"] == "on.database", local.stderr
    assert env_db.exists()
    explicit = cli("workflows", "list", "--json", "--database-url", f"sqlite:///{env_db}", **server)
    assert [w["key"] for w in json.loads(explicit.stdout)] == ["on.database"]
    on_server = cli("workflows", "list", "--json", **database, **server)
    assert [w["key"] for w in json.loads(on_server.stdout)] == ["on.server"]
    # A server answers for its API key's tenant with its own plugins: these would be ignored.
    for option in (["--tenant", "other"], ["--plugin", "x:y"]):
        refused = cli("workflows", "list", *option, **server)
        assert refused.returncode == 2 and b"--tenant/--plugin" in refused.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(max_size=40))
@example(name="plain")  # stored
@example(name="nul\x00")  # refused
def test_any_name_is_stored_exactly_or_refused_with_a_code(cli, db_url, name):
    """Whatever text a name holds (NUL, lone surrogates...), the in-process API stores it as is,
    or refuses it with a coded error and stores nothing."""
    db = ["--database-url", db_url]
    created = cli(
        "workflows", "create", "--key", "demo.named", *NAMED, "--name", name, "--json", *db
    )
    if created.returncode == 0:
        assert json.loads(created.stdout)["name"] == (name or None) or name == ""
        assert cli("workflows", "delete", "demo.named", *db).returncode == 0
    else:
        assert created.returncode in (1, 3) and created.stdout == b""
        assert re.fullmatch("[A-Z_]+", json.loads(created.stderr)["code"]), created.stderr
        assert json.loads(cli("workflows", "list", "--json", *db).stdout) == []


def test_exit_3_covers_every_code_for_an_invalid_bundle():
    """The CLI's exit-code table (its own contract) keeps up with the bundle's 400 codes."""
    from algaflow.api.statuses import status_for
    from algaflow.bundle import BUNDLE_ERROR_CODES
    from algaflow.cli.common import EXIT_INVALID_BUNDLE, INVALID_INPUT_CODES, exit_code_for
    from algaflow.kernel.errors import AlgaflowError

    invalid = {code for code in BUNDLE_ERROR_CODES if status_for(code) == 400}
    assert invalid - {"MISSING_DEPENDENCIES"} <= INVALID_INPUT_CODES  # that one exits 5
    assert {status_for(code) for code in INVALID_INPUT_CODES} == {400}
    for code in INVALID_INPUT_CODES:
        assert exit_code_for(AlgaflowError(code, "x")) == EXIT_INVALID_BUNDLE
