"""Workflows as files in git, through ``algaflow bundle`` on both databases: ``export --split``,
``plan DIR``, ``import DIR`` and ``--prune``, and the folder's bad input (coded, nothing
written)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.api.bundle_builders import bundle, encode, rows, workflow
from tests.cli.test_cli_bundle import assert_error, details_of, write

from algaflow.bundle import dumps_canonical_bytes, loads_json

KEYS = ["acme.one", "acme.two", "acme.three"]


def git(folder: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=folder,
        capture_output=True,
        check=True,
        text=True,
    )
    return out.stdout


@pytest.fixture
def seeded(cli, db_url, tmp_path):
    """A database holding three workflows; the CLI's options for it."""
    db = ("--database-url", db_url)
    source = write(tmp_path / "seed.json", bundle(*(workflow(k) for k in KEYS)))
    assert cli("bundle", "import", str(source), *db).returncode == 0
    return db


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_git_round_trip_changes_exactly_the_edited_workflow(cli, seeded, engine, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    split = cli("bundle", "export", "--all", "--split", str(repo / "flows"), *seeded)
    assert split.returncode == 0, split.stderr
    assert sorted(p.name for p in (repo / "flows").iterdir()) == sorted(f"{k}.json" for k in KEYS)
    for key in KEYS:  # each file is a canonical one-workflow v1 bundle
        data = (repo / "flows" / f"{key}.json").read_bytes()
        value = loads_json(data)
        assert [w["key"] for w in value["workflows"]] == [key]
        assert dumps_canonical_bytes(value) == data
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "export")
    # Exported again without a change, no file changes.
    assert cli("bundle", "export", "--all", "--split", str(repo / "flows"), *seeded).returncode == 0
    assert git(repo, "status", "--porcelain") == ""

    edited = repo / "flows" / "acme.two.json"
    value = loads_json(edited.read_bytes())
    value["workflows"][0]["metadata"]["description"] = "Edited in git"
    edited.write_bytes(dumps_canonical_bytes(value))

    flows = str(repo / "flows")
    planned = cli("bundle", "plan", flows, "--force", "--json", *seeded)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["counts"] == {"create": 0, "update": 1, "unchanged": 2, "delete": 0}
    [change] = [w for w in plan["workflows"] if w["action"] != "unchanged"]
    assert (change["key"], change["fields"], change["draft"]) == (
        "acme.two",
        [{"field": "description", "old": None, "new": "Edited in git"}],
        [],
    )
    text = cli("bundle", "plan", flows, "--force", "--detailed-exitcode", *seeded)
    assert text.returncode == 6, text.stderr
    lines = text.stdout.decode().splitlines()
    assert lines == [
        "~ acme.two",
        '    description: null -> "Edited in git"',
        "0 to create, 1 to update, 2 unchanged",
    ]

    before = rows(engine)
    imported = cli("bundle", "import", flows, "--force", "--json", *seeded)
    assert imported.returncode == 0, imported.stderr
    actions = {w["key"]: w["action"] for w in json.loads(imported.stdout)["workflows"]}
    assert actions == {
        "acme.one": "unchanged",
        "acme.three": "unchanged",
        "acme.two": "overwritten",
    }
    after = rows(engine)
    # The unchanged workflows' rows are untouched (updated_at included), as are their versions.
    assert [d for d in after["defs"] if "acme.two" not in d] == [
        d for d in before["defs"] if "acme.two" not in d
    ]
    assert sum(1 for v in after["versions"] if v in before["versions"]) == 2
    done = cli("bundle", "plan", flows, "--force", "--detailed-exitcode", *seeded)
    assert done.returncode == 0 and b"0 to update, 3 unchanged" in done.stdout

    assert cli("bundle", "export", "--all", "--split", flows, *seeded).returncode == 0
    assert git(repo, "status", "--porcelain").splitlines() == [" M flows/acme.two.json"]


def test_prune_through_the_cli(cli, seeded, engine, tmp_path):
    folder = tmp_path / "flows"
    assert cli("bundle", "export", "--all", "--split", str(folder), *seeded).returncode == 0
    (folder / "acme.three.json").unlink()
    plan = cli(
        "bundle", "plan", str(folder), "--force", "--prune", "--prune-prefix", "acme.", *seeded
    )
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.decode().splitlines() == [
        "- acme.three",
        "    versions removed: 1",
        "    deletes published versions: 1",
        "0 to create, 0 to update, 1 to delete, 2 unchanged",
    ]
    done = cli("bundle", "import", str(folder), "--force", "--prune", "--json", *seeded)
    assert done.returncode == 0, done.stderr
    assert [w["key"] for w in json.loads(done.stdout)["deletedWorkflows"]] == ["acme.three"]
    assert sorted(k for d in rows(engine)["defs"] for k in KEYS if k in d) == [
        "acme.one",
        "acme.two",
    ]

    # A prune whose source holds none of its scope would delete everything: refused.
    other = write(tmp_path / "other.json", bundle(workflow("zeta.one")))
    before = rows(engine)
    refused = cli("bundle", "import", str(other), "--prune", "--prune-prefix", "acme.", *seeded)
    assert_error(refused, 4, "PRUNE_WOULD_DELETE_ALL")
    assert rows(engine) == before


def test_bad_folders_are_coded_errors_that_write_nothing(cli, seeded, engine, tmp_path):
    before = rows(engine)
    cases = {
        "not-a-bundle": ({"a.json": bundle(workflow("acme.a")), "b.txt": b"notes"}, 3),
        "not-json-object": ({"a.json": b"[]"}, 3),
        "same-key": (
            {"a.json": bundle(workflow("acme.x")), "b.json": bundle(workflow("acme.x"))},
            3,
        ),
        "not-utf8": ({"a.json": b'{"format": "\xff"}'}, 3),
    }
    codes = {}
    for name, (files, exit_code) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        for file, content in files.items():
            (folder / file).write_bytes(content if isinstance(content, bytes) else encode(content))
        for command in ("plan", "import"):
            result = cli("bundle", command, str(folder), *seeded)
            err = result.stderr.decode("utf-8", "replace")
            codes[name] = err.split(":", 1)[0]
            assert result.returncode == exit_code, (name, err)
            assert "file" in details_of(err) or "files" in details_of(err), err
    assert codes == {
        "not-a-bundle": "error INVALID_JSON",
        "not-json-object": "error INVALID_BUNDLE",
        "same-key": "error DUPLICATE_WORKFLOW_KEY",
        "not-utf8": "error INVALID_JSON",
    }
    assert rows(engine) == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_plan_needs_read_permission(cli, api, live_server, tmp_path):
    path = write(tmp_path / "b.json", bundle(workflow("acme.a")))
    runner = api.key_for(api.tenant, "workflow:run")
    refused = cli("bundle", "plan", str(path), "--base-url", live_server, "--api-key", runner)
    assert_error(refused, 1, "FORBIDDEN")
    reader = api.key_for(api.tenant, "workflow:read")
    allowed = cli("bundle", "plan", str(path), "--base-url", live_server, "--api-key", reader)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.decode().splitlines() == [
        "+ acme.a",
        "    versions: 1",
        "1 to create, 0 to update, 0 unchanged",
    ]
    assert rows(api.engine) == {"defs": [], "versions": []}
