"""``bundle references``, ``bundle bindings`` and ``bundle import --bindings`` in local mode."""

from __future__ import annotations

import json

import pytest
from tests.e2e.e2e_scenarios import BUNDLES, EXAMPLES, SCHEMAS

NOTIFY = str(BUNDLES / "notify-user.json")
ENV = {
    "ALGAFLOW_SCHEMA_DIRS": str(SCHEMAS),
    "ALGAFLOW_PLUGINS": "algaflow.testing.standins:register_directory",
    "ALGAFLOW_STANDIN_USERS": str(EXAMPLES / "environments" / "production-users.json"),
}


def test_references_json_is_stable_and_the_template_is_valid_bindings(cli, db_url, tmp_path):
    db = ("--database-url", db_url)
    listed = cli("bundle", "references", NOTIFY, "--json", *db, **ENV)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {
        "references": [
            {
                "workflowKey": "examples.notify-user",
                "version": version,
                "path": f"/workflows/0/{where}/definition/steps/1/config/inputMapping/userId",
                "stepPath": "root.steps[1]",
                "kind": "user",
                "value": "ada",
            }
            for version, where in (("draft", "draft"), (1, "publishedVersions/0"))
        ]
    }
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "examples.notify-user.json").write_bytes(
        BUNDLES.joinpath("notify-user.json").read_bytes()
    )
    from_folder = cli("bundle", "references", str(folder), "--json", *db, **ENV)
    assert from_folder.returncode == 0, from_folder.stderr
    assert json.loads(from_folder.stdout) == json.loads(listed.stdout)
    template = cli("bundle", "bindings", NOTIFY, *db, **ENV)
    assert template.stdout == b'{\n  "user": {\n    "ada": "ada"\n  }\n}\n'
    edited = tmp_path / "production.json"
    edited.write_text(template.stdout.decode().replace('"ada": "ada"', '"ada": "grace.hopper"'))
    planned = cli("bundle", "plan", NOTIFY, "--bindings", str(edited), *db, **ENV)
    assert planned.returncode == 0, planned.stderr
    lines = planned.stdout.decode().splitlines()
    assert lines[0] == "+ examples.notify-user"
    bound = [line for line in lines if line.startswith("= bound user 'ada' -> 'grace.hopper'")]
    assert len(bound) == 2 and lines[-1] == "1 to create, 0 to update, 0 unchanged"
    table = cli("bundle", "import", NOTIFY, "--bindings", str(edited), "--dry-run", *db, **ENV)
    assert table.returncode == 0, table.stderr
    shown = table.stdout.decode().splitlines()
    assert (
        len([line for line in shown if line.startswith("= bound user 'ada' -> 'grace.hopper'")])
        == 2
    )
    imported = cli("bundle", "import", "--file", NOTIFY, "--bindings", str(edited), "--json",
                   *db, **ENV)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert {s["target"] for s in json.loads(imported.stdout)["substitutions"]} == {"grace.hopper"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_malformed_bindings_file_exits_3_and_an_unresolved_import_too(cli, db_url, tmp_path):
    db = ("--database-url", db_url)
    bad = tmp_path / "bindings.toml"
    bad.write_text("[user\n")
    answer = cli("bundle", "import", "--file", NOTIFY, "--bindings", str(bad), *db, **ENV)
    assert answer.returncode == 3 and b"INVALID_BINDINGS" in answer.stderr
    refused = cli("bundle", "import", "--file", NOTIFY, *db, **ENV)
    assert refused.returncode == 3 and b"UNRESOLVED_REFERENCES" in refused.stderr
    dry = cli("bundle", "import", NOTIFY, "--allow-unresolved", "--dry-run", *db, **ENV)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.decode().count("! REFERENCE_UNRESOLVED: ") == 2
    allowed = cli("bundle", "import", "--file", NOTIFY, "--allow-unresolved", "--json", *db, **ENV)
    assert allowed.returncode == 0, allowed.stderr
    warnings = json.loads(allowed.stdout)["warnings"]
    assert [w["code"] for w in warnings] == ["REFERENCE_UNRESOLVED"] * 2
