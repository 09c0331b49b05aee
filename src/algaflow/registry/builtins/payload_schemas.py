"""Payload schemas Alga registers that are not PSA-specific (§4.3): ``(ref, schema, strict)``."""

from __future__ import annotations

from typing import Any

_DATETIME = {"type": "string", "format": "date-time"}

EMPTY: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}

CLOCK_TRIGGER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "triggerType": {
            "type": "string",
            "enum": ["schedule", "recurring"],
            "description": "Clock trigger kind that started the workflow",
        },
        "scheduleId": {
            "type": "string",
            "description": "Workflow schedule registration identifier",
        },
        "scheduledFor": {**_DATETIME, "description": "Scheduled fire time in ISO 8601 UTC form"},
        "firedAt": {**_DATETIME, "description": "Actual handler fire time in ISO 8601 UTC form"},
        "timezone": {
            "type": "string",
            "minLength": 1,
            "description": "IANA timezone associated with the trigger",
        },
        "workflowId": {"type": "string", "description": "Workflow definition identifier"},
        "workflowVersion": {
            "type": "integer",
            "exclusiveMinimum": 0,
            "description": "Published workflow version",
        },
        "cron": {
            "type": "string",
            "minLength": 1,
            "description": "Recurring cron expression when triggerType=recurring",
        },
    },
    "required": [
        "triggerType",
        "scheduleId",
        "scheduledFor",
        "firedAt",
        "timezone",
        "workflowId",
        "workflowVersion",
    ],
    "additionalProperties": False,
}

# Alga's email payload is PSA-specific in detail; ours accepts any object and types the
# well-known top-level members loosely, so email workflows can be imported and run.
EMAIL_WORKFLOW_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "description": "Inbound email workflow payload (permissive)",
    "properties": {
        "emailData": {"type": "object", "description": "The inbound email message"},
        "providerId": {"type": "string", "description": "Email provider identifier"},
        "tenantId": {"type": "string", "description": "Tenant that received the email"},
    },
}

PAYLOAD_SCHEMAS: list[tuple[str, dict[str, Any], bool]] = [
    ("payload.Empty.v1", EMPTY, True),
    ("payload.EmailWorkflowPayload.v1", EMAIL_WORKFLOW_PAYLOAD, False),
    ("payload.WorkflowClockTrigger.v1", CLOCK_TRIGGER, True),
]
