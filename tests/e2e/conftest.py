"""The API fixtures of ``tests/api`` (an app per test on each database, a real uvicorn server),
with the examples' registry: a bare instance plus ``examples/schemas``."""

from __future__ import annotations

import pytest
from e2e_scenarios import examples_registry
from tests.api.conftest import api, app, live_server

from algaflow.registry import Registry

__all__ = ["api", "app", "live_server"]


@pytest.fixture
def registry() -> Registry:
    return examples_registry()
