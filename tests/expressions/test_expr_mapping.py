"""Mapping resolution (reference §2.7): $expr, $secret, nested literals and JSON-pointer paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.expressions import (
    MappingError,
    is_expr,
    is_secret_ref,
    resolve_expressions,
    resolve_input_mapping,
    resolve_mapping_value,
)

CONTEXT = {"payload": {"id": 7, "name": "Ada"}, "vars": {"n": 2}}


class Secrets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[tuple[str, str | None]] = []

    def resolve(self, name: str, run_id: str | None) -> str:
        self.calls.append((name, run_id))
        if name not in self.values:
            raise KeyError(f"unknown secret {name}")
        return self.values[name]


def mapping_error(value: object, **kwargs: object) -> MappingError:
    with pytest.raises(MappingError) as caught:
        resolve_mapping_value(value, CONTEXT, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"$expr": "x"}, True),
        ({"$expr": ""}, True),
        ({"$expr": "x", "other": 1}, True),
        ({"$expr": 5}, False),
        ({"$expr": None}, False),
        ({"expr": "x"}, False),
        ("x", False),
        (["$expr"], False),
    ],
)
def test_is_expr(value: object, expected: bool) -> None:
    assert is_expr(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"$secret": "API_KEY"}, True),
        ({"$secret": ""}, False),
        ({"$secret": "A", "x": 1}, False),
        ({"$secret": 1}, False),
        ("API_KEY", False),
    ],
)
def test_is_secret_ref(value: object, expected: bool) -> None:
    assert is_secret_ref(value) is expected


def test_nested_literals_are_resolved_recursively() -> None:
    value = {
        "to": {"$expr": "payload.name"},
        "patch": {"priority": {"$expr": "vars.n * 10"}, "fixed": [1, {"$expr": "payload.id"}]},
        "flag": True,
        "nothing": None,
        "odd": {"$expr": 5},  # not an Expr: a literal object
    }
    assert resolve_mapping_value(value, CONTEXT) == {
        "to": "Ada",
        "patch": {"priority": 20, "fixed": [1, 7]},
        "flag": True,
        "nothing": None,
        "odd": {"$expr": 5},
    }


def test_literals_are_copied_not_shared() -> None:
    literal = {"list": [1, 2]}
    resolved = resolve_mapping_value(literal, CONTEXT)
    assert resolved == literal
    assert resolved is not literal and resolved["list"] is not literal["list"]


def test_evaluation_failure_is_an_expression_error_with_its_pointer() -> None:
    value = {"patch": {"priority_id": {"$expr": "payload.missing"}}}
    error = mapping_error(value)
    assert error.category == "ExpressionError"
    assert error.path == "/patch/priority_id"
    assert error.code == "EXPRESSION_UNDEFINED_RESULT"
    assert error.message == "Expression result is not JSON-serializable"
    assert error.to_dict()["path"] == "/patch/priority_id"


def test_pointer_escapes_and_array_indexes() -> None:
    error = mapping_error({"a/b": {"c~d": [0, {"$expr": "1/0"}]}})
    assert error.path == "/a~1b/c~0d/1"


def test_compile_failure_is_an_action_error() -> None:
    error = mapping_error({"x": {"$expr": "$string(1)"}})
    assert error.category == "ActionError"
    assert error.code == "EXPRESSION_DISALLOWED_FUNCTION"
    assert error.message == "Expression uses disallowed function: string"
    assert error.path == "/x"


def test_secrets_resolve_and_are_recorded_for_redaction() -> None:
    secrets = Secrets({"API_KEY": "s3cr3t"})
    redact: list[str] = []
    resolved = resolve_input_mapping(
        {"headers": {"auth": {"$secret": "API_KEY"}}, "list": [{"$secret": "API_KEY"}], "n": 1},
        CONTEXT,
        secret_resolver=secrets,
        run_id="run-9",
        redaction_paths=redact,
    )
    assert resolved == {"headers": {"auth": "s3cr3t"}, "list": ["s3cr3t"], "n": 1}
    assert redact == ["/headers/auth", "/list/0"]
    assert secrets.calls == [("API_KEY", "run-9"), ("API_KEY", "run-9")]


def test_secret_failures_are_action_errors() -> None:
    error = mapping_error({"k": {"$secret": "NOPE"}}, secret_resolver=Secrets({}))
    assert error.category == "ActionError"
    assert error.code == "SECRET_RESOLUTION_FAILED"
    assert error.message.startswith('Failed to resolve secret "NOPE": ')
    assert error.path == "/k"
    missing = mapping_error({"$secret": "API_KEY"})
    assert missing.message == 'Failed to resolve secret "API_KEY": no secret resolver is configured'
    assert missing.path == ""


def test_input_mapping_none_and_empty() -> None:
    assert resolve_input_mapping(None, CONTEXT) is None
    assert resolve_input_mapping({}, CONTEXT) == {}


def test_resolve_expressions_leaves_secrets_alone() -> None:
    value = {"a": {"$secret": "API_KEY"}, "b": {"$expr": "vars.n"}}
    assert resolve_expressions(value, CONTEXT) == {"a": {"$secret": "API_KEY"}, "b": 2}


json_literals = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text().filter(lambda k: not k.startswith("$")), children, max_size=4)
    ),
    max_leaves=15,
)


@given(json_literals)
def test_plain_literals_resolve_to_themselves(value: object) -> None:
    assert resolve_mapping_value(value, CONTEXT) == value
