"""Handlers of the node types that run as node activities: state, assign and the email nodes.

Each takes ``(envelope, config, ctx)`` and returns a new envelope. Expressions use the node-handler
context (B) ``{payload, vars, meta, error}``; writes use the node-handler normaliser (1).
"""

from __future__ import annotations

from typing import Any

from algaflow import expressions
from algaflow.kernel.jsvalues import js_string, utf16_len
from algaflow.registry.builtins.html_sanitize import sanitize_html
from algaflow.registry.nodes import NodeContext
from algaflow.registry.transforms.common import utf16_slice

_RAW_LIMIT = 4000
_SCOPES = ("payload.", "vars.", "meta.", "error.", "/")


def state_set(
    envelope: dict[str, Any], config: dict[str, Any], _ctx: NodeContext
) -> dict[str, Any]:
    return {**envelope, "meta": {**(envelope.get("meta") or {}), "state": config["state"]}}


def transform_assign(
    envelope: dict[str, Any], config: dict[str, Any], _ctx: NodeContext
) -> dict[str, Any]:
    """Each entry is evaluated in order and sees the writes made before it (§2.8 (1))."""
    return expressions.apply_node_assignments(envelope, config["assign"])


def _evaluate(envelope: dict[str, Any], expr: dict[str, Any] | None) -> str | None:
    """An optional Expr with context (B), then ``String(v)``; null/undefined stay absent."""
    if not expr:
        return None
    context = expressions.build_node_context(
        payload=envelope.get("payload"),
        vars=envelope.get("vars"),
        meta=envelope.get("meta"),
        error=envelope.get("error"),
    )
    value = expressions.resolve_expressions(expr, context)
    return None if value is None else js_string(value)


def _save(envelope: dict[str, Any], save_as: str, value: Any) -> dict[str, Any]:
    """Write ``value`` with normaliser (1); an unscoped name means ``vars.<name>``."""
    path = save_as.strip()
    if path and not path.startswith(_SCOPES):
        path = f"vars.{path}"
    return expressions.apply_node_assignments(
        envelope, {path: {"$expr": "$"}}, evaluate=lambda *_: value
    )


def _truncate_raw(value: str | None) -> str | None:
    if not value:
        return None
    return value if utf16_len(value) <= _RAW_LIMIT else utf16_slice(value, 0, _RAW_LIMIT) + "..."


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    """Alga leaves ``undefined`` members out of the stored JSON."""
    return {k: v for k, v in value.items() if v is not None}


def _parse_fallback(text: str | None, html: str | None, warning: str, error: str | None) -> dict:
    parser = _drop_none(
        {
            "confidence": "low",
            "warnings": [warning],
            "error": error,
            "rawText": _truncate_raw(text),
            "rawHtml": _truncate_raw(html),
        }
    )
    return _drop_none(
        {
            "sanitizedText": text or "",
            "sanitizedHtml": sanitize_html(html),
            "confidence": "low",
            "metadata": {"parser": parser},
        }
    )


def parse_email_body(text: str | None, html: str | None, ctx: NodeContext) -> dict[str, Any]:
    """``parse_email_reply@1`` through the runtime, else the low-confidence fallback."""
    try:
        result = ctx.call_action("parse_email_reply", 1, _drop_none({"text": text, "html": html}))
    except Exception as exc:  # any failure of the parser action falls back, as in Alga
        return _parse_fallback(
            text, html, "parser-error", getattr(exc, "message", None) or str(exc)
        )
    parsed = result.get("parsed") if isinstance(result, dict) and result.get("success") else None
    if not isinstance(parsed, dict) or not parsed:
        return _parse_fallback(text, html, "parser-unavailable", None)
    confidence = parsed.get("confidence")
    parser_meta = _drop_none(
        {
            "confidence": confidence,
            "strategy": parsed.get("strategy"),
            "heuristics": parsed.get("appliedHeuristics"),
            "warnings": parsed.get("warnings"),
        }
    )
    parser_meta["tokens"] = parsed.get("tokens") or None
    if confidence == "low":
        parser_meta.update(
            _drop_none({"rawText": _truncate_raw(text), "rawHtml": _truncate_raw(html)})
        )
    return _drop_none(
        {
            "sanitizedText": parsed.get("sanitizedText") or text or "",
            "sanitizedHtml": sanitize_html(parsed.get("sanitizedHtml") or None),
            "confidence": confidence or "low",
            "metadata": {"parser": parser_meta},
        }
    )


def render_comment_blocks(text: str | None, html: str | None, ctx: NodeContext) -> Any:
    """``convert_html_to_blocks@1`` when there is HTML, else one paragraph of the text."""
    if html:
        try:
            result = ctx.call_action("convert_html_to_blocks", 1, {"html": html})
            if isinstance(result, dict) and result.get("success") and result.get("blocks"):
                return result["blocks"]
        except Exception:  # Alga ignores converter failures and falls back to plain text
            pass
    return [{"type": "paragraph", "content": [{"type": "text", "text": text or ""}]}]


def email_parse_body(
    envelope: dict[str, Any], config: dict[str, Any], ctx: NodeContext
) -> dict[str, Any]:
    text, html = _evaluate(envelope, config.get("text")), _evaluate(envelope, config.get("html"))
    return _save(
        envelope, config.get("saveAs") or "payload.parsedEmail", parse_email_body(text, html, ctx)
    )


def email_render_comment_blocks(
    envelope: dict[str, Any], config: dict[str, Any], ctx: NodeContext
) -> dict[str, Any]:
    html, text = _evaluate(envelope, config.get("html")), _evaluate(envelope, config.get("text"))
    return _save(
        envelope,
        config.get("saveAs") or "payload.commentBlocks",
        render_comment_blocks(text, html, ctx),
    )
