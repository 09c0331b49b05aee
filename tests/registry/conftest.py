"""Fixtures for the registry tests: a fresh default registry and a way to run one action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from algaflow.registry import ActionContext, Registry, default_registry

NOW = "2026-01-25T12:00:00.000Z"


@pytest.fixture
def registry() -> Registry:
    return default_registry()


def context(**overrides: Any) -> ActionContext:
    base: dict[str, Any] = {
        "run_id": "run-1",
        "step_path": "root.steps[0]",
        "step_config": None,
        "expression_context": None,
        "tenant_id": None,
        "idempotency_key": None,
        "attempt": 1,
        "now_iso": NOW,
    }
    return ActionContext(**{**base, **overrides})


@pytest.fixture
def invoke(registry: Registry) -> Callable[..., Any]:
    """Run ``<id>@1`` the way the runtime does: parse input, call the handler, parse output."""

    def run(action_id: str, args: dict[str, Any], **ctx: Any) -> Any:
        action = registry.actions.get(action_id, 1)
        assert action is not None, action_id
        return action.parse_output(action.handler(action.parse_input(args), context(**ctx)))

    return run
