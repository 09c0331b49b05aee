"""Evaluation contexts (reference §2.6): key order, overrides, and what expressions can see."""

from __future__ import annotations

from algaflow.expressions import (
    build_interpreter_context,
    build_node_context,
    compile_expression,
)

SYSTEM = {
    "runId": "run-1",
    "workflowId": "wf-1",
    "workflowVersion": 3,
    "tenantId": "t-1",
    "definitionHash": "abc",
    "runtimeSemanticsVersion": "2026-04-08.temporal-native.v1",
}


def interpreter_context(**overrides: object) -> dict:
    arguments = {
        "payload": {"ticketId": "T1"},
        "vars": {"event": {"name": "e"}, "payload": "shadowed", "item": "from vars"},
        "lexical": [{"item": "outer"}, {"item": "inner", "index": 1}],
        "meta": {"state": "open", "runId": "stale"},
        "error": None,
        "system": SYSTEM,
    }
    arguments.update(overrides)
    return build_interpreter_context(**arguments)  # type: ignore[arg-type]


def test_interpreter_context_order_and_overrides() -> None:
    context = interpreter_context()
    assert list(context) == [
        "event", "payload", "item", "index", "vars", "local", "system", "meta", "error",
    ]  # fmt: skip
    assert context["payload"] == {"ticketId": "T1"}  # the named key wins over the spread var
    assert context["item"] == "inner"  # the top lexical scope wins over vars
    assert context["local"] == {"item": "inner", "index": 1}
    assert context["vars"]["item"] == "from vars"
    assert context["system"] == SYSTEM
    assert context["meta"] == {"state": "open", **SYSTEM}  # system fields win
    assert context["error"] is None


def test_interpreter_context_without_loops() -> None:
    context = interpreter_context(lexical=[], error={"message": "boom"})
    assert context["local"] == {}
    assert context["error"] == {"message": "boom"}
    assert "index" not in context


def test_bare_names_resolve_to_vars_and_locals() -> None:
    context = interpreter_context()
    assert compile_expression("event.name").evaluate(context) == "e"
    assert compile_expression("item & '/' & local.item").evaluate(context) == "inner/inner"
    assert compile_expression("meta.runId").evaluate(context) == "run-1"


def test_node_context_is_exactly_four_keys() -> None:
    context = build_node_context(payload={"a": 1}, vars={"x": 2}, meta={"m": 3}, error=None)
    assert context == {"payload": {"a": 1}, "vars": {"x": 2}, "meta": {"m": 3}, "error": None}
    assert list(context) == ["payload", "vars", "meta", "error"]
    assert compile_expression("x").evaluate({**context, "x": 1}) == 1
    assert compile_expression("vars.x").evaluate(context) == 2
