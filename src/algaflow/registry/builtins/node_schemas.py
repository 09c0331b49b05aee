"""Config schemas of the eight default node types, as JSON Schema (§1.5).

Strict where Alga's Zod schemas are strict (``additionalProperties: false``). Rules that Zod
states in
``superRefine`` live in ``extra_checks`` functions next to the schema they refine.
"""

from __future__ import annotations

from typing import Any

from algaflow.registry.transforms import compose

EXPR: dict[str, Any] = {
    "type": "object",
    "properties": {"$expr": {"type": "string"}},
    "required": ["$expr"],
}
EXPR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": EXPR}
INPUT_MAPPING: dict[str, Any] = {"type": "object", "additionalProperties": {"anyOf": [EXPR, {}]}}
_NAME = {"type": "string", "minLength": 1}
_SAFE_INT = 2**53 - 1


def _strict(properties: dict[str, Any], *required: str, **extra: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        schema["required"] = list(required)
    return schema


STATE_SET = _strict({"state": _NAME}, "state")

TRANSFORM_ASSIGN = _strict({"assign": EXPR_MAP}, "assign")

ACTION_CALL = _strict(
    {
        "actionId": _NAME,
        "version": {"type": "integer", "exclusiveMinimum": 0},
        "inputMapping": {**INPUT_MAPPING, "default": {}},
        "saveAs": {"type": "string"},
        "idempotencyKey": EXPR,
        "onError": {
            "type": "object",
            "properties": {"policy": {"enum": ["fail", "continue"]}},
            "required": ["policy"],
        },
        "outputs": {"type": "array"},
        "designerGroupKey": _NAME,
        "designerTileKind": {"enum": ["core-object", "transform", "app", "ai"]},
        "designerAppKey": _NAME,
        "aiOutputSchemaMode": {"enum": ["simple", "advanced"]},
        "aiOutputSchema": {"type": "object"},
        "aiOutputSchemaText": {"type": "string"},
    },
    "actionId",
    "version",
)

FILTER_OPS = (
    "=",
    "!=",
    "in",
    "not_in",
    "exists",
    "not_exists",
    ">",
    ">=",
    "<",
    "<=",
    "contains",
    "starts_with",
    "ends_with",
)

EVENT_WAIT = _strict(
    {
        "eventName": _NAME,
        "correlationKey": EXPR,
        "filters": {
            "type": "array",
            "items": _strict(
                {"path": _NAME, "op": {"enum": list(FILTER_OPS)}, "value": {}}, "path", "op"
            ),
        },
        "timeoutMs": {"type": "integer", "exclusiveMinimum": 0},
        "assign": EXPR_MAP,
    },
    "eventName",
    "correlationKey",
)

TIME_WAIT = _strict(
    {
        "mode": {"enum": ["duration", "until"]},
        "durationMs": {"type": "integer", "exclusiveMinimum": 0, "maximum": _SAFE_INT},
        "until": EXPR,
        "assign": EXPR_MAP,
    },
    "mode",
    allOf=[
        {
            "if": {"properties": {"mode": {"const": "duration"}}, "required": ["mode"]},
            "then": {"required": ["durationMs"]},
        },
        {
            "if": {"properties": {"mode": {"const": "until"}}, "required": ["mode"]},
            "then": {"required": ["until"]},
        },
    ],
)

HUMAN_TASK = _strict(
    {
        "taskType": _NAME,
        "title": EXPR,
        "description": EXPR,
        "contextData": EXPR_MAP,
        "assign": EXPR_MAP,
    },
    "taskType",
    "title",
)


def email_config(default_save_as: str) -> dict[str, Any]:
    return _strict(
        {"text": EXPR, "html": EXPR, "saveAs": {"type": "string", "default": default_save_as}}
    )


EMAIL_PARSE_BODY = email_config("payload.parsedEmail")
EMAIL_RENDER_COMMENT_BLOCKS = email_config("payload.commentBlocks")


def event_wait_checks(config: dict[str, Any]) -> list[dict[str, str]]:
    """The ``op``/``value`` rules of ``EventWaitFilter``."""
    issues = []
    for index, item in enumerate(config.get("filters") or []):
        op, has_value, value = item["op"], "value" in item, item.get("value")
        problem = None
        if op in ("in", "not_in"):
            problem = None if isinstance(value, list) else f"op {op} requires an array value"
        elif op in ("exists", "not_exists"):
            problem = f"op {op} does not take a value" if has_value else None
        elif not has_value or isinstance(value, list | dict):
            problem = f"op {op} requires a scalar value"
        elif op in ("contains", "starts_with", "ends_with") and not isinstance(value, str):
            problem = f"op {op} requires a string value"
        if problem:
            issues.append({"path": f"/filters/{index}/value", "message": problem})
    return issues


def action_call_checks(config: dict[str, Any]) -> list[dict[str, str]]:
    """``transform.compose_text`` steps must carry valid ``outputs`` documents."""
    if config.get("actionId") != compose.ACTION_ID or config.get("version") != 1:
        return []
    _, errors = compose.validate_config(config)
    return [{"path": "/outputs", "message": message} for message in errors]
