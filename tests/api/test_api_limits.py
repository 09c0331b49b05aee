"""Definition routes on both databases: what used to be a 500, or differ between SQLite and
PostgreSQL, is a coded answer that is the same on both."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from algaflow.kernel.jsvalues import MAX_JSON_DEPTH
from algaflow.store import workflows as store
from algaflow.store.tables import api_keys, workflow_definitions

BASE = "/api/workflow-definitions"
DEF = {"version": 1, "name": "Hello", "payloadSchemaRef": "payload.Empty.v1", "steps": []}
JSON_HEADERS = {"Content-Type": "application/json"}


def _post(api, path, text: str, method: str = "POST", **kw):
    return api.client.request(method, path, content=text.encode(), headers=JSON_HEADERS, **kw)


def _create(api, key="demo.hello", definition=DEF):
    response = api.client.post(BASE, json={"key": key, "definition": definition})
    assert response.status_code == 201, response.text
    return response.json()["workflowId"]


def _problem(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def _nested(depth: int) -> dict:
    """A valid definition whose own nesting (the object itself counting 1) is ``depth``."""
    config: object = {}
    for _ in range(depth - 4):
        config = {"n": config}
    return {**DEF, "steps": [{"id": "s", "type": "state.set", "config": config}]}


def _deep_text(depth: int) -> str:
    """JSON text of an object nested ``depth`` levels (too deep for ``json.dumps``)."""
    return '{"n":' * (depth - 1) + "{}" + "}" * (depth - 1)


def _rows(api) -> int:
    with api.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(workflow_definitions)).scalar()


# --- 1a: values a database cannot store --------------------------------------------------------

DRAFT = json.dumps(DEF)[:-1]  # to append raw JSON members: DRAFT + ', "x": NaN}'


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (f'{{"key": "k", "name": "a\\u0000b", "definition": {json.dumps(DEF)}}}', "/name"),
        (f'{{"key": "k", "name": "\\ud800", "definition": {json.dumps(DEF)}}}', "/name"),
        (
            f'{{"key": "k", "description": "\\u0000", "definition": {json.dumps(DEF)}}}',
            "/description",
        ),
        (f'{{"key": "k", "definition": {DRAFT}, "x": NaN}}}}', "/definition/x"),
        (f'{{"key": "k", "definition": {DRAFT}, "x": [Infinity]}}}}', "/definition/x/0"),
        (f'{{"key": "k", "definition": {DRAFT}, "x": {{"\\udc00": 1}}}}}}', "/definition/x"),
    ],
)
def test_create_with_unstorable_values_is_a_coded_400(api, body, pointer):
    problem = _problem(_post(api, BASE, body), 400, "UNSTORABLE_VALUE")
    assert pointer in [e["instancePath"] for e in problem["details"]["errors"]]
    assert _rows(api) == 0


def test_draft_metadata_and_publish_refuse_unstorable_values(api):
    wid = _create(api)
    draft = _post(api, f"{BASE}/{wid}/1", f'{{"definition": {DRAFT}, "x": -Infinity}}}}', "PUT")
    _problem(draft, 400, "UNSTORABLE_VALUE")
    meta = _post(api, f"{BASE}/{wid}/metadata", '{"retentionPolicyOverride": {"d": NaN}}', "PUT")
    assert _problem(meta, 400, "UNSTORABLE_VALUE")["details"]["errors"] == [
        {"instancePath": "/retentionPolicyOverride/d", "message": "NaN is not a JSON number"}
    ]
    published = _post(
        api, f"{BASE}/{wid}/1/publish", f'{{"definition": {DRAFT}, "name2": "\\u0000"}}}}'
    )
    _problem(published, 400, "UNSTORABLE_VALUE")
    stored = api.client.get(f"{BASE}/{wid}").json()
    assert stored["draftDefinition"] == {**DEF, "id": wid}
    assert stored["retentionPolicyOverride"] is None
    assert api.client.get(f"{BASE}/{wid}/versions").json() == []


# --- 1b: version numbers beyond int4 in a path -------------------------------------------------


@pytest.mark.parametrize("version", ["99999999999999999999", str(store.INT4_MAX + 1), "0", "-1"])
def test_version_paths_outside_int4_are_400(api, version):
    wid = _create(api)
    for method, path, body in [
        ("GET", f"{BASE}/{wid}/{version}", None),
        ("PUT", f"{BASE}/{wid}/{version}", {"definition": DEF}),
        ("POST", f"{BASE}/{wid}/{version}/publish", {}),
    ]:
        response = api.client.request(method, path, json=body)
        _problem(response, 400, "INVALID_REQUEST")
    assert api.client.get(f"{BASE}/{wid}/{store.INT4_MAX}").status_code == 404


# --- 1c: failureRateThreshold ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"), [(0.025, "0.03"), ("12.345", "12.35"), (-0.001, "0.00")]
)
def test_threshold_over_http_rounds_like_postgresql(api, given, shown):
    wid = _create(api)
    response = api.client.put(f"{BASE}/{wid}/metadata", json={"failureRateThreshold": given})
    assert response.status_code == 200, response.text
    assert response.json()["failureRateThreshold"] == shown


@pytest.mark.parametrize("given", ["999.995", -999.995])
def test_threshold_rounding_to_1000_is_refused(api, given):
    wid = _create(api)
    response = api.client.put(f"{BASE}/{wid}/metadata", json={"failureRateThreshold": given})
    _problem(response, 422, "INVALID_FIELD")
    assert api.client.get(f"{BASE}/{wid}").json()["failureRateThreshold"] == "0.50"


# --- 1e: pinned exportedAt --------------------------------------------------------------------


@pytest.mark.parametrize("pinned", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_exported_at_beyond_the_calendar_is_a_coded_400(api, pinned):
    wid = _create(api)
    one = api.client.get(f"{BASE}/{wid}/export", params={"exportedAt": pinned})
    _problem(one, 400, "INVALID_EXPORTED_AT")
    many = api.client.post(f"{BASE}/export", json={"all": True, "exportedAt": pinned})
    _problem(many, 400, "INVALID_EXPORTED_AT")


def test_an_early_exported_at_exports_a_bundle_that_imports(api, other_tenant):
    wid = _create(api)
    exported = api.client.get(f"{BASE}/{wid}/export", params={"exportedAt": "0999-01-01T00:00:00Z"})
    assert exported.json()["exportedAt"] == "0999-01-01T00:00:00.000Z"
    theirs = api.headers(api.key_for(other_tenant, "workflow:admin"))
    again = api.client.post(f"{BASE}/import", content=exported.content, headers=theirs)
    assert again.status_code == 200, again.text


# --- 1g: nesting -------------------------------------------------------------------------------


def test_the_deepest_storable_draft_exports_and_imports_again(api, other_tenant):
    wid = _create(api, definition=_nested(store.MAX_STORED_DEPTH))
    exported = api.client.get(f"{BASE}/{wid}/export")
    assert exported.status_code == 200
    theirs = api.headers(api.key_for(other_tenant, "workflow:admin"))
    again = api.client.post(f"{BASE}/import", content=exported.content, headers=theirs)
    assert again.status_code == 200, again.text


@pytest.mark.parametrize("depth", [store.MAX_STORED_DEPTH + 1, 150, 400, 5000])
def test_deeper_drafts_are_refused_before_or_at_the_store(api, depth):
    fields = '"key": "deep", "name": "N", "payloadSchemaRef": "payload.Empty.v1"'
    create = _post(api, BASE, f'{{{fields}, "definition": {_deep_text(depth)}}}')
    _problem(create, 400, "JSON_TOO_DEEP")
    wid = _create(api)
    replace = _post(api, f"{BASE}/{wid}/1", f'{{"definition": {_deep_text(depth)}}}', "PUT")
    _problem(replace, 400, "JSON_TOO_DEEP")
    publish = _post(api, f"{BASE}/{wid}/1/publish", f'{{"definition": {_deep_text(depth)}}}')
    _problem(publish, 400, "JSON_TOO_DEEP")
    validate = _post(api, f"{BASE}/validate", f'{{"definition": {_deep_text(depth)}}}')
    assert validate.status_code in (200, 400), validate.text  # never a 500
    assert _rows(api) == 1
    assert api.client.get(f"{BASE}/{wid}/versions").json() == []


def test_every_body_is_depth_limited_but_only_after_authentication(api):
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    for path in (BASE, f"{BASE}/export", f"{BASE}/validate"):
        _problem(api.client.post(path, content=deep, headers=JSON_HEADERS), 400, "JSON_TOO_DEEP")
        anonymous = api.client.post(path, content=deep, headers={"Authorization": ""})
        _problem(anonymous, 401, "UNAUTHENTICATED")
    reader = api.headers(api.key_for(api.tenant, "workflow:read"))
    _problem(api.client.post(BASE, content=deep, headers=reader), 403, "FORBIDDEN")


# --- 1h: listing -------------------------------------------------------------------------------


def test_key_prefix_is_exact_over_http(api):
    for key in ("demo.a", "demo_b", "demox"):
        _create(api, key=key)
    listed = api.client.get(BASE, params={"keyPrefix": "DEMO"})
    assert listed.status_code == 200 and listed.json() == []
    listed = api.client.get(BASE, params={"keyPrefix": "demo_"})
    assert [w["key"] for w in listed.json()] == ["demo_b"]
    listed = api.client.get(BASE, params={"keyPrefix": "demo\x00"})
    assert listed.status_code == 200 and listed.json() == []
    assert [w["key"] for w in api.client.get(BASE).json()] == ["demo.a", "demo_b", "demox"]


# --- 2: API keys record their use --------------------------------------------------------------


def test_a_request_records_when_its_key_was_used(api):
    def last_used():
        with api.engine.connect() as conn:
            query = sa.select(api_keys.c.last_used_at).where(api_keys.c.prefix == api.key[:12])
            return conn.execute(query).scalar_one()

    assert last_used() is None
    assert api.client.get(BASE).status_code == 200
    first = last_used()
    assert first is not None
    assert api.client.get(BASE).status_code == 200
    assert last_used() == first  # within the minute: not written again


# --- error mapping: safety nets for database errors --------------------------------------------


def test_a_database_refusing_a_value_is_a_coded_400(app, api):
    if api.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no value it refuses with a DataError")

    @app.get("/test/data-error")
    def data_error() -> None:
        with api.engine.connect() as conn:
            conn.execute(sa.text("SELECT CAST('not a number' AS integer)"))

    _problem(api.client.get("/test/data-error"), 400, "UNSTORABLE_VALUE")


def test_a_locked_sqlite_database_is_a_retryable_503(app, api):
    if api.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite locks the whole database")

    @app.post("/test/write")
    def write() -> None:
        with api.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once instead of in 10 s
            conn.commit()
            conn.execute(workflow_definitions.delete())

    holder = api.engine.connect()
    try:
        holder.exec_driver_sql("DELETE FROM workflow_definitions")  # takes the write lock
        response = api.client.post("/test/write")
    finally:
        holder.rollback()
        holder.close()
    _problem(response, 503, "DATABASE_BUSY")
    assert response.headers["retry-after"] == "1"
