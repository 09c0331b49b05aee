"""Output programs can rely on, and the safety rails: exit codes of ``events emit``, workflow keys
wherever an id is taken, the key in ``runs list``, and confirmation before destructive commands."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from tests.cli.cli_helpers import ALGAFLOW, clean_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHEMAS = {"ALGAFLOW_SCHEMA_DIRS": str(EXAMPLES / "schemas")}
HELLO = EXAMPLES / "bundles" / "hello.json"
GREETING = str(EXAMPLES / "payloads" / "hello.json")


def test_events_emit_exits_1_when_a_triggered_start_is_refused(cli, db_url, tmp_path):
    db = ["--database-url", db_url]
    assert cli("bundle", "import", "--file", str(HELLO), *db, **SCHEMAS).returncode == 0
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    refused = cli("events", "emit", "GREETING_REQUESTED", "--payload", str(empty), *db, **SCHEMAS)
    assert refused.returncode == 1
    answer = json.loads(refused.stdout)
    assert answer["startedRuns"] == [] and "examples.hello" in answer["errors"][0]
    started = cli("events", "emit", "GREETING_REQUESTED", "--payload", GREETING, *db, **SCHEMAS)
    assert started.returncode == 0 and len(json.loads(started.stdout)["startedRuns"]) == 1


def test_a_key_is_accepted_wherever_a_workflow_id_is(cli, db_url):
    db = ["--database-url", db_url]
    assert cli("bundle", "import", "--file", str(HELLO), *db, **SCHEMAS).returncode == 0
    run = cli("runs", "start", "examples.hello", "--payload", GREETING, "--json", *db, **SCHEMAS)
    assert run.returncode == 0, run.stderr
    run_id = json.loads(run.stdout)["runId"]
    by_key = cli("runs", "list", "--workflow-id", "examples.hello", "--json", *db, **SCHEMAS)
    listed = json.loads(by_key.stdout)
    assert [(r["runId"], r["workflowKey"]) for r in listed] == [(run_id, "examples.hello")]
    table = cli("runs", "list", *db, **SCHEMAS).stdout.decode()
    assert "KEY" in table and "examples.hello" in table
    unknown = cli("runs", "list", "--workflow-id", "no.such", *db, **SCHEMAS)
    assert unknown.returncode == 1 and b"WORKFLOW_NOT_FOUND" in unknown.stderr


def _on_a_terminal(args: list[str], answer: bytes, env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``algaflow ARGS`` with a terminal as its standard input, typing ``answer``."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(ALGAFLOW), *args], stdin=follower, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=clean_env(**env),
        )  # fmt: skip
        os.write(leader, answer)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    return process.returncode, out + err


def test_delete_and_a_forced_import_ask_first_on_a_terminal(cli, db_url):
    db = ["--database-url", db_url]
    assert cli("bundle", "import", "--file", str(HELLO), *db, **SCHEMAS).returncode == 0
    code, said = _on_a_terminal(["workflows", "delete", "examples.hello", *db], b"n\n", SCHEMAS)
    assert code == 1 and b"Delete examples.hello" in said and b"aborted" in said
    assert cli("workflows", "show", "examples.hello", *db, **SCHEMAS).returncode == 0
    forced = ["bundle", "import", "--file", str(HELLO), "--force", *db]
    code, said = _on_a_terminal(forced, b"n\n", SCHEMAS)
    assert code == 1 and b"--force" in said
    code, said = _on_a_terminal([*forced, "--yes"], b"", SCHEMAS)
    assert code == 0, said
    code, said = _on_a_terminal(["workflows", "delete", "examples.hello", *db], b"y\n", SCHEMAS)
    assert code == 0 and b"deleted examples.hello" in said
    # Without a terminal (a script) nothing is asked.
    assert cli("bundle", "import", "--file", str(HELLO), *db, **SCHEMAS).returncode == 0
    assert cli("workflows", "delete", "examples.hello", *db, **SCHEMAS).returncode == 0
