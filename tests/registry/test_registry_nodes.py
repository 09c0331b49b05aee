"""Built-in node types: config schemas (against the Alga corpus too) and node handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import corpus_files

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import NodeContext, NodeTypeDef, NodeTypeRegistry
from algaflow.registry.builtins.html_sanitize import sanitize_html

NOW = "2026-01-25T12:00:00.000Z"


def _steps(steps: Any) -> Iterator[dict[str, Any]]:
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict):
            yield step
            for branch in ("then", "else", "body", "try", "catch"):
                yield from _steps(step.get(branch))


def _corpus_node_steps() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in corpus_files():
        bundle = json.loads(Path(path).read_text(encoding="utf-8"))
        for workflow in bundle.get("workflows", []):
            definitions = [(workflow.get("draft") or {}).get("definition")]
            definitions += [v.get("definition") for v in workflow.get("publishedVersions") or []]
            for index, definition in enumerate(d for d in definitions if d):
                for step in _steps(definition.get("steps")):
                    if not str(step.get("type", "")).startswith("control."):
                        found.append((f"{path.name}:{workflow['key']}:{index}:{step['id']}", step))
    return found


def test_corpus_node_configs_are_accepted(registry) -> None:
    steps = _corpus_node_steps()
    if not steps:
        pytest.skip("../shared/corpus/alga-sample is absent")
    checked = 0
    for where, step in steps:
        node = registry.nodes.get(step["type"])
        assert node is not None, where
        if step.get("config"):
            _, issues = node.validate_config(step["config"])
            assert issues == [], (where, issues)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("node_type", "config"),
    [
        ("state.set", {"state": "DONE"}),
        ("transform.assign", {"assign": {"vars.a": {"$expr": "1"}, "/b": {"$expr": "2"}}}),
        (
            "action.call",
            {
                "actionId": "x.y",
                "version": 1,
                "inputMapping": {
                    "a": {"$expr": "payload.a"},
                    "s": {"$secret": "API_KEY"},
                    "l": [1, {"k": "v"}],
                    "n": None,
                },
                "saveAs": "vars.out",
                "idempotencyKey": {"$expr": "'k'"},
                "onError": {"policy": "continue"},
                "designerGroupKey": "g",
                "designerTileKind": "ai",
                "designerAppKey": "app",
                "aiOutputSchemaMode": "simple",
                "aiOutputSchema": {},
                "aiOutputSchemaText": "{}",
            },
        ),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "payload.id"},
                "timeoutMs": 5,
                "filters": [
                    {"path": "a", "op": "in", "value": [1]},
                    {"path": "b", "op": "exists"},
                    {"path": "c", "op": ">=", "value": None},
                    {"path": "d", "op": "starts_with", "value": "x"},
                ],
                "assign": {"vars.e": {"$expr": "event"}},
            },
        ),
        ("time.wait", {"mode": "duration", "durationMs": 1000}),
        ("time.wait", {"mode": "until", "until": {"$expr": "payload.at"}}),
        (
            "human.task",
            {
                "taskType": "approve",
                "title": {"$expr": "'t'"},
                "contextData": {"k": {"$expr": "1"}},
            },
        ),
        ("email.parseBody", {}),
        ("email.renderCommentBlocks", {"html": {"$expr": "payload.html"}, "saveAs": "blocks"}),
    ],
)
def test_valid_configs(registry, node_type: str, config: dict[str, Any]) -> None:
    _, issues = registry.nodes.get(node_type).validate_config(config)
    assert issues == []


@pytest.mark.parametrize(
    ("node_type", "config", "path"),
    [
        ("state.set", {"state": ""}, "/state"),
        ("state.set", {"state": "x", "extra": 1}, ""),
        ("transform.assign", {"assign": {"vars.a": "literal"}}, "/assign/vars.a"),
        ("transform.assign", {"assign": {"vars.a": {"$expr": 1}}}, "/assign/vars.a/$expr"),
        ("action.call", {"actionId": "x", "version": 0}, "/version"),
        ("action.call", {"actionId": "x", "version": 1.5}, "/version"),
        ("action.call", {"actionId": "x", "version": 1, "unknown": True}, ""),
        (
            "action.call",
            {"actionId": "x", "version": 1, "designerTileKind": "other"},
            "/designerTileKind",
        ),
        ("action.call", {"actionId": "x", "version": 1, "inputMapping": []}, "/inputMapping"),
        (
            "action.call",
            {"actionId": "transform.compose_text", "version": 1, "outputs": []},
            "/outputs",
        ),
        ("event.wait", {"eventName": "E"}, ""),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "x"},
                "filters": [{"path": "a", "op": "in", "value": 1}],
            },
            "/filters/0/value",
        ),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "x"},
                "filters": [{"path": "a", "op": "not_exists", "value": 1}],
            },
            "/filters/0/value",
        ),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "x"},
                "filters": [{"path": "a", "op": "="}],
            },
            "/filters/0/value",
        ),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "x"},
                "filters": [{"path": "a", "op": "!=", "value": [1]}],
            },
            "/filters/0/value",
        ),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "x"},
                "filters": [{"path": "a", "op": "contains", "value": 1}],
            },
            "/filters/0/value",
        ),
        (
            "event.wait",
            {
                "eventName": "E",
                "correlationKey": {"$expr": "x"},
                "filters": [{"path": "a", "op": "like", "value": "x"}],
            },
            "/filters/0/op",
        ),
        ("time.wait", {"mode": "duration"}, ""),
        ("time.wait", {"mode": "until"}, ""),
        ("time.wait", {"mode": "duration", "durationMs": 2**53}, "/durationMs"),
        ("human.task", {"taskType": "t"}, ""),
        ("email.parseBody", {"saveAs": 1}, "/saveAs"),
    ],
)
def test_invalid_configs(registry, node_type: str, config: dict[str, Any], path: str) -> None:
    node = registry.nodes.get(node_type)
    _, issues = node.validate_config(config)
    assert path in [issue["path"] for issue in issues], issues
    with pytest.raises(AlgaflowError) as caught:
        node.parse_config(config)
    assert caught.value.code == "NODE_CONFIG_INVALID"


def test_parse_config_defaults_and_expr_normalisation(registry) -> None:
    parsed = registry.nodes.get("email.parseBody").parse_config({"text": {"$expr": "x", "junk": 1}})
    assert parsed == {"text": {"$expr": "x"}, "saveAs": "payload.parsedEmail"}
    assert registry.nodes.get("action.call").parse_config({"actionId": "a", "version": 1}) == {
        "actionId": "a",
        "version": 1,
        "inputMapping": {},
    }
    with pytest.raises(AlgaflowError):
        registry.nodes.get("state.set").parse_config(None)


def test_interpreter_nodes_have_no_handler(registry) -> None:
    without = sorted(n.id for n in registry.nodes.list() if n.handler is None)
    assert without == ["action.call", "event.wait", "human.task", "time.wait"]


def test_node_registry_rules() -> None:
    nodes = NodeTypeRegistry()
    nodes.register(NodeTypeDef("custom.node", {"type": "object"}))
    with pytest.raises(AlgaflowError) as caught:
        nodes.register(NodeTypeDef("custom.node", {}))
    assert caught.value.code == "REGISTRY_DUPLICATE"
    with pytest.raises(AlgaflowError):
        nodes.register(NodeTypeDef("control.custom", {}))
    assert nodes.has("custom.node") and nodes.ids() == ["custom.node"]


# --- handlers -------------------------------------------------------------------------------------


def _envelope(**payload: Any) -> dict[str, Any]:
    return {"v": 1, "payload": payload, "vars": {}, "meta": {"traceId": "t"}, "error": None}


def _ctx(call_action=None) -> NodeContext:
    def refuse(*_: Any) -> Any:
        raise AssertionError("no action expected")

    return NodeContext("run-1", "root.steps[0]", None, NOW, call_action or refuse)


def _run(registry, node_type: str, envelope: dict[str, Any], config: dict[str, Any], ctx=None):
    node = registry.nodes.get(node_type)
    return node.handler(envelope, node.parse_config(config), ctx or _ctx())


def test_state_set(registry) -> None:
    envelope = _envelope(a=1)
    out = _run(registry, "state.set", envelope, {"state": "DONE"})
    assert out["meta"] == {"traceId": "t", "state": "DONE"} and envelope["meta"] == {"traceId": "t"}


def test_transform_assign_is_sequential_with_node_context(registry) -> None:
    config = {
        "assign": {
            "vars.a": {"$expr": "payload.n + 1"},
            "vars.b": {"$expr": "vars.a * 10"},
            "/out": {"$expr": "meta.traceId"},
        }
    }
    out = _run(registry, "transform.assign", _envelope(n=1), config)
    assert out["vars"] == {"a": 2, "b": 20} and out["payload"] == {"n": 1, "out": "t"}


def test_transform_assign_rejects_unscoped_paths_before_writing(registry) -> None:
    with pytest.raises(AlgaflowError):
        _run(
            registry,
            "transform.assign",
            _envelope(),
            {"assign": {"vars.a": {"$expr": "1"}, "oops": {"$expr": "2"}}},
        )


def test_email_parse_body_uses_the_parser_action(registry) -> None:
    calls = []

    def call(action_id: str, version: int, args: dict[str, Any]) -> Any:
        calls.append((action_id, version, args))
        return {
            "success": True,
            "parsed": {
                "sanitizedText": "Thanks!",
                "confidence": "high",
                "strategy": "s",
                "sanitizedHtml": "<p>Thanks!</p>",
            },
        }

    config = {"text": {"$expr": "payload.body"}, "saveAs": "reply"}
    out = _run(registry, "email.parseBody", _envelope(body=42), config, _ctx(call))
    assert calls == [("parse_email_reply", 1, {"text": "42"})]
    assert out["vars"]["reply"] == {
        "sanitizedText": "Thanks!",
        "sanitizedHtml": "<p>Thanks!</p>",
        "confidence": "high",
        "metadata": {"parser": {"confidence": "high", "strategy": "s", "tokens": None}},
    }


@pytest.mark.parametrize(
    ("result", "warning"),
    [({"success": False}, "parser-unavailable"), (RuntimeError("down"), "parser-error")],
)
def test_email_parse_body_fallback(registry, result: Any, warning: str) -> None:
    def call(*_: Any) -> Any:
        if isinstance(result, Exception):
            raise result
        return result

    html = '<p onclick="x()">Hi <a href="javascript:evil()">x</a></p><script>bad()</script>'
    config = {"text": {"$expr": "payload.text"}, "html": {"$expr": "payload.html"}}
    out = _run(registry, "email.parseBody", _envelope(text="Hi", html=html), config, _ctx(call))
    parsed = out["payload"]["parsedEmail"]
    assert parsed["confidence"] == "low" and parsed["sanitizedText"] == "Hi"
    assert parsed["sanitizedHtml"] == "<p>Hi <a>x</a></p>"
    assert parsed["metadata"]["parser"]["warnings"] == [warning]
    assert parsed["metadata"]["parser"]["rawHtml"] == html


def test_email_render_comment_blocks(registry) -> None:
    blocks = [{"type": "paragraph", "content": [{"type": "text", "text": "converted"}]}]
    calls = []

    def call(action_id: str, version: int, args: dict[str, Any]) -> Any:
        calls.append(action_id)
        return {"success": True, "blocks": blocks}

    config = {"html": {"$expr": "payload.html"}, "text": {"$expr": "payload.text"}}
    out = _run(
        registry,
        "email.renderCommentBlocks",
        _envelope(html="<b>x</b>", text="x"),
        config,
        _ctx(call),
    )
    assert out["payload"]["commentBlocks"] == blocks and calls == ["convert_html_to_blocks"]
    plain = _run(
        registry,
        "email.renderCommentBlocks",
        _envelope(text="just text"),
        {"text": {"$expr": "payload.text"}, "saveAs": "vars.b"},
    )
    assert plain["vars"]["b"] == [
        {"type": "paragraph", "content": [{"type": "text", "text": "just text"}]}
    ]


@given(
    st.lists(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<script>",
                "</script>",
                "<a href='javascript:x()'>",
                "<img src=x onerror=y>",
                '<b onclick="z">',
                "&lt;script&gt;",
                '<a href="&#106;avascript:q">',
                "text",
                "<style>",
                "</style>",
                "<iframe>",
                "\"'",
                "<!-- c -->",
            ]
        ),
        max_size=12,
    )
)
def test_sanitized_html_has_no_active_content(parts: list[str]) -> None:
    out = sanitize_html("".join(parts)) or ""
    lowered = out.lower()
    assert "<script" not in lowered and "<style" not in lowered and "<iframe" not in lowered
    assert "javascript:" not in lowered and "onerror" not in lowered and "onclick" not in lowered
