"""The log line of each step event: what the embedded driver says when a step starts, ends,
retries or continues past a failure (the store writes it, see :func:`algaflow.store.runs.log_row`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str
    context: dict[str, Any]


_STEP_LEVELS = {"STARTED": "INFO", "SUCCEEDED": "INFO", "RETRYING": "WARN", "CANCELED": "WARN"}


def step_log_line(
    *,
    definition_step_id: str,
    step_type: Any,
    status: str,
    attempt: int | None = None,
    error: dict[str, Any] | None = None,
    delay_ms: int | None = None,
) -> LogLine:
    """The log line of a step event: started, succeeded, failed (ERROR, with the error's
    message), continued past a failure (``onError: continue``, WARN), retrying or canceled."""
    name = f"Step {definition_step_id or '?'}"
    context: dict[str, Any] = {"definitionStepId": definition_step_id, "status": status}
    if isinstance(step_type, str):
        context["stepType"] = step_type
    if attempt is not None:
        context["attempt"] = attempt
    if error is not None:
        context["error"] = error
    reason = (error or {}).get("message")
    if status == "FAILED":
        return LogLine("ERROR", f"{name} failed: {reason}", context)
    if status == "SUCCEEDED" and error is not None:
        return LogLine("WARN", f"{name} failed, continuing (onError: continue): {reason}", context)
    if status == "RETRYING":
        context["delayMs"] = delay_ms
        return LogLine("WARN", f"{name} failed, retrying (attempt {attempt}): {reason}", context)
    return LogLine(_STEP_LEVELS.get(status, "INFO"), f"{name} {status.lower()}", context)
