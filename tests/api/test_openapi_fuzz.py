"""A short schemathesis run over every operation of ``/openapi.json``: nothing may answer 5xx,
and every answer conforms to the published spec (documented status codes, content types and
body schemas, declared headers, ``Allow`` on a 405).

Not checked: that every schema-valid request is accepted, and every schema-violating one refused.
Definitions and bundles are validated far beyond what JSON Schema can say (a refusal is a coded
400/422 with the reasons), and unknown query parameters are ignored, as in Alga's API.

The app runs in-process on a SQLite file with one seeded workflow, authenticated with an admin key
(unauthenticated requests are covered by the route tests). Examples are bounded so the whole
module stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from algaflow.api.app import create_app
from algaflow.config import Settings
from algaflow.registry import default_registry
from algaflow.store import migrate
from algaflow.store import workflows as store
from algaflow.store.api_keys import PERMISSIONS, create_api_key
from algaflow.store.engine import make_engine
from algaflow.store.tenants import create_tenant

SEED = {
    "version": 1,
    "name": "Seed",
    "payloadSchemaRef": "payload.Empty.v1",
    "steps": [{"id": "mark", "type": "state.set", "config": {"state": "STARTED"}}],
}


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'algaflow.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        tenant = create_tenant(conn, "fuzz")["id"]
        _, key = create_api_key(conn, tenant, name="fuzz", permissions=PERMISSIONS)
        store.create_workflow(conn, tenant, key="fuzz.seed", definition=SEED)
    app = create_app(
        Settings(database_url=url, max_body_bytes=200_000),
        engine=engine,
        registry=default_registry(),
    )
    yield app, key
    engine.dispose()


def _operations(app: object) -> list[object]:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in loaded.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_conforms_and_none_is_5xx(fuzz_target, mode):
    app, key = fuzz_target
    headers = {"Authorization": f"Bearer {key}"}
    operations = _operations(app)
    labels = {op.label for op in operations}
    assert {
        "GET /api/workflow-definitions/{workflowId}/export",
        "POST /api/workflow-definitions/export",
        "POST /api/workflow-definitions/import",
    } <= labels
    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:
            # Nothing to break: an operation without parameters or body has no negative cases.
            assert mode is GenerationMode.NEGATIVE, operation.label
