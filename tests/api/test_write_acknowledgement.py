"""A write is acknowledged only after it is committed, on every definition route.

A client that gets its 2xx and sends the next request at once must read what it wrote; a commit
that fails must reach the client as an error status, never as a success.
"""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

DEF = {"version": 1, "name": "Cycle", "payloadSchemaRef": "payload.Empty.v1", "steps": []}
CYCLES = 100
FAIL_KEY = "fail.at.commit"


def test_every_read_sees_the_write_acknowledged_before_it(live_server, api):
    with httpx.Client(base_url=live_server, headers=api.headers(), timeout=30) as client:
        created = client.post(
            "/api/workflow-definitions", json={"key": "cycle.wf", "definition": DEF}
        )
        assert created.status_code == 201, created.text
        wid = created.json()["workflowId"]
        draft = created.json()["draftVersion"]
        for cycle in range(CYCLES):
            name = f"Cycle {cycle}"
            put = client.put(
                f"/api/workflow-definitions/{wid}/{draft}",
                json={"definition": {**DEF, "name": name, "version": draft}},
            )
            assert put.status_code == 200, (cycle, put.text)
            published = client.post(f"/api/workflow-definitions/{wid}/{draft}/publish", json={})
            assert published.json()["ok"] is True, (cycle, published.text)
            assert published.json()["publishedVersion"] == draft
            shown = client.get(f"/api/workflow-definitions/{wid}/{draft}").json()
            assert (shown["kind"], shown["definition"]["name"]) == ("published", name), cycle
            current = client.get(f"/api/workflow-definitions/{wid}").json()
            assert current["draftVersion"] == draft + 1, cycle
            assert current["name"] == name, cycle
            draft = current["draftVersion"]
        versions = client.get(f"/api/workflow-definitions/{wid}/versions").json()
        assert len(versions) == CYCLES


# A real commit failure: a deferred foreign key that a trigger breaks for one workflow key, so
# every statement succeeds and only COMMIT fails. Both databases check deferred keys at commit.
_GUARD_TABLES = [
    "CREATE TABLE commit_guard_parent (id TEXT PRIMARY KEY)",
    "CREATE TABLE commit_guard (ref TEXT REFERENCES commit_guard_parent (id) "
    "DEFERRABLE INITIALLY DEFERRED)",
]
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER commit_guard_{event} AFTER {event} ON workflow_definitions "
    f"WHEN NEW.key = '{FAIL_KEY}' BEGIN INSERT INTO commit_guard VALUES ('missing'); END"
    for event in ("INSERT", "UPDATE")
]
_PG_TRIGGERS = [
    "CREATE FUNCTION commit_guard_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF NEW.key = '{FAIL_KEY}' THEN INSERT INTO commit_guard VALUES ('missing'); END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER commit_guard_trg AFTER INSERT OR UPDATE ON workflow_definitions "
    "FOR EACH ROW EXECUTE FUNCTION commit_guard_fn()",
]
_PG_DROP = [
    "DROP TRIGGER IF EXISTS commit_guard_trg ON workflow_definitions",
    "DROP FUNCTION IF EXISTS commit_guard_fn()",
    "DROP TABLE IF EXISTS commit_guard",
    "DROP TABLE IF EXISTS commit_guard_parent",
]


@pytest.fixture
def failing_commit(engine):
    """Call to make every later commit that writes the workflow ``fail.at.commit`` fail."""
    postgres = engine.dialect.name == "postgresql"

    def install() -> None:
        with engine.begin() as conn:
            for statement in _GUARD_TABLES + (_PG_TRIGGERS if postgres else _SQLITE_TRIGGERS):
                conn.exec_driver_sql(statement)

    yield install
    if postgres:
        with engine.begin() as conn:
            for statement in _PG_DROP:
                conn.exec_driver_sql(statement)


def _rows(engine, key: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM workflow_definitions WHERE key = :k"), {"k": key}
        ).scalar_one()


def test_a_create_whose_commit_fails_is_an_error_not_a_201(live_server, api, failing_commit):
    failing_commit()
    response = httpx.post(
        live_server + "/api/workflow-definitions",
        json={"key": FAIL_KEY, "definition": DEF},
        headers=api.headers(),
    )
    assert (response.status_code, response.json()["code"]) == (409, "CONSTRAINT_VIOLATION")
    assert _rows(api.engine, FAIL_KEY) == 0


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("PUT", "/{wid}/metadata", {"isPaused": True}),
        ("PUT", "/{wid}/1", {"definition": {**DEF, "name": "Changed"}}),
        ("POST", "/{wid}/1/publish", {}),
    ],
)
def test_an_update_whose_commit_fails_is_an_error_and_changes_nothing(
    live_server, api, failing_commit, method, path, body
):
    created = api.client.post(
        "/api/workflow-definitions", json={"key": FAIL_KEY, "definition": DEF}
    )
    wid = created.json()["workflowId"]
    before = api.client.get(f"/api/workflow-definitions/{wid}").json()
    failing_commit()
    response = httpx.request(
        method,
        live_server + "/api/workflow-definitions" + path.format(wid=wid),
        json=body,
        headers=api.headers(),
    )
    assert (response.status_code, response.json()["code"]) == (409, "CONSTRAINT_VIOLATION")
    assert api.client.get(f"/api/workflow-definitions/{wid}").json() == before
    assert api.client.get(f"/api/workflow-definitions/{wid}/versions").json() == []


_PG_DROP_CONNECTION = [
    "CREATE FUNCTION drop_guard_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.key = 'drop.at.commit' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
    "RETURN NEW; END $$",
    "CREATE CONSTRAINT TRIGGER drop_guard_trg AFTER INSERT ON workflow_definitions "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION drop_guard_fn()",
]


def test_a_connection_dropped_at_commit_is_a_retryable_503(live_server, api, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite is a file: it has no connection that can drop")
    with engine.begin() as conn:
        for statement in _PG_DROP_CONNECTION:
            conn.exec_driver_sql(statement)
    try:
        response = httpx.post(
            live_server + "/api/workflow-definitions",
            json={"key": "drop.at.commit", "definition": DEF},
            headers=api.headers(),
        )
        assert (response.status_code, response.json()["code"]) == (503, "DATABASE_UNAVAILABLE")
        assert response.headers["retry-after"] == "1"
        assert _rows(engine, "drop.at.commit") == 0
        # The server recovers: the next request gets a fresh connection.
        again = httpx.get(live_server + "/api/workflow-definitions", headers=api.headers())
        assert again.status_code == 200
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS drop_guard_trg ON workflow_definitions")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS drop_guard_fn()")
