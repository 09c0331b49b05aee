"""The examples' registry (a bare instance plus ``examples/schemas``) for the API fixtures of
``tests.fixtures.api`` (an app per test on each database, a real uvicorn server)."""

from __future__ import annotations

import pytest
from tests.e2e.e2e_scenarios import examples_registry

from algaflow.registry import Registry


@pytest.fixture
def registry() -> Registry:
    return examples_registry()
