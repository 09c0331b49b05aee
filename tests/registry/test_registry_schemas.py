"""Zod-like parsing of action input/output and the payload schema registry."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import ActionDef, ActionRegistry, SchemaRegistry, default_registry
from algaflow.registry.errors import ActionSchemaError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "count": {"type": "integer", "default": 3},
        "nested": {
            "type": "object",
            "properties": {"keep": {"type": "boolean", "default": False}},
            "default": {},
        },
        "record": {"type": "object", "additionalProperties": {"type": "number"}},
        "passthrough": {"type": "object", "properties": {"a": {}}, "additionalProperties": True},
        "strict": {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
        "list": {"type": "array", "items": {"type": "object", "properties": {"x": {}}}},
        "choice": {
            "anyOf": [
                {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]},
                {"type": "null"},
            ]
        },
    },
    "required": ["name"],
}


def _action(**overrides: Any) -> ActionDef:
    base: dict[str, Any] = {
        "id": "test.echo",
        "version": 1,
        "input_schema": SCHEMA,
        "output_schema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
        },
        "handler": lambda args, ctx: {"ok": True},
    }
    return ActionDef(**{**base, **overrides})


def test_parse_input_applies_defaults_and_strips_in_schema_order() -> None:
    parsed = _action().parse_input(
        {
            "extra": 1,
            "record": {"a": 1, "b": 2.5},
            "passthrough": {"a": 1, "b": 2},
            "list": [{"x": 1, "y": 2}],
            "choice": {"k": "v", "junk": 1},
            "name": "n",
        }
    )
    assert parsed == {
        "name": "n",
        "count": 3,
        "nested": {"keep": False},
        "record": {"a": 1, "b": 2.5},
        "passthrough": {"a": 1, "b": 2},
        "list": [{"x": 1}],
        "choice": {"k": "v"},
    }
    assert list(parsed) == ["name", "count", "nested", "record", "passthrough", "list", "choice"]


def test_parse_input_does_not_modify_its_argument() -> None:
    args = {"name": "n", "junk": 1}
    _action().parse_input(args)
    assert args == {"name": "n", "junk": 1}


def test_null_is_not_missing() -> None:
    with pytest.raises(ActionSchemaError):
        _action().parse_input({"name": "n", "count": None})


@pytest.mark.parametrize(
    ("args", "path"),
    [
        ({}, ""),
        ({"name": ""}, "/name"),
        ({"name": "n", "count": "3"}, "/count"),  # no coercion
        ({"name": "n", "count": True}, "/count"),
        ({"name": "n", "strict": {"a": 1, "b": 2}}, "/strict"),
        ({"name": "n", "record": {"a": "x"}}, "/record/a"),
        ({"name": "n", "choice": {"junk": 1}}, "/choice"),
        (["name"], ""),
    ],
)
def test_parse_input_errors(args: Any, path: str) -> None:
    with pytest.raises(ActionSchemaError) as caught:
        _action().parse_input(args)
    error = caught.value
    assert error.code == "ACTION_INPUT_INVALID"
    assert path in [issue["path"] for issue in error.details["issues"]]
    assert "test.echo@1" in error.message


def test_parse_output_strips_and_validates() -> None:
    action = _action()
    assert action.parse_output({"ok": True, "secret": "x"}) == {"ok": True}
    with pytest.raises(ActionSchemaError) as caught:
        action.parse_output({"ok": "yes"})
    assert caught.value.code == "ACTION_OUTPUT_INVALID"


def test_action_registry_rules() -> None:
    actions = ActionRegistry()
    actions.register(_action())
    actions.register(_action(version=2))
    with pytest.raises(AlgaflowError) as caught:
        actions.register(_action())
    assert caught.value.code == "REGISTRY_DUPLICATE"
    with pytest.raises(AlgaflowError) as caught:
        actions.register(_action(id="side.effect", side_effectful=True))
    assert caught.value.code == "REGISTRY_INVALID"
    assert actions.versions("test.echo") == [1, 2]
    assert actions.get("test.echo", 2) is not None
    assert actions.get("test.echo", 3) is None and actions.get("test.echo", True) is None
    assert [a.key for a in actions.list()] == ["test.echo@1", "test.echo@2"]


def test_default_registry_contents_and_independence() -> None:
    first, second = default_registry(), default_registry()
    assert len(first.actions) == 21 and len(first.nodes) == 8
    for action in first.actions.list():
        assert (action.version, action.side_effectful, action.idempotency, action.category) == (
            1,
            False,
            "engineProvided",
            "Transform",
        )
    first.actions.get("transform.trim_text", 1).handler = lambda a, c: {"text": "stub"}
    first.actions.register(_action())
    assert second.actions.get("test.echo", 1) is None
    assert (
        second.actions.get("transform.trim_text", 1).handler
        is not first.actions.get("transform.trim_text", 1).handler
    )


# --- schema registry -------------------------------------------------------------------------

TICKET = {
    "type": "object",
    "properties": {
        "ticketId": {"type": "string", "format": "uuid"},
        "occurredAt": {"type": "string", "format": "date-time"},
        "meta": {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
    },
    "required": ["ticketId"],
    "additionalProperties": False,
}
UUID = "123e4567-e89b-42d3-a456-426614174000"


def test_non_strict_schema_accepts_unknown_keys_everywhere() -> None:
    schemas = SchemaRegistry()
    schemas.register("payload.Ticket.v1", TICKET)
    assert schemas.validate("payload.Ticket.v1", {"ticketId": UUID, "x": 1, "meta": {"b": 1}}) == []
    issues = schemas.validate("payload.Ticket.v1", {"ticketId": "nope"})
    assert issues and issues[0]["path"] == "/ticketId"


def test_strict_schema_rejects_unknown_keys() -> None:
    schemas = SchemaRegistry()
    schemas.register("payload.Ticket.v1", TICKET, strict=True)
    assert schemas.is_strict("payload.Ticket.v1")
    assert [
        i["path"] for i in schemas.validate("payload.Ticket.v1", {"ticketId": UUID, "x": 1})
    ] == [""]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-01-25T12:00:00Z", True),
        ("2026-01-25T12:00:00.123456Z", True),
        ("2024-02-29T00:00:00Z", True),
        ("2023-02-29T00:00:00Z", False),
        ("2026-01-25T12:00:00+01:00", False),  # Zod's datetime(): UTC only
        ("2026-01-25 12:00:00Z", False),
        ("2026-01-25T24:00:00Z", False),
        ("2026-01-25T12:00Z", False),
    ],
)
def test_datetime_format_is_zod_like(value: str, ok: bool) -> None:
    schemas = SchemaRegistry()
    schemas.register("payload.Ticket.v1", TICKET)
    assert (
        schemas.validate("payload.Ticket.v1", {"ticketId": UUID, "occurredAt": value}) == []
    ) is ok


def test_wrapped_form_round_trip_and_errors() -> None:
    schemas = SchemaRegistry()
    wrapped = {
        "$ref": "#/definitions/payload.T.v1",
        "definitions": {"payload.T.v1": TICKET},
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    schemas.register("payload.T.v1", wrapped)
    assert schemas.get("payload.T.v1") == TICKET
    assert schemas.to_json_schema("payload.T.v1") == wrapped
    schemas.to_json_schema("payload.T.v1")["definitions"]["payload.T.v1"]["type"] = "array"
    assert schemas.get("payload.T.v1")["type"] == "object"
    with pytest.raises(AlgaflowError) as caught:
        schemas.register("payload.T.v1", TICKET)
    assert caught.value.code == "REGISTRY_DUPLICATE"
    with pytest.raises(AlgaflowError) as caught:
        schemas.validate("payload.Missing.v1", {})
    assert caught.value.code == "SCHEMA_NOT_FOUND"
    with pytest.raises(AlgaflowError) as caught:
        schemas.register("payload.Bad.v1", {"type": "nope"})
    assert caught.value.code == "REGISTRY_INVALID"
    assert schemas.get("payload.Missing.v1") is None and schemas.refs() == ["payload.T.v1"]


def test_builtin_payload_schemas(registry) -> None:
    schemas = registry.schemas
    assert schemas.validate("payload.Empty.v1", {}) == []
    assert schemas.validate("payload.Empty.v1", {"x": 1})
    clock = {
        "triggerType": "recurring",
        "scheduleId": "s1",
        "scheduledFor": "2026-01-25T12:00:00.000Z",
        "firedAt": "2026-01-25T12:00:01.000Z",
        "timezone": "UTC",
        "workflowId": "w",
        "workflowVersion": 1,
        "cron": "*/5 * * * *",
    }
    assert schemas.validate("payload.WorkflowClockTrigger.v1", clock) == []
    for bad in (
        {**clock, "extra": 1},
        {**clock, "workflowVersion": 0},
        {**clock, "cron": ""},
        {**clock, "triggerType": "event"},
        {k: v for k, v in clock.items() if k != "firedAt"},
    ):
        assert schemas.validate("payload.WorkflowClockTrigger.v1", bad), bad
    assert schemas.validate("payload.EmailWorkflowPayload.v1", {"emailData": {}, "any": 1}) == []
    assert schemas.to_json_schema("payload.Empty.v1")["$ref"] == "#/definitions/payload.Empty.v1"


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=5))
def test_empty_schema_accepts_only_the_empty_object(value: dict[str, Any]) -> None:
    registry = default_registry()
    assert (registry.schemas.validate("payload.Empty.v1", value) == []) is (value == {})
