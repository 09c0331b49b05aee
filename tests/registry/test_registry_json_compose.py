"""JSON transforms and ``transform.compose_text`` rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry.errors import ActionRuntimeError
from algaflow.registry.transforms.json_values import js_stringify

# --- parse / stringify ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{"a": [1, 2.0, 1e2]}', {"value": {"a": [1, 2, 100]}, "type": "object"}),
        ("[]", {"value": [], "type": "array"}),
        ('"x"', {"value": "x", "type": "string"}),
        ("12345678901234567890", {"value": 12345678901234567890.0, "type": "number"}),
        ("true", {"value": True, "type": "boolean"}),
        (" null ", {"value": None, "type": "null"}),
        ({"already": "object"}, {"value": {"already": "object"}, "type": "object"}),
        ([1, "two"], {"value": [1, "two"], "type": "array"}),
    ],
)
def test_parse_json(invoke, source: Any, expected: dict[str, Any]) -> None:
    assert invoke("transform.parse_json", {"source": source}) == expected


@pytest.mark.parametrize("source", ["{", "NaN", "[Infinity]", "1e400", "'x'", ""])
def test_parse_json_failures(invoke, source: str) -> None:
    with pytest.raises(ActionRuntimeError, match=r"^JSON parse failed: "):
        invoke("transform.parse_json", {"source": source})


@pytest.mark.parametrize("source", [1, True, None])
def test_parse_json_rejects_scalars_in_input(invoke, source: Any) -> None:
    with pytest.raises(AlgaflowError) as caught:
        invoke("transform.parse_json", {"source": source})
    assert caught.value.code == "ACTION_INPUT_INVALID"


@pytest.mark.parametrize(
    ("source", "spacing", "expected"),
    [
        ({"b": 1.0, "a": [1.5, None, "é\n"]}, None, '{"b":1,"a":[1.5,null,"é\\n"]}'),
        ({"b": 1, "2": 2, "1": 1}, 0, '{"1":1,"2":2,"b":1}'),
        ({"a": [1, {}], "e": []}, 2, '{\n  "a": [\n    1,\n    {}\n  ],\n  "e": []\n}'),
        (1e21, None, "1e+21"),
        ("\u2028\x7f\x1f", None, '"\u2028\x7f\\u001f"'),
    ],
)
def test_stringify_json(invoke, source: Any, spacing: int | None, expected: str) -> None:
    args = {"source": source} if spacing is None else {"source": source, "spacing": spacing}
    assert invoke("transform.stringify_json", args) == {"text": expected}


def test_stringify_spacing_bounds(invoke) -> None:
    with pytest.raises(AlgaflowError):
        invoke("transform.stringify_json", {"source": 1, "spacing": 9})


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(_json, st.integers(0, 8))
def test_stringify_round_trips_through_json(value: Any, spacing: int) -> None:
    assert json.loads(js_stringify(value, spacing)) == value


# --- query_json ---------------------------------------------------------------------------------


def test_query_json_uses_context_and_source(invoke) -> None:
    ctx = {"vars": {"n": 2}, "source": "shadowed", "payload": {}}
    out = invoke(
        "transform.query_json",
        {"source": {"items": [1, 2, 3]}, "expression": "len(source.items) * vars.n"},
        expression_context=ctx,
    )
    assert out == {"value": 6}


@pytest.mark.parametrize(
    ("expression", "prefix"),
    [
        ("$count(source)", "JSON query expression validation failed: "),
        ("source.(", "JSON query expression validation failed: "),
        ("source.missing", "JSON query expression evaluation failed: "),
    ],
)
def test_query_json_errors(invoke, expression: str, prefix: str) -> None:
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.query_json", {"source": {"a": 1}, "expression": expression})
    assert caught.value.message.startswith(prefix)


# --- compose_text ---------------------------------------------------------------------------------


def _text(text: str, *marks: str, href: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text, "marks": list(marks)}
    return {**node, "href": href} if href else node


def _ref(path: str) -> dict[str, Any]:
    return {"type": "reference", "path": path, "label": path}


def _config(*outputs: dict[str, Any]) -> dict[str, Any]:
    return {"actionId": "transform.compose_text", "version": 1, "outputs": list(outputs)}


def _output(key: str, blocks: list[dict[str, Any]], label: str | None = None) -> dict[str, Any]:
    return {
        "id": f"id-{key}",
        "label": label or key,
        "stableKey": key,
        "document": {"version": 1, "blocks": blocks},
    }


CONTEXT = {
    "payload": {"ticket": {"id": 7, "tags": ["a", "b"], "title": "Printer"}, "flag": False},
    "vars": {"none": None, "items": [{"n": 1}]},
}


def _compose(invoke, *outputs: dict[str, Any]) -> dict[str, str]:
    return invoke(
        "transform.compose_text", {}, step_config=_config(*outputs), expression_context=CONTEXT
    )


def test_compose_text_renders_markdown(invoke) -> None:
    blocks = [
        {"type": "heading", "level": 2, "children": [_text("Ticket "), _ref("payload.ticket.id")]},
        {
            "type": "paragraph",
            "children": [
                _text("bold", "bold", "italic"),
                _text(" "),
                _text("x", "code", "bold"),
                _text(" "),
                _text("site", "link", href="https://example.com"),
                _text(""),
                _text("", "bold"),
            ],
        },
        {"type": "bullet_list_item", "children": [_ref("payload.ticket.tags[1]")]},
        {"type": "bullet_list_item", "children": [_ref("vars.items[0].n")]},
        {"type": "ordered_list_item", "children": [_ref("payload.flag")]},
        {"type": "ordered_list_item", "children": [_ref("vars.none")]},
        {"type": "blockquote", "children": [_text("line1\nline2")]},
        {"type": "code_block", "text": "print(1)"},
        {"type": "code_block", "text": "a ``` b"},
        {
            "type": "paragraph",
            "children": [_ref("payload.ticket.tags"), _text(" "), _ref("vars.items.length")],
        },
    ]
    out = _compose(invoke, _output("summary", blocks), _output("empty", [], label="Other"))
    assert out == {
        "summary": (
            "## Ticket 7\n\n"
            "_**bold**_ **`x`** [site](https://example.com)\n\n"
            "- b\n- 1\n\n"
            "1. false\n2. null\n\n"
            "> line1  \n> line2\n\n"
            "```\nprint(1)\n```\n\n"
            "````\na ``` b\n````\n\n"
            '["a","b"] 1'
        ),
        "empty": "",
    }


def test_compose_text_missing_reference(invoke) -> None:
    blocks = [{"type": "paragraph", "children": [_ref("payload.ticket.nope")]}]
    with pytest.raises(ActionRuntimeError) as caught:
        _compose(invoke, _output("body", blocks))
    error = caught.value
    assert (error.category, error.code) == ("ValidationError", "MISSING_REFERENCE")
    assert error.message == 'Compose Text output "body" is missing reference "payload.ticket.nope".'
    assert error.details == {
        "outputKey": "body",
        "referencePath": "payload.ticket.nope",
        "referenceLabel": "payload.ticket.nope",
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"actionId": "transform.compose_text", "version": 1},
            "Compose Text requires at least one output.",
        ),
        (_config(), "Compose Text requires at least one output."),
        ({**_config(_output("a", [])), "version": 2}, "Compose Text config requires version 1."),
        (_config(_output("Bad-Key", [])), "Stable keys must be lowercase snake_case identifiers."),
        (
            _config(_output("a", []), _output("a", [], label="B")),
            "Stable keys must be unique within the step.",
        ),
        (
            _config(_output("a", [], label=" Same "), _output("b", [], label="same")),
            "Output labels must be unique within the step.",
        ),
        (
            _config(_output("a", [{"type": "paragraph", "children": [_text("x", "link")]}])),
            "Text nodes using the link mark require href.",
        ),
        (
            _config(
                _output("a", [{"type": "paragraph", "children": [_text("x", href="https://e.x")]}])
            ),
            "href is only supported when the link mark is present.",
        ),
        (
            _config(_output("a", [{"type": "paragraph", "children": [_ref("payload.a-b")]}])),
            "Reference paths must be simple workflow references.",
        ),
        (_config(_output("a", [{"type": "table"}])), "Invalid discriminator value."),
    ],
)
def test_compose_text_invalid_config(invoke, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.compose_text", {}, step_config=config, expression_context=CONTEXT)
    assert (caught.value.category, caught.value.code) == (
        "ValidationError",
        "INVALID_COMPOSE_TEXT_CONFIG",
    )
    assert caught.value.message.startswith(message)
    assert caught.value.details["errors"][0] == caught.value.message


def test_compose_text_input_is_strict(invoke) -> None:
    with pytest.raises(AlgaflowError) as caught:
        invoke("transform.compose_text", {"anything": 1}, step_config=_config(_output("a", [])))
    assert caught.value.code == "ACTION_INPUT_INVALID"
