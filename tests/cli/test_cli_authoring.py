"""Authoring from the command line: ``registry show``, every step type in ``registry list nodes``,
mapped fields an action does not know, and what a missing dependency message says to do."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.bundle_builders import bundle, encode, with_missing_action

from algaflow.cli.common import EXIT_MISSING_DEPS
from algaflow.definitions.model import CONTROL_BLOCKS


def _db(db_url: str) -> list[str]:
    return ["--database-url", db_url]


def test_registry_show_prints_an_actions_schemas(cli, db_url):
    shown = cli("registry", "show", "transform.uppercase_text", "--json", *_db(db_url))
    assert shown.returncode == 0, shown.stderr
    action = json.loads(shown.stdout)
    assert (action["id"], action["version"]) == ("transform.uppercase_text", 1)
    assert "text" in action["inputSchema"]["properties"] and action["outputSchema"]
    text = cli("registry", "show", "transform.uppercase_text@1", *_db(db_url)).stdout.decode()
    assert "input schema:" in text and '"text"' in text and "output schema:" in text
    missing = cli("registry", "show", "transform.uppercase_text@9", *_db(db_url))
    assert missing.returncode == 1 and b"ACTION_NOT_FOUND" in missing.stderr
    assert b"versions of" in missing.stderr
    assert cli("registry", "show", "transform.uppercase_text@x", *_db(db_url)).returncode == 1


def test_registry_list_nodes_includes_every_control_block(cli, db_url):
    listed = json.loads(cli("registry", "list", "nodes", "--json", *_db(db_url)).stdout)
    controls = {n["id"] for n in listed if n["kind"] == "control"}
    assert controls == set(CONTROL_BLOCKS)
    assert {"action.call", "event.wait"} <= {n["id"] for n in listed if n["kind"] == "node"}


def test_a_mapped_field_the_action_does_not_know_is_shown_by_validate_and_publish(
    cli, db_url, tmp_path: Path
):
    definition = {
        "id": "00000000-0000-4000-8000-000000000001", "version": 1, "name": "Shout",
        "payloadSchemaRef": "payload.Empty.v1",
        "steps": [{"id": "up", "type": "action.call",
                   "config": {"actionId": "transform.uppercase_text", "version": 1,
                              "inputMapping": {"value": "hi"}, "saveAs": "shout"}}],
    }  # fmt: skip
    file = tmp_path / "shout.json"
    file.write_text(json.dumps(definition))
    validated = cli("workflows", "validate", str(file), *_db(db_url))
    assert validated.returncode == 0, validated.stderr  # a warning does not block
    text = validated.stdout.decode()
    assert "warning UNKNOWN_MAPPING_FIELD" in text and '"value"' in text and "text" in text
    created = cli("workflows", "create", "--key", "shout", "--definition", str(file), *_db(db_url))
    assert created.returncode == 0, created.stderr
    published = cli("workflows", "publish", "shout", "--json", *_db(db_url))
    assert published.returncode == 0, published.stderr
    warnings = json.loads(published.stdout)["warnings"]
    assert [w["code"] for w in warnings] == ["UNKNOWN_MAPPING_FIELD"]


def test_missing_dependencies_say_how_to_provide_them(cli, db_url, tmp_path: Path):
    file = tmp_path / "needs.json"
    file.write_bytes(encode(bundle(with_missing_action("needs.plugin"))))
    done = cli("bundle", "import", "--file", str(file), *_db(db_url))
    assert done.returncode == EXIT_MISSING_DEPS, done.stderr
    message = done.stderr.decode().splitlines()[0]
    assert message.startswith("error MISSING_DEPENDENCIES: Workflow bundle has missing")
    assert "ALGAFLOW_SCHEMA_DIRS" in message and "ALGAFLOW_PLUGINS" in message
    assert "actions: " in message
