"""Node-handler assignments (reference §2.8, normaliser (1))."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.expressions import MappingError, apply_node_assignments, is_valid_node_assign_path
from algaflow.kernel.errors import AlgaflowError


def envelope() -> dict[str, Any]:
    return {
        "payload": {"ticket": {"id": 1}, "list": [1, 2]},
        "vars": {"count": 1},
        "meta": {"state": "open"},
        "error": None,
    }


@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("payload.a", True),
        ("vars.a.b.c", True),
        ("meta.state", True),
        ("error.message", True),
        ("/ticket/id", True),
        ("/", True),
        ("vars.a[0]", True),  # a literal key, no index syntax
        ("payload", False),
        ("vars", False),
        ("local.x", False),
        ("x", False),
        ("", False),
        (" vars.x", False),
        ("vars.__proto__", False),
        ("vars.a.prototype", False),
        ("payload.constructor.x", False),
        ("/__proto__/x", False),
    ],
)
def test_path_validity(path: str, valid: bool) -> None:
    assert is_valid_node_assign_path(path) is valid


@given(st.text())
def test_path_validity_model(path: str) -> None:
    scoped = path.startswith(("payload.", "vars.", "meta.", "error.", "/"))
    forbidden = {"__proto__", "prototype", "constructor"} & set(path.replace("/", ".").split("."))
    if not forbidden:
        assert is_valid_node_assign_path(path) is scoped
    elif not scoped:
        assert not is_valid_node_assign_path(path)


def test_entries_are_sequential_and_see_earlier_writes() -> None:
    result = apply_node_assignments(
        envelope(),
        {
            "vars.count": {"$expr": "vars.count + 1"},
            "vars.double": {"$expr": "vars.count * 2"},
            "payload.ticket.title": {"$expr": "'T' & toString(payload.ticket.id)"},
            "meta.state": "closed",
        },
    )
    assert result["vars"] == {"count": 2, "double": 4}
    assert result["payload"]["ticket"] == {"id": 1, "title": "T1"}
    assert result["meta"] == {"state": "closed"}


def test_the_input_envelope_is_not_changed() -> None:
    original = envelope()
    result = apply_node_assignments(original, {"payload.ticket.id": 2, "vars.new": [1]})
    assert original == envelope()
    assert result["payload"]["ticket"]["id"] == 2
    assert result["payload"]["list"] is not original["payload"]["list"]


def test_json_pointer_paths_are_relative_to_payload() -> None:
    result = apply_node_assignments(envelope(), {"/ticket/id": 5, "/a~1b/c~0d": True})
    assert result["payload"]["ticket"]["id"] == 5
    assert result["payload"]["a/b"] == {"c~d": True}


def test_intermediate_non_objects_are_replaced_and_brackets_are_keys() -> None:
    result = apply_node_assignments(
        envelope(), {"payload.list.x": 1, "vars.count.deep": 2, "vars.a[0]": 3}
    )
    assert result["payload"]["list"] == {"x": 1}
    assert result["vars"]["count"] == {"deep": 2}
    assert result["vars"]["a[0]"] == 3


def test_error_writes_create_an_error() -> None:
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    result = apply_node_assignments(envelope(), {"error.code": "E1"}, now=moment)
    assert result["error"] == {"message": "", "at": "2026-03-01T08:30:00.000Z", "code": "E1"}
    existing = {**envelope(), "error": {"message": "boom"}}
    assert apply_node_assignments(existing, {"error.code": "E2"}, now=moment)["error"] == {
        "message": "boom",
        "code": "E2",
    }


def test_all_paths_are_checked_before_anything_runs() -> None:
    calls: list[Any] = []

    def evaluate(value: Any, context: dict[str, Any]) -> Any:
        calls.append(value)
        return value

    with pytest.raises(AlgaflowError) as caught:
        apply_node_assignments(envelope(), {"vars.ok": 1, "oops": 2, "vars.__proto__": 3}, evaluate)
    assert caught.value.code == "INVALID_ASSIGN_PATH"
    assert caught.value.message == (
        "Assignment path must be scoped (payload/vars/meta/error or JSON pointer): oops"
    )
    assert caught.value.details == {"paths": ["oops", "vars.__proto__"]}
    assert calls == []


def test_custom_evaluator_gets_context_b() -> None:
    seen: list[dict[str, Any]] = []

    def evaluate(value: Any, context: dict[str, Any]) -> Any:
        seen.append(context)
        return context["vars"]  # returning part of the context must not alias it

    result = apply_node_assignments(envelope(), {"vars.copy": None}, evaluate)
    assert list(seen[0]) == ["payload", "vars", "meta", "error"]
    assert result["vars"]["copy"] == {"count": 1}
    assert result["vars"]["copy"] is not result["vars"]


def test_an_evaluation_failure_leaves_nothing_written() -> None:
    original = envelope()
    with pytest.raises(MappingError) as caught:
        apply_node_assignments(original, {"vars.a": 1, "vars.b": {"$expr": "vars.missing"}})
    assert caught.value.category == "ExpressionError"
    assert original == envelope()
