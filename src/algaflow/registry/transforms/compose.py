"""``transform.compose_text``: render the step's ``outputs`` documents to markdown (§4.4).

The action has no input: it reads ``config.outputs`` from the raw step config and resolves
``reference`` nodes against the full expression context (A). Config problems and missing references
are structured ``ValidationError``s, as in Alga.
"""

from __future__ import annotations

import re
from typing import Any

from algaflow.kernel.jsvalues import js_string
from algaflow.registry.actions import ActionContext, ActionDef
from algaflow.registry.errors import ActionRuntimeError
from algaflow.registry.transforms.common import transform
from algaflow.registry.transforms.json_values import js_stringify

ACTION_ID = "transform.compose_text"
REFERENCE_PATH = re.compile(
    r"(payload|vars|meta|error|[A-Za-z_][A-Za-z0-9_]*|\$index)(\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\])*"
)
STABLE_KEY = re.compile(r"[a-z_][a-z0-9_]*")
MARKS = ("bold", "italic", "code", "link")
BLOCK_TYPES = (
    "paragraph",
    "bullet_list_item",
    "ordered_list_item",
    "heading",
    "blockquote",
    "code_block",
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_MISSING = object()


def _type_name(value: Any) -> str:
    if value is _MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), "unknown")


class _Checker:
    """Collects Zod-style messages for ``composeTextOutputsSchema``."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def string(self, value: Any, *, trim: bool = False, min1: bool = False) -> str | None:
        if not isinstance(value, str):
            missing = value is _MISSING
            self.errors.append(
                "Required" if missing else f"Expected string, received {_type_name(value)}"
            )
            return None
        out = value.strip() if trim else value
        if min1 and not out:
            self.errors.append("String must contain at least 1 character(s)")
            return None
        return out

    def inline(self, node: Any) -> dict[str, Any] | None:
        kind = node.get("type") if isinstance(node, dict) else None
        if kind == "text":
            text = self.string(node.get("text", _MISSING))
            marks = node.get("marks", [])
            if not isinstance(marks, list) or any(m not in MARKS for m in marks):
                self.errors.append(
                    "Invalid enum value. Expected 'bold' | 'italic' | 'code' | 'link'"
                )
                return None
            href = node.get("href")
            if href is not None and not (isinstance(href, str) and _URL.fullmatch(href)):
                self.errors.append("Invalid url")
                return None
            if text is None:
                return None
            if "link" in marks and not href:
                self.errors.append("Text nodes using the link mark require href.")
            if "link" not in marks and href:
                self.errors.append("href is only supported when the link mark is present.")
            out = {"type": "text", "text": text, "marks": marks}
            return {**out, "href": href} if href is not None else out
        if kind == "reference":
            path = self.string(node.get("path", _MISSING), min1=True)
            label = self.string(node.get("label", _MISSING), trim=True, min1=True)
            if path is None or label is None:
                return None
            if not REFERENCE_PATH.fullmatch(path.strip()):
                self.errors.append("Reference paths must be simple workflow references.")
            return {"type": "reference", "path": path, "label": label}
        self.errors.append("Invalid input")
        return None

    def block(self, block: Any) -> dict[str, Any] | None:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            expected = " | ".join(f"'{t}'" for t in BLOCK_TYPES)
            self.errors.append(f"Invalid discriminator value. Expected {expected}")
            return None
        if kind == "code_block":
            text = self.string(block.get("text", _MISSING))
            return None if text is None else {"type": kind, "text": text}
        out: dict[str, Any] = {"type": kind}
        if kind == "heading":
            if block.get("level") not in (1, 2, 3) or isinstance(block.get("level"), bool):
                self.errors.append("Invalid input")
                return None
            out["level"] = int(block["level"])
        children = block.get("children")
        if not isinstance(children, list):
            self.errors.append(f"Expected array, received {_type_name(children)}")
            return None
        out["children"] = [self.inline(child) for child in children]
        return out

    def output(self, output: Any) -> dict[str, Any] | None:
        if not isinstance(output, dict):
            self.errors.append(f"Expected object, received {_type_name(output)}")
            return None
        parsed: dict[str, Any] = {
            "id": self.string(output.get("id", _MISSING), trim=True, min1=True),
            "label": self.string(output.get("label", _MISSING), trim=True, min1=True),
            "stableKey": self.string(output.get("stableKey", _MISSING), trim=True, min1=True),
        }
        key = parsed["stableKey"]
        if key is not None and not STABLE_KEY.fullmatch(key):
            self.errors.append("Stable keys must be lowercase snake_case identifiers.")
        document = output.get("document")
        if not isinstance(document, dict):
            self.errors.append(f"Expected object, received {_type_name(document)}")
            return None
        if document.get("version") != 1 or isinstance(document.get("version"), bool):
            self.errors.append("Invalid literal value, expected 1")
        blocks = document.get("blocks")
        if not isinstance(blocks, list):
            self.errors.append(f"Expected array, received {_type_name(blocks)}")
            return None
        parsed["document"] = {"version": 1, "blocks": [self.block(b) for b in blocks]}
        return parsed

    def unique(self, outputs: list[dict[str, Any]]) -> None:
        for field, message in (
            ("label", "Output labels must be unique within the step."),
            ("stableKey", "Stable keys must be unique within the step."),
        ):
            seen: set[str] = set()
            for output in outputs:
                value = output[field].strip().lower() if field == "label" else output[field]
                if value in seen:
                    self.errors.extend([message, message])
                seen.add(value)


def check_outputs(outputs: Any) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """``composeTextOutputsSchema.safeParse``: the parsed outputs, or the issue messages."""
    checker = _Checker()
    if not isinstance(outputs, list):
        return None, [f"Expected array, received {_type_name(outputs)}"]
    if not outputs:
        return None, ["Compose Text requires at least one output."]
    parsed = [checker.output(output) for output in outputs]
    if not checker.errors:
        checker.unique(parsed)  # type: ignore[arg-type]
    return (None, checker.errors) if checker.errors else (parsed, [])  # type: ignore[return-value]


def validate_config(config: Any) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """Alga's ``validateComposeTextConfig``: action id, version, then the outputs."""
    raw = config if isinstance(config, dict) else {}
    if raw.get("actionId") != ACTION_ID:
        return None, [f'Compose Text config requires actionId "{ACTION_ID}".']
    if raw.get("version") != 1 or isinstance(raw.get("version"), bool):
        return None, ["Compose Text config requires version 1."]
    if "outputs" not in raw:
        return None, ["Compose Text requires at least one output."]
    return check_outputs(raw["outputs"])


def _resolve(path: str, context: dict[str, Any] | None) -> Any:
    if context is None:
        return _MISSING
    parts = [p for p in re.sub(r"\[(\d+)\]", r".\1", path).split(".") if p]
    if not parts:
        return _MISSING
    current = context.get(parts[0], _MISSING)
    for segment in parts[1:]:
        if current is None or current is _MISSING:
            return _MISSING
        if isinstance(current, list):
            if segment.isdigit() and segment.isascii():
                index = int(segment)
                current = current[index] if index < len(current) else _MISSING
            else:
                current = len(current) if segment == "length" else _MISSING
        elif isinstance(current, dict):
            current = current.get(segment, _MISSING)
        else:
            return _MISSING
    return current


def _render_text(node: dict[str, Any]) -> str:
    content = node["text"].replace("\n", "  \n")
    marks = set(node.get("marks") or ())
    for mark, (left, right) in (
        ("code", ("`", "`")),
        ("bold", ("**", "**")),
        ("italic", ("_", "_")),
    ):
        if mark in marks and content:
            content = f"{left}{content}{right}"
    if "link" in marks and node.get("href"):
        content = f"[{content}]({node['href']})"
    return content


def _render_inline(children: list[dict[str, Any]], context: dict[str, Any] | None, key: str) -> str:
    rendered = []
    for child in children:
        if child["type"] == "text":
            rendered.append(_render_text(child))
            continue
        value = _resolve(child["path"], context)
        if value is _MISSING:
            raise ActionRuntimeError(
                "ValidationError",
                "MISSING_REFERENCE",
                f'Compose Text output "{key}" is missing reference "{child["path"]}".',
                {
                    "outputKey": key,
                    "referencePath": child["path"],
                    "referenceLabel": child["label"],
                },
            )
        is_scalar = value is None or isinstance(value, str | int | float | bool)
        rendered.append(
            value
            if isinstance(value, str)
            else js_string(value)
            if is_scalar
            else js_stringify(value)
        )
    return "".join(rendered)


def render_document(blocks: list[dict[str, Any]], context: dict[str, Any] | None, key: str) -> str:
    """Markdown for one document: lists grouped, headings, quotes, fenced code, blank-line joins."""
    rendered: list[str] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        kind = block["type"]
        if kind in ("bullet_list_item", "ordered_list_item"):
            lines: list[Any] = []
            while index < len(blocks) and blocks[index]["type"] == kind:
                line = _render_inline(blocks[index]["children"], context, key)
                lines.append(
                    f"- {line}" if kind == "bullet_list_item" else f"{len(lines) + 1}. {line}"
                )
                index += 1
            rendered.append("\n".join(lines))
            continue
        index += 1
        if kind == "code_block":
            fence = "````" if "```" in block["text"] else "```"
            rendered.append(f"{fence}\n{block['text']}\n{fence}")
            continue
        inline = _render_inline(block["children"], context, key)
        if kind == "heading":
            rendered.append("#" * block["level"] + " " + inline)
        elif kind == "blockquote":
            rendered.append("\n".join(f"> {line}" for line in inline.split("\n")))
        else:
            rendered.append(inline)
    return "\n\n".join(rendered)


def render_outputs(config: Any, context: dict[str, Any] | None) -> dict[str, str]:
    outputs, errors = validate_config(config)
    if outputs is None:
        raise ActionRuntimeError(
            "ValidationError",
            "INVALID_COMPOSE_TEXT_CONFIG",
            errors[0] if errors else "Compose Text config is invalid.",
            {"errors": errors},
        )
    return {
        output["stableKey"]: render_document(
            output["document"]["blocks"], context, output["stableKey"]
        )
        for output in outputs
    }


def _compose(_args: dict[str, Any], ctx: ActionContext) -> dict[str, str]:
    return render_outputs(ctx.step_config, ctx.expression_context)


ACTIONS: list[ActionDef] = [
    transform(
        ACTION_ID,
        {"type": "object", "properties": {}, "additionalProperties": False},
        {"type": "object", "additionalProperties": {"type": "string"}},
        _compose,
        "Compose Text",
        "Compose one or more markdown text outputs from literal content and workflow references.",
    )
]
