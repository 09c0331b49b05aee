"""The HTTP API documents itself: every operation has a summary, a description, a typed answer
and its own error answers; the import body is the bundle JSON Schema; /docs works offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient

from algaflow.api.app import create_app
from algaflow.bundle.format import bundle_schema
from algaflow.config import Settings
from algaflow.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "delete", "patch")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'docs.db'}"
    return TestClient(create_app(Settings(database_url=url), registry=default_registry()))


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict:
    return client.get("/openapi.json").json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_operation_has_a_summary_and_a_description(spec):
    for name, operation in _operations(spec):
        assert operation.get("summary"), name
        assert len(operation.get("description", "")) > 20, name


def test_every_answer_has_a_typed_schema(spec):
    for name, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if status == "204":
                continue
            content = answer.get("content", {})
            assert content, (name, status)
            for media in content.values():
                schema = _resolve(spec, media.get("schema", {}))
                if schema.get("type") == "array":
                    schema = _resolve(spec, schema["items"])
                untyped = not schema.get("properties") and schema.get("type") != "string"
                assert not untyped, (name, status, schema)


def test_errors_are_documented_per_operation(spec):
    answers = {name: set(op["responses"]) for name, op in _operations(spec)}
    assert "401" not in answers["GET /healthz"]
    assert {"400", "401", "403", "404", "503"} <= answers[
        "GET /api/workflow-definitions/{workflowId}"
    ]
    assert "404" not in answers["GET /api/workflow-definitions"]
    assert "409" in answers["POST /api/workflow-definitions/import"]
    assert "409" not in answers["GET /api/workflow-runs"]
    for name, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert "application/problem+json" in answer["content"], (name, status)


def test_the_import_body_is_the_bundle_json_schema(spec):
    body = spec["paths"]["/api/workflow-definitions/import"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/WorkflowBundleV1"
    # The components, with their references resolved in the OpenAPI document, accept exactly
    # what the bundle schema accepts.
    document = {"components": spec["components"], **_resolve(spec, {"$ref": ref})}
    original = bundle_schema()
    assert set(document["properties"]) == set(original["properties"])
    bundle = json.loads((ROOT / "examples" / "bundles" / "hello.json").read_text())
    jsonschema.validate(bundle, document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**bundle, "formatVersion": "1"}, document)


def test_swagger_ui_is_served_from_the_package_with_no_network(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    scripts = re.findall(r"(?:url|src):\s*'([^']+)'", page.text) + sources
    assert sources and not [s for s in scripts if s.startswith(("http:", "https:", "//"))], scripts
    assets = [s for s in sources if s.endswith((".js", ".css"))]
    assert {a.rsplit(".", 1)[-1] for a in assets} == {"js", "css"}
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 10_000, asset
    assert "SwaggerUIBundle" in client.get(next(a for a in assets if "bundle" in a)).text
