"""Bundle routes over HTTP: every route's success, every error, tenants, permissions and abuse.

Runs on both databases (the ``api`` fixture), in-process and through a real uvicorn server. After
every refused import the database must hold exactly what it held before.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.api.bundle_builders import (
    BASE,
    EXPORT,
    IMPORT,
    JSON_HEADERS,
    PINNED,
    SOURCE_ID,
    bundle,
    encode,
    rows,
    with_missing_action,
    workflow,
)

from algaflow.api.bodies import MAX_JSON_DEPTH
from algaflow.bundle import dumps_canonical_bytes, loads_json


def post_import(api: Any, body: Any, params: dict[str, str] | None = None, **kw: Any):
    content = body if isinstance(body, bytes) else encode(body)
    return api.client.post(IMPORT, content=content, params=params, headers=JSON_HEADERS, **kw)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["error"]
    assert body["title"] and body["type"].endswith("/" + code)
    return body


def nested(depth: int) -> Any:
    """``depth`` containers (objects and arrays alternating) around a string."""
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


# --- success paths (Alga T040 / T041 and the multi-workflow export) ---------------------------


def test_t041_import_returns_summary_and_writes_one_row(api):
    response = post_import(api, bundle(workflow("test.http-import")))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["createdWorkflows"][0]["key"] == "test.http-import"
    assert summary["workflows"] == [
        {
            "key": "test.http-import",
            "workflowId": SOURCE_ID,
            "action": "created",
            "versions": [1],
        }
    ]
    assert summary["dryRun"] is False and summary["deletedWorkflows"] == []
    stored = rows(api.engine)
    assert len(stored["defs"]) == 1 and len(stored["versions"]) == 1
    listed = api.client.get(BASE, params={"keyPrefix": "test."}).json()
    assert [w["key"] for w in listed] == ["test.http-import"]


def test_t040_export_returns_canonical_bundle_with_download_headers(api):
    wid = post_import(api, bundle(workflow("test.http-export"))).json()["workflows"][0][
        "workflowId"
    ]
    response = api.client.get(f"{BASE}/{wid}/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="workflow-bundle.json"'
    data = response.content
    assert data.endswith(b"}\n") and dumps_canonical_bytes(loads_json(data)) == data
    exported = loads_json(data)
    assert exported["format"] == "alga-psa.workflow-bundle" and exported["formatVersion"] == 1
    assert exported["workflows"][0]["key"] == "test.http-export"
    pinned = api.client.get(f"{BASE}/{wid}/export", params={"exportedAt": PINNED})
    assert loads_json(pinned.content)["exportedAt"] == PINNED
    assert pinned.content == api.client.get(f"{BASE}/{wid}/export?exportedAt={PINNED}").content


def test_post_export_by_ids_keys_or_all_gives_the_same_bytes(api):
    summary = post_import(api, bundle(workflow("zeta.two"), workflow("alpha.one"))).json()
    ids = [w["workflowId"] for w in summary["workflows"]]
    by_ids = api.client.post(EXPORT, json={"workflowIds": ids, "exportedAt": PINNED})
    by_keys = api.client.post(
        EXPORT, json={"keys": ["zeta.two", "alpha.one"], "exportedAt": PINNED}
    )
    every = api.client.post(EXPORT, json={"all": True, "exportedAt": PINNED})
    assert by_ids.status_code == by_keys.status_code == every.status_code == 200
    assert by_ids.content == by_keys.content == every.content
    assert by_ids.headers["content-disposition"] == 'attachment; filename="workflow-bundle.json"'
    exported = loads_json(every.content)
    assert [w["key"] for w in exported["workflows"]] == ["alpha.one", "zeta.two"]
    assert dumps_canonical_bytes(exported) == every.content
    # The exported bundle imports back over itself with force, unchanged.
    again = api.client.post(IMPORT, content=every.content, params={"force": "1"})
    assert [w["action"] for w in again.json()["workflows"]] == ["unchanged", "unchanged"]
    assert api.client.post(EXPORT, json={"all": True, "exportedAt": PINNED}).content == (
        every.content
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "INVALID_REQUEST"),
        ({"all": True, "keys": ["a"]}, 400, "INVALID_REQUEST"),
        ({"all": False}, 400, "INVALID_REQUEST"),
        ({"all": True, "extra": 1}, 400, "INVALID_REQUEST"),
        ({"keys": "demo.hello"}, 400, "INVALID_REQUEST"),
        ({"keys": ["missing.key"]}, 404, "WORKFLOW_NOT_FOUND"),
        ({"workflowIds": ["not-a-uuid", SOURCE_ID]}, 404, "WORKFLOW_NOT_FOUND"),
        ({"keys": ["Bad Key"]}, 400, "INVALID_WORKFLOW_KEY"),
        ({"keys": ["nul\u0000"]}, 400, "INVALID_WORKFLOW_KEY"),
        ({"keys": ["\ud800"]}, 400, "INVALID_WORKFLOW_KEY"),
        ({"workflowIds": ["\udfff", "nul\u0000"]}, 404, "WORKFLOW_NOT_FOUND"),
        ({"all": True, "exportedAt": "yesterday"}, 400, "INVALID_EXPORTED_AT"),
        ([], 400, "INVALID_REQUEST"),
        (None, 400, "INVALID_REQUEST"),
    ],
)
def test_post_export_errors(api, body, status, code):
    post_import(api, bundle(workflow("demo.hello")))
    response = api.client.post(EXPORT, content=encode(body), headers=JSON_HEADERS)
    problem = assert_problem(response, status, code)
    if code == "WORKFLOW_NOT_FOUND":
        missing = problem["details"].get("missingKeys", []) + problem["details"].get(
            "missingWorkflowIds", []
        )
        assert SOURCE_ID not in missing and missing


def test_export_of_an_empty_tenant_and_unknown_ids(api):
    assert_problem(api.client.post(EXPORT, json={"all": True}), 404, "NOTHING_TO_EXPORT")
    for wid in ["nope", SOURCE_ID, "a%00b", "%ED%A0%80"]:
        response = api.client.get(f"{BASE}/{wid}/export")
        assert_problem(response, 404, "WORKFLOW_NOT_FOUND")


# --- import: conflicts, force, dry run, flags ---------------------------------------------------


def test_import_conflict_force_and_dry_run(api):
    first = post_import(api, bundle(workflow("demo.hello"))).json()
    wid = first["workflows"][0]["workflowId"]
    before = rows(api.engine)

    conflict = assert_problem(
        post_import(api, bundle(workflow("demo.hello"))), 409, "WORKFLOW_KEY_CONFLICT"
    )
    assert conflict["details"]["existingWorkflowId"] == wid
    assert rows(api.engine) == before

    dry = post_import(
        api, bundle(workflow("demo.hello", isPaused=True)), {"force": "true", "dryRun": "1"}
    )
    assert dry.status_code == 200 and dry.json()["dryRun"] is True
    assert dry.json()["workflows"][0]["action"] == "overwritten"
    assert rows(api.engine) == before

    forced = post_import(api, bundle(workflow("demo.hello", isPaused=True)), {"force": "TRUE"})
    assert forced.status_code == 200, forced.text
    assert forced.json()["workflows"] == [
        {"key": "demo.hello", "workflowId": wid, "action": "overwritten", "versions": [1]}
    ]
    after = api.client.get(f"{BASE}/{wid}").json()
    assert after["isPaused"] is True and len(rows(api.engine)["defs"]) == 1


@pytest.mark.parametrize(
    ("value", "on"),
    [("1", True), ("true", True), ("TRUE", True), ("True", True), (" true ", True)]
    + [(v, False) for v in ("0", "false", "yes", "on", "", "2", "truee", "tru")],
)
def test_force_and_dry_run_flags_parse_like_alga(api, value, on):
    post_import(api, bundle(workflow("demo.hello")))
    forced = post_import(api, bundle(workflow("demo.hello")), {"force": value})
    assert forced.status_code == (200 if on else 409), forced.text
    before = rows(api.engine)
    dry = post_import(api, bundle(workflow("demo.new")), {"dryRun": value})
    assert dry.status_code == 200 and dry.json()["dryRun"] is on
    assert (rows(api.engine) == before) is on


# --- authentication, permissions, tenants -------------------------------------------------------


def _route_calls(wid: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"{BASE}/{wid}/export", {}),
        ("POST", EXPORT, {"json": {"workflowIds": [wid]}}),
        ("POST", IMPORT, {"content": encode(bundle(workflow("demo.other")))}),
    ]


def test_every_route_needs_a_valid_admin_key(api):
    wid = post_import(api, bundle(workflow("demo.hello"))).json()["workflows"][0]["workflowId"]
    before = rows(api.engine)
    not_admin = api.key_for(
        api.tenant, "workflow:read", "workflow:write", "workflow:publish", "workflow:run"
    )
    for method, path, kw in _route_calls(wid):
        anonymous = api.client.request(method, path, headers={"Authorization": ""}, **kw)
        assert assert_problem(anonymous, 401, "UNAUTHENTICATED")
        assert anonymous.headers["www-authenticate"] == "Bearer"
        wrong = api.client.request(method, path, headers=api.headers("afk_wrong"), **kw)
        assert_problem(wrong, 401, "UNAUTHENTICATED")
        reader = api.client.request(method, path, headers=api.headers(not_admin), **kw)
        body = assert_problem(reader, 403, "FORBIDDEN")
        assert body["details"] == {"permission": "workflow:admin"}
        assert body["error"] == 'Workflow permission "admin" required'
        assert rows(api.engine) == before, (method, path)
    # x-api-key works as well as Authorization: Bearer.
    admin = api.key_for(api.tenant, "workflow:admin")
    for method, path, kw in _route_calls(wid):
        response = api.client.request(
            method, path, headers={"Authorization": "", "x-api-key": admin}, **kw
        )
        assert response.status_code == 200, (method, path, response.text)


def test_authentication_comes_before_reading_the_body(api):
    anonymous = api.client.post(IMPORT, content=b"{not json", headers={"Authorization": ""})
    assert_problem(anonymous, 401, "UNAUTHENTICATED")
    reader = api.key_for(api.tenant, "workflow:read")
    assert_problem(
        api.client.post(IMPORT, content=b"[" * 10_000, headers=api.headers(reader)),
        403,
        "FORBIDDEN",
    )


def test_other_tenants_ids_are_not_found_and_imports_stay_apart(api, other_tenant):
    wid = post_import(api, bundle(workflow("demo.hello"))).json()["workflows"][0]["workflowId"]
    mine = api.client.get(f"{BASE}/{wid}/export", params={"exportedAt": PINNED}).content
    theirs = api.headers(api.key_for(other_tenant, "workflow:admin"))
    assert_problem(
        api.client.get(f"{BASE}/{wid}/export", headers=theirs), 404, "WORKFLOW_NOT_FOUND"
    )
    for selection in ({"workflowIds": [wid]}, {"keys": ["demo.hello"]}):
        response = api.client.post(EXPORT, json=selection, headers=theirs)
        assert_problem(response, 404, "WORKFLOW_NOT_FOUND")
    assert_problem(
        api.client.post(EXPORT, json={"all": True}, headers=theirs), 404, "NOTHING_TO_EXPORT"
    )

    # The same key in the other tenant is a new workflow (new id), even with force.
    imported = api.client.post(
        IMPORT, content=mine, params={"force": "1"}, headers={**theirs, **JSON_HEADERS}
    )
    assert imported.status_code == 200, imported.text
    [entry] = imported.json()["workflows"]
    assert entry["action"] == "created" and entry["workflowId"] != wid
    assert api.client.get(f"{BASE}/{wid}/export", params={"exportedAt": PINNED}).content == mine
    theirs_export = api.client.post(EXPORT, json={"all": True}, headers=theirs)
    assert [w["key"] for w in loads_json(theirs_export.content)["workflows"]] == ["demo.hello"]


# --- bad input and abuse --------------------------------------------------------------------


def _in_retention(depth_below: int) -> bytes:
    """A valid bundle whose deepest point is ``5 + depth_below`` levels down."""
    return encode(bundle(workflow("demo.deep", retentionPolicyOverride={"x": nested(depth_below)})))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "INVALID_JSON"),
        (b"", "INVALID_JSON"),
        (b"\xff\xfe{}", "INVALID_JSON"),
        (b'{"format": NaN}', "INVALID_JSON"),
        (b"null", "INVALID_BUNDLE"),
        (b"[]", "INVALID_BUNDLE"),
        (b'"bundle"', "INVALID_BUNDLE"),
        (b"42", "INVALID_BUNDLE"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON_TOO_DEEP"),
        (b"{" * 100_000, "JSON_TOO_DEEP"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "JSON_TOO_DEEP"),
        (_in_retention(MAX_JSON_DEPTH - 4), "JSON_TOO_DEEP"),
        (b'{"format": "other"}', "UNSUPPORTED_FORMAT"),
        (encode({**bundle(), "formatVersion": 2}), "UNSUPPORTED_FORMAT_VERSION"),
        (encode({**bundle(), "workflows": []}), "SCHEMA_VALIDATION_FAILED"),
        (encode(bundle(workflow("demo.a"), workflow("demo.a"))), "DUPLICATE_WORKFLOW_KEY"),
        (encode(bundle(workflow("\ud800"))), "SCHEMA_VALIDATION_FAILED"),
        (encode(bundle(workflow("demo.a", description="lone \udc00"))), "UNSTORABLE_VALUE"),
        (encode(bundle(workflow("demo.a", description="nul \u0000"))), "UNSTORABLE_VALUE"),
        (
            encode(bundle(workflow("demo.a", retentionPolicyOverride={"\ud83d": 1}))),
            "UNSTORABLE_VALUE",
        ),
    ],
)
def test_bad_import_bodies_are_coded_400s_and_write_nothing(api, body, code):
    post_import(api, bundle(workflow("demo.existing")))
    before = rows(api.engine)
    for params in (None, {"force": "1"}):
        problem = assert_problem(post_import(api, body, params), 400, code)
        if code == "JSON_TOO_DEEP" and "maxDepth" in problem.get("details", {}):
            assert problem["details"]["maxDepth"] == MAX_JSON_DEPTH
        assert rows(api.engine) == before


def test_nesting_up_to_the_limit_imports(api):
    response = post_import(api, _in_retention(MAX_JSON_DEPTH - 5))
    assert response.status_code == 200, response.text


def test_missing_dependencies_are_listed_and_write_nothing(api):
    entry = with_missing_action("demo.needs")
    problem = assert_problem(post_import(api, bundle(entry)), 400, "MISSING_DEPENDENCIES")
    assert problem["details"]["missingActions"] == [{"actionId": "missing.action", "version": 1}]
    assert rows(api.engine) == {"defs": [], "versions": []}


def test_bodies_over_the_limit_are_413(api):
    big = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    for path in (IMPORT, EXPORT):
        problem = assert_problem(
            api.client.post(path, content=big, headers=JSON_HEADERS), 413, "PAYLOAD_TOO_LARGE"
        )
        assert problem["details"] == {"maxBytes": 1_000_000}
    assert rows(api.engine) == {"defs": [], "versions": []}


def test_post_export_with_deep_or_broken_bodies(api):
    deep = api.client.post(EXPORT, content=b"[" * 100_000 + b"]" * 100_000, headers=JSON_HEADERS)
    assert_problem(deep, 400, "JSON_TOO_DEEP")
    assert_problem(
        api.client.post(EXPORT, content=b"{x", headers=JSON_HEADERS), 400, "INVALID_JSON"
    )
    plain = api.client.post(
        EXPORT, content=b'{"all": true}', headers={"Content-Type": "text/plain"}
    )
    assert_problem(plain, 400, "INVALID_REQUEST")


_ODD_TEXT = st.text(st.characters(codec=None, categories=None), max_size=12) | st.sampled_from(
    ["\u2028\u2029", "\ufeff", "\u202eevil", "e\u0301", "\U0001f600", "\ud83d\ude00", "\x7f\x1f"]
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=_ODD_TEXT)
def test_odd_unicode_round_trips_or_is_refused_whole(api, text):
    # What the server sees: an escaped surrogate pair is one character. (A key "__proto__" would
    # vanish from the export, as in Alga, hence the "k" prefix on the key below.)
    text = json.loads(encode(text))
    before = rows(api.engine)
    trigger = {"type": "event", "x": {"k" + text: text}}
    response = post_import(
        api, bundle(workflow("demo.odd", description=text, trigger=trigger)), {"force": "1"}
    )
    unstorable = "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    if unstorable:
        assert_problem(response, 400, "UNSTORABLE_VALUE")
        assert rows(api.engine) == before
        return
    assert response.status_code == 200, response.text
    wid = response.json()["workflows"][0]["workflowId"]
    exported = loads_json(api.client.get(f"{BASE}/{wid}/export").content)
    metadata = exported["workflows"][0]["metadata"]
    assert metadata["description"] == text and metadata["trigger"] == trigger


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same JSON type, which get further into the import than any value does."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(min_value=-(2**40), max_value=2**40)
    if isinstance(value, str):
        return _ODD_TEXT | st.text(st.sampled_from("abc.-_0"), max_size=8)
    return st.nothing()


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in ``value`` a mutation can replace (the root excluded)."""
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    found = []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_bundles_import_whole_or_not_at_all(api, data):
    """Any value anywhere in a valid bundle: a 200, or a coded 4xx that wrote nothing."""
    value = bundle(workflow("demo.one"), workflow("demo.two"))
    for _ in range(data.draw(st.integers(1, 2))):
        inside = [path for path in _paths(value) if len(path) > 2]  # the header is tested above
        *parent, last = data.draw(st.sampled_from(inside))
        target = value
        for key in parent:
            target = target[key]
        target[last] = data.draw(_like(target[last]) | _JSON)
    before = rows(api.engine)
    response = post_import(api, value, {"force": "1"})
    event(f"{response.status_code} {response.json().get('code', '')}")
    if response.status_code == 200:
        for entry in response.json()["workflows"]:
            exported = api.client.get(f"{BASE}/{entry['workflowId']}/export")
            assert exported.status_code == 200
            assert dumps_canonical_bytes(loads_json(exported.content)) == exported.content
    else:
        assert 400 <= response.status_code < 500, response.text
        assert_problem(response, response.status_code, response.json()["code"])
        assert rows(api.engine) == before


# --- through a real server ----------------------------------------------------------------------


def test_through_real_http(api, live_server):
    with httpx.Client(base_url=live_server, headers=api.headers()) as http:
        imported = http.post(IMPORT, content=encode(bundle(workflow("test.http-import"))))
        assert imported.status_code == 200, imported.text
        wid = imported.json()["workflows"][0]["workflowId"]
        exported = http.get(f"{BASE}/{wid}/export", params={"exportedAt": PINNED})
        assert exported.status_code == 200
        assert exported.headers["content-type"] == "application/json; charset=utf-8"
        assert (
            exported.content
            == api.client.get(f"{BASE}/{wid}/export", params={"exportedAt": PINNED}).content
        )
        assert http.post(IMPORT, content=exported.content).status_code == 409
        before = rows(api.engine)

        def chunks():
            yield b'{"format": "'
            for _ in range(120):
                yield b"a" * 10_000
            yield b'"}'

        for path in (IMPORT, EXPORT):
            streamed = http.post(path, content=chunks(), headers=JSON_HEADERS)
            assert_problem(streamed, 413, "PAYLOAD_TOO_LARGE")
        deep = http.post(IMPORT, content=b"[" * 100_000 + b"]" * 100_000)
        assert_problem(deep, 400, "JSON_TOO_DEEP")
        assert_problem(http.post(IMPORT, content=b"null"), 400, "INVALID_BUNDLE")
        anonymous = http.get(f"{BASE}/{wid}/export", headers={"Authorization": ""})
        assert_problem(anonymous, 401, "UNAUTHENTICATED")
        assert rows(api.engine) == before


def test_openapi_documents_the_bundle_routes(api):
    document = api.client.get("/openapi.json").json()
    paths = document["paths"]
    assert set(paths[f"{BASE}/{{workflowId}}/export"]) == {"get"}
    assert {"post"} == set(paths[EXPORT]) == set(paths[IMPORT])
    imported = paths[IMPORT]["post"]
    assert imported["requestBody"]["required"] is True
    assert {"force", "dryRun", "prune", "prunePrefix", "acceptBrokenRuns", "allowUnresolved"} == {
        p["name"] for p in imported["parameters"]
    }
    planned = paths[f"{IMPORT}/plan"]["post"]
    assert {"force", "prune", "prunePrefix"} == {p["name"] for p in planned["parameters"]}
    assert planned["requestBody"]["required"] is True
    assert set(paths[f"{BASE}/references"]) == {"post"}
    assert {"200", "400", "401", "403", "409", "413"} <= set(imported["responses"])
    problem = imported["responses"]["409"]["content"]["application/problem+json"]["schema"]
    problem = document["components"]["schemas"][problem["$ref"].rsplit("/", 1)[-1]]
    assert {"code", "error", "status", "title", "type"} <= set(problem["required"])
    assert imported["security"]
