"""Definition routes through the app in-process and through a real uvicorn server."""

import httpx
import pytest

DEF = {"version": 1, "name": "Hello", "payloadSchemaRef": "payload.Empty.v1", "steps": []}


def _create(api, key="demo.hello", **extra):
    return api.client.post(
        "/api/workflow-definitions", json={"key": key, "definition": DEF, **extra}
    )


def test_healthz(api):
    assert api.client.get("/healthz").json()["status"] == "ok"


def test_create_read_list_update_delete(api):
    created = _create(api)
    assert created.status_code == 201, created.text
    body = created.json()
    wid = body["workflowId"]
    assert body["draftDefinition"]["id"] == wid
    assert body["name"] == "Hello" and body["failureRateThreshold"] == "0.50"

    assert api.client.get(f"/api/workflow-definitions/{wid}").json()["key"] == "demo.hello"
    listed = api.client.get("/api/workflow-definitions", params={"keyPrefix": "demo."}).json()
    assert [w["workflowId"] for w in listed] == [wid]

    draft = api.client.get(f"/api/workflow-definitions/{wid}/1").json()
    assert draft["kind"] == "draft" and draft["definition"]["id"] == wid

    new_def = {**DEF, "steps": [{"id": "s", "type": "state.set", "config": {"state": "x"}}]}
    put = api.client.put(f"/api/workflow-definitions/{wid}/1", json={"definition": new_def})
    assert put.status_code == 200
    assert put.json()["draftDefinition"]["steps"][0]["id"] == "s"

    stale = api.client.put(f"/api/workflow-definitions/{wid}/7", json={"definition": new_def})
    assert stale.status_code == 409 and stale.json()["code"] == "DRAFT_VERSION_CONFLICT"

    meta = api.client.put(
        f"/api/workflow-definitions/{wid}/metadata",
        json={"isPaused": True, "failureRateThreshold": 0.7},
    )
    assert meta.status_code == 200
    assert meta.json()["isPaused"] is True and meta.json()["failureRateThreshold"] == "0.70"

    assert api.client.get(f"/api/workflow-definitions/{wid}/versions").json() == []
    assert api.client.delete(f"/api/workflow-definitions/{wid}").status_code == 204
    assert api.client.get(f"/api/workflow-definitions/{wid}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"key": "Bad Key", "definition": DEF}, 400, "INVALID_WORKFLOW_KEY"),
        ({"key": "a.b\n", "definition": DEF}, 400, "INVALID_WORKFLOW_KEY"),
        ({"key": "ok", "definition": {**DEF, "name": ""}}, 422, "INVALID_FIELD"),
        ({"key": "ok", "definition": [1]}, 400, "INVALID_REQUEST"),
        ({"key": "ok", "definition": DEF, "surprise": 1}, 400, "INVALID_REQUEST"),
    ],
)
def test_bad_create_input(api, payload, status, code):
    response = api.client.post("/api/workflow-definitions", json=payload)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["title"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert api.client.get("/api/workflow-definitions").json() == []


def test_invalid_json_is_400(api):
    response = api.client.post(
        "/api/workflow-definitions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"


def test_body_over_limit_is_413(api):
    response = api.client.post(
        "/api/workflow-definitions",
        content=b"{" + b" " * 1_100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_duplicate_key_is_409(api):
    first = _create(api).json()
    again = _create(api)
    assert again.status_code == 409
    assert again.json()["details"]["existingWorkflowId"] == first["workflowId"]


@pytest.mark.parametrize("wid", ["nope", "00000000-0000-4000-8000-000000000000"])
def test_unknown_ids_are_404(api, wid):
    assert api.client.get(f"/api/workflow-definitions/{wid}").json()["code"] == "WORKFLOW_NOT_FOUND"


def test_authentication_and_permissions(api):
    wid = _create(api).json()["workflowId"]
    anonymous = api.client.get("/api/workflow-definitions", headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHENTICATED"
    wrong = api.client.get("/api/workflow-definitions", headers=api.headers("afk_wrong"))
    assert wrong.status_code == 401
    reader = api.key_for(api.tenant, "workflow:read")
    via_header = api.client.get(
        "/api/workflow-definitions", headers={"Authorization": "", "x-api-key": reader}
    )
    assert via_header.status_code == 200 and len(via_header.json()) == 1
    forbidden = api.client.delete(f"/api/workflow-definitions/{wid}", headers=api.headers(reader))
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "FORBIDDEN"


def test_other_tenant_cannot_see_or_touch(api, other_tenant):
    wid = _create(api).json()["workflowId"]
    theirs = api.headers(api.key_for(other_tenant, "workflow:admin"))
    assert api.client.get("/api/workflow-definitions", headers=theirs).json() == []
    for method, path, body in [
        ("GET", f"/api/workflow-definitions/{wid}", None),
        ("PUT", f"/api/workflow-definitions/{wid}/metadata", {"isPaused": True}),
        ("PUT", f"/api/workflow-definitions/{wid}/1", {"definition": DEF}),
        ("DELETE", f"/api/workflow-definitions/{wid}", None),
    ]:
        response = api.client.request(method, path, json=body, headers=theirs)
        assert response.status_code == 404, (method, path)
    assert api.client.get(f"/api/workflow-definitions/{wid}").json()["isPaused"] is False
    same_key = api.client.post(
        "/api/workflow-definitions", json={"key": "demo.hello", "definition": DEF}, headers=theirs
    )
    assert same_key.status_code == 201


def test_through_real_http(api, live_server):
    with httpx.Client(base_url=live_server, headers=api.headers()) as http:
        created = http.post(
            "/api/workflow-definitions", json={"key": "live.one", "definition": DEF}
        )
        assert created.status_code == 201
        wid = created.json()["workflowId"]
        assert http.get(f"/api/workflow-definitions/{wid}").json()["key"] == "live.one"
        missing = http.get("/api/workflow-definitions/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert (
            http.get("/api/workflow-definitions", headers={"Authorization": ""}).status_code == 401
        )


def test_writes_record_the_api_key_as_actor(api):
    """created_by/updated_by/published_by carry the id of the key that made the change."""
    import sqlalchemy as sa

    from algaflow.store.tables import api_keys, workflow_definition_versions, workflow_definitions

    writer = api.key_for(api.tenant, "workflow:write", "workflow:publish")
    created = api.client.post(
        "/api/workflow-definitions",
        json={"key": "actor.one", "definition": DEF},
        headers=api.headers(writer),
    )
    wid = created.json()["workflowId"]
    published = api.client.post(
        f"/api/workflow-definitions/{wid}/1/publish", json={}, headers=api.headers(writer)
    )
    assert published.json()["ok"] is True, published.text
    with api.engine.connect() as conn:
        key_id = conn.execute(
            sa.select(api_keys.c.id).where(api_keys.c.prefix == writer[:12])
        ).scalar_one()
        row = (
            conn.execute(
                sa.select(workflow_definitions).where(workflow_definitions.c.workflow_id == wid)
            )
            .mappings()
            .one()
        )
        version = conn.execute(
            sa.select(workflow_definition_versions.c.published_by).where(
                workflow_definition_versions.c.workflow_id == wid
            )
        ).scalar_one()
    assert row["created_by"] == key_id and row["updated_by"] == key_id
    assert version == key_id


def test_a_method_not_allowed_is_a_coded_405_naming_the_allowed_ones(api):
    response = api.client.patch("/api/workflow-definitions")
    assert (response.status_code, response.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_the_spec_documents_every_error_answer_as_a_problem(api):
    spec = api.client.get("/openapi.json").json()
    api_paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/")}
    assert len(api_paths) > 10
    for path, operations in api_paths.items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert {"400", "401", "403", "503"} <= set(answers), (method, path)  # any keyed call
            for status, answer in answers.items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in answer["content"], (method, path, status)
