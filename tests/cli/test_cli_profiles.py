"""Where a command goes: --version, profiles and their precedence, ``status``, read-only commands
that never create a database, validated settings, and ``serve``'s port and start lines."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
from tests.cli.cli_helpers import run_cli

from algaflow import __version__
from algaflow.cli.common import EXIT_PORT_IN_USE
from algaflow.config import load_settings

NAMED = ["--name", "Named", "--payload-schema-ref", "payload.Text.v1"]


@pytest.fixture
def config_dir(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose profiles live in a scratch folder."""
    return {"ALGAFLOW_CONFIG_DIR": str(tmp_path / "config")}


def test_version_is_printed_by_the_command(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.decode() == f"algaflow {__version__}\n"


def test_a_read_only_command_never_creates_a_database(cli, tmp_path):
    database = tmp_path / "work" / "algaflow.db"
    for args in (["workflows", "list"], ["runs", "list"], ["tenants", "list"], ["keys", "list"]):
        done = cli(*args)
        assert done.returncode == 1, (args, done.stderr)
        text = done.stderr.decode()
        assert "DATABASE_NOT_FOUND" in text and "--database-url" in text and "ALGAFLOW_URL" in text
        assert not database.exists()
    assert cli("workflows", "create", "--key", "a.b", *NAMED).returncode == 0  # writes: creates
    assert database.exists()
    assert json.loads(cli("workflows", "list", "--json").stdout)[0]["key"] == "a.b"


def test_json_errors_are_one_object_on_stderr_with_the_same_exit_code(cli):
    plain = cli("workflows", "show", "nope")
    coded = cli("workflows", "show", "nope", "--json")
    assert plain.returncode == coded.returncode == 1
    assert coded.stdout == b""
    error = json.loads(coded.stderr)
    assert set(error) == {"code", "message", "details"} and error["code"] == "DATABASE_NOT_FOUND"


def test_profiles_fill_in_what_neither_an_option_nor_the_environment_gives(
    cli, tmp_path, config_dir
):
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    for path, key in ((one, "in.one"), (two, "in.two")):
        made = cli(
            "workflows", "create", "--key", key, *NAMED, "--database-url", f"sqlite:///{path}"
        )
        assert made.returncode == 0, made.stderr
    assert (
        cli("config", "set-profile", "one", "--url", f"sqlite:///{one}", **config_dir).returncode
        == 0
    )
    assert (
        cli("config", "set-profile", "two", "--url", f"sqlite:///{two}", **config_dir).returncode
        == 0
    )

    def keys(*args: str, **env: str) -> list[str]:
        done = cli("workflows", "list", "--json", *args, **config_dir, **env)
        assert done.returncode == 0, done.stderr
        return [w["key"] for w in json.loads(done.stdout)]

    assert keys() == ["in.one"]  # the first profile added is the current one
    assert cli("config", "use", "two", **config_dir).returncode == 0
    assert keys() == ["in.two"]
    assert keys("--profile", "one") == ["in.one"]  # the flag
    assert keys(ALGAFLOW_PROFILE="one") == ["in.one"]  # the environment names a profile
    assert keys(ALGAFLOW_DATABASE_URL=f"sqlite:///{one}") == ["in.one"]  # environment > profile
    assert keys("--database-url", f"sqlite:///{two}", ALGAFLOW_PROFILE="one") == ["in.two"]
    unknown = cli("workflows", "list", "--profile", "three", **config_dir)
    assert unknown.returncode == 1 and b"PROFILE_NOT_FOUND" in unknown.stderr
    # The file holds API keys: its owner alone may read it.
    mode = (Path(config_dir["ALGAFLOW_CONFIG_DIR"]) / "config.json").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_server_profile_sends_its_key_and_status_says_so(cli, api, live_server, config_dir):
    saved = cli("config", "set-profile", "srv", "--url", live_server, "--api-key", api.key,
                **config_dir)  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert cli("workflows", "create", "--key", "on.server", *NAMED, **config_dir).returncode == 0
    listed = cli("workflows", "list", "--json", **config_dir)
    assert [w["key"] for w in json.loads(listed.stdout)] == ["on.server"]
    status = cli("status", "--json", **config_dir)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["server"] == f"{live_server} (from profile srv)"
    assert report["apiKey"].startswith(api.key[:12]) and api.key not in status.stdout.decode()
    assert report["tenant"] == "tenant-a" and report["answers"].startswith("yes")
    assert report["serverVersion"] == __version__
    # A variable wins over the profile, and the profile's key never goes to another server.
    elsewhere = cli("status", "--json", ALGAFLOW_URL="http://127.0.0.1:9", **config_dir)
    report = json.loads(elsewhere.stdout)
    assert elsewhere.returncode == 1 and report["apiKey"] == "none"
    assert report["server"] == "http://127.0.0.1:9 (from ALGAFLOW_URL)"
    # A tenant applies to a database: a server profile refuses it.
    refused = cli("config", "set-profile", "x", "--url", live_server, "--tenant", "t", **config_dir)
    assert refused.returncode == 1 and b"INVALID_PROFILE" in refused.stderr


def test_status_of_a_database(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    missing = cli("status", "--database-url", url)
    assert missing.returncode == 1 and b"DATABASE_NOT_FOUND" in missing.stdout
    assert cli("db", "upgrade", "--database-url", url).returncode == 0
    found = cli("status", "--database-url", url, "--json")
    assert found.returncode == 0, found.stdout
    report = json.loads(found.stdout)
    assert report["database"] == f"{url} (from --database-url)"
    assert report["tenant"] == "default (from default)"


def test_bad_settings_are_one_coded_error_without_a_traceback(tmp_path):
    done = run_cli(
        "workflows", "list", cwd=tmp_path,
        ALGAFLOW_MAX_BODY_BYTES="lots", ALGAFLOW_SCHEMA_DIRS="no-such-folder", ALGAFLOW_PLUGINS="x",
    )  # fmt: skip
    text = done.stderr.decode()
    assert done.returncode == 1 and "Traceback" not in text, text
    assert text.startswith("error INVALID_SETTINGS")
    for variable in ("ALGAFLOW_MAX_BODY_BYTES", "ALGAFLOW_SCHEMA_DIRS", "ALGAFLOW_PLUGINS"):
        assert variable in text
    assert not (tmp_path / "algaflow.db").exists()


def test_postgres_urls_of_other_tools_are_accepted():
    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert load_settings({"ALGAFLOW_DATABASE_URL": url}).database_url == (
            "postgresql+psycopg://u@h/db"
        )
    assert load_settings({"ALGAFLOW_DATABASE_URL": ""}).database_url == "sqlite:///algaflow.db"


def test_serve_on_a_port_in_use_exits_with_its_own_code(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--database-url",
                       f"sqlite:///{tmp_path / 'p.db'}")  # fmt: skip
    assert done.returncode == EXIT_PORT_IN_USE == 7
    assert b"PORT_IN_USE" in done.stderr and b"--port" in done.stderr
    assert "Traceback" not in done.stderr.decode()


def test_the_config_folder_is_the_users(monkeypatch):
    from algaflow.cli.profiles import config_path

    monkeypatch.delenv("ALGAFLOW_CONFIG_DIR", raising=False)
    assert "algaflow" in config_path().parts and config_path().name == "config.json"
    assert os.path.isabs(config_path())
