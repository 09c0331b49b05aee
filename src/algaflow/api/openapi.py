"""``/openapi.json``: FastAPI's document, plus the bundle JSON Schema as named components.

FastAPI documents a 422 ``HTTPValidationError`` on every operation with parameters; this API
answers a refused parameter or body with a 400 ``INVALID_REQUEST`` problem instead (see
:mod:`.errors`), so those entries are removed and each operation keeps its own error answers.

The import body and the export answer reference ``WorkflowBundleV1``: the packaged
``workflow-bundle.v1.schema.json`` itself, its ``definitions`` made components of their own (so
its internal ``$ref`` still resolve inside the OpenAPI document).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from algaflow.bundle.format import load_schema_text

COMPONENTS = "#/components/schemas/"
BUNDLE_COMPONENT = "WorkflowBundleV1"


def bundle_components() -> dict[str, Any]:
    """The bundle schema and each of its definitions, as OpenAPI components."""
    text = load_schema_text().replace('"#/definitions/', f'"{COMPONENTS}{BUNDLE_COMPONENT}.')
    schema: dict[str, Any] = json.loads(text)
    definitions = schema.pop("definitions", {})
    for keyword in ("$schema", "$id"):
        schema.pop(keyword, None)
    return {
        BUNDLE_COMPONENT: schema,
        **{f"{BUNDLE_COMPONENT}.{name}": part for name, part in definitions.items()},
    }


def install_openapi(app: FastAPI) -> None:
    """Build the document once, on first request, with the bundle components added."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _drop_fastapi_validation_errors(schema)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                bundle_components()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


_FASTAPI_ERROR = "#/components/schemas/HTTPValidationError"


def _drop_fastapi_validation_errors(schema: dict[str, Any]) -> None:
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            answers = operation.get("responses", {})
            media = answers.get("422", {}).get("content", {}).get("application/json", {})
            if media.get("schema", {}).get("$ref") == _FASTAPI_ERROR:
                del answers["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
