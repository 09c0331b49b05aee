"""A resolved secret reaches its action's handler and nothing else: no run table, no HTTP reply.

The workflow below tries every way out: a handler echoes the secret into its output (saved to
vars, copied by an assign, put into a human task), raises it inside a caught error's message and
details, derives an idempotency key from it, and finally fails the run with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from algaflow.api.app import create_app
from algaflow.config import Settings, load_settings
from algaflow.kernel.jsvalues import js_string
from algaflow.registry import ActionRuntimeError
from algaflow.runtime.embedded.driver import DriverOptions
from algaflow.runtime.embedded.secrets import (
    REDACTED,
    ChainSecretResolver,
    EnvSecretResolver,
    FileSecretResolver,
    Redactor,
    SecretNotFound,
)
from algaflow.services.runs import get_run, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.api_keys import PERMISSIONS, create_api_key
from algaflow.store.run_tables import (
    workflow_action_invocations,
    workflow_run_logs,
    workflow_run_steps,
    workflow_run_waits,
    workflow_runs,
    workflow_runtime_events,
    workflow_tasks,
)

from .conftest import call, expr, publish

SECRET = "s3cr3t-V4LUE-9f"
RUN_TABLES = (workflow_runs, workflow_run_steps, workflow_run_waits, workflow_action_invocations,
              workflow_run_logs, workflow_runtime_events, workflow_tasks)  # fmt: skip


class Fixed:
    def resolve(self, name: str, run_id: str | None) -> str:
        return SECRET


def _leaky_actions(actions) -> None:
    actions.add("test.leak", lambda args, _ctx: {
        "echo": args, "header": f"Bearer {args['token']}", SECRET: "as a key",
    })  # fmt: skip

    def fail_with_it(args, _ctx):
        raise ActionRuntimeError(
            "ActionError", "AUTH", f"token {args['token']} was refused", {"sent": args}
        )

    actions.add("test.refuse", fail_with_it)

    def crash_with_it(args, _ctx):
        raise ValueError(f"plain failure: {args['token']}")

    actions.add("test.crash", crash_with_it)


def _leaky_steps(then_wait: bool) -> list[dict]:
    token = {"token": {"$secret": "API_TOKEN"}}
    steps = [
        call("leak", "test.leak", inputMapping={**token, "n": 1}, saveAs="leaked"),
        {"id": "copy", "type": "transform.assign",
         "config": {"assign": {"vars.copied": expr("vars.leaked.header")}}},
        {"id": "try", "type": "control.tryCatch", "captureErrorAs": "caught",
         "try": [call("refuse", "test.refuse", inputMapping=token)],
         "catch": [call("report", inputMapping={"msg": expr("caught.message"),
                                                "details": expr("caught.details")})]},
        call("soft", "test.crash", inputMapping=token, onError={"policy": "continue"}),
    ]  # fmt: skip
    if then_wait:
        steps.append({"id": "ask", "type": "human.task",
                      "config": {"taskType": "t", "title": expr("vars.copied"),
                                 "contextData": {"c": expr("vars.copied")}}})  # fmt: skip
    else:
        steps.append(call("end", "test.crash", inputMapping=token))
    return steps


def _scan_run_tables(engine) -> None:
    """Every column of every run table, as the database renders it as text."""
    found = []
    with engine.connect() as conn:
        for table in RUN_TABLES:
            columns = [sa.cast(c, sa.Text).label(c.name) for c in table.c]
            for row in conn.execute(sa.select(*columns)).mappings():
                found += [(table.name, k) for k, v in row.items() if v and SECRET in v]
                found += [(table.name, k) for k, v in row.items() if v and "V4LUE" in v]
    assert found == []


@pytest.mark.parametrize("then_wait", [False, True])
def test_a_secret_never_reaches_a_run_table(engine, tenant, registry, actions, then_wait):
    _leaky_actions(actions)
    with engine.begin() as conn:
        wf = publish(conn, tenant, _leaky_steps(then_wait))
    out = start_run(UnitOfWork(engine), tenant, wf, registry=registry,
                    options=DriverOptions(secret_resolver=Fixed()))  # fmt: skip
    assert out["status"] == ("WAITING" if then_wait else "FAILED")
    # the handlers did get the value
    assert actions.called("test.leak")[0]["token"] == SECRET
    assert [a["token"] for a in actions.called("test.refuse")] == [SECRET]
    assert SECRET not in json.dumps(out)
    assert out["vars"] is None or SECRET not in json.dumps(out["vars"])
    state = get_run(UnitOfWork(engine), tenant, out["runId"])
    assert SECRET not in json.dumps(state)
    _scan_run_tables(engine)
    # what was scrubbed says so, where it would have been
    with engine.connect() as conn:
        run = conn.execute(sa.select(workflow_runs)).mappings().one()
    variables = run["state_json"]["scopes"]["workflow"]
    assert variables["copied"] == f"Bearer {REDACTED}"
    assert variables["caught"]["message"] == f"token {REDACTED} was refused"
    assert variables["leaked"]["echo"]["token"] == REDACTED
    if not then_wait:
        assert run["error_json"]["message"] == f"plain failure: {REDACTED}"


def test_an_event_payload_cannot_ask_for_a_secret(engine, tenant, registry, actions):
    """Only the step's authored ``$secret`` entries resolve: a ``{"$secret": ...}`` arriving in
    the payload reaches the handler as it is."""
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("x", inputMapping={"p": expr("payload.ticketId"),
                                                            "q": expr("payload.n")})])  # fmt: skip
    start_run(UnitOfWork(engine), tenant, wf, registry=registry, payload={"ticketId": "t", "n": 1},
              options=DriverOptions(secret_resolver=Fixed()))  # fmt: skip
    assert actions.called("test.echo") == [{"p": "t", "q": 1}]
    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("y", inputMapping={"p": expr("payload.ref")})], key="b")
    start_run(UnitOfWork(engine), tenant, wf, registry=registry,
              payload={"ref": {"$secret": "API_TOKEN"}},
              options=DriverOptions(secret_resolver=Fixed()))  # fmt: skip
    assert actions.called("test.echo")[-1] == {"p": {"$secret": "API_TOKEN"}}


def test_an_unresolvable_secret_fails_the_step_with_a_code(engine, tenant, registry, actions):
    class Missing:
        def resolve(self, name, run_id):
            raise SecretNotFound(f"{name} is not configured")

    with engine.begin() as conn:
        wf = publish(conn, tenant, [call("x", inputMapping={"t": {"$secret": "NOPE"}})])
    out = start_run(UnitOfWork(engine), tenant, wf, registry=registry,
                    options=DriverOptions(secret_resolver=Missing()))  # fmt: skip
    assert out["status"] == "FAILED" and actions.calls == []
    assert out["error"]["code"] == "SECRET_RESOLUTION_FAILED"
    assert out["error"]["message"] == 'Failed to resolve secret "NOPE": NOPE is not configured'


# --- the resolvers a server is configured with -----------------------------------------------


def _server(engine, db_url, registry, tenant) -> TestClient:
    app = create_app(_settings(db_url), engine=engine, registry=registry)
    with engine.begin() as conn:
        _, key = create_api_key(conn, tenant, name="t", permissions=PERMISSIONS)
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def _settings(db_url: str) -> Settings:
    """The environment's settings (as ``serve`` reads them) on the test database."""
    settings = load_settings()
    return Settings(database_url=db_url, secret_env_prefix=settings.secret_env_prefix,
                    secrets_file=settings.secrets_file)  # fmt: skip


@pytest.mark.parametrize("source", ["env", "file-json", "file-toml"])
def test_a_server_resolves_secrets_from_its_settings_and_never_returns_them(
    engine, db_url, tenant, registry, actions, monkeypatch, tmp_path, source
):
    if source == "env":
        monkeypatch.setenv("ALGAFLOW_SECRET_API_TOKEN", SECRET)
    else:
        path = tmp_path / ("secrets.json" if source == "file-json" else "secrets.toml")
        text = (json.dumps({"API_TOKEN": SECRET}) if source == "file-json"
                else f'API_TOKEN = "{SECRET}"\n')  # fmt: skip
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("ALGAFLOW_SECRETS_FILE", str(path))
        monkeypatch.setenv("ALGAFLOW_SECRET_ENV_PREFIX", "")
    _leaky_actions(actions)
    with engine.begin() as conn:
        wf = publish(conn, tenant, _leaky_steps(then_wait=True))
    with _server(engine, db_url, registry, tenant) as client:
        started = client.post("/api/workflow-runs", json={"workflowId": wf})
        run_id = started.json()["runId"]
        replies = [
            started,
            client.get(f"/api/workflow-runs/{run_id}"),
            client.get("/api/workflow-runs"),
            client.get("/api/workflow/tasks"),
        ]
        task_id = replies[-1].json()[0]["taskId"]
        replies.append(client.post("/api/workflow/tasks", json={"taskId": task_id}))
        replies.append(client.get(f"/api/workflow-runs/{run_id}"))
    assert started.status_code == 201, started.text
    assert replies[-1].json()["status"] == "SUCCEEDED"
    assert actions.called("test.leak")[0]["token"] == SECRET  # resolved from the settings
    for reply in replies:
        assert SECRET not in reply.text and "V4LUE" not in reply.text
    _scan_run_tables(engine)


def test_resolver_sources_and_their_order(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"A": "from-file", "B": "file-b"}), encoding="utf-8")
    chain = ChainSecretResolver(
        [EnvSecretResolver("X_", {"X_A": "from-env"}), FileSecretResolver(path)]
    )
    assert chain.resolve("A", None) == "from-env"
    assert chain.resolve("B", None) == "file-b"
    with pytest.raises(SecretNotFound) as caught:
        chain.resolve("C", None)
    assert "from-" not in str(caught.value)
    path.write_text(json.dumps({"B": "rotated"}), encoding="utf-8")
    assert FileSecretResolver(path).resolve("B", None) == "rotated"
    with pytest.raises(SecretNotFound):
        EnvSecretResolver("X_", {"X_../A": "v"}).resolve("../A", None)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SecretNotFound) as caught:
        FileSecretResolver(path).resolve("B", None)
    assert "not valid JSON" in str(caught.value)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _texts(value) -> list[str]:
    """Every string and object key inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [k, *_texts(v)]]
    return []


def _planted(value, secret):
    """``value`` with the secret inside every string and key."""
    if isinstance(value, str):
        return f"{value}{secret}{value}"
    if isinstance(value, list):
        return [_planted(v, secret) for v in value]
    if isinstance(value, dict):
        return {_planted(k, secret): _planted(v, secret) for k, v in value.items()}
    return value


@given(value=_json, secret=st.text(min_size=1, max_size=12).filter(lambda s: s not in REDACTED))
def test_a_redacted_value_never_holds_the_secret(value, secret):
    scrubbed = Redactor([secret]).value(_planted(value, secret))
    assert not [text for text in _texts(scrubbed) if secret in text]


@given(number=st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_that_is_the_secret_is_redacted(number):
    assert Redactor([js_string(number)]).value({"n": number}) == {"n": REDACTED}


def test_the_secret_settings_come_from_the_environment(tmp_path: Path):
    settings = load_settings({"ALGAFLOW_SECRETS_FILE": str(tmp_path / "s.toml")})
    assert settings.secrets_file == str(tmp_path / "s.toml")
    assert settings.secret_env_prefix == "ALGAFLOW_SECRET_"
    assert load_settings({"ALGAFLOW_SECRET_ENV_PREFIX": ""}).secret_env_prefix == ""
