"""The strict workflow definition model (Alga's ``workflowDefinitionSchema``), hand-written.

Why not pydantic: Alga's schema normalises while it checks (Exprs lose extra keys, retry defaults
are filled) and must report *every* problem with a step path (``root.steps[1].then.steps[0]``).
Small parser functions that take ``(value, path, issues)`` and return the normalised value do both
in one pass, keep the output plain JSON, and word messages the way Zod does, so that messages
users saw in Alga look the same here.

Every parser returns the normalised value, or :data:`BAD` after appending at least one issue.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry.builtins.node_schemas import FILTER_OPS

from .codes import INVALID_WORKFLOW_DEFINITION
from .paths import ROOT, step_path

Issue = dict[str, str]
Parser = Callable[[Any, str, list[Issue]], Any]


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


#: What a parser returns when the value failed (its issues are already recorded).
BAD: Final = _Bad()
MAX_SAFE_INTEGER = 2**53 - 1

FOREACH_CONCURRENCY_MESSAGE = (
    "control.forEach concurrency > 1 is not supported in Temporal-native runtime v1"
)


# --- primitives ------------------------------------------------------------------------------


def type_name(value: Any) -> str:
    """Zod's name for the JSON type of ``value`` (used in "Expected X, received Y")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expected(expected: str, value: Any, path: str, issues: list[Issue]) -> _Bad:
    issues.append({"path": path, "message": f"Expected {expected}, received {type_name(value)}"})
    return BAD


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def string(min_len: int = 0) -> Parser:
    def parse(value: Any, path: str, issues: list[Issue]) -> Any:
        if not isinstance(value, str):
            return _expected("string", value, path, issues)
        if len(value) < min_len:
            issues.append(
                {"path": path, "message": f"String must contain at least {min_len} character(s)"}
            )
            return BAD
        return value

    return parse


def integer(*, minimum: int = 1, safe: bool = False) -> Parser:
    """An integer >= ``minimum``; integral floats (``1.0``) are JS integers and become ints."""

    def parse(value: Any, path: str, issues: list[Issue]) -> Any:
        if not _is_number(value):
            return _expected("number", value, path, issues)
        if isinstance(value, float):
            if not value.is_integer():
                issues.append({"path": path, "message": "Expected integer, received float"})
                return BAD
            value = int(value)
        if value < minimum:
            relation = "greater than 0" if minimum == 1 else f"greater than or equal to {minimum}"
            issues.append({"path": path, "message": f"Number must be {relation}"})
            return BAD
        if safe and value > MAX_SAFE_INTEGER:
            issues.append(
                {
                    "path": path,
                    "message": f"Number must be less than or equal to {MAX_SAFE_INTEGER}",
                }
            )
            return BAD
        return value

    return parse


def positive_number(value: Any, path: str, issues: list[Issue]) -> Any:
    if not _is_number(value):
        return _expected("number", value, path, issues)
    if value <= 0:
        issues.append({"path": path, "message": "Number must be greater than 0"})
        return BAD
    return value


def boolean(value: Any, path: str, issues: list[Issue]) -> Any:
    return value if isinstance(value, bool) else _expected("boolean", value, path, issues)


def unknown(value: Any, path: str, issues: list[Issue]) -> Any:
    return value


def enum(*allowed: str) -> Parser:
    expected = " | ".join(f"'{a}'" for a in allowed)

    def parse(value: Any, path: str, issues: list[Issue]) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        shown = f"'{value}'" if isinstance(value, str) else type_name(value)
        issues.append(
            {"path": path, "message": f"Invalid enum value. Expected {expected}, received {shown}"}
        )
        return BAD

    return parse


def array(item: Parser) -> Parser:
    def parse(value: Any, path: str, issues: list[Issue]) -> Any:
        if not isinstance(value, list):
            return _expected("array", value, path, issues)
        out = [item(v, f"{path}[{i}]", issues) for i, v in enumerate(value)]
        return BAD if any(v is BAD for v in out) else out

    return parse


def record(value_parser: Parser) -> Parser:
    def parse(value: Any, path: str, issues: list[Issue]) -> Any:
        if not isinstance(value, dict):
            return _expected("object", value, path, issues)
        out = {k: value_parser(v, f"{path}.{k}", issues) for k, v in value.items()}
        return BAD if any(v is BAD for v in out.values()) else out

    return parse


Check = Callable[[dict[str, Any], str, list[Issue]], None]


def obj(
    fields: Mapping[str, tuple[bool, Parser]],
    *,
    defaults: Mapping[str, Any] | None = None,
    check: Check | None = None,
) -> Parser:
    """A strict object: unknown keys are refused, ``(required, parser)`` per field.

    The output keeps the input's key order; defaults for absent fields are appended. ``check``
    runs on the parsed object for cross-field rules and appends its own issues.
    """

    def parse(value: Any, path: str, issues: list[Issue]) -> Any:
        if not isinstance(value, dict):
            return _expected("object", value, path, issues)
        before = len(issues)
        extra = [k for k in value if k not in fields]
        if extra:
            listed = ", ".join(f"'{k}'" for k in extra)
            issues.append({"path": path, "message": f"Unrecognized key(s) in object: {listed}"})
        out: dict[str, Any] = {}
        for key, raw in value.items():
            if key in fields:
                out[key] = fields[key][1](raw, f"{path}.{key}", issues)
        for key, (required, _) in fields.items():
            if required and key not in value:
                issues.append({"path": f"{path}.{key}", "message": "Required"})
        for key, default in (defaults or {}).items():
            out.setdefault(key, default)
        if check is not None and len(issues) == before:
            check(out, path, issues)
        return out if len(issues) == before else BAD

    return parse


# --- value forms (§1.2) ----------------------------------------------------------------------


def expr(value: Any, path: str, issues: list[Issue]) -> Any:
    """``{"$expr": src}``; other keys are dropped and an absent ``$expr`` becomes ``""``."""
    if not isinstance(value, dict):
        return _expected("object", value, path, issues)
    source = value.get("$expr", "")
    if not isinstance(source, str):
        return _expected("string", source, f"{path}.$expr", issues)
    return {"$expr": source}


secret_ref = obj({"$secret": (True, string(1))})


def mapping_value(value: Any, path: str, issues: list[Issue]) -> Any:
    """Expr, SecretRef or literal. Literal objects and arrays are kept exactly as written."""
    if isinstance(value, dict):
        if "$expr" in value:
            return expr(value, path, issues)
        if "$secret" in value:
            return secret_ref(value, path, issues)
    return value


input_mapping = record(mapping_value)
expr_record = record(expr)
retry_policy = obj(
    {
        "maxAttempts": (True, integer()),
        "backoffMs": (True, integer(minimum=0)),
        "backoffMultiplier": (False, positive_number),
        "jitter": (False, boolean),
        "maxDelayMs": (False, integer()),
        "retryOn": (False, array(string())),
    },
    defaults={"backoffMultiplier": 2, "jitter": True},
)
on_error_policy = obj({"policy": (True, enum("fail", "continue"))})


# --- wait configs (§1.5) ---------------------------------------------------------------------

_SCALAR_TYPES = (str, int, float, bool, type(None))


def _check_filter(item: dict[str, Any], path: str, issues: list[Issue]) -> None:
    op, has_value, value = item["op"], "value" in item, item.get("value")
    problem = None
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            problem = f'value must be an array for op "{op}"'
    elif op in ("exists", "not_exists"):
        if has_value:
            problem = f'value is not allowed for op "{op}"'
    elif op in ("contains", "starts_with", "ends_with"):
        if not isinstance(value, str):
            problem = f'value must be a string for op "{op}"'
    elif not has_value or not isinstance(value, _SCALAR_TYPES):
        problem = f'value must be a string, number, boolean or null for op "{op}"'
    if problem:
        issues.append({"path": f"{path}.value", "message": problem})


event_wait_filter = obj(
    {"path": (True, string(1)), "op": (True, enum(*FILTER_OPS)), "value": (False, unknown)},
    check=_check_filter,
)
event_wait_config = obj(
    {
        "eventName": (True, string(1)),
        "correlationKey": (True, expr),
        "filters": (False, array(event_wait_filter)),
        "timeoutMs": (False, integer()),
        "assign": (False, expr_record),
    }
)


def _check_time_wait(config: dict[str, Any], path: str, issues: list[Issue]) -> None:
    needed = "durationMs" if config["mode"] == "duration" else "until"
    if needed not in config:
        issues.append(
            {
                "path": f"{path}.{needed}",
                "message": f'{needed} is required when mode is "{config["mode"]}"',
            }
        )


time_wait_config = obj(
    {
        "mode": (True, enum("duration", "until")),
        "durationMs": (False, integer(safe=True)),
        "until": (False, expr),
        "assign": (False, expr_record),
    },
    check=_check_time_wait,
)


# --- steps (§1.3) ----------------------------------------------------------------------------


def step_list(value: Any, path: str, issues: list[Issue]) -> Any:
    """A list of steps; ``path`` is the branch path (``root`` or ``<step>.then``)."""
    if not isinstance(value, list):
        return _expected("array", value, path, issues)
    out = [step(v, step_path(path, i), issues) for i, v in enumerate(value)]
    return BAD if any(v is BAD for v in out) else out


def _root_steps(value: Any, path: str, issues: list[Issue]) -> Any:
    if not isinstance(value, list):
        return _expected("array", value, path, issues)
    return step_list(value, ROOT, issues)


def _check_concurrency(block: dict[str, Any], path: str, issues: list[Issue]) -> None:
    if block.get("concurrency", 1) > 1:
        issues.append({"path": f"{path}.concurrency", "message": FOREACH_CONCURRENCY_MESSAGE})


def _node_type(value: Any, path: str, issues: list[Issue]) -> Any:
    value = string(1)(value, path, issues)
    if isinstance(value, str) and value.startswith("control."):
        issues.append(
            {
                "path": path,
                "message": f'Unknown control block type "{value}": node step types cannot '
                'start with "control."',
            }
        )
        return BAD
    return value


_ID = (True, string(1))
_RETRY = (False, retry_policy)
_ON_ERROR = (False, on_error_policy)

#: Each control block's fields, ``(required, parser)``: what the definition schema checks, and
#: what ``registry list nodes`` lists beside the node types.
CONTROL_BLOCK_FIELDS: dict[str, dict[str, tuple[bool, Parser]]] = {
    "control.if": {
        "id": _ID,
        "type": (True, unknown),
        "condition": (True, expr),
        "then": (True, step_list),
        "else": (False, step_list),
    },
    "control.forEach": {
        "id": _ID,
        "type": (True, unknown),
        "items": (True, expr),
        "itemVar": (True, string(1)),
        "concurrency": (False, integer()),
        "body": (True, step_list),
        "onItemError": (False, enum("continue", "fail")),
    },
    "control.tryCatch": {
        "id": _ID,
        "type": (True, unknown),
        "try": (True, step_list),
        "catch": (True, step_list),
        "captureErrorAs": (False, string(1)),
    },
    "control.callWorkflow": {
        "id": _ID,
        "type": (True, unknown),
        "workflowId": (True, string(1)),
        "workflowVersion": (True, integer()),
        "inputMapping": (False, expr_record),
        "outputMapping": (False, expr_record),
        "retry": _RETRY,
        "onError": _ON_ERROR,
    },
    "control.return": {"id": _ID, "type": (True, unknown)},
}
_CONTROL_CHECKS: dict[str, Check] = {"control.forEach": _check_concurrency}
CONTROL_BLOCKS: dict[str, Parser] = {
    name: obj(fields, check=_CONTROL_CHECKS.get(name))
    for name, fields in CONTROL_BLOCK_FIELDS.items()
}


def control_block_fields() -> dict[str, dict[str, bool]]:
    """Each control block's fields and whether each is required."""
    return {
        name: {field: required for field, (required, _) in fields.items()}
        for name, fields in CONTROL_BLOCK_FIELDS.items()
    }


def _node_step(config: Parser, *, config_required: bool) -> Parser:
    return obj(
        {
            "id": _ID,
            "type": (True, _node_type),
            "name": (False, string()),
            "config": (config_required, config),
            "retry": _RETRY,
            "onError": _ON_ERROR,
        }
    )


#: Node steps whose config the definition schema itself checks (the interpreter handles them).
WAIT_STEPS: dict[str, Parser] = {
    "event.wait": _node_step(event_wait_config, config_required=True),
    "time.wait": _node_step(time_wait_config, config_required=True),
}
_generic_node_step = _node_step(unknown, config_required=False)


def step(value: Any, path: str, issues: list[Issue]) -> Any:
    """Dispatch on ``type`` exactly as Alga's step router does."""
    if not isinstance(value, dict):
        return _expected("object", value, path, issues)
    kind = value.get("type")
    if not kind:
        issues.append({"path": path, "message": "Step must have a type field"})
        return BAD
    parser = (CONTROL_BLOCKS.get(kind) or WAIT_STEPS.get(kind)) if isinstance(kind, str) else None
    return (parser or _generic_node_step)(value, path, issues)


# --- triggers (§1.6) -------------------------------------------------------------------------

TRIGGERS: dict[str, Parser] = {
    "event": obj(
        {
            "type": (True, unknown),
            "eventName": (True, string(1)),
            "sourcePayloadSchemaRef": (False, string(1)),
            "payloadMapping": (False, input_mapping),
        }
    ),
    "schedule": obj({"type": (True, unknown), "runAt": (True, string(1))}),
    "recurring": obj(
        {"type": (True, unknown), "cron": (True, string(1)), "timezone": (True, string(1))}
    ),
}
_TRIGGER_TYPES = " | ".join(f"'{t}'" for t in TRIGGERS)


def trigger(value: Any, path: str, issues: list[Issue]) -> Any:
    if not isinstance(value, dict):
        return _expected("object", value, path, issues)
    kind = value.get("type")
    parser = TRIGGERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        issues.append(
            {
                "path": f"{path}.type",
                "message": f"Invalid discriminator value. Expected {_TRIGGER_TYPES}",
            }
        )
        return BAD
    return parser(value, path, issues)


# --- top level (§1.1) ------------------------------------------------------------------------

workflow_definition = obj(
    {
        "id": (True, string(1)),
        "version": (True, integer()),
        "name": (True, string(1)),
        "description": (False, string()),
        "payloadSchemaRef": (True, string(1)),
        "trigger": (False, trigger),
        "steps": (True, _root_steps),
    }
)


def definition_issues(definition: Any) -> list[Issue]:
    """Every schema problem of ``definition`` as ``{path, message}``; empty when it is valid."""
    issues: list[Issue] = []
    workflow_definition(definition, ROOT, issues)
    return issues


def parse_definition(definition: Any) -> dict[str, Any]:
    """The normalised definition (plain JSON), or ``INVALID_WORKFLOW_DEFINITION`` listing issues."""
    issues: list[Issue] = []
    parsed = workflow_definition(definition, ROOT, issues)
    if parsed is BAD:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise AlgaflowError(
            INVALID_WORKFLOW_DEFINITION,
            f"Invalid workflow definition: {first['path']}: {first['message']}{more}",
            details={"issues": issues},
        )
    return parsed
