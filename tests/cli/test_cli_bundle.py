"""``algaflow bundle`` (in this process): against a running server, and on a database.

Exit codes are part of the contract: 0 ok, 1 anything else, 2 usage, 3 invalid bundle,
4 conflict, 5 missing dependencies. Errors go to stderr as ``error CODE: message`` plus details.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest
from tests.api.bundle_builders import (
    EXPORT,
    PINNED,
    bundle,
    encode,
    rows,
    with_missing_action,
    workflow,
)
from tests.cli.cli_helpers import ALGAFLOW, clean_env

from algaflow.api.bodies import MAX_JSON_DEPTH
from algaflow.bundle import dumps_canonical_bytes, loads_json
from algaflow.services.bundles import export_bundle_bytes_on as export_bundle_bytes
from algaflow.store.tenants import get_tenant_by_name


def write(path: Path, value: object) -> Path:
    path.write_bytes(value if isinstance(value, bytes) else encode(value))
    return path


def assert_error(result: subprocess.CompletedProcess[bytes], exit_code: int, code: str) -> str:
    """The process failed with ``exit_code`` and said ``error CODE: ...`` first on stderr."""
    err = result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode == exit_code, (result.returncode, err)
    assert err.startswith(f"error {code}: "), err
    assert result.stdout == b""
    return err


def details_of(stderr: str) -> dict:
    """The details JSON printed after the ``error`` line."""
    return json.loads(stderr.split("\n", 1)[1])


# --- against a running server ---------------------------------------------------------------
# The server hides the database: the HTTP tests cover both; here SQLite is enough.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def remote(api, live_server):
    """Options that point the CLI at the live server with the admin key."""
    return ("--base-url", live_server, "--api-key", api.key)


@sqlite_only
def test_export_writes_the_servers_bytes(cli, api, remote, tmp_path):
    summary = api.client.post(
        "/api/workflow-definitions/import",
        content=encode(bundle(workflow("zeta.two"), workflow("alpha.one"))),
    ).json()
    wid = summary["workflows"][1]["workflowId"]

    # One id: Alga's GET route, written to a file (T050).
    out = tmp_path / "one.json"
    single = cli("bundle", "export", "--workflow-id", wid, "--out", str(out), *remote)
    assert single.returncode == 0, single.stderr
    assert single.stdout.decode().strip() == f"Wrote {out}"
    data = out.read_bytes()
    assert dumps_canonical_bytes(loads_json(data)) == data
    served = api.client.get(f"/api/workflow-definitions/{wid}/export").content
    assert [ln for ln in data.split(b"\n") if b'"exportedAt"' not in ln] == [
        ln for ln in served.split(b"\n") if b'"exportedAt"' not in ln
    ]

    # Keys and --all: the exact bytes of the POST route, on stdout.
    by_keys = cli(
        "bundle", "export", "--key", "zeta.two", "--key", "alpha.one", "--exported-at", PINNED,
        "--out", "-", *remote,
    )  # fmt: skip
    assert by_keys.returncode == 0, by_keys.stderr
    http = api.client.post(EXPORT, json={"keys": ["zeta.two", "alpha.one"], "exportedAt": PINNED})
    assert by_keys.stdout == http.content
    everything = cli("bundle", "export", "--all", "--exported-at", "latest-change", *remote)
    http_all = api.client.post(EXPORT, json={"all": True, "exportedAt": "latest-change"})
    assert everything.returncode == 0 and everything.stdout == http_all.content

    # Errors keep their server code; an unknown id is exit 1, a bad key 3, no selection 2.
    missing = cli(
        "bundle", "export", "--workflow-id", "00000000-0000-4000-8000-0000000000ff", *remote
    )
    assert details_of(assert_error(missing, 1, "WORKFLOW_NOT_FOUND"))["missingWorkflowIds"]
    assert_error(cli("bundle", "export", "--key", "Not A Key", *remote), 3, "INVALID_WORKFLOW_KEY")
    usage = cli("bundle", "export", "--all", "--key", "a", *remote)
    assert usage.returncode == 2 and b"exactly one of" in usage.stderr


@sqlite_only
def test_import_create_conflict_force_and_dry_run_through_the_server(cli, api, remote, tmp_path):
    path = write(tmp_path / "b.json", bundle(workflow("demo.one"), workflow("demo.two")))

    dry = cli("bundle", "import", "--file", str(path), "--dry-run", "--json", *remote)
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout)
    assert summary["dryRun"] is True and [w["key"] for w in summary["workflows"]] == [
        "demo.one",
        "demo.two",
    ]
    assert rows(api.engine) == {"defs": [], "versions": []}
    # --json output is stable: sorted keys, two-space indent, one per line.
    assert dry.stdout == (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode()

    created = cli("bundle", "import", "--file", str(path), *remote)
    assert created.returncode == 0, created.stderr
    table = created.stdout.decode()
    assert "demo.one" in table and "created" in table and "2 workflow(s) imported" in table
    before = rows(api.engine)
    assert len(before["defs"]) == 2

    conflict = cli("bundle", "import", "--file", str(path), *remote)
    details = details_of(assert_error(conflict, 4, "WORKFLOW_KEY_CONFLICT"))
    assert details["workflowKey"] == "demo.one"
    assert rows(api.engine) == before

    forced = cli(
        "bundle", "import", "--file", "-", "--force", "--json", *remote, input=path.read_bytes()
    )
    assert forced.returncode == 0, forced.stderr
    forced_summary = json.loads(forced.stdout)
    assert [w["action"] for w in forced_summary["workflows"]] == ["unchanged", "unchanged"]
    stored = api.client.get("/api/workflow-definitions").json()
    assert sorted(w["workflowId"] for w in forced_summary["workflows"]) == sorted(
        w["workflowId"] for w in stored
    )
    assert len(rows(api.engine)["defs"]) == 2


@sqlite_only
def test_exit_codes_through_the_server(cli, api, remote, tmp_path, live_server):
    cases = [
        (b"null", 3, "INVALID_BUNDLE"),
        (b"{broken", 3, "INVALID_JSON"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), 3, "JSON_TOO_DEEP"),
        (encode({**bundle(), "formatVersion": 2}), 3, "UNSUPPORTED_FORMAT_VERSION"),
        (encode(bundle(with_missing_action("demo.needs"))), 5, "MISSING_DEPENDENCIES"),
    ]
    for index, (content, exit_code, code) in enumerate(cases):
        path = write(tmp_path / f"case{index}.json", content)
        assert_error(cli("bundle", "import", "--file", str(path), *remote), exit_code, code)
    assert rows(api.engine) == {"defs": [], "versions": []}

    good = write(tmp_path / "good.json", bundle())
    wrong_key = cli(
        "bundle", "import", "--file", str(good), "--base-url", live_server, "--api-key", "afk_nope"
    )
    assert_error(wrong_key, 1, "UNAUTHENTICATED")
    reader = api.key_for(api.tenant, "workflow:read")
    via_env = cli(
        "bundle", "import", "--file", str(good), ALGAFLOW_URL=live_server, ALGAFLOW_API_KEY=reader
    )
    assert_error(via_env, 1, "FORBIDDEN")
    unreachable = cli("bundle", "import", "--file", str(good), "--base-url", "http://127.0.0.1:9")
    assert_error(unreachable, 1, "SERVER_UNREACHABLE")
    bad_url = cli("bundle", "import", "--file", str(good), "--base-url", "http://[::")
    assert_error(bad_url, 1, "INVALID_BASE_URL")
    assert cli("bundle", "import", *remote).returncode == 2  # --file is required
    assert_error(
        cli("bundle", "import", "--file", str(tmp_path / "absent.json")), 1, "FILE_NOT_READABLE"
    )
    assert rows(api.engine) == {"defs": [], "versions": []}


# --- directly on a database -----------------------------------------------------------------


def test_direct_database_import_and_export(cli, db_url, engine, tmp_path):
    path = write(tmp_path / "b.json", bundle(workflow("demo.one")))
    db = ("--database-url", db_url)

    dry = cli("bundle", "import", "--file", str(path), "--dry-run", "--json", *db)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dryRun"] is True
    assert rows(engine)["defs"] == []

    assert cli("bundle", "import", "--file", str(path), *db).returncode == 0
    assert_error(cli("bundle", "import", "--file", str(path), *db), 4, "WORKFLOW_KEY_CONFLICT")
    forced = cli("bundle", "import", "--file", str(path), "--force", "--json", *db)
    assert json.loads(forced.stdout)["workflows"][0]["action"] == "unchanged"
    assert len(rows(engine)["defs"]) == 1

    exported = cli("bundle", "export", "--all", "--exported-at", "latest-change", *db)
    assert exported.returncode == 0, exported.stderr
    with engine.connect() as conn:
        tenant = get_tenant_by_name(conn, "default")["id"]
        expected = export_bundle_bytes(conn, tenant, all=True, exported_at="latest-change")
    assert exported.stdout == expected
    assert loads_json(expected)["workflows"][0]["key"] == "demo.one"

    missing = write(tmp_path / "m.json", bundle(with_missing_action("demo.needs")))
    assert_error(cli("bundle", "import", "--file", str(missing), *db), 5, "MISSING_DEPENDENCIES")
    surrogate = cli("bundle", "export", "--key", "demo.\udcff", *db)  # what argv makes of \xff
    assert_error(surrogate, 3, "INVALID_WORKFLOW_KEY")
    unknown_tenant = cli("bundle", "export", "--all", "--tenant", "nobody", *db)
    assert_error(unknown_tenant, 1, "TENANT_NOT_FOUND")
    assert len(rows(engine)["defs"]) == 1


def test_without_a_server_the_default_database_is_used(cli, tmp_path):
    path = write(tmp_path / "b.json", bundle(workflow("demo.local")))
    imported = cli("bundle", "import", "--file", str(path), "--json")
    assert imported.returncode == 0, imported.stderr
    assert (tmp_path / "work" / "algaflow.db").is_file()  # the cli fixture's directory
    exported = cli("bundle", "export", "--key", "demo.local")
    assert loads_json(exported.stdout)["workflows"][0]["key"] == "demo.local"


def test_a_progress_bar_on_a_terminal_for_big_bundles(tmp_path):
    path = write(tmp_path / "big.json", bundle(*(workflow(f"demo.w{i:02d}") for i in range(12))))
    primary, secondary = pty.openpty()
    db = f"sqlite:///{tmp_path / 'p.db'}"
    env = clean_env(TERM="xterm", COLUMNS="100")
    env.pop("NO_COLOR")
    process = subprocess.run(
        [str(ALGAFLOW), "bundle", "import", "--file", str(path), "--database-url", db],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=env,
        timeout=120,
        check=False,
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    assert process.returncode == 0
    assert b"12 workflow(s) imported" in process.stdout
    assert b"import 12 workflows" in seen  # the server's progress lines, one per workflow


# --- offline: validate and fmt --------------------------------------------------------------


def test_validate_checks_a_file_offline(cli, tmp_path):
    good = write(tmp_path / "good.json", bundle(workflow("demo.a"), workflow("demo.b")))
    ok = cli("bundle", "validate", str(good), "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"ok": True, "workflows": 2}
    human = cli("bundle", "validate", "-", input=good.read_bytes())
    assert human.returncode == 0 and human.stdout.decode().strip() == "-: valid (2 workflow(s))"

    bad_schema = write(tmp_path / "s.json", {**bundle(), "workflows": []})
    schema_err = assert_error(
        cli("bundle", "validate", str(bad_schema)), 3, "SCHEMA_VALIDATION_FAILED"
    )
    assert details_of(schema_err)["errors"]
    duplicate = write(tmp_path / "d.json", bundle(workflow("demo.a"), workflow("demo.a")))
    assert_error(cli("bundle", "validate", str(duplicate)), 3, "DUPLICATE_WORKFLOW_KEY")
    needs = write(tmp_path / "n.json", bundle(with_missing_action("demo.needs")))
    assert_error(cli("bundle", "validate", str(needs)), 5, "MISSING_DEPENDENCIES")
    assert_error(cli("bundle", "validate", "-", input=b'"{}"'), 3, "INVALID_BUNDLE")
    assert cli("bundle", "validate").returncode == 2


def test_fmt_rewrites_in_canonical_form(cli, tmp_path):
    value = bundle(workflow("demo.b"), workflow("demo.a"))
    canonical = dumps_canonical_bytes(value)
    messy = write(tmp_path / "messy.json", b"\xef\xbb\xbf" + json.dumps(value).encode())
    tidy = write(tmp_path / "tidy.json", canonical)

    check = cli("bundle", "fmt", "--check", str(messy), str(tidy))
    assert check.returncode == 1 and check.stderr.decode().strip() == f"would reformat {messy}"
    assert messy.read_bytes() != canonical

    rewrite = cli("bundle", "fmt", str(messy), str(tidy))
    assert rewrite.returncode == 0 and rewrite.stderr.decode().strip() == f"reformatted {messy}"
    assert messy.read_bytes() == canonical and tidy.read_bytes() == canonical
    assert cli("bundle", "fmt", "--check", str(messy)).returncode == 0

    piped = cli("bundle", "fmt", "-", input=json.dumps(value).encode())
    assert piped.returncode == 0 and piped.stdout == canonical
    assert_error(cli("bundle", "fmt", "-", input=b"{nope"), 3, "INVALID_JSON")
